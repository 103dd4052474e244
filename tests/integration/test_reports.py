"""Audit reports on both databases: the evidence behind each answer, tied to a checkpoint.

The report exists so a sceptical reader can check the ledger, so these tests check what
such a reader relies on: sources with their attribution, disagreements shown rather than
resolved, amendments beside what they superseded, the checkpoint matching exactly the
events shown, and an HTML file that neither reaches the network nor runs record text.
"""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest
import yaml

from ledger.application import Ledger
from ledger.checkpoints import Checkpoint
from ledger.integrity import checkpoint, verify
from ledger.records import validate_record
from projections import reports
from projections.contests import conflict
from projections.queries import NotFound
from projections.report_rendering import ReportError, render
from projections.reports import build_report

EXAMPLE = Path(__file__).resolve().parents[2] / "ledger" / "examples" / "iraq-iran-2025.yaml"
MOU = "iq-ir-security-mou-2025"
MEDIA = "media-call-it-new-agreement"
NSA = "nsa-clarifies-memorandum"


def load_example(app: Ledger) -> None:
    records = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    app.import_records([(None, validate_record(r)) for r in records], "alice")


def record(app: Ledger, *raw: dict[str, Any], by: str = "bob") -> None:
    app.import_records([(None, validate_record(r)) for r in raw], by)


def section(report: dict[str, Any], agreement: str = MOU) -> dict[str, Any]:
    return next(a for a in report["agreements"] if a["id"] == agreement)


def statement_ids(contested: dict[str, Any]) -> list[set[str]]:
    return [{s["id"] for s in side["statements"]} for side in contested["sides"]]


# --- what the memorandum's report says ------------------------------------------------


def test_the_memorandums_report_names_peregraf_the_advisory_and_the_contested_claim(
    ledger: Ledger,
) -> None:
    load_example(ledger)
    report = build_report(ledger, MOU)
    mou = section(report)

    assert report["scope"] == MOU
    assert mou["status"] == "signed"
    cited = [c for e in mou["events"] for c in e["sources"]]
    assert {c["publisher"] for c in cited} == {"Peregraf"}
    assert {c["reliability"] for c in cited} == {"B"}
    nsa = next(e for e in mou["events"] if e["id"] == NSA)
    assert nsa["sources"][0]["attribution"] == "Iraqi National Security Advisory"
    assert nsa["recorded_by"] == "alice" and len(nsa["hash"]) == 64

    (contested,) = mou["contested"]
    assert contested["conflict"] == "characterisation"
    assert statement_ids(contested) == [{MEDIA}, {NSA}]
    media_side, nsa_side = (side["statements"][0] for side in contested["sides"])
    assert "fresh security agreement" in media_side["summary"]
    assert nsa_side["actor_name"] == "Iraqi National Security Advisory"
    assert nsa_side["sources"][0]["attribution"] == "Iraqi National Security Advisory"

    for fmt in ("md", "html", "json"):
        text = render(report, fmt)
        for needle in ("Peregraf", "Iraqi National Security Advisory", MEDIA, NSA):
            assert needle in text, (fmt, needle)


def test_the_memorandums_report_lists_its_registration_endorsements_and_linked_events(
    ledger: Ledger,
) -> None:
    load_example(ledger)
    mou = section(build_report(ledger, MOU))

    ids = [e["id"] for e in mou["events"]]
    assert ids[0] == MOU and mou["events"][0]["type"] == "AgreementRegistered"
    assert {"approval-council-of-ministers-2025", "signing-mou-2025", MEDIA, NSA} <= set(ids)
    assert "larijani-regional-tour-lebanon" not in ids  # not about this agreement
    positions = [e["position"] for e in mou["events"]]
    assert positions == sorted(positions)
    acts = {(e["actor"], e["act"]) for e in mou["endorsements"]}
    assert ("qasim-al-araji", "signed") in acts and (
        "iraq-council-of-ministers",
        "approved",
    ) in acts
    assert all(e["citations"][0]["publisher"] == "Peregraf" for e in mou["endorsements"])


def test_an_unknown_agreement_is_refused(ledger: Ledger) -> None:
    load_example(ledger)
    with pytest.raises(NotFound):
        build_report(ledger, "no-such-agreement")


# --- the checkpoint ------------------------------------------------------------------


