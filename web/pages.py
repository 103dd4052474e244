"""Pages people read: server-rendered HTML from the same answers the API gives.

Each page calls the `Queries` the API calls and renders them with Jinja2, autoescaped
exactly as the audit report is (the report's SVG timeline template is reused as is), so
record text is always text. Every id is a link (actors, agreements and sources to their
pages, occurrences to their row), and links keep the page's `as_of` and `known_at`, so a
reader moving through the ledger stays on one day of it. There is no script: a date
control is a GET form, so every page is a plain link that can be shared or bookmarked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse
from jinja2 import ChoiceLoader, FileSystemLoader

from ledger.vocabulary import OCCURRENCE_KINDS
from projections.queries import When
from projections.report_rendering import TEMPLATES as REPORT_TEMPLATES
from projections.report_rendering import environment
from projections.report_timeline import timeline_layout
from web import params
from web.api import Axes, Svc, timeline_of
from web.security import policy_for_inline_styles

router = APIRouter(include_in_schema=False, dependencies=[Depends(params.only_known_parameters)])
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Rows a timeline page lists at most; the filters (and the API) reach the rest.
PAGE_ROWS = 500

ENV = environment(
    ChoiceLoader([FileSystemLoader(TEMPLATES), FileSystemLoader(REPORT_TEMPLATES)]), html=True
)
ENV.globals["layout"] = timeline_layout

Text = Annotated[str | None, Query()]


def linker(request: Request) -> Callable[..., str]:
    """`href(path, **filters)`: a link that keeps this page's as_of and known_at."""
    kept = {
        k: request.query_params[k] for k in ("as_of", "known_at") if request.query_params.get(k)
    }

    def href(path: str, *parts: str, **filters: str | None) -> str:
        target = path + "".join("/" + quote(str(p), safe="") for p in parts)
        query = {**{k: v for k, v in filters.items() if v}, **kept}
        return target + ("?" + urlencode(query) if query else "")

    return href


