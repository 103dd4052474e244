"""Corrections of any record, the retraction rules, and ids and text per FORMAT.md v1.1,
through the `ledger` command on SQLite and PostgreSQL.

Issue 10: an agreement's title or parties, an actor's name, a source's publisher and a
post can be corrected; queries, exports and audits apply it; `--known-at` before the
correction reads the old value; the audit shows both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from cli_support import EXAMPLE, Cli, ask, invoke, json_of

BORDER = "iq-ir-border-security-2023"
TITLE = "Joint Security Agreement on Border Security"
CORRECTED_TITLE = "Iraq–Iran Joint Security Agreement on Border Security"
POST = """
- kind: post
  id: araji-nsa
  holder: qasim-al-araji
  title: National Security Adviser
  organization: IRQ
  sources: [peregraf-2025-08-14]
"""
CORRECTIONS = f"""
- kind: correction
  id: border-pact-title
  date: 2025-09-01
  target: IQ-IR-BORDER-SECURITY-2023
  set: {{title: "{CORRECTED_TITLE}", parties: [irq, irn, usa]}}
  reason: The official title names both states; the United States co-signed.
- kind: correction
  id: kdpi-name
  date: 2025-09-01
  target: kdpi
  set: {{name: "Democratic Party of Iranian Kurdistan"}}
  reason: The party's own English name.
- kind: correction
  id: peregraf-publisher
  date: 2025-09-01
  target: peregraf-2025-08-14
  set: {{publisher: Peregraf Media}}
  reason: The publisher's registered name.
- kind: correction
  id: araji-post-title
  date: 2025-09-01
  target: araji-nsa
  set: {{title: National Security Advisor, start: "2020-04"}}
  reason: Spelling, and the start of his term.
