"""Ids by name or alias, and the closest known ones when nothing matches."""

from __future__ import annotations

from projections.naming import choice_hint, did_you_mean, named, suggestions

KNOWN = [
    ("RUS", {"id": "RUS", "name": "Russia"}),
    ("new-start", {"id": "new-start", "title": "Strategic Arms", "aliases": ["New START"]}),
    ("ali-larijani", {"id": "ali-larijani", "name": "Ali Larijani"}),
]


def test_names_titles_and_aliases_match_in_any_case() -> None:
    assert named("russia", KNOWN) == ["RUS"]
    assert named("NEW start", KNOWN) == ["new-start"]
    assert named("strategic arms", KNOWN) == ["new-start"]
    assert named("nobody", KNOWN) == []


def test_suggestions_come_from_close_spellings_and_the_start_of_a_word() -> None:
    assert suggestions("larijany", KNOWN)[0] == ("ali-larijani", "Ali Larijani")
    assert suggestions("lari", KNOWN)[0][0] == "ali-larijani"  # the start of a word
    assert suggestions("zzzz", KNOWN) == []
    assert did_you_mean([("RUS", "Russia")]) == "; did you mean RUS (Russia)?"
    assert did_you_mean([]) == ""


def test_a_closed_set_suggests_the_close_values_else_lists_them_all() -> None:
    assert choice_hint("signings", ["signing", "visit"]) == "; did you mean signing?"
    assert choice_hint("zzz", ["signing", "visit"]) == "; expected one of: signing, visit"