def test_the_ledger_report_shows_exactly_the_events_of_the_checkpoint_it_cites(
    ledger: Ledger,
) -> None:
    load_example(ledger)
    report = build_report(ledger)
    head = checkpoint(ledger)

    assert report["scope"] == "ledger"
    assert report["checkpoint"] == head.to_json()
    assert report["checkpoint"]["size"] == len(report["events"]) == 39
    assert [e["position"] for e in report["events"]] == list(range(1, 40))
    assert [e["hash"] for e in report["events"]] == [h.hex() for h in ledger.recorder.leaf_hashes()]
    assert verify(ledger, Checkpoint.from_json(report["checkpoint"])).ok
    assert [a["id"] for a in report["agreements"]] == ["iq-ir-border-security-2023", MOU]


def test_events_recorded_after_the_checkpoint_stay_out_of_the_report(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_example(ledger)

    def checkpoint_then_a_concurrent_write(app: Ledger) -> Checkpoint:
        taken = checkpoint(app)
        record(
            app,
            {
                "kind": "retraction",
                "date": "2025-09-01",
                "target": "signing-mou-2025",
                "reason": "written after the checkpoint",
            },
        )
        return taken

    monkeypatch.setattr(reports, "checkpoint", checkpoint_then_a_concurrent_write)
    report = build_report(ledger, MOU)
    mou = section(report)

    assert report["checkpoint"]["size"] == 39
    assert max(e["position"] for e in mou["events"]) <= 39
    assert mou["amendments"] == []
    assert mou["status"] == "signed"  # the read models are read as known at the checkpoint
    assert "written after the checkpoint" not in render(report, "md")


def test_an_empty_ledger_still_renders_in_every_format(ledger: Ledger) -> None:
    report = build_report(ledger)
    assert report["checkpoint"]["size"] == 0 and report["events"] == []
    assert json.loads(render(report, "json")) == report
    for fmt in ("md", "html"):
        assert "ledger verify --checkpoint" in render(report, fmt)


# --- formats -------------------------------------------------------------------------


def test_every_format_renders_and_json_is_the_data_itself(ledger: Ledger) -> None:
    load_example(ledger)
    for report in (build_report(ledger, MOU), build_report(ledger)):
        assert json.loads(render(report, "json")) == report
        markdown = render(report, "md")
        assert "## Checkpoint" in markdown and report["checkpoint"]["root"] in markdown
        assert "ledger verify --checkpoint" in markdown
        html = render(report, "html")
        assert html.startswith("<!DOCTYPE html>") and report["checkpoint"]["root"] in html
    with pytest.raises(ReportError):
        render(report, "pdf")


def test_the_html_report_is_one_standalone_file_with_an_svg_timeline(ledger: Ledger) -> None:
    load_example(ledger)
    for report in (build_report(ledger, MOU), build_report(ledger)):
        html = render(report, "html")
        assert "<svg" in html and "<circle" in html and "<rect" in html
        lowered = html.lower()
        for external in (
            'src="http',
            "src='http",
            'href="http',
            "href='http",
            "url(",
            "<link",
            "@import",
            "<script",
        ):
            assert external not in lowered, external
        assert 'src="' not in lowered  # nothing at all is loaded from elsewhere


def test_record_text_cannot_inject_markup_into_the_html_report(ledger: Ledger) -> None:
    load_example(ledger)
    record(
        ledger,
        {
            "kind": "statement",
            "id": "hostile-text",
            "date": "2025-08-20",
            "by": "IRN",
            "stance": "support",
            "about": [MOU],
            "summary": "<script>alert('x')</script><img src=x onerror=alert(1)>",
            "quote": "</td></tr><b>bold</b>",
        },
    )
    report = build_report(ledger, MOU)
    html = render(report, "html")
    assert "<script" not in html.lower() and "<img" not in html.lower() and "<b>" not in html
    assert "&lt;script&gt;alert(" in html
    markdown = render(report, "md")
    assert "<script" not in markdown and "&lt;script&gt;" in markdown


# --- amendments ----------------------------------------------------------------------


def test_a_correction_appears_beside_the_original_with_its_reason(ledger: Ledger) -> None:
    load_example(ledger)
    reason = "A later report dates the Beirut stop to 15 August"
    record(
        ledger,
        {
            "kind": "correction",
            "id": "lebanon-stop-dated",
            "date": "2025-08-20",
            "target": "larijani-regional-tour-lebanon",
            "set": {"date": "2025-08-15"},
            "reason": reason,
            "sources": ["peregraf-2025-08-14"],
        },
    )
    report = build_report(ledger)

    (amendment,) = report["amendments"]
    assert amendment["kind"] == "correction" and amendment["reason"] == reason
    assert amendment["recorded_by"] == "bob"
    assert amendment["superseded"]["record"]["date"] == "2025-08"
    assert amendment["result"]["date"] == "2025-08-15"
    original = next(e for e in report["events"] if e["id"] == "larijani-regional-tour-lebanon")
    assert original["record"]["date"] == "2025-08"  # the log keeps what was recorded
    assert original["amended_by"] == [
        {"position": 40, "id": "lebanon-stop-dated", "kind": "correction", "reason": reason}
    ]
    assert amendment["superseded"]["position"] == original["position"]
    row = next(r for r in report["timeline"] if r["id"] == "larijani-regional-tour-lebanon")
    assert (row["earliest"], row["latest"], row["status"]) == (
        "2025-08-15",
        "2025-08-15",
        "corrected",
    )
    for fmt in ("md", "html"):
        text = render(report, fmt)
        assert reason in text and "2025-08-15" in text and "lebanon-stop-dated" in text


def test_a_retraction_appears_in_the_agreement_report_beside_what_it_retracted(
    ledger: Ledger,
) -> None:
    load_example(ledger)
    record(
        ledger,
        {
            "kind": "retraction",
            "id": "no-separate-meeting",
            "date": "2025-08-21",
            "target": "sudani-larijani-meeting-2025-08",
            "reason": "It was the signing itself",
        },
    )
    mou = section(build_report(ledger, MOU))

    (amendment,) = mou["amendments"]
    assert amendment["kind"] == "retraction" and amendment["reason"] == "It was the signing itself"
    assert amendment["superseded"]["record"]["id"] == "sudani-larijani-meeting-2025-08"
    assert amendment["result"] is None
    ids = [e["id"] for e in mou["events"]]
    assert "sudani-larijani-meeting-2025-08" in ids and "no-separate-meeting" in ids
    row = next(r for r in mou["timeline"] if r["id"] == "sudani-larijani-meeting-2025-08")
    assert row["status"] == "retracted"
    html = render(build_report(ledger, MOU), "html")
    assert "It was the signing itself" in html and "retracted" in html


def test_a_retracted_statement_is_no_longer_contested(ledger: Ledger) -> None:
    load_example(ledger)
    record(
        ledger,
        {"kind": "retraction", "date": "2025-08-22", "target": MEDIA, "reason": "misattributed"},
    )
    assert section(build_report(ledger, MOU))["contested"] == []


# --- contested claims ----------------------------------------------------------------


def test_support_and_opposition_conflict_and_clarifications_conflict_with_other_accounts() -> None:
    assert conflict("support", "oppose") == "stance"
    assert conflict("condemn", "reaffirm") == "stance"
    assert conflict("neutral", "clarify") == "characterisation"
    assert conflict("deny", "support") == "characterisation"
    assert conflict("support", "reaffirm") is None
    assert conflict("neutral", "support") is None
    assert conflict("clarify", "clarify") is None


# --- the HTML as a browser draws it ------------------------------------------------------


def find_chromium() -> str | None:
    if Path("/usr/bin/chromium").exists():
        return "/usr/bin/chromium"
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def png_pixels(path: Path, stop: Any) -> None:
    """Feed each decoded RGB(A) pixel row of an 8-bit PNG to `stop` until it returns True.

    Decoded with the standard library only (zlib, struct), undoing the per-row filters,
    so the test needs no imaging package.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = channels = 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and interlace == 0 and color in (2, 6), (depth, color, interlace)
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                upper_left = previous[i - channels] if i >= channels else 0
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                best = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[i] = (line[i] + best) & 0xFF
        rows = [tuple(line[i : i + 3]) for i in range(0, stride, channels)]
        if stop(rows):
            return
        previous = line


def test_the_html_report_draws_something_in_headless_chromium(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Drawn once, on SQLite: the page is the same whichever database the data came from."""
    chromium = find_chromium()
    if chromium is None:
        pytest.skip(
            "no Chromium installed: looked for /usr/bin/chromium, chromium, "
            "chromium-browser and google-chrome on PATH"
        )
    ledger = Ledger(sqlite_url)
    load_example(ledger)
    page = tmp_path / "report.html"
    page.write_text(render(build_report(ledger, MOU), "html"), encoding="utf-8")
    ledger.close()
    shot = tmp_path / "report.png"
    command = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--screenshot={shot}",
        "--window-size=1280,2000",
        page.as_uri(),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    assert shot.exists(), f"no screenshot; chromium said: {result.stderr[-2000:]}"

    accent = (0x24, 0x57, 0xA6)  # the report's own blue: our stylesheet was applied
    seen: set[tuple[int, ...]] = set()

    def enough(rows: list[tuple[int, ...]]) -> bool:
        seen.update(rows)
        return len(seen) > 16 and accent in seen

    png_pixels(shot, enough)
    assert len(seen) > 16, f"the screenshot is blank or nearly so: {len(seen)} colours"
    assert accent in seen, "the report's stylesheet does not show in the screenshot"