"""


def _last_recorded_at(url: str) -> str:
    return json_of(invoke(url, ["log", "--json"]))[-1]["recorded_at"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def corrected(cli: Cli, db_url: str, tmp_path: Path) -> str:
    """The example and a post, then corrections of four registry records: the record
    time before the corrections is returned."""
    cli("import", EXAMPLE, _write(tmp_path, "post.yaml", POST))
    before = _last_recorded_at(db_url)
    cli("import", _write(tmp_path, "corrections.yaml", CORRECTIONS))
    return before


def _audit(cli: Cli, *args: str) -> dict[str, Any]:
    return json_of(cli("audit", *args, "--format", "json"))


def test_a_corrected_agreement_title_and_parties_are_answered_now_and_not_before(
    cli: Cli, corrected: str
) -> None:
    now = ask(cli, "agreement", BORDER)
    assert now["title"] == CORRECTED_TITLE
    assert now["parties"] == ["IRQ", "IRN", "USA"]
    assert "USA" in {p["actor"] for p in now["participants"]}
    listed = {a["id"]: a for a in ask(cli, "agreements")}
    assert listed[BORDER]["title"] == CORRECTED_TITLE
    assert [a["id"] for a in ask(cli, "agreements", "--party", "usa")] == [BORDER]

    then = ask(cli, "agreement", BORDER, "--known-at", corrected)
    assert (then["title"], then["parties"]) == (TITLE, ["IRQ", "IRN"])
    assert "USA" not in {p["actor"] for p in then["participants"]}
    assert ask(cli, "agreements", "--party", "usa", "--known-at", corrected) == []


def test_a_corrected_actor_name_and_post_are_answered_now_and_not_before(
    cli: Cli, corrected: str
) -> None:
    assert ask(cli, "actor", "kdpi")["name"] == "Democratic Party of Iranian Kurdistan"
    assert ask(cli, "actor", "kdpi", "--known-at", corrected)["name"] == (
        "Kurdistan Democratic Party of Iran"
    )
    posts = {p["id"]: p for p in ask(cli, "actor", "qasim-al-araji")["posts"]}
    assert (posts["araji-nsa"]["title"], posts["araji-nsa"]["start"]) == (
        "National Security Advisor",
        "2020-04",
    )
    then = {
        p["id"]: p for p in ask(cli, "actor", "qasim-al-araji", "--known-at", corrected)["posts"]
    }
    assert then["araji-nsa"]["title"] == "National Security Adviser"
    assert "start" not in then["araji-nsa"]


def test_the_audit_shows_each_registry_record_before_and_after_its_correction(
    cli: Cli, corrected: str
) -> None:
    report = _audit(cli)
    amendments = {a["id"]: a for a in report["amendments"]}
    for ident, field, before, after in (
        ("border-pact-title", "title", TITLE, CORRECTED_TITLE),
        ("border-pact-title", "parties", ["IRQ", "IRN"], ["IRQ", "IRN", "USA"]),
        (
            "kdpi-name",
            "name",
            "Kurdistan Democratic Party of Iran",
            "Democratic Party of Iranian Kurdistan",
        ),
        ("peregraf-publisher", "publisher", "Peregraf", "Peregraf Media"),
        ("araji-post-title", "title", "National Security Adviser", "National Security Advisor"),
    ):
        assert amendments[ident]["superseded"]["record"][field] == before
        assert amendments[ident]["result"][field] == after
    assert {a["target_kind"] for a in amendments.values()} == {
        "agreement",
        "actor",
        "source",
        "post",
    }
    # Citations and names read as corrected; the original rows say they were corrected.
    assert {s["id"]: s["publisher"] for s in report["sources"]}["peregraf-2025-08-14"] == (
        "Peregraf Media"
    )
    assert report["actors"]["kdpi"] == "Democratic Party of Iranian Kurdistan"
    registered = {e["id"]: e for e in report["events"] if e["kind"] == "agreement"}
    assert [a["id"] for a in registered[BORDER]["amended_by"]] == ["border-pact-title"]

    section = _audit(cli, BORDER)["agreements"][0]
    assert section["title"] == CORRECTED_TITLE
    assert [a["id"] for a in section["amendments"]] == ["border-pact-title"]
    markdown = cli("audit", BORDER, "--format", "md").stdout
    assert TITLE in markdown and CORRECTED_TITLE in markdown

    old = _audit(cli, "--known-at", corrected)
    assert old["amendments"] == []
    assert {s["id"]: s.get("publisher") for s in old["sources"]}[
        "peregraf-2025-08-14"
    ] == "Peregraf"


def test_search_and_changes_see_registry_corrections(cli: Cli, corrected: str) -> None:
    found = ask(cli, "search", "Democratic Party of Iranian Kurdistan")
    assert [(r["kind"], r["id"]) for r in found] == [("actor", "kdpi")]
    assert found[0]["label"] == "Democratic Party of Iranian Kurdistan"
    then = ask(cli, "search", "Kurdistan Democratic", "--known-at", corrected)
    assert [(r["id"], r["label"]) for r in then if r["kind"] == "actor"] == [
        ("kdpi", "Kurdistan Democratic Party of Iran")
    ]
    learned = ask(cli, "changes", "--since", corrected)
    assert learned["added"] == []
    assert {c["id"] for c in learned["corrected"]} == {
        "border-pact-title",
        "kdpi-name",
        "peregraf-publisher",
        "araji-post-title",
    }
    assert [a["id"] for a in learned["agreements"]] == [BORDER]


def test_registry_corrections_survive_an_export_round_trip(
    cli: Cli, corrected: str, another_db_url: str, tmp_path: Path
) -> None:
    exported = tmp_path / "ledger.yaml"
    exported.write_text(cli("export", "--format", "yaml").stdout, encoding="utf-8")
    invoke(another_db_url, ["import", str(exported)])
    for args in (("agreement", BORDER), ("actor", "kdpi"), ("actor", "qasim-al-araji")):
        assert json_of(invoke(another_db_url, [*args, "--json"])) == ask(cli, *args)
    copy = json_of(invoke(another_db_url, ["audit", "--format", "json"]))
    assert [(a["id"], a["result"]) for a in copy["amendments"]] == [
        (a["id"], a["result"]) for a in _audit(cli)["amendments"]
    ]


def test_a_replay_rebuilds_the_same_registry_versions(cli: Cli, corrected: str) -> None:
    before = (ask(cli, "agreement", BORDER), ask(cli, "agreement", BORDER, "--known-at", corrected))
    cli("verify")  # the read models, registry versions included, match what the log rebuilds
    cli("replay")
    assert (
        ask(cli, "agreement", BORDER),
        ask(cli, "agreement", BORDER, "--known-at", corrected),
    ) == (before)


# --- refusals ------------------------------------------------------------------------------


def _refused(cli: Cli, db_url: str, tmp_path: Path, text: str) -> str:
    size = len(json_of(cli("log", "--json")))
    result = cli("import", _write(tmp_path, "refused.yaml", text), expect=1)
    assert "Traceback" not in result.output
    assert len(json_of(cli("log", "--json"))) == size, "a refused import wrote something"
    return result.stderr


RETRACT_MEDIA = """
- kind: retraction
  id: media-report-retracted
  date: 2025-08-21
  target: media-call-it-new-agreement
  reason: Not a statement by any identifiable outlet.
