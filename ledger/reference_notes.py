"""What the validator cannot say about the interchange format: the meaning of each kind
and field, an example of each kind, and the rules that span records.

`ledger.reference` joins these notes to the validator's own declarations (the fields,
which are required, their value forms and enumerations, their defaults) to print the
format's reference (`ledger format [KIND]`). The notes never list fields or values
themselves: a kind or field the validator knows and these notes do not explain is caught
by tests/unit/test_reference.py, and so is a note about a field the validator no longer
has, or an example it would refuse.
"""

from __future__ import annotations

from typing import Any

VERSION = "1.1"

INTRODUCTION = """\
This is what `ledger import` reads and `ledger export` writes: records of diplomatic
events, written by hand from news reports and official texts. It is forgiving to write
(a lone value where a list is expected is a list of one, a bare id stands for a
citation or a signatory, YAML may leave dates unquoted) and strict to check: a field a
kind does not have, a value outside an enumeration or a malformed id or date is refused,
naming the file, the record (its index, and its line in YAML and JSONL) and the field.
`ledger format KIND` prints one kind; `ledger record KIND --FIELD VALUE` enters one
record from the command line with the same checks."""

FILES = """\
- `.yaml` / `.yml`: a list of records, or several `---` documents each holding a list.
- `.json`: a list of records. `.jsonl`: one record per line.
- `-` reads standard input (YAML, JSON or JSONL, recognised from the content).
- All the files of one `ledger import` are one transaction: if any record is refused,
  nothing from that invocation is written."""

IDS = """\
Every record has a `kind`. Registry records (`source`, `actor`, `post`, `agreement`)
describe things; occurrences are the diplomatic events on the timeline; corrections and
retractions amend what was recorded. A record's own `id` is a slug chosen by the analyst:
lower-case letters, digits, `.`, `_` and `-`, starting with a letter or a digit, at most
{max_id} characters; a `state` takes its ISO 3166-1 alpha-3 code instead (`IRQ`, `IRN`,
`USA`). Records refer to each other by id, and ids match without regard to case (`irq`
names Iraq). An occurrence without an `id` gets one derived from its content, so
re-importing a file adds nothing."""

TEXT = """\
Names and titles are one line of text; summaries, quotes, provisions and reasons may hold
newlines and tabs. No text may hold other control characters: they are refused, naming
the field. A text is at most {max_text} characters, and a list at most {max_items} items."""

DATES = """\
Dates are EDTF (ISO 8601-2), as precise as the source allows. Every date has an earliest
and a latest possible day, worked out by the ledger; the table shows them for each form.
A date qualified `?` (uncertain), `~` (approximate) or `%` (both) is never certain: its
days widen by one unit of its precision on each side, and an answer that rests on it
says it is not certain. The two ends of a `[a..b]` range share one precision. Timelines
sort by the earliest day, then by the order of recording; `--from` and `--to` take any of
these forms and use its earliest (`--from`) or latest (`--to`) day."""

#: (what the form says, an example): the reference prints each one's bounds as parsed.
DATE_FORMS: tuple[tuple[str, str], ...] = (
    ("a day", "2025-08-14"),
    ("a month", "2025-08"),
    ("a year", "2025"),
    ("approximate", "2025-08~"),
    ("uncertain", "1988-05-28?"),
    ("uncertain and approximate", "2025%"),
    ("one day of a range", "[2025-08-11..2025-08-13]"),
    ("on or before", "[..2025-08-13]"),
    ("on or after", "[2025-08-11..]"),
    ("an interval", "2016-04-22/2016-04-23"),
)

AMENDMENTS = """\
A `correction` or a `retraction` never changes what was recorded: it is a new record
pointing at its `target`, and queries apply it (audit reports show the original beside
what superseded it). Its `date` is when the correction was published, not when the
corrected event happened. A correction replaces whole top-level fields of its target
(`set`; a field set to null is removed) and is checked as the target's kind with the new
values: `kind` and `id` cannot be set. A retracted record cannot be corrected or
retracted again."""

REIMPORT = """\
Importing a record that is already in the ledger, unchanged, adds nothing. A record
whose id is already taken by different content is refused with a message that names
both: send a `correction` instead."""

