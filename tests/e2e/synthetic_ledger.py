"""A deterministic generator of varied, valid interchange records for replay tests.

`generate_records(seed)` gives a few hundred records in an order that import accepts
(everything named is defined first): sources, states, people, bodies, posts,
agreements with relations, a dissolved state with its successors, occurrences of every
kind with every shape of date (revocations of earlier notices among them), and
corrections and retractions of earlier occurrences, some naming states in lower case.
The same seed always gives the same records.
"""

from __future__ import annotations

import random
from typing import Any

from ledger import vocabulary

STATES = ["FRA", "DEU", "ITA", "ESP", "POL", "NLD", "BEL", "AUT", "CSK"]
#: A state that ceased to exist, with the states that succeeded it.
DISSOLVED = {"CSK": ("1918-10-28", "1992-12-31", ["CZE", "SVK"])}
# The enumerations come from the format itself, so the generator covers every value.
OCCURRENCE_KINDS = list(vocabulary.OCCURRENCE_KINDS)
STANCES = list(vocabulary.STANCES)
METHODS = list(vocabulary.RATIFICATION_METHODS)
STATUSES = list(vocabulary.IMPLEMENTATION_STATUSES)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.records: list[dict[str, Any]] = []
        self.sources = [f"src-{i}" for i in range(3)]
        self.people = [f"person-{i}" for i in range(12)]
        self.bodies = [f"body-{i}" for i in range(4)]
        self.agreements = [f"agr-{i}" for i in range(8)]
        self.targets: list[dict[str, Any]] = []  # occurrences with ids, for amendments
        self.notices: list[dict[str, Any]] = []  # withdrawals and suspensions, to revoke
        self.retracted: set[str] = set()

    # -- values --------------------------------------------------------------------

    def day(self, year: int | None = None) -> tuple[int, int, int]:
        return (
            year or self.rng.randint(2000, 2024),
            self.rng.randint(1, 12),
            self.rng.randint(1, 28),
        )

    @staticmethod
    def iso(d: tuple[int, int, int]) -> str:
        return f"{d[0]:04d}-{d[1]:02d}-{d[2]:02d}"

    def later(self, d: tuple[int, int, int]) -> tuple[int, int, int]:
        year = d[0] + self.rng.randint(0, 2)
        month = d[1] if year == d[0] else self.rng.randint(1, 12)
        day = self.rng.randint(d[2], 28) if (year, month) == d[:2] else self.rng.randint(1, 28)
        return (year, month, day)

    def date(self) -> str:
        d = self.day()
        shape = self.rng.choice(["day", "day", "day", "month", "approx", "range", "open", "span"])
        if shape == "day":
            return self.iso(d)
        if shape == "month":
            return f"{d[0]:04d}-{d[1]:02d}"
        if shape == "approx":
            return f"{d[0]:04d}-{d[1]:02d}~"
        if shape == "range":
            return f"[{self.iso(d)}..{self.iso(self.later(d))}]"
        if shape == "open":
            return f"[..{self.iso(d)}]"
        return f"{self.iso(d)}/{self.iso(self.later(d))}"

    def state(self) -> str:
        code = self.rng.choice(STATES)
        return code.lower() if self.rng.random() < 0.1 else code  # matched case-insensitively

    def states(self, low: int, high: int) -> list[str]:
        return self.rng.sample(STATES, self.rng.randint(low, high))

    def actor(self) -> str:
        return self.rng.choice([*STATES, *self.people, *self.bodies])

    def cite(self) -> list[Any]:
        if self.rng.random() < 0.3:
            return []
        source = self.rng.choice(self.sources)
        if self.rng.random() < 0.5:
            return [source]
        return [{"source": source, "attribution": "officials", "quote": "as reported"}]

    # -- records -------------------------------------------------------------------

    def registry(self) -> None:
        for i, source in enumerate(self.sources):
            self.records.append(
                {
                    "kind": "source",
                    "id": source,
                    "title": f"Source {i}",
                    "type": "news-report",
                    "reliability": "ABC"[i],
                }
            )
        for code in ("CZE", "SVK"):
            self.records.append(
                {"kind": "actor", "id": code, "name": f"State {code}", "type": "state"}
            )
        for code in STATES:
            actor = {"kind": "actor", "id": code, "name": f"State {code}", "type": "state"}
            if code in DISSOLVED:
                start, end, successors = DISSOLVED[code]
                actor |= {"start": start, "end": end, "successors": successors}
            self.records.append(actor)
        for person in self.people:
            self.records.append(
                {
                    "kind": "actor",
                    "id": person,
                    "name": person.title(),
                    "type": "person",
                    "country": self.state(),
                }
            )
        for body in self.bodies:
            self.records.append(
                {
                    "kind": "actor",
                    "id": body,
                    "name": body.title(),
                    "type": "body",
                    "part_of": self.state(),
                }
            )
        for person in self.people[:6]:
            start = self.day()
            post: dict[str, Any] = {
                "kind": "post",
                "holder": person,
                "title": "Minister",
                "organization": self.state(),
                "start": self.iso(start),
            }
            if self.rng.random() < 0.5:
                post["end"] = self.iso(self.later(start))
            if sources := self.cite():
                post["sources"] = sources
            self.records.append(post)
        for i, agreement in enumerate(self.agreements):
            record: dict[str, Any] = {
                "kind": "agreement",
                "id": agreement,
                "title": f"Agreement {i}",
                "type": self.rng.choice(["treaty", "memorandum-of-understanding", "other"]),
            }
            if self.rng.random() < 0.7:
                record["parties"] = self.states(2, 4)
            if i and self.rng.random() < 0.5:
                record["relations"] = [
                    {"type": "builds_on", "target": self.rng.choice(self.agreements[:i])}
                ]
            self.records.append(record)

    def occurrence(self, number: int) -> dict[str, Any]:
        rng = self.rng
        kind = OCCURRENCE_KINDS[number % len(OCCURRENCE_KINDS)]
        if kind == "revocation" and not self.notices:
            kind = "meeting"
        record: dict[str, Any] = {"kind": kind, "date": self.date()}
        agreement = rng.choice(self.agreements)
        if kind == "signing":
            signatories = []
            for state in self.states(1, 3):
                if rng.random() < 0.5:
                    signatories.append({"actor": rng.choice(self.people), "on_behalf_of": state})
                else:
                    signatories.append({"actor": state})
            record |= {"agreement": agreement, "signatories": signatories}
            if rng.random() < 0.4:
                record["overseen_by"] = rng.sample(self.people, 1)
        elif kind == "approval":
            record |= {
                "agreement": agreement,
                "by": rng.choice(self.bodies),
                "on_behalf_of": self.state(),
            }
        elif kind == "ratification":
            record |= {"agreement": agreement, "by": self.state()}
            if rng.random() < 0.6:
                record["method"] = rng.choice(METHODS)
        elif kind == "entry_into_force":
            record["agreement"] = agreement
            if rng.random() < 0.5:
                record["for"] = self.states(1, 2)
        elif kind == "withdrawal":
            record |= {"agreement": agreement, "by": self.state()}
            if rng.random() < 0.6:
                record["effective"] = self.iso(self.later(self.day()))
        elif kind == "termination":
            record["agreement"] = agreement
            if rng.random() < 0.5:
                record["by"] = self.state()
        elif kind == "suspension":
            record["agreement"] = agreement
            if rng.random() < 0.5:
                record["until"] = self.iso(self.day(2025))
            if rng.random() < 0.5:
                record["by"] = self.state()
        elif kind == "revocation":
            notice = rng.choice(self.notices)
            record |= {"target": notice["id"], "by": notice.get("by") or self.state()}
            if rng.random() < 0.5:
                record["reason"] = "The notice was rescinded."
        elif kind == "implementation":
            record |= {
                "agreement": agreement,
                "status": rng.choice(STATUSES),
                "by": self.states(1, 2),
            }
        elif kind == "visit":
            record |= {"visitor": rng.choice(self.people), "host": self.state()}
            if rng.random() < 0.5:
                record["about"] = [agreement]
        elif kind == "meeting":
            record["participants"] = rng.sample([*self.people, *STATES], 3)
            if rng.random() < 0.5:
                record["about"] = [agreement]
        elif kind == "statement":
            record |= {
                "by": self.actor(),
                "stance": rng.choice(STANCES),
                "about": [agreement, rng.choice(STATES)][: rng.randint(1, 2)],
            }
        elif kind == "proposal":
            record |= {"by": self.actor(), "to": self.state(), "about": [agreement]}
        elif kind == "accusation":
            record |= {"by": self.state(), "against": rng.sample(self.people, 2)}
        elif kind == "threat":
            record |= {
                "by": self.state(),
                "against": rng.sample(STATES, 1),
                "condition": "if provoked",
            }
        if rng.random() < 0.3:
            record["place"] = rng.choice(["Geneva", "Vienna", "Brussels"])
        if rng.random() < 0.5:
            record["summary"] = f"Occurrence number {number}."
        if sources := self.cite():
            record["sources"] = sources
        if rng.random() < 0.85:  # the rest get ids derived from their content
            record["id"] = f"occ-{number}"
            self.targets.append(record)
            if kind in ("withdrawal", "suspension"):
                self.notices.append(record)
        return record

    def amendment(self, number: int) -> dict[str, Any]:
        rng = self.rng
        target = rng.choice(self.targets)
        if rng.random() < 0.25 and target["id"] not in self.retracted:
            self.retracted.add(target["id"])
            return {
                "kind": "retraction",
                "id": f"retraction-{number}",
                "date": "2025-01-01",
                "target": target["id"],
                "reason": "Not borne out.",
            }
        changes: dict[str, Any] = rng.choice(
            [
                {"date": self.date()},
                {"place": "Rome"},
                {"summary": f"Corrected account {number}."},
                {"summary": None},
                {"sources": [self.sources[0]]},
            ]
        )
        kind = target["kind"]
        if kind == "statement" and rng.random() < 0.5:
            changes = {"stance": rng.choice(STANCES)}
        elif kind == "visit" and rng.random() < 0.5:
            changes = {"host": self.state()}
        elif kind == "signing" and rng.random() < 0.5:
            changes = {"overseen_by": rng.sample(self.people, 2)}
        elif kind == "withdrawal" and rng.random() < 0.5:
            changes = {"effective": self.iso(self.day(2024))}
        record = {
            "kind": "correction",
            "date": "2025-02-01",
            "target": target["id"],
            "set": changes,
            "reason": "A better source.",
        }
        if rng.random() < 0.7:
            record["id"] = f"correction-{number}"
        return record


def generate_records(seed: int = 2025, occurrences: int = 300) -> list[dict[str, Any]]:
    """Registry records, then occurrences with corrections and retractions among them."""
    generator = _Generator(seed)
    generator.registry()
    for number in range(occurrences):
        generator.records.append(generator.occurrence(number))
        if number >= 10 and generator.rng.random() < 0.15:
            generator.records.append(generator.amendment(number))
    return generator.records