"""


def test_retracting_a_retracted_record_is_refused_saying_why(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    cli("import", EXAMPLE, _write(tmp_path, "retraction.yaml", RETRACT_MEDIA))
    again = RETRACT_MEDIA.replace("id: media-report-retracted", "id: retracted-again")
    message = _refused(cli, db_url, tmp_path, again)
    assert "field 'target'" in message
    assert "was retracted by 'media-report-retracted'" in message
    assert "cannot be retracted again" in message


def test_correcting_a_retracted_record_is_refused_saying_why(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    cli("import", EXAMPLE, _write(tmp_path, "retraction.yaml", RETRACT_MEDIA))
    correction = """
- kind: correction
  id: media-report-corrected
  date: 2025-08-22
  target: media-call-it-new-agreement
  set: {summary: Media outlets called it a new agreement.}
  reason: Wording.
"""
    message = _refused(cli, db_url, tmp_path, correction)
    assert "was retracted by 'media-report-retracted'" in message
    assert "cannot be corrected" in message


def test_retracting_a_registry_record_that_occurrences_name_is_refused_saying_why(
    cli: Cli, db_url: str, tmp_path: Path
) -> None:
    cli("import", EXAMPLE)
    retraction = """
- kind: retraction
  id: komala-retracted
  date: 2025-08-22
  target: komala
  reason: Not named in the source.
"""
    message = _refused(cli, db_url, tmp_path, retraction)
    assert "actor 'komala' cannot be retracted" in message
    assert "still refers to it" in message
    # An actor nothing names can be retracted, and is then no longer answered for.
    cli(
        "import",
        _write(tmp_path, "unnamed.yaml", "- {kind: actor, id: nobody, name: N, type: person}\n"),
    )
    cli("import", _write(tmp_path, "retract.yaml", retraction.replace("komala", "nobody")))
    assert "actor 'nobody' was retracted" in cli("actor", "nobody", expect=1).stderr


# --- ids and text -----------------------------------------------------------------------------


def test_upper_case_ids_match_case_insensitively_and_are_shown_as_first_registered(
    cli: Cli, tmp_path: Path
) -> None:
    cli(
        "import",
        _write(
            tmp_path,
            "nato.yaml",
            "- {kind: actor, id: NATO, name: The Alliance, type: organization}\n"
            "- {kind: actor, id: SUN, name: Soviet Union, type: state}\n"
            "- {kind: actor, id: XKX, name: Kosovo, type: state}\n"
            "- {kind: meeting, id: Summit-1, date: 1990-01-01, participants: [nato, sun, xkx]}\n",
        ),
    )
    assert ask(cli, "actor", "nato")["id"] == "NATO"
    assert ask(cli, "timeline", "--actor", "Nato")[0]["actors"] == ["NATO", "SUN", "XKX"]
    assert ask(cli, "timeline")[0]["id"] == "Summit-1"
    again = cli(
        "import",
        _write(
            tmp_path,
            "again.yaml",
            "- {kind: actor, id: nato, name: The Alliance, type: organization}\n",
        ),
    )
    assert "0 added, 1 already in the ledger" in again.stderr


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        ("{kind: actor, id: ABC, name: X, type: state}", "id", "ISO 3166-1 alpha-3"),
        (
            "{kind: actor, id: pak, name: Kurdistan Freedom Party, type: group}",
            "id",
            "ISO 3166 code of Pakistan",
        ),
        ('{kind: actor, id: x, name: "Iraq\\u202e", type: group}', "name", "bidirectional"),
        ('{kind: source, id: s, title: "A\\u2066B"}', "title", "bidirectional"),
        ('{kind: source, id: s, title: "A\\x1bB"}', "title", "control character"),
    ],
)
def test_ids_and_text_are_refused_naming_the_field(
    cli: Cli, db_url: str, tmp_path: Path, record: str, field: str, words: str
) -> None:
    cli("init")
    message = _refused(cli, db_url, tmp_path, f"- {record}\n")
    assert f"field '{field}'" in message and words in message


@pytest.mark.parametrize("user", ["alice\x1b[2J", "mallory\u202eecila", "eve\u2066"])
def test_a_recording_user_with_control_or_bidi_characters_is_refused(
    cli: Cli, db_url: str, tmp_path: Path, user: str
) -> None:
    path = _write(tmp_path, "source.yaml", "- {kind: source, id: s, title: T}\n")
    for result in (
        cli("--user", user, "import", path, expect=1),
        invoke(db_url, ["import", str(path)], env={"LEDGER_USER": user}, expect=1),
    ):
        assert "recording user" in result.stderr
        assert "Traceback" not in result.output
    cli("--user", "alice", "import", path)
    assert [e["recorded_by"] for e in json_of(cli("log", "--json"))] == ["alice"]