def render(request: Request, template: str, code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("when", When())
    context.setdefault("names", {})
    html = ENV.get_template(template).render(
        href=linker(request), raw=request.query_params, **context
    )
    return HTMLResponse(html, status_code=code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html.j2", status, status=status, message=message)


def _svg_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Timeline rows as the audit's SVG template draws them (current versions only)."""
    return [{**r, "status": "as recorded"} for r in rows]


def _ids_of(rows: Iterable[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for r in rows:
        found.update(r.get("actors") or [])
        found.update(r.get("agreements") or [])
    return found


@router.get("/", response_class=HTMLResponse)
def home(request: Request, svc: Svc, when: Axes) -> HTMLResponse:
    rows = svc.queries.agreements(when)
    names = svc.queries.names({p for r in rows for p in r["parties"]}, when)
    return render(request, "home.html.j2", when=when, agreements=rows, names=names)


@router.get("/agreements/{agreement_id}", response_class=HTMLResponse)
def agreement(request: Request, svc: Svc, when: Axes, agreement_id: str) -> HTMLResponse:
    q = svc.queries
    state = q.agreement(agreement_id, when)
    endorsements = q.endorsements(state["id"], when)
    rows = q.timeline(when, agreement=state["id"])
    ids = set(state["parties"]) | _ids_of(rows)
    ids |= {p["actor"] for p in state["participants"]}
    ids |= {r["target"] for r in state["relations"]}
    ids |= {r["source"] for r in state.get("related_by") or []}
    ids |= {e["actor"] for e in endorsements} | {e["on_behalf_of"] for e in endorsements}
    for s in state["signings"]:
        ids |= {x["actor"] for x in s["signatories"]} | {
            x.get("on_behalf_of") for x in s["signatories"]
        }
        ids |= set(s.get("overseen_by") or [])
    cited = sorted(
        {s for r in rows for s in r["sources"]} | {s for e in endorsements for s in e["sources"]}
    )
    return render(
        request,
        "agreement.html.j2",
        when=when,
        a=state,
        endorsements=endorsements,
        rows=rows,
        svg_rows=_svg_rows(rows),
        names=q.names({i for i in ids if i}, when),
        sources=list(q.sources(cited, when).values()),
    )


@router.get("/timeline", response_class=HTMLResponse)
def timeline(
    request: Request,
    svc: Svc,
    when: Axes,
    actor: Text = None,
    include_parts: Annotated[bool, Query()] = False,
    agreement: Text = None,
    kind: Text = None,
    from_: Annotated[str | None, Query(alias="from")] = None,
    to: Text = None,
) -> HTMLResponse:
    q = svc.queries
    rows = timeline_of(svc, when, actor, include_parts, agreement, kind, from_, to)
    shown = rows[:PAGE_ROWS]
    return render(
        request,
        "timeline.html.j2",
        when=when,
        rows=shown,
        total=len(rows),
        svg_rows=_svg_rows(shown),
        names=q.names(_ids_of(shown), when),
        kinds=OCCURRENCE_KINDS,
        filters={
            "include_parts": include_parts,
            "actor": actor or "",
            "agreement": agreement or "",
            "kind": kind or "",
            "from": from_ or "",
            "to": to or "",
        },
    )


@router.get("/actors/{actor_id}", response_class=HTMLResponse)
def actor(request: Request, svc: Svc, when: Axes, actor_id: str) -> HTMLResponse:
    q = svc.queries
    found = q.actor(actor_id, when)
    rows = found["occurrences"][:PAGE_ROWS]
    ids = _ids_of(rows) | {found.get("part_of"), found.get("country")}
    ids |= {p.get("organization") for p in found["posts"]} | set(found.get("successors") or [])
    return render(
        request,
        "actor.html.j2",
        when=when,
        actor=found,
        rows=rows,
        total=len(found["occurrences"]),
        svg_rows=_svg_rows(rows),
        names=q.names({i for i in ids if i}, when),
    )


@router.get("/sources", response_class=HTMLResponse)
def sources(request: Request, svc: Svc, when: Axes) -> HTMLResponse:
    return render(request, "sources.html.j2", when=when, sources=svc.queries.source_list(when))


@router.get("/sources/{source_id}", response_class=HTMLResponse)
def source(request: Request, svc: Svc, when: Axes, source_id: str) -> HTMLResponse:
    found = svc.queries.source(source_id, when)
    return render(request, "source.html.j2", when=when, source=found)


@router.get("/search", response_class=HTMLResponse)
def search(request: Request, svc: Svc, when: Axes, q: Text = None) -> HTMLResponse:
    found = svc.queries.search(q, when) if q else []
    names = svc.queries.names({r["id"] for r in found}, when)
    return render(request, "search.html.j2", when=when, q=q or "", found=found, names=names)


@router.get("/audit", response_class=HTMLResponse)
@router.get("/audit/{agreement_id}", response_class=HTMLResponse)
def audit(request: Request, svc: Svc, when: Axes, agreement_id: str | None = None) -> Response:
    """The audit report, exactly as `ledger audit [ID] --format html` writes it.

    Sent as it is produced (a whole-ledger report is never held in memory); gathered
    first, so an unknown agreement is still a 404. The head, with the <style> that the
    policy allows by its hash, is written before the response starts.
    """
    from projections.report_rendering import render_pieces
    from projections.reports import open_report

    with ExitStack() as gathered:
        report = gathered.enter_context(open_report(svc.ledger, agreement_id, when))
        pieces = render_pieces(report, "html")
        head = ""
        for piece in pieces:
            head += piece
            if "</head>" in head:
                break
        kept = gathered.pop_all()

    def rest() -> Iterator[str]:
        with kept:
            yield head
            yield from pieces

    response = StreamingResponse(rest(), media_type="text/html")
    response.headers["Content-Security-Policy"] = policy_for_inline_styles(head)
    return response


@router.get("/favicon.ico")
def favicon() -> Response:
    """No icon (the standalone audit report names none, so browsers ask for this one)."""
    return Response(status_code=204)
