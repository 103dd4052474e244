"""`ledger serve`'s JSON API against the CLI's `--json`, on SQLite and PostgreSQL.

Issue 14. The server runs as a real process on a free loopback port; each answer is
compared with what `ledger … --json` prints for the same question on the same ledger,
so the two front ends cannot drift apart. Refusals carry the CLI's messages.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import shlex
from collections.abc import Iterator

import pytest
from cli_support import EXAMPLE, invoke, json_of
from serve_support import Server, running_server

MOU = "iq-ir-security-mou-2025"


@pytest.fixture(scope="module")
def served(shared_url: str) -> Iterator[tuple[str, Server]]:
    """The example on each engine, and a server over it (these tests only read)."""
    invoke(shared_url, ["import", EXAMPLE])
    with running_server(shared_url) as server:
        yield shared_url, server


QUESTIONS = [  # (API path, the same question to `ledger`)
    ("/api/agreements", "agreements"),
    (
        "/api/agreements?status=signed&as_of=2025-08-12",
        "agreements --status signed --as-of 2025-08-12",
    ),
    (
        "/api/agreements?party=irn&known_at=2100-01-01",
        "agreements --party irn --known-at 2100-01-01",
    ),
    ("/api/agreements?status=SIGNED", "agreements --status SIGNED"),
    (f"/api/agreements/{MOU}", f"agreement {MOU}"),
    (f"/api/agreements/{MOU}?as_of=2025-08-10", f"agreement {MOU} --as-of 2025-08-10"),
    (f"/api/agreements/{MOU}?as_of=2025-08-12", f"agreement {MOU} --as-of 2025-08-12"),
    (f"/api/agreements/{MOU.upper()}", f"agreement {MOU.upper()}"),
    (f"/api/agreements/{MOU}/endorsements", f"endorsements {MOU}"),
    (
        f"/api/agreements/{MOU}/endorsements?as_of=2025-08-12",
        f"endorsements {MOU} --as-of 2025-08-12",
    ),
    ("/api/timeline", "timeline"),
    ("/api/timeline?actor=ali-larijani", "timeline --actor ali-larijani"),
    (
        f"/api/timeline?agreement={MOU}&as_of=2025-08-12",
        f"timeline --agreement {MOU} --as-of 2025-08-12",
    ),
    ("/api/timeline?kind=signing", "timeline --kind signing"),
    ("/api/timeline?from=2025-08-13&to=2025-08-20", "timeline --from 2025-08-13 --to 2025-08-20"),
    ("/api/actors/ali-larijani", "actor ali-larijani"),
    ("/api/actors/IRQ?as_of=2025-08-01", "actor IRQ --as-of 2025-08-01"),
    ("/api/log?from_position=5&limit=7", "log --from-position 5 --limit 7"),
    ("/api/timeline?actor=IRQ&include_parts=true", "timeline --actor IRQ --include-parts"),
    ("/api/timeline?from=2025-08&to=2025-08", "timeline --from 2025-08 --to 2025-08"),
    ("/api/log?known_at=2000-01-01", "log --known-at 2000-01-01"),
    ("/api/sources", "sources"),
    ("/api/sources/peregraf-2025-08-14", "source peregraf-2025-08-14"),
    ("/api/search?q=larijani", "search larijani"),
    (
        "/api/search?q=memorandum%20baghdad&limit=3&as_of=2025-08-12",
        "search 'memorandum baghdad' --limit 3 --as-of 2025-08-12",
    ),
    (
        "/api/changes?since=2000-01-01&until=2100-01-01",
        "changes --since 2000-01-01 --until 2100-01-01",
    ),
    (
        "/api/changes?since=2000-01-01&until=2100-01-01&as_of=2025-08-10",
        "changes --since 2000-01-01 --until 2100-01-01 --as-of 2025-08-10",
    ),
    ("/api/checkpoint", "checkpoint"),
    ("/api/prove/3", "prove 3"),
]


@pytest.mark.parametrize(("path", "command"), QUESTIONS, ids=[q[0] for q in QUESTIONS])
def test_every_api_answer_is_the_cli_json_answer_to_the_same_question(
    served: tuple[str, Server], path: str, command: str
) -> None:
    url, server = served
    reply = server.get(path)
    assert reply.status == 200, reply.text
    assert reply.headers["content-type"] == "application/json"
    words = shlex.split(command)
    expected = json_of(invoke(url, words if words[0] == "checkpoint" else [*words, "--json"]))
    assert reply.json() == expected
    assert server.get(path).json() == expected  # a kept answer is the same answer


def test_the_whole_log_pages_through_link_headers_to_exactly_the_cli_log(
    served: tuple[str, Server],
) -> None:
    url, server = served
    entries, path = [], "/api/log?limit=10"
    while path:
        reply = server.get(path)
        entries += reply.json()
        link = reply.headers.get("link")
        path = link[1 : link.index(">")] if link else ""
    assert entries == json_of(invoke(url, ["log", "--json"]))


def test_checkpoint_and_proof_as_known_at_a_moment_are_the_cli_answers(
    served: tuple[str, Server],
) -> None:
    url, server = served
    stamp = server.get("/api/checkpoint").json()["timestamp"]
    assert server.get(f"/api/checkpoint?known_at={stamp}").json() == json_of(
        invoke(url, ["checkpoint", "--known-at", stamp])
    )
    assert server.get("/api/checkpoint?known_at=2000-01-01").json()["size"] == 0
    assert server.get(f"/api/prove/2?known_at={stamp}").json() == json_of(
        invoke(url, ["prove", "2", "--known-at", stamp, "--json"])
    )


REFUSALS = [
    ("/api/agreements/no-such-treaty", "agreement no-such-treaty", 404),
    ("/api/agreements/no-such-treaty/endorsements", "endorsements no-such-treaty", 404),
    ("/api/actors/nobody", "actor nobody", 404),
    ("/api/timeline?actor=nobody", "timeline --actor nobody", 404),
    (f"/api/agreements/{MOU}?known_at=2000-01-01", f"agreement {MOU} --known-at 2000-01-01", 404),
    ("/api/prove/9999", "prove 9999", 422),
    ("/api/sources/no-such-source", "source no-such-source", 404),
    ("/api/agreements/iq-ir-security-mou", "agreement iq-ir-security-mou", 404),
    ("/api/timeline?kind=signings", "timeline --kind signings", 422),
    ("/api/agreements?status=inforce", "agreements --status inforce", 422),
    ("/api/agreements?party=russia", "agreements --party russia", 404),
    ("/api/search?q=%2B%2B", "search ++", 422),
    ("/api/timeline?from=2025&to=2024", "timeline --from 2025 --to 2024", 422),
]


@pytest.mark.parametrize(("path", "command", "status"), REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals_carry_the_cli_message_and_a_status_that_says_why(
    served: tuple[str, Server], path: str, command: str, status: int
) -> None:
    url, server = served
    reply = server.get(path)
    assert reply.status == status
    result = invoke(url, command.split(), expect=1)
    assert reply.json()["error"] == result.stderr.strip().removeprefix("Error: ")


@pytest.mark.parametrize(
    ("path", "parameter", "message"),
    [
        (f"/api/agreements/{MOU}?as_of=2025-13-01", "as_of", "is not a valid day"),
        (f"/api/agreements/{MOU}?known_at=yesterday", "known_at", "yesterday"),
        ("/api/timeline?from=August", "from", "August"),
        ("/api/timeline?actr=ali-larijani", "actr", "unknown parameter 'actr'"),
        (f"/api/agreements/{MOU}?as_of=2025-08-10&as_of=2025-08-11", "as_of", "given 2 times"),
        ("/api/timeline?kind=signing&kind=visit", "kind", "give it once"),
        ("/api/checkpoint?as_of=2025-01-01", "as_of", "this question takes: known_at"),
        ("/api/log?limit=many", "limit", "limit"),
        ("/api/prove/0", "position", "position"),
        ("/api/changes", "since", "since: Field required"),
        ("/api/changes?since=", "since", "since: Field required"),
    ],
)
def test_a_bad_parameter_is_422_naming_it(
    served: tuple[str, Server], path: str, parameter: str, message: str
) -> None:
    _url, server = served
    reply = server.get(path)
    assert reply.status == 422, reply.text
    assert reply.json()["parameter"] == parameter
    assert message in reply.json()["error"]


def test_a_bad_day_is_refused_with_the_message_the_cli_gives(served: tuple[str, Server]) -> None:
    url, server = served
    reply = server.get(f"/api/agreements/{MOU}?as_of=2025-02-30")
    cli = invoke(url, ["agreement", MOU, "--as-of", "2025-02-30"], expect=2)
    assert reply.json()["error"] in cli.stderr


def test_the_openapi_description_lists_every_question(served: tuple[str, Server]) -> None:
    _url, server = served
    spec = server.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert set(spec["paths"]) >= {
        "/api/agreements",
        "/api/agreements/{agreement_id}",
        "/api/agreements/{agreement_id}/endorsements",
        "/api/timeline",
        "/api/actors/{actor_id}",
        "/api/log",
        "/api/checkpoint",
        "/api/prove/{position}",
        "/api/sources",
        "/api/sources/{source_id}",
        "/api/search",
        "/api/changes",
        "/api/records",
    }
    names = {p["name"] for p in spec["paths"]["/api/timeline"]["get"]["parameters"]}
    assert names == {
        *("actor", "include_parts", "agreement", "kind", "from", "to", "as_of", "known_at")
    }


@pytest.mark.parametrize(
    "path",
    ["/api/agreements", "/api/nothing", "/", f"/agreements/{MOU}", "/static/style.css", "/audit"],
)
def test_every_response_carries_a_strict_content_security_policy(
    served: tuple[str, Server], path: str
) -> None:
    _url, server = served
    policy = server.get(path).headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert "frame-ancestors 'none'" in policy


SECURITY = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "cross-origin-opener-policy",
)


@pytest.mark.parametrize("path", [f"/api/agreements/{MOU}/endorsements?as_of=2025-08-11", "/"])
def test_an_answer_given_again_keeps_its_security_headers_and_one_held_already_is_a_304(
    served: tuple[str, Server], path: str
) -> None:
    _url, server = served
    first = server.get(path)
    again = server.get(path)  # a kept answer: given before the application is asked
    assert (again.status, again.body) == (200, first.body)
    for name in (*SECURITY, "content-type"):
        assert again.headers[name] == first.headers[name]
    held = server.get(path, headers={"If-None-Match": again.headers["etag"]})
    assert (held.status, held.body) == (304, b"")
    assert held.headers["etag"] == again.headers["etag"]
    for name in SECURITY:
        assert held.headers[name] == first.headers[name]


@pytest.mark.parametrize("kept", [True, False], ids=["kept answer", "computed"])
def test_a_client_taking_gzip_gets_the_same_answer_compressed_and_others_plain_json(
    served: tuple[str, Server], kept: bool
) -> None:
    url, server = served
    # A question of its own per case, so "computed" is the first asking of it.
    day = f"2025-08-1{5 if kept else 6}"
    path = f"/api/timeline?as_of={day}"
    takes_gzip = {"Accept-Encoding": "gzip, deflate"}
    if kept:
        server.get(path, headers=takes_gzip)
        server.get(path)
    packed = server.get(path, headers=takes_gzip)
    plain = server.get(path)
    assert packed.status == plain.status == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert int(packed.headers["content-length"]) == len(packed.body)
    assert "content-encoding" not in plain.headers
    cli = json_of(invoke(url, ["timeline", "--as-of", day, "--json"]))
    assert json.loads(gzip.decompress(packed.body)) == plain.json() == cli
    assert len(packed.body) < len(plain.body) / 3
    for name in SECURITY:
        assert packed.headers[name] == plain.headers[name]
    refused = server.get(path, headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers and refused.json() == cli
    if kept:
        assert packed.headers["etag"] != plain.headers["etag"]
        held = server.get(path, headers={**takes_gzip, "If-None-Match": packed.headers["etag"]})
        assert (held.status, held.body) == (304, b"")


@pytest.mark.parametrize("path", ["/audit", f"/audit/{MOU}"])
def test_the_audit_page_is_sent_as_produced_and_is_the_cli_html_audit(
    served: tuple[str, Server], path: str
) -> None:
    url, server = served
    reply = server.get(path)
    args = ["audit", *path.split("/")[2:], "--format", "html"]
    printed = invoke(url, args).stdout
    generated = re.compile(r"Generated [0-9T:.+Z-]+")

    assert reply.status == 200 and reply.headers["content-type"] == "text/html; charset=utf-8"
    assert generated.sub("", reply.text) == generated.sub("", printed)
    style = re.search(r"<style>(.*?)</style>", reply.text, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in reply.headers["content-security-policy"]


def test_the_audit_page_of_an_unknown_agreement_is_a_404(served: tuple[str, Server]) -> None:
    _url, server = served
    reply = server.get("/audit/no-such-treaty")
    assert reply.status == 404 and "no-such-treaty" in reply.text