ENDORSEMENTS = """\
Who endorsed what, and when, is derived from occurrences, never entered: approvals,
signatures (with `on_behalf_of`), oversight of a signing, ratifications (with `method`),
statements that reaffirm or support an agreement, revocations of a notice, and the
negative acts: withdrawals, suspensions, terminations, statements that oppose, condemn
or deny it."""

FAMILIES = {
    "registry": "Registry records describe things the occurrences refer to.",
    "occurrence": "Occurrences are the diplomatic events on the timeline.",
    "amendment": "Amendments correct or retract what was recorded, without changing it.",
}

#: One line per kind: what a record of it says.
KINDS: dict[str, str] = {
    "source": "A report, statement, treaty text or database that records cite.",
    "actor": "A state, organisation, body, person, group or media outlet.",
    "post": "A post a person held in an organisation, e.g. a minister in a government.",
    "agreement": "A treaty, memorandum or declaration, with its parties and relations.",
    "signing": "An agreement signed by one or more signatories.",
    "approval": "A domestic or internal approval, e.g. a cabinet approving before signature.",
    "ratification": "Consent to be bound by an agreement, as in UN treaty status tables.",
    "entry_into_force": "An agreement entering into force, as a whole or for some parties.",
    "withdrawal": "A party's notice of withdrawal from an agreement.",
    "termination": "An agreement ending.",
    "suspension": "An agreement suspended, as a whole or by one party.",
    "revocation": "A notice of withdrawal or suspension revoked: a withdrawal revoked on or "
    "before its effective date never takes effect; a suspension ends on the revocation's "
    "date. Unlike a retraction, the notice did happen and stays in answers about the time "
    "before.",
    "implementation": "How far an agreement has been carried out.",
    "visit": "One actor visiting another.",
    "meeting": "Actors meeting.",
    "statement": "An actor's public statement, with its stance.",
    "proposal": "An actor proposing something, to another or in general.",
    "accusation": "An actor accusing others.",
    "threat": "An actor threatening others.",
    "correction": "New values for fields of a record already in the ledger.",
    "retraction": "A record withdrawn as mistaken: queries no longer count it.",
}

#: What a field means wherever it appears, unless FIELDS_OF_KIND says otherwise.
FIELDS: dict[str, str] = {
    "id": "The record's id (see Records and ids).",
    "date": "When it happened.",
    "place": "Where it happened.",
    "summary": "What happened, in a sentence or two.",
    "sources": "The sources that report it, each with who said it and a quote.",
    "sources.source": "The source's id.",
    "sources.attribution": "Who, in the source, says it.",
    "sources.quote": "The words the source uses.",
    "tags": "Free keywords.",
    "title": "The title, as published.",
    "name": "The name, as commonly written.",
    "aliases": "Other names or spellings it is known by; ids resolve through them.",
    "type": "What sort of thing it is.",
    "agreement": "The agreement concerned.",
    "by": "The actor who did it.",
    "on_behalf_of": "The state or body the actor acted for.",
    "about": "The agreements or actors it is about.",
    "against": "The actors it is against.",
    "target": "The record amended.",
    "reason": "Why.",
}

#: Meanings shared by a family of kinds, keyed "family.field".
FIELDS_OF_FAMILY: dict[str, str] = {
    "occurrence.id": "The occurrence's id; without one the ledger derives a stable id from "
    "its content, so re-importing the record adds nothing.",
    "amendment.id": "The amendment's id; without one the ledger derives it from the content.",
}

