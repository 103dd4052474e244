"""The write side through the `ledger` command: import, record, log, init, help.

Issue 2. Every test runs on SQLite and on PostgreSQL (the `db_url` fixture).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from cli_support import EXAMPLE, README, Cli, json_of

import cli as cli_module

EXAMPLE_RECORDS = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
LOG_KEYS = {"position", "recorded_at", "recorded_by", "stream", "type", "data", "hash"}


def log(cli: Cli) -> list[dict]:
    return json_of(cli("log", "--json"))


def imported_example(cli: Cli, *options: str) -> list[dict]:
    cli(*options, "import", EXAMPLE)
    return log(cli)


# -- import and log --------------------------------------------------------------------


def test_import_then_log_lists_one_event_per_record_in_order(cli: Cli) -> None:
    entries = imported_example(cli, "--user", "alice")

    assert len(entries) == len(EXAMPLE_RECORDS) == 39
    assert [e["position"] for e in entries] == list(range(1, len(EXAMPLE_RECORDS) + 1))
    for entry, record in zip(entries, EXAMPLE_RECORDS, strict=True):
        assert set(entry) >= LOG_KEYS, f"missing keys in {entry}"
        assert entry["recorded_by"] == "alice"
        assert entry["data"]["kind"] == record["kind"]
        if "id" in record:
            assert entry["data"]["id"] == record["id"]
        assert re.fullmatch(r"[0-9a-f]{64}", entry["hash"])
        assert re.fullmatch(
            r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?",
            entry["recorded_at"],
        )
        assert entry["stream"] and entry["type"]
    assert len({e["hash"] for e in entries}) == len(entries)
    assert len({e["stream"] for e in entries}) == len(entries)


def test_every_record_kind_of_the_example_is_logged_with_its_fields(cli: Cli) -> None:
    entries = imported_example(cli)
    signing = next(e["data"] for e in entries if e["data"].get("id") == "signing-mou-2025")
    assert signing["agreement"] == "iq-ir-security-mou-2025"
    assert signing["place"] == "Baghdad"
    assert [s["actor"] for s in signing["signatories"]] == ["qasim-al-araji", "ali-larijani"]
    # an unquoted YAML date is kept as the same EDTF string
    first = next(e["data"] for e in entries if e["data"].get("id") == "signing-2023-03-19")
    assert first["date"] == "2023-03-19"


def test_recorded_by_comes_from_LEDGER_USER_unless_user_is_given(cli: Cli) -> None:
    cli("import", EXAMPLE, env={"LEDGER_USER": "bob"})
    cli(
        "--user",
        "carol",
        "record",
        "actor",
        "--id",
        "x-person",
        "--name",
        "X",
        "--type",
        "person",
        env={"LEDGER_USER": "bob"},
    )
    entries = log(cli)
    assert {e["recorded_by"] for e in entries[:-1]} == {"bob"}
    assert entries[-1]["recorded_by"] == "carol"


def test_log_from_position_and_limit_page_through_the_log(cli: Cli) -> None:
    everything = imported_example(cli)
    page = json_of(cli("log", "--from-position", "5", "--limit", "3", "--json"))
    assert page == everything[4:7]


def test_importing_the_same_file_twice_adds_nothing(cli: Cli) -> None:
    first = imported_example(cli)
    again = cli("import", EXAMPLE)
    assert re.search(r"\b0 added\b", again.stderr), again.stderr
    assert log(cli) == first


def test_reimporting_a_record_without_id_derives_the_same_id(cli: Cli, tmp_path: Path) -> None:
    cli("import", EXAMPLE)
    before = log(cli)
    # the same post, with the organization's id written in another case
    post = tmp_path / "post.yaml"
    post.write_text(
        "- {kind: post, holder: qasim-al-araji, title: National Security Advisor, "
        "organization: irq, sources: [peregraf-2025-08-14]}\n",
        encoding="utf-8",
    )
    result = cli("import", post)
    assert re.search(r"\b0 added\b", result.stderr), result.stderr
    assert log(cli) == before


# -- refusals --------------------------------------------------------------------------

GOOD_FIRST = "- {kind: actor, id: new-envoy, name: New Envoy, type: person, country: IRQ}\n"

# name → (file suffix, content, field named, record index, line); each file's bad record
# comes after a good one, which must not be written either.
BAD_INPUTS: dict[str, tuple[str, str, str | None, int | None, int]] = {
    "missing required field": (
        ".yaml",
        GOOD_FIRST + "- kind: visit\n  date: 2025-09-01\n  visitor: new-envoy\n",
        "host",
        2,
        2,
    ),
    "unknown field for the kind": (
        ".yaml",
        GOOD_FIRST
        + "- {kind: visit, date: 2025-09-01, visitor: new-envoy, host: IRN, mood: cheerful}\n",
        "mood",
        2,
        2,
    ),
    "bad enum value": (
        ".yaml",
        GOOD_FIRST + "\n- kind: statement\n  date: 2025-09-01\n  by: new-envoy\n"
        "  stance: applaud\n",
        "stance",
        2,
        3,
    ),
    "invalid EDTF date": (
        ".yaml",
        GOOD_FIRST + "- {kind: visit, date: 2021-02-30, visitor: new-envoy, host: IRN}\n",
        "date",
        2,
        2,
    ),
    "unknown actor": (
        ".yaml",
        GOOD_FIRST + "- kind: signing\n  date: 2025-09-01\n  agreement: iq-ir-security-mou-2025\n"
        "  signatories: [{actor: new-envoy}, {actor: nobody-at-all}]\n",
        "signatories[1].actor",
        2,
        2,
    ),
    "unknown agreement": (
        ".yaml",
        GOOD_FIRST
        + "- {kind: ratification, date: 2025-09-01, agreement: no-such-treaty, by: IRQ}\n",
        "agreement",
        2,
        2,
    ),
    "unknown source": (
        ".yaml",
        GOOD_FIRST + "- {kind: visit, date: 2025-09-01, visitor: new-envoy, host: IRN, "
        "sources: [peregraf-2025-08-14, no-such-source]}\n",
        "sources[1].source",
        2,
        2,
    ),
    "id taken by different content": (
        ".yaml",
        GOOD_FIRST + "- {kind: actor, id: IRQ, name: Republic of Iraq, type: state}\n",
        "id",
        2,
        2,
    ),
    "correction of a non-existent occurrence": (
        ".yaml",
        GOOD_FIRST + "- {kind: correction, date: 2025-09-01, target: no-such-occurrence, "
        "set: {place: Basra}, reason: typo}\n",
        "target",
        2,
        2,
    ),
    "correction setting a field the target's kind lacks": (
        ".yaml",
        GOOD_FIRST + "- {kind: correction, date: 2025-09-01, target: signing-mou-2025, "
        "set: {stance: support}, reason: typo}\n",
        "set.stance",
        2,
        2,
    ),
    "JSON record with a bad enum": (
        ".json",
        '[\n  {"kind": "actor", "id": "new-envoy", "name": "New Envoy", "type": "person"},\n'
        '  {"kind": "actor", "id": "other-envoy", "name": "Other", "type": "wizard"}\n]\n',
        "type",
        2,
        3,
    ),
    "JSONL record with an unknown reference": (
        ".jsonl",
        '{"kind": "actor", "id": "new-envoy", "name": "New Envoy", "type": "person"}\n'
        '{"kind": "visit", "date": "2025-09-01", "visitor": "new-envoy", "host": "XYZ"}\n',
        "host",
        2,
        2,
    ),
}


def test_a_file_with_one_bad_record_leaves_the_ledger_unchanged_and_says_where(
    cli: Cli, tmp_path: Path, subtests: pytest.Subtests
) -> None:
    before = imported_example(cli)
    for number, (case, (suffix, content, field, index, line)) in enumerate(BAD_INPUTS.items()):
        with subtests.test(case):
            path = tmp_path / f"bad-input-{number}{suffix}"
            path.write_text(content, encoding="utf-8")

            result = cli("import", path, expect=1)

            message = result.stderr
            assert path.name in message
            assert re.search(rf"\brecord {index}\b", message), message
            assert re.search(rf"\bline {line}\b", message), message
            assert f"'{field}'" in message, message
            assert "Traceback" not in result.output
            assert log(cli) == before


def test_an_id_taken_by_different_content_is_refused_naming_both(cli: Cli, tmp_path: Path) -> None:
    before = imported_example(cli, "--user", "alice")
    path = tmp_path / "clash.yaml"
    path.write_text(
        "- {kind: agreement, id: iq-ir-security-mou-2025, title: Another memorandum, "
        "type: other}\n",
        encoding="utf-8",
    )
    result = cli("--user", "bob", "import", path, expect=1)
    message = result.stderr
    # the refused record: file, index, line; the one already there: its id and kind
    assert "clash.yaml" in message and "record 1" in message and "line 1" in message
    assert "iq-ir-security-mou-2025" in message
    assert "agreement" in message
    assert "correction" in message  # what to do instead
    assert log(cli) == before


MALFORMED: dict[str, tuple[str, str, int]] = {
    "yaml": (".yaml", GOOD_FIRST + "- {kind: actor, id: broken, name: Broken\n", 3),
    "json": (
        ".json",
        '[\n  {"kind": "actor", "id": "new-envoy", "name": "New Envoy", "type": "person"},\n'
        '  {"kind": "actor" "id": "broken"}\n]\n',
        3,
    ),
    "jsonl": (
        ".jsonl",
        '{"kind": "actor", "id": "new-envoy", "name": "New Envoy", "type": "person"}\n'
        '{"kind": "actor", "id": \n',
        2,
    ),
}


@pytest.mark.parametrize("fmt", list(MALFORMED))
def test_a_malformed_file_is_refused_naming_file_and_line(
    cli: Cli, tmp_path: Path, fmt: str
) -> None:
    suffix, content, line = MALFORMED[fmt]
    before = imported_example(cli)
    path = tmp_path / f"malformed{suffix}"
    path.write_text(content, encoding="utf-8")
    result = cli("import", path, expect=1)
    assert path.name in result.stderr
    assert re.search(rf"\bline {line}\b", result.stderr), result.stderr
    assert "Traceback" not in result.output
    assert log(cli) == before


def test_a_file_with_an_unknown_extension_is_refused(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "records.txt"
    path.write_text(GOOD_FIRST, encoding="utf-8")
    result = cli("import", path, expect=1)
    assert "records.txt" in result.stderr
    assert ".yaml" in result.stderr  # says which extensions it knows
    assert log(cli) == []


def test_a_missing_file_is_refused_by_name(cli: Cli, tmp_path: Path) -> None:
    result = cli("import", tmp_path / "nowhere.yaml", expect=1)
    assert "nowhere.yaml" in result.stderr
    assert log(cli) == []


# -- one transaction per invocation -------------------------------------------------------


def test_several_files_are_one_transaction_a_bad_second_file_writes_nothing(
    cli: Cli, tmp_path: Path
) -> None:
    good = tmp_path / "first.yaml"
    good.write_text(EXAMPLE.read_text(encoding="utf-8"), encoding="utf-8")
    bad = tmp_path / "second.yaml"
    bad.write_text(
        "- {kind: visit, date: 2025-09-01, visitor: ali-larijani, host: IRQ}\n"
        "- {kind: visit, date: 2025-09-02, visitor: ali-larijani, host: NOWHERE}\n",
        encoding="utf-8",
    )
    result = cli("import", good, bad, expect=1)
    assert "second.yaml" in result.stderr and "record 2" in result.stderr
    assert log(cli) == []


def test_a_later_file_may_refer_to_what_an_earlier_file_of_the_same_import_defines(
    cli: Cli, tmp_path: Path
) -> None:
    actors = tmp_path / "actors.json"
    actors.write_text(
        json.dumps([{"kind": "actor", "id": "new-envoy", "name": "New Envoy", "type": "person"}]),
        encoding="utf-8",
    )
    visits = tmp_path / "visits.jsonl"
    visits.write_text(
        json.dumps({"kind": "visit", "date": "2025-09-01", "visitor": "new-envoy", "host": "IRQ"})
        + "\n",
        encoding="utf-8",
    )
    result = cli("import", EXAMPLE, actors, visits)
    assert re.search(rf"\b{len(EXAMPLE_RECORDS) + 2} added\b", result.stderr), result.stderr
    entries = log(cli)
    assert entries[-1]["data"]["visitor"] == "new-envoy"
    assert len({e["recorded_at"] for e in entries}) == 1  # one transaction, one record time


# -- formats and standard input -----------------------------------------------------------


def _as_json_records() -> list[dict]:
    return json.loads(json.dumps(EXAMPLE_RECORDS, default=str))


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_json_and_jsonl_files_hold_the_same_records_as_yaml(
    cli: Cli, tmp_path: Path, fmt: str
) -> None:
    records = _as_json_records()
    path = tmp_path / f"example.{fmt}"
    if fmt == "json":
        path.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    else:
        path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
        )
    first = cli("import", path)
    assert re.search(rf"\b{len(records)} added\b", first.stderr), first.stderr
    again = cli("import", EXAMPLE)  # the YAML original is the same content
    assert re.search(r"\b0 added\b", again.stderr), again.stderr
    assert len(log(cli)) == len(records)


@pytest.mark.parametrize("fmt", ["yaml", "json", "jsonl"])
def test_a_dash_reads_records_from_standard_input(cli: Cli, fmt: str) -> None:
    records = _as_json_records()
    if fmt == "yaml":
        text = EXAMPLE.read_text(encoding="utf-8")
    elif fmt == "json":
        text = json.dumps(records)
    else:
        text = "".join(json.dumps(r) + "\n" for r in records)
    cli("import", "-", input=text)
    entries = log(cli)
    assert len(entries) == len(records)
    assert entries[-1]["data"]["id"] == "larijani-regional-tour-lebanon"


def test_errors_in_standard_input_name_it(cli: Cli) -> None:
    result = cli("import", "-", input="- {kind: actor, id: x-y, name: X, type: wizard}\n", expect=1)
    assert "stdin" in result.stderr and "record 1" in result.stderr
    assert "'type'" in result.stderr
    assert log(cli) == []


# -- record --------------------------------------------------------------------------------


def test_record_enters_one_record_from_options(cli: Cli) -> None:
    cli("import", EXAMPLE)
    cli(
        "--user",
        "dana",
        "record",
        "actor",
        "--id",
        "iraq-foreign-ministry",
        "--name",
        "Ministry of Foreign Affairs of Iraq",
        "--type",
        "body",
        "--part-of",
        "irq",
        "--aliases",
        "MoFA",
        "--aliases",
        "Iraqi MFA",
    )
    entry = log(cli)[-1]
    assert entry["recorded_by"] == "dana"
    assert entry["data"] == {
        "kind": "actor",
        "id": "iraq-foreign-ministry",
        "name": "Ministry of Foreign Affairs of Iraq",
        "type": "body",
        "part_of": "IRQ",  # spelled as registered
        "aliases": ["MoFA", "Iraqi MFA"],
    }


def test_record_takes_lists_by_repeating_an_option_and_structures_as_json(cli: Cli) -> None:
    cli("import", EXAMPLE)
    cli(
        "record",
        "meeting",
        "--id",
        "follow-up-meeting",
        "--date",
        "2025-09-01",
        "--participants",
        "qasim-al-araji",
        "--participants",
        "ali-larijani",
        "--about",
        "iq-ir-security-mou-2025",
        "--place",
        "Tehran",
    )
    cli(
        "record",
        "signing",
        "--id",
        "follow-up-signing",
        "--date=[2025-09-01..2025-09-03]",
        "--agreement",
        "iq-ir-border-security-2023",
        "--signatories",
        '[{"actor": "qasim-al-araji", "on_behalf_of": "IRQ"}, '
        '{"actor": "ali-larijani", "on_behalf_of": "IRN"}]',
        "--overseen-by",
        "mohammed-shia-al-sudani",
    )
    cli(
        "record",
        "correction",
        "--date",
        "2025-09-05",
        "--target",
        "follow-up-meeting",
        "--set",
        '{"place": "Baghdad"}',
        "--reason",
        "misreported",
    )
    meeting, signing, correction = (e["data"] for e in log(cli)[-3:])
    assert meeting["participants"] == ["qasim-al-araji", "ali-larijani"]
    assert meeting["about"] == ["iq-ir-security-mou-2025"]
    assert signing["date"] == "[2025-09-01..2025-09-03]"
    assert signing["signatories"][1] == {"actor": "ali-larijani", "on_behalf_of": "IRN"}
    assert signing["overseen_by"] == ["mohammed-shia-al-sudani"]
    assert correction["set"] == {"place": "Baghdad"}
    timeline = json_of(cli("timeline", "--actor", "qasim-al-araji", "--json"))
    assert "follow-up-meeting" in [row["id"] for row in timeline]
    found = next(row for row in timeline if row["id"] == "follow-up-meeting")
    assert found["place"] == "Baghdad"


def test_recording_the_same_record_again_adds_nothing(cli: Cli) -> None:
    cli("import", EXAMPLE)
    args = ("record", "visit", "--date", "2025-09-01", "--visitor", "ali-larijani", "--host", "IRQ")
    cli(*args)
    before = log(cli)
    result = cli(*args)
    assert "already" in result.stderr
    assert log(cli) == before


BAD_RECORDS: dict[str, tuple[list[str], str]] = {
    "missing required field": (["visit", "--date", "2025-09-01", "--visitor", "IRQ"], "host"),
    "unknown field": (
        ["visit", "--date", "2025-09-01", "--visitor", "IRQ", "--host", "IRN", "--mood", "x"],
        "mood",
    ),
    "bad enum": (["statement", "--date", "2025-09-01", "--by", "IRQ", "--stance", "x"], "stance"),
    "invalid EDTF": (
        ["visit", "--date", "2021-02-30", "--visitor", "IRQ", "--host", "IRN"],
        "date",
    ),
    "unknown reference": (
        ["visit", "--date", "2025-09-01", "--visitor", "IRQ", "--host", "ATLANTIS"],
        "host",
    ),
    "unknown source": (
        [
            "visit",
            "--date",
            "2025-09-01",
            "--visitor",
            "IRQ",
            "--host",
            "IRN",
            "--sources",
            "no-such-source",
        ],
        "sources[0].source",
    ),
    "id taken": (["actor", "--id", "IRN", "--name", "Persia", "--type", "state"], "id"),
    "correction of nothing": (
        [
            "correction",
            "--date",
            "2025-09-01",
            "--target",
            "no-such-occurrence",
            "--set",
            '{"place": "Basra"}',
            "--reason",
            "r",
        ],
        "target",
    ),
    "correction of a field the kind lacks": (
        [
            "correction",
            "--date",
            "2025-09-01",
            "--target",
            "signing-mou-2025",
            "--set",
            '{"stance": "support"}',
            "--reason",
            "r",
        ],
        "set.stance",
    ),
    "unknown kind": (["treaty-signing", "--date", "2025-09-01"], "kind"),
}


def test_record_makes_the_same_checks_as_import(cli: Cli, subtests: pytest.Subtests) -> None:
    before = imported_example(cli)
    for case, (args, field) in BAD_RECORDS.items():
        with subtests.test(case):
            result = cli("record", *args, expect=1)
            assert f"'{field}'" in result.stderr, result.stderr
            assert "Traceback" not in result.output
            assert log(cli) == before


# -- init, help, README -----------------------------------------------------------------


def test_init_is_safe_to_repeat(cli: Cli) -> None:
    cli("init")
    cli("init")
    cli("import", EXAMPLE)
    cli("init")
    assert len(log(cli)) == len(EXAMPLE_RECORDS)


COMMANDS = sorted(cli_module.main.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help(name: str) -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli_module.main, [name, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    assert (cli_module.main.commands[name].help or "").strip(), f"{name} has no help text"


def test_the_group_help_lists_every_command() -> None:
    from click.testing import CliRunner

    result = CliRunner().invoke(cli_module.main, ["--help"])
    assert result.exit_code == 0
    for name in COMMANDS:
        assert name in result.stdout


def test_every_command_is_documented_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [name for name in COMMANDS if f"ledger {name}" not in text]
    assert not missing, f"README.md does not document: {', '.join(missing)}"


@pytest.mark.parametrize("date", ["0\ud800", "2025-01-0\udc80"])
def test_a_date_with_a_lone_surrogate_is_refused_in_one_printable_line(cli: Cli, date: str) -> None:
    result = cli("record", "statement", "--date", date, "--by", "IRQ", "--stance", "support",
                 expect=1)  # fmt: skip
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "is not a valid EDTF date" in result.stderr
    assert "\\ud800" in result.stderr or "\\udc80" in result.stderr


@pytest.mark.parametrize("option", ["--aliases", "--successors"])
def test_a_list_option_given_one_lone_surrogate_is_refused_naming_its_field(
    cli: Cli, option: str
) -> None:
    """One value of a list option holding bytes that are not UTF-8 is refused with the
    record's field named, like any other field (it used to be refused without one)."""
    cli("init", expect=0)
    result = cli("record", "actor", "--id", "someone", "--name", "Someone", "--type", "person",
                 option, "0\udcff", expect=1)  # fmt: skip
    field = option.removeprefix("--")
    assert f"field '{field}" in result.stderr
    assert "U+DCFF" in result.stderr or "\\udcff" in result.stderr  # shown escaped
    assert json.loads(cli("log", "--json", expect=0).stdout) == []
