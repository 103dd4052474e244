"""The JSON API: the same answers as the CLI's `--json`, from the same functions.

Each route calls exactly what the matching `ledger` command calls (`Queries` for the
read models, `ledger.integrity` for the log's hashes, `LoggedEvent.to_json` for the log)
and serialises the result as the CLI does, so `GET /api/agreements/X?as_of=D` and
`ledger agreement X --as-of D --json` cannot disagree.
"""

from __future__ import annotations

import json
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import Response

from projections.queries import When
from web import params
from web.errors import BadParameter, TooLarge
from web.service import MAX_BODY, Service

router = APIRouter(prefix="/api", dependencies=[Depends(params.only_known_parameters)])

#: Log pages: the CLI prints the whole log; a web client asks for it a page at a time.
LOG_PAGE = 100
LOG_PAGE_MAX = 1000

ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown id: `{error, status}` with the CLI's message."},
    422: {"description": "A parameter the question cannot take or read: `{error, parameter}`."},
}


def service(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


Svc = Annotated[Service, Depends(service)]
Axes = Annotated[When, Depends(params.time_axes)]
RecordTime = Annotated[str | None, Depends(params.record_time)]


def answer(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """JSON as `ledger … --json` prints it when piped (one line, UTF-8 as is)."""
    return Response(
        json.dumps(data, ensure_ascii=False, default=str),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


@router.get("/agreements", summary="Agreements: id, title, status", responses=ERRORS)
def agreements(
    svc: Svc,
    when: Axes,
    status: Annotated[str | None, Query(description="Only agreements in this status.")] = None,
    party: Annotated[
        str | None, Query(description="Only agreements with this participant.")
    ] = None,
) -> Response:
    """`ledger agreements --json`."""
    from ledger.vocabulary import AGREEMENT_STATUSES

    chosen = params.closed("status", status, AGREEMENT_STATUSES)
    return answer(svc.queries.agreements(when, status=chosen, party=party or None))


@router.get("/agreements/{agreement_id}", summary="One agreement", responses=ERRORS)
def agreement(svc: Svc, when: Axes, agreement_id: str) -> Response:
    """`ledger agreement ID --json`: state, participants, signings, relations."""
    return answer(svc.queries.agreement(agreement_id, when))


@router.get(
    "/agreements/{agreement_id}/endorsements", summary="Endorsements of one", responses=ERRORS
)
def endorsements(svc: Svc, when: Axes, agreement_id: str) -> Response:
    """`ledger endorsements ID --json`: who endorsed the agreement and when, oldest first."""
    return answer(svc.queries.endorsements(agreement_id, when))


@router.get("/timeline", summary="Occurrences, oldest first", responses=ERRORS)
def timeline(
    svc: Svc,
    when: Axes,
    actor: Annotated[
        str | None, Query(description="Only occurrences this actor takes part in.")
    ] = None,
    include_parts: Annotated[
        bool, Query(description="With actor: also its bodies and the people in posts there.")
    ] = False,
    agreement: Annotated[
        str | None, Query(description="Only occurrences concerning this agreement.")
    ] = None,
    kind: Annotated[str | None, Query(description="Only occurrences of this kind.")] = None,
    from_: Annotated[
        str | None, Query(alias="from", description="Only occurrences possibly on or after (EDTF).")
    ] = None,
    to: Annotated[
        str | None, Query(description="Only occurrences possibly on or before (EDTF).")
    ] = None,
) -> Response:
    """`ledger timeline --json` with the same filters."""
    return answer(timeline_of(svc, when, actor, include_parts, agreement, kind, from_, to))


def timeline_of(
    svc: Service,
    when: When,
    actor: str | None,
    include_parts: bool,
    agreement: str | None,
    kind: str | None,
    from_: str | None,
    to: str | None,
) -> list[dict[str, Any]]:
    """The timeline question as `ledger timeline` asks it (the page asks it too)."""
    from ledger.vocabulary import OCCURRENCE_KINDS

    if include_parts and not actor:
        raise BadParameter("include_parts", "include_parts needs actor")
    return svc.queries.timeline(
        when,
        actor=actor or None,
        agreement=agreement or None,
        kind=params.closed("kind", kind, OCCURRENCE_KINDS),
        from_=params.day("from", from_),
        to=params.day("to", to, end=True),
        include_parts=include_parts,
    )


@router.get("/actors/{actor_id}", summary="One actor", responses=ERRORS)
def actor(svc: Svc, when: Axes, actor_id: str) -> Response:
    """`ledger actor ID --json`: the actor, the posts it held and its occurrences."""
    return answer(svc.queries.actor(actor_id, when))


@router.get("/log", summary="The raw append-only log, a page at a time", responses=ERRORS)
def log(
    svc: Svc,
    known_at: RecordTime,
    from_position: Annotated[int, Query(ge=1, description="First position.")] = 1,
    limit: Annotated[
        int, Query(ge=0, le=LOG_PAGE_MAX, description="At most this many events.")
    ] = LOG_PAGE,
) -> Response:
    """`ledger log --from-position N --limit L [--known-at T] --json`; a `Link: rel="next"`
    header gives the next page while there is one."""
    logged = svc.ledger.log(after=from_position - 1, limit=limit, known_at=known_at)
    entries = [item.to_json() for item in logged]
    headers = {}
    if limit and len(entries) == limit:
        following = {"from_position": entries[-1]["position"] + 1, "limit": limit}
        if known_at:
            following["known_at"] = known_at
        headers["Link"] = f'</api/log?{urlencode(following)}>; rel="next"'
    return answer(entries, headers=headers)


@router.get("/sources", summary="Every source", responses=ERRORS)
def sources(svc: Svc, when: Axes) -> Response:
    """`ledger sources --json`: id, title, publisher, published, reliability, how many
    records cite it."""
    return answer(svc.queries.source_list(when))


@router.get("/sources/{source_id}", summary="One source and what cites it", responses=ERRORS)
def source(svc: Svc, when: Axes, source_id: str) -> Response:
    """`ledger source ID --json`: the source and every record that cites it."""
    return answer(svc.queries.source(source_id, when))


@router.get("/search", summary="Full-text search", responses=ERRORS)
def search(
    svc: Svc,
    when: Axes,
    q: Annotated[str, Query(description="The words to find (names, titles, summaries, quotes).")],
    limit: Annotated[int, Query(ge=1, description="At most this many records.")] = 50,
) -> Response:
    """`ledger search TEXT --json`: records holding every word, best match first."""
    return answer(svc.queries.search(q, when, limit=limit))


@router.get("/changes", summary="What the ledger learned between two moments", responses=ERRORS)
def changes(
    svc: Svc,
    since: Annotated[str, Query(description="Record time to start after (as known_at).")],
    until: Annotated[str | None, Query(description="Record time to end at (default: now).")] = None,
    as_of: params.AsOf = None,
) -> Response:
    """`ledger changes --since T [--until T] --json`: records added, corrected, retracted,
    and each agreement whose status or participants changed."""
    day = params.parse_when(as_of, None).as_of if as_of else None
    return answer(
        svc.queries.changes(params.needed_stamp("since", since), params.stamp("until", until), day)
    )


@router.get("/checkpoint", summary="Tree head of the log", responses=ERRORS)
def checkpoint(svc: Svc, known_at: RecordTime) -> Response:
    """`ledger checkpoint`: `{size, root, timestamp}`; with `known_at`, the head as it stood
    then."""
    from ledger.integrity import checkpoint as tree_head
    from ledger.integrity import checkpoint_json

    return answer(checkpoint_json(tree_head(svc.ledger, known_at), svc.ledger.origin))


@router.get("/prove/{position}", summary="Inclusion proof of one event", responses=ERRORS)
def prove(svc: Svc, known_at: RecordTime, position: Annotated[int, Path(ge=1)]) -> Response:
    """`ledger prove POSITION --json`: an RFC 9162 inclusion proof against the log now, or
    against the tree head as it stood at `known_at`."""
    from ledger.integrity import checkpoint as tree_head
    from ledger.integrity import prove as inclusion

    against = tree_head(svc.ledger, known_at) if known_at else None
    return answer(inclusion(svc.ledger, position, against).to_json())


FORMATS = {
    "application/json": "json",
    "application/jsonl": "jsonl",
    "application/x-ndjson": "jsonl",
    "application/jsonlines": "jsonl",
    "application/yaml": "yaml",
    "application/x-yaml": "yaml",
    "text/yaml": "yaml",
}


@router.post(
    "/records",
    summary="Import records (interchange format)",
    status_code=201,
    responses={
        401: {"description": "No bearer token, or one the tokens file does not hold."},
        403: {"description": "The server was started without --allow-writes."},
        422: {
            "description": "A record refused: `ledger import`'s message, naming record and field."
        },
    },
)
async def records(
    request: Request,
    svc: Svc,
    authorization: Annotated[str | None, Header(description="Bearer TOKEN")] = None,
) -> Response:
    """`ledger import`: records as YAML, JSON or JSON Lines (by Content-Type; guessed
    otherwise), one transaction, all or nothing. `recorded_by` is the token's name."""
    from starlette.concurrency import run_in_threadpool

    holder = svc.writer(authorization)
    declared = int(request.headers.get("content-length") or 0)
    if declared > MAX_BODY:
        raise TooLarge(f"the request body is over {MAX_BODY} bytes: use `ledger import`")
    content = bytearray()
    async for chunk in request.stream():
        content.extend(chunk)
        if len(content) > MAX_BODY:
            raise TooLarge(f"the request body is over {MAX_BODY} bytes: use `ledger import`")
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    result = await run_in_threadpool(svc.write, bytes(content), FORMATS.get(media), holder)
    return answer(
        {
            "added": result.added,
            "unchanged": result.unchanged,
            "first_position": result.first_position,
            "last_position": result.last_position,
            "recorded_by": holder,
        },
        status=201 if result.added else 200,
    )
