"""Files become raw records that remember where they came from; bad files never crash."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from ledger.errors import RecordError
from ledger.reading import STDIN_NAME, RawRecord, read_file, read_records

EXAMPLE = Path(__file__).resolve().parents[2] / "ledger" / "examples" / "iraq-iran-2025.yaml"

IRQ = {"kind": "actor", "id": "IRQ", "name": "Iraq", "type": "state"}
IRN = {"kind": "actor", "id": "IRN", "name": "Iran", "type": "state"}


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


def refused(path: str, stdin: io.StringIO | None = None) -> RecordError:
    with pytest.raises(RecordError) as caught:
        read_records(path, stdin)
    return caught.value


# --- the example ----------------------------------------------------------------------


def test_the_example_reads_and_validates_as_it_stands() -> None:
    checked = read_records(str(EXAMPLE))
    assert len(checked) == 39
    assert [raw.index for raw, _ in checked] == list(range(1, 40))
    assert {raw.file for raw, _ in checked} == {str(EXAMPLE)}
    first, source = checked[0]
    assert (first.line, source.id) == (7, "peregraf-2025-08-14")
    assert checked[1][0].line == 16  # {kind: actor, id: IRQ, ...}
    kinds = [record.kind for _, record in checked]
    assert kinds.count("actor") == 18
    assert kinds.count("post") == 4
    assert kinds.count("agreement") == 2
    assert len([k for k in kinds if k not in ("source", "actor", "post", "agreement")]) == 14


def test_the_example_lines_point_at_each_record() -> None:
    lines = EXAMPLE.read_text(encoding="utf-8").splitlines()
    for raw, record in read_records(str(EXAMPLE)):
        assert raw.line is not None
        assert "kind" in lines[raw.line - 1]
        assert record.kind in lines[raw.line - 1]


def test_unquoted_yaml_dates_reach_validation_as_dates() -> None:
    raws = read_file(str(EXAMPLE))
    signing = next(raw for raw in raws if raw.data.get("id") == "signing-2023-03-19")
    assert signing.data["date"] == dt.date(2023, 3, 19)


# --- YAML -----------------------------------------------------------------------------


def test_a_bad_second_record_is_located_by_file_index_line_and_field(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.yaml",
        "# actors\n"
        "- {kind: actor, id: IRQ, name: Iraq, type: state}\n"
        "\n"
        "- kind: signing\n"
        "  date: 2021-02-30\n"
        "  agreement: mou\n"
        "  signatories: [IRQ]\n",
    )
    error = refused(path)
    assert (error.file, error.index, error.line, error.field) == (path, 2, 4, "date")
    assert "2021-02-30" in error.message
    assert str(error).startswith(f"{path}, record 2 (line 4), field 'date': ")


def test_several_yaml_documents_continue_the_index(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "docs.yml",
        "- {kind: actor, id: IRQ, name: Iraq, type: state}\n"
        "---\n"
        "- {kind: actor, id: IRN, name: Iran, type: state}\n"
        "- {kind: actor, id: bad id, name: X, type: body}\n"
        "---\n",
    )
    raws = read_file(path)
    assert [(raw.index, raw.line) for raw in raws] == [(1, 1), (2, 3), (3, 4)]
    error = refused(path)
    assert (error.index, error.line, error.field) == (3, 4, "id")


def test_a_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.yaml", "- kind: actor\n  id: [IRQ\n- kind: actor\n")
    error = refused(path)
    assert error.file == path
    assert error.line is not None and error.line >= 2
    assert "invalid YAML" in error.message


def test_a_yaml_top_level_that_is_not_a_list_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "one.yaml", "\n\nkind: actor\nid: IRQ\n")
    error = refused(path)
    assert (error.file, error.line) == (path, 3)
    assert "list of records" in error.message


def test_an_empty_yaml_file_holds_no_records(tmp_path: Path) -> None:
    assert read_file(write(tmp_path, "empty.yaml", "# nothing yet\n")) == []


def test_yaml_aliases_are_refused(tmp_path: Path) -> None:
    bomb = 'a: &a ["x","x"]\nb: &b [*a,*a]\nc: &c [*b,*b]\n'
    error = refused(write(tmp_path, "bomb.yaml", bomb))
    assert "aliases" in error.message
    path = write(tmp_path, "alias.yaml", "- &irq {kind: actor, id: IRQ, name: Iraq, type: state}\n")
    assert len(read_file(path)) == 1  # an anchor alone is harmless
    error = refused(write(tmp_path, "alias2.yaml", "- &irq {kind: actor}\n- *irq\n"))
    assert (error.line, "aliases" in error.message) == (2, True)


def test_deep_yaml_nesting_is_refused_not_crashed(tmp_path: Path) -> None:
    for depth in (60, 5000):
        path = write(tmp_path, "deep.yaml", "- " + "[" * depth + "]" * depth + "\n")
        error = refused(path)
        assert "nest" in error.message
        assert error.line == 1
    block = "".join("  " * level + "- \n" for level in range(80))
    assert "nest" in refused(write(tmp_path, "block.yaml", block)).message


def test_a_repeated_yaml_key_is_refused_at_its_line(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.yaml", "- kind: actor\n  id: IRQ\n  id: IRN\n")
    error = refused(path)
    assert error.line == 3
    assert "'id' twice" in error.message


def test_a_yaml_impossible_day_reaches_the_date_check_as_text(tmp_path: Path) -> None:
    path = write(tmp_path, "day.yaml", "- {kind: signing, date: 2025-02-29}\n")
    assert read_file(path)[0].data["date"] == "2025-02-29"


def test_a_record_that_is_not_a_mapping_is_refused_with_its_place(tmp_path: Path) -> None:
    path = write(
        tmp_path, "scalar.yaml", "- {kind: actor, id: IRQ, name: Iraq, type: state}\n- IRN\n"
    )
    error = refused(path)
    assert (error.index, error.line) == (2, 2)
    assert "mapping" in error.message


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, "latin.yaml", b"- {kind: actor, id: IRQ, name: \xe9, type: state}\n")
    error = refused(path)
    assert (error.file, error.line) == (path, 1)
    assert "UTF-8" in error.message


def test_a_byte_order_mark_is_ignored(tmp_path: Path) -> None:
    path = write(tmp_path, "bom.json", b"\xef\xbb\xbf" + json.dumps([IRQ]).encode())
    assert read_file(path)[0].data == IRQ


# --- files ----------------------------------------------------------------------------


def test_an_unknown_extension_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "records.txt", "[]")
    error = refused(path)
    assert error.file == path
    assert ".yaml" in error.message


def test_a_missing_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = str(tmp_path / "absent.yaml")
    error = refused(path)
    assert error.file == path
    assert "cannot read" in error.message


def test_extensions_are_matched_without_regard_to_case(tmp_path: Path) -> None:
    assert len(read_file(write(tmp_path, "UPPER.YAML", "- {kind: actor}\n"))) == 1


# --- JSON and JSON Lines --------------------------------------------------------------


def test_a_json_list_reads_with_the_line_of_each_record(tmp_path: Path) -> None:
    path = write(tmp_path, "r.json", json.dumps([IRQ, IRN], indent=2))
    raws = read_file(path)
    assert [raw.data for raw in raws] == [IRQ, IRN]
    assert [raw.index for raw in raws] == [1, 2]
    assert raws[0].line == 2
    assert raws[1].line == 8
    assert read_file(write(tmp_path, "e.json", " [ ] ")) == []


def test_a_bad_json_record_is_located(tmp_path: Path) -> None:
    bad = {**IRN, "type": "country"}
    path = write(tmp_path, "r.json", "[\n" + json.dumps(IRQ) + ",\n" + json.dumps(bad) + "\n]")
    error = refused(path)
    assert (error.file, error.index, error.line, error.field) == (path, 2, 3, "type")


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ('[\n{"kind": "actor",\n "id": }\n]', 3),
        ('{"kind": "actor"}', 1),
        ('[{"kind": "actor"}\n{"kind": "actor"}]', 2),
        ('[{"kind": "actor"}] trailing', 1),
    ],
)
def test_json_syntax_errors_name_the_line(tmp_path: Path, text: str, line: int) -> None:
    error = refused(write(tmp_path, "bad.json", text))
    assert error.line == line
    assert "JSON" in error.message


def test_json_that_ends_early_is_refused(tmp_path: Path) -> None:
    assert "ends early" in refused(write(tmp_path, "cut.json", '[{"kind": "actor"}')).message
    assert refused(write(tmp_path, "comma.json", '[{"kind": "actor"},')).line == 1


def test_json_duplicate_keys_and_nan_are_refused(tmp_path: Path) -> None:
    assert "twice" in refused(write(tmp_path, "d.json", '[{"id": 1, "id": 2}]')).message
    assert "NaN" in refused(write(tmp_path, "n.json", '[{"id": NaN}]')).message


def test_deep_json_nesting_is_refused_not_crashed(tmp_path: Path) -> None:
    path = write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000)
    assert "nested" in refused(path).message


def test_json_lines_read_one_record_per_line_skipping_blank_lines(tmp_path: Path) -> None:
    path = write(tmp_path, "r.jsonl", json.dumps(IRQ) + "\n\n  \n" + json.dumps(IRN) + "\n")
    raws = read_file(path)
    assert [(raw.index, raw.line, raw.data) for raw in raws] == [(1, 1, IRQ), (2, 4, IRN)]


def test_a_bad_json_line_is_located(tmp_path: Path) -> None:
    path = write(tmp_path, "r.jsonl", json.dumps(IRQ) + "\n\n{not json}\n")
    error = refused(path)
    assert (error.index, error.line) == (2, 3)
    bad = {**IRN, "name": ""}
    error = refused(write(tmp_path, "v.jsonl", json.dumps(IRQ) + "\n" + json.dumps(bad)))
    assert (error.index, error.line, error.field) == (2, 2, "name")


# --- standard input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        json.dumps([IRQ, IRN]),
        json.dumps(IRQ) + "\n" + json.dumps(IRN) + "\n",
        "- {kind: actor, id: IRQ, name: Iraq, type: state}\n"
        "- {kind: actor, id: IRN, name: Iran, type: state}\n",
        "[{kind: actor, id: IRQ, name: Iraq, type: state},"
        " {kind: actor, id: IRN, name: Iran, type: state}]",
    ],
    ids=["json", "jsonl", "yaml", "yaml-flow"],
)
def test_standard_input_is_read_in_whichever_format_it_holds(text: str) -> None:
    checked = read_records("-", io.StringIO(text))
    assert [record.id for _, record in checked] == ["IRQ", "IRN"]
    assert {raw.file for raw, _ in checked} == {STDIN_NAME}


def test_standard_input_errors_name_it() -> None:
    error = refused("-", io.StringIO("- {kind: actor, id: IRQ, name: Iraq, type: nation}\n"))
    assert (error.file, error.index, error.line, error.field) == (STDIN_NAME, 1, 1, "type")


def test_broken_json_on_standard_input_reports_the_json_error() -> None:
    error = refused("-", io.StringIO('[{"kind": "actor",]'))
    assert error.file == STDIN_NAME
    assert "JSON" in error.message


def test_raw_records_are_plain_values() -> None:
    raw = RawRecord("f.yaml", 1, 3, {"kind": "actor"})
    assert (raw.file, raw.index, raw.line) == ("f.yaml", 1, 3)


@pytest.mark.parametrize(
    "text",
    [
        "- !!python/object/apply:os.system ['true']\n",
        "- !!binary aGVsbG8=\n",
        "- !custom {kind: actor}\n",
        "- !!set {a, b}\n",
    ],
)
def test_yaml_tags_beyond_plain_data_are_refused(tmp_path: Path, text: str) -> None:
    error = refused(write(tmp_path, "tags.yaml", text))
    assert "tag" in error.message
    assert error.line == 1


def test_plain_yaml_tags_are_honoured(tmp_path: Path) -> None:
    path = write(tmp_path, "str.yaml", "- {kind: actor, id: !!str 2025, n: !!int '7'}\n")
    assert read_file(path)[0].data == {"kind": "actor", "id": "2025", "n": 7}


def test_a_list_as_a_yaml_key_is_refused(tmp_path: Path) -> None:
    error = refused(write(tmp_path, "key.yaml", "- kind: actor\n  ? [a, b]\n  : x\n"))
    assert (error.line, "field name" in error.message) == (2, True)


def test_the_pure_python_yaml_parser_reads_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    import ledger.reading

    fast = read_file(str(EXAMPLE))
    monkeypatch.setattr(ledger.reading, "_YAML_LOADER", yaml.SafeLoader)
    assert read_file(str(EXAMPLE)) == fast
    with pytest.raises(RecordError, match="nest"):
        read_file("-", io.StringIO("- " + "[" * 5000 + "]" * 5000))
    with pytest.raises(RecordError, match="aliases"):
        read_file("-", io.StringIO("- &a {kind: actor}\n- *a\n"))