#: Meanings that differ by kind, keyed "kind.field" (and "kind.field.part").
FIELDS_OF_KIND: dict[str, str] = {
    "source.publisher": "Who published it.",
    "source.published": "When it was published.",
    "source.url": "Where to read it.",
    "source.type": "What sort of source it is.",
    "source.reliability": "How reliable the source is, on the Admiralty scale (A reliable, "
    "F cannot be judged).",
    "actor.id": "The actor's id; a state's is its ISO 3166-1 alpha-3 code.",
    "actor.type": "What sort of actor it is.",
    "actor.part_of": "The actor it belongs to: a ministry's government, a party's state.",
    "actor.country": "A person's or organisation's state.",
    "actor.start": "When it came into existence.",
    "actor.end": "When it ceased to exist, e.g. a dissolved state.",
    "actor.successors": "The actors that succeeded it, e.g. the states that succeeded a "
    "dissolved one.",
    "post.id": "The post's id; without one the ledger derives it from the content.",
    "post.holder": "The person who held the post.",
    "post.title": "The post's title, e.g. Minister of Foreign Affairs.",
    "post.organization": "The organisation the post is in.",
    "post.start": "When the holder took the post.",
    "post.end": "When the holder left it.",
    "post.sources": "The sources that report the post.",
    "agreement.type": "What sort of agreement it is.",
    "agreement.parties": "The actors it is between.",
    "agreement.provisions": "What it provides, one item per provision.",
    "agreement.relations": "How it relates to other agreements.",
    "agreement.relations.type": "How this agreement relates to the other one.",
    "agreement.relations.target": "The other agreement.",
    "signing.signatories": "Who signed, and for whom.",
    "signing.signatories.actor": "The actor who signed.",
    "signing.signatories.on_behalf_of": "The state or body it signed for.",
    "signing.overseen_by": "Who presided over or witnessed the signing.",
    "approval.by": "The body or actor that approved it.",
    "ratification.by": "The state consenting to be bound.",
    "ratification.method": "How it consented to be bound.",
    "entry_into_force.for": "The states it entered into force for; absent, the agreement "
    "as a whole.",
    "withdrawal.by": "The party withdrawing.",
    "withdrawal.effective": "When the withdrawal takes effect; absent, on its date.",
    "termination.by": "Who terminated it, if one party did.",
    "suspension.by": "The party suspending it; absent, the agreement as a whole.",
    "suspension.until": "When the suspension ends; absent, until further notice.",
    "revocation.target": "The withdrawal or suspension whose notice is revoked.",
    "revocation.by": "The actor revoking its notice.",
    "revocation.reason": "Why the notice is revoked.",
    "implementation.status": "How far it has been carried out.",
    "implementation.by": "Who is carrying it out.",
    "visit.visitor": "The actor who visited.",
    "visit.host": "The actor visited.",
    "visit.purpose": "What the visit was for.",
    "meeting.participants": "The actors who met.",
    "statement.stance": "Its stance towards what it is about.",
    "statement.quote": "The words of the statement.",
    "proposal.to": "Who it was proposed to.",
    "threat.condition": "What the threat is conditional on.",
    "correction.target": "The id of the record corrected.",
    "correction.set": "Each field to change and its new value (null removes the field).",
    "correction.reason": "Why the record is corrected.",
    "correction.date": "When the correction was published.",
    "retraction.target": "The id of the record retracted.",
    "retraction.reason": "Why the record is retracted.",
    "retraction.date": "When the retraction was published.",
}

_SOURCE = [{"source": "peregraf-2025-08-14", "attribution": "Peregraf"}]

#: One example of each kind: each must pass the validator as it stands.
EXAMPLES: dict[str, dict[str, Any]] = {
    "source": {
        "kind": "source",
        "id": "peregraf-2025-08-14",
        "title": "Iraq, Iran Sign Security Memorandum",
        "publisher": "Peregraf",
        "published": "2025-08-14",
        "url": "https://peregraf.com/en/news/iraq-iran-security-memorandum",
        "type": "news-report",
        "reliability": "B",
    },
    "actor": {
        "kind": "actor",
        "id": "larijani",
        "name": "Ali Larijani",
        "type": "person",
        "aliases": ["Ali Ardashir Larijani"],
        "country": "IRN",
    },
    "post": {
        "kind": "post",
        "holder": "larijani",
        "title": "Secretary of the Supreme National Security Council",
        "organization": "irn-snsc",
        "start": "2025-08",
        "sources": ["peregraf-2025-08-14"],
    },
    "agreement": {
        "kind": "agreement",
        "id": "iq-ir-security-mou-2025",
        "title": "Iraq–Iran Security Memorandum of Understanding",
        "type": "memorandum-of-understanding",
        "parties": ["IRQ", "IRN"],
        "provisions": ["No armed group may use either state's territory against the other."],
        "relations": [{"type": "builds_on", "target": "iq-ir-border-security-2023"}],
    },
    "signing": {
        "kind": "signing",
        "agreement": "iq-ir-security-mou-2025",
        "date": "2025-08-11",
        "place": "Baghdad",
        "signatories": [
            {"actor": "araji", "on_behalf_of": "IRQ"},
            {"actor": "larijani", "on_behalf_of": "IRN"},
        ],
        "overseen_by": ["al-sudani"],
        "sources": _SOURCE,
    },
    "approval": {
        "kind": "approval",
        "agreement": "iq-ir-security-mou-2025",
        "date": "[2025-08-01..2025-08-11]",
        "by": "irq-council-of-ministers",
        "on_behalf_of": "IRQ",
    },
    "ratification": {
        "kind": "ratification",
        "agreement": "new-start",
        "date": "2011-01-26",
        "by": "RUS",
        "method": "ratification",
    },
    "entry_into_force": {
        "kind": "entry_into_force",
        "agreement": "new-start",
        "date": "2011-02-05",
    },
    "withdrawal": {
        "kind": "withdrawal",
        "agreement": "jcpoa",
        "date": "2018-05-08",
        "by": "USA",
        "effective": "2018-05-08",
    },
    "termination": {
        "kind": "termination",
        "agreement": "inf-treaty",
        "date": "2019-08-02",
    },
    "suspension": {
        "kind": "suspension",
        "agreement": "new-start",
        "date": "2023-02-21",
        "by": "RUS",
    },
    "revocation": {
        "kind": "revocation",
        "date": "2017-03-07",
        "target": "zaf-icc-withdrawal-2016",
        "by": "ZAF",
        "reason": "The High Court found the notice unconstitutional without Parliament.",
    },
    "implementation": {
        "kind": "implementation",
        "agreement": "iq-ir-security-mou-2025",
        "date": "2025-08~",
        "status": "largely_complete",
        "by": ["IRQ"],
        "summary": "Armed opposition groups moved away from the border.",
    },
    "visit": {
        "kind": "visit",
        "date": "2025-08-11",
        "visitor": "larijani",
        "host": "IRQ",
        "purpose": "Sign the security memorandum",
        "about": ["iq-ir-security-mou-2025"],
    },
    "meeting": {
        "kind": "meeting",
        "date": "2025-08-11",
        "place": "Baghdad",
        "participants": ["larijani", "al-sudani"],
        "about": ["iq-ir-security-mou-2025"],
    },
    "statement": {
        "kind": "statement",
        "date": "2025-08-14",
        "by": "araji",
        "stance": "support",
        "about": ["iq-ir-security-mou-2025"],
        "quote": "The agreement has been largely enforced.",
        "sources": [{"source": "peregraf-2025-08-14", "quote": "largely enforced"}],
    },
    "proposal": {
        "kind": "proposal",
        "date": "2025-08-12",
        "by": "IRN",
        "to": "IRQ",
        "about": ["iq-ir-security-mou-2025"],
        "summary": "A joint committee to follow the memorandum up.",
    },
    "accusation": {
        "kind": "accusation",
        "date": "2025-08-13",
        "by": "IRN",
        "against": ["kurdish-opposition-groups"],
        "summary": "Attacks from across the border.",
    },
    "threat": {
        "kind": "threat",
        "date": "2022-09",
        "by": "IRN",
        "against": ["kurdish-opposition-groups"],
        "condition": "if the groups are not disarmed",
    },
    "correction": {
        "kind": "correction",
        "date": "2025-09-01",
        "target": "larijani-regional-tour-lebanon",
        "set": {"date": "2025-08-15"},
        "reason": "The Lebanon stop was on 15 August.",
    },
    "retraction": {
        "kind": "retraction",
        "date": "2025-09-02",
        "target": "larijani-regional-tour-lebanon",
        "reason": "The report of the visit was withdrawn.",
    },
}
