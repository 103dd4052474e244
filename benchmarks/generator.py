"""Realistic synthetic ledgers in the interchange format (JSON Lines), for benchmarks.

``python -m benchmarks.generator 100000`` writes ``benchmarks/data/ledger-100000.jsonl``:
about 200 states, their ministries and a few organizations, persons with the posts they
hold, sources, bilateral and multilateral agreements (some related to earlier ones), then
N occurrences of every kind — corrections and retractions included — with dates over six
decades in every EDTF form the format allows. The same N and seed give the same bytes.

One agreement, ``bench-convention``, is the query target: a multilateral convention that
every state signs and most ratify, with statements about it, so its size (about 600
occurrences) does not depend on N and query latencies stay comparable across sizes.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pycountry

from ledger import vocabulary

DATA = Path(__file__).parent / "data"
BENCH_AGREEMENT = "bench-convention"
STATES = 200

#: Occurrence kinds and how often each appears (corrections/retractions are added on top).
WEIGHTS = {
    "statement": 20,
    "meeting": 12,
    "visit": 12,
    "signing": 8,
    "ratification": 9,
    "approval": 5,
    "entry_into_force": 4,
    "implementation": 5,
    "withdrawal": 1.5,
    "termination": 0.5,
    "suspension": 0.5,
    "proposal": 6,
    "accusation": 5,
    "threat": 4,
}
CORRECTION_SHARE = 0.02
RETRACTION_SHARE = 0.005
STANCES = vocabulary.STANCES
# Weighted towards plain ratification, as real treaty tables are.
METHODS = ("ratification", "ratification", "ratification", "acceptance", "approval", "accession")
STATUSES = vocabulary.IMPLEMENTATION_STATUSES
AGREEMENT_TYPES = vocabulary.AGREEMENT_TYPES
RELATIONS = ("builds_on", "reaffirms", "amends", "supersedes", "implements")
WORDS = (
    "border",
    "trade",
    "water",
    "security",
    "energy",
    "fisheries",
    "transit",
    "customs",
    "aviation",
    "health",
    "climate",
    "migration",
    "cultural",
    "scientific",
    "maritime",
)


class Generator:
    def __init__(self, occurrences: int, seed: int = 1) -> None:
        self.n = occurrences
        self.rng = random.Random(seed)
        self.states: list[str] = []
        self.persons: list[str] = []
        self.bodies: list[str] = []
        self.orgs: list[str] = []
        self.sources: list[str] = []
        self.agreements: list[tuple[str, list[str]]] = []
        self.ids: list[str] = []  # occurrence ids that corrections/retractions may target
        self.retracted: set[str] = set()

    # -- dates ------------------------------------------------------------------------

    def day(self, first: int = 1960, last: int = 2024) -> str:
        r = self.rng
        return f"{r.randint(first, last)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}"

    def edtf(self) -> str:
        r, x = self.rng, self.rng.random()
        d = self.day()
        if x < 0.70:
            return d
        if x < 0.80:
            return d[:7]
        if x < 0.85:
            return d[:7] + "~"
        if x < 0.88:
            return d + "?"
        if x < 0.93:
            return f"[{d}..{d[:8]}{min(28, int(d[8:]) + r.randint(1, 5)):02d}]"
        if x < 0.95:
            return f"[..{d}]"
        return f"{d}/{d[:8]}{min(28, int(d[8:]) + r.randint(1, 3)):02d}"

    # -- registry ---------------------------------------------------------------------

    def registry(self) -> Iterator[dict[str, Any]]:
        r = self.rng
        for i in range(max(50, self.n // 2000)):
            sid = f"src-{i:05d}"
            self.sources.append(sid)
            yield {
                "kind": "source",
                "id": sid,
                "title": f"Report {i} on {r.choice(WORDS)} talks",
                "publisher": f"Agency {i % 40}",
                "published": self.day(1990),
                "type": r.choice(("news-report", "official-statement", "treaty-text")),
                "reliability": r.choice("ABCDEF"),
            }
        # Real ISO 3166-1 codes: a state's id must be one (FORMAT.md v1.1).
        codes = sorted(r.sample(sorted(c.alpha_3 for c in pycountry.countries), STATES))
        for code in codes:
            self.states.append(code)
            yield {"kind": "actor", "id": code, "name": f"State {code}", "type": "state"}
            body = f"{code.lower()}-foreign-ministry"
            self.bodies.append(body)
            yield {
                "kind": "actor",
                "id": body,
                "name": f"Foreign Ministry of {code}",
                "type": "body",
                "part_of": code,
            }
        for i in range(20):
            oid = f"org-{i:02d}"
            self.orgs.append(oid)
            yield {
                "kind": "actor",
                "id": oid,
                "name": f"Organization {i}",
                "type": "organization",
                "aliases": [f"O{i}"],
            }
        for i in range(1000 + self.n // 1000):
            pid = f"person-{i:05d}"
            country = r.choice(self.states)
            self.persons.append(pid)
            yield {
                "kind": "actor",
                "id": pid,
                "name": f"Person {i}",
                "type": "person",
                "country": country,
            }
            start = self.day()
            yield {
                "kind": "post",
                "holder": pid,
                "title": r.choice(("Foreign Minister", "Ambassador", "President", "Envoy")),
                "organization": country,
                "start": start,
                "sources": [r.choice(self.sources)],
            }
        yield {
            "kind": "agreement",
            "id": BENCH_AGREEMENT,
            "title": "Benchmark Convention",
            "type": "treaty",
            "parties": [],
            "provisions": ["Every state may join."],
        }
        for i in range(max(50, self.n // 200)):
            aid = f"agr-{i:05d}"
            if r.random() < 0.8:
                parties = r.sample(self.states, 2)
            else:
                parties = r.sample(
                    self.states, r.randint(3, min(190, 3 + int(r.expovariate(0.05))))
                )
            record: dict[str, Any] = {
                "kind": "agreement",
                "id": aid,
                "type": r.choice(AGREEMENT_TYPES),
                "title": f"{r.choice(WORDS).title()} agreement {i}",
                "parties": parties,
                "provisions": [f"Provision {k}" for k in range(r.randint(0, 3))],
            }
            if self.agreements and r.random() < 0.1:
                record["relations"] = [
                    {"type": r.choice(RELATIONS), "target": r.choice(self.agreements)[0]}
                ]
            self.agreements.append((aid, parties))
            yield record

    # -- occurrences ------------------------------------------------------------------

    def common(self, kind: str, i: int) -> dict[str, Any]:
        r = self.rng
        record: dict[str, Any] = {"kind": kind, "date": self.edtf()}
        if r.random() < 0.9:  # the rest get an id derived from their content
            record["id"] = f"occ-{i:07d}"
        record["summary"] = f"{kind.replace('_', ' ')} number {i}"
        if r.random() < 0.3:
            record["place"] = f"City {r.randint(1, 500)}"
        cites: list[Any] = [r.choice(self.sources)]
        if r.random() < 0.2:
            cites.append({"source": r.choice(self.sources), "quote": f"quoted text {i}"})
        record["sources"] = cites
        if r.random() < 0.1:
            record["tags"] = [r.choice(WORDS)]
        return record

    def any_actor(self) -> str:
        r = self.rng
        pools = (self.states, self.persons, self.orgs, self.bodies)
        return r.choice(tuple(r.choice(pool) for pool in pools))

    def occurrence(self, i: int) -> dict[str, Any]:
        r = self.rng
        kind = r.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        rec = self.common(kind, i)
        agreement, parties = r.choice(self.agreements)
        state = r.choice(parties)
        if kind == "signing":
            rec["agreement"] = agreement
            rec["signatories"] = [
                {"actor": r.choice(self.persons), "on_behalf_of": p}
                for p in parties[: r.randint(1, min(4, len(parties)))]
            ]
            if r.random() < 0.2:
                rec["overseen_by"] = [r.choice(self.orgs)]
        elif kind == "approval":
            rec.update(
                agreement=agreement, by=f"{state.lower()}-foreign-ministry", on_behalf_of=state
            )
        elif kind == "ratification":
            rec.update(agreement=agreement, by=state, method=r.choice(METHODS))
        elif kind == "entry_into_force":
            rec["agreement"] = agreement
            if r.random() < 0.4:
                rec["for"] = [state]
        elif kind == "withdrawal":
            rec.update(agreement=agreement, by=state)
            if r.random() < 0.5:
                rec["effective"] = self.day()
        elif kind in ("termination", "suspension"):
            rec.update(agreement=agreement, by=state)
        elif kind == "implementation":
            rec.update(agreement=agreement, status=r.choice(STATUSES), by=[state])
        elif kind == "visit":
            rec.update(
                visitor=r.choice(self.persons),
                host=r.choice(self.states),
                purpose=f"talks on {r.choice(WORDS)}",
            )
            if r.random() < 0.3:
                rec["about"] = [agreement]
        elif kind == "meeting":
            rec["participants"] = r.sample(self.persons, r.randint(2, 5))
            if r.random() < 0.5:
                rec["about"] = [agreement]
        elif kind == "statement":
            rec.update(by=self.any_actor(), stance=r.choice(STANCES), about=[agreement])
            if r.random() < 0.3:
                rec["quote"] = f"we stand by agreement {agreement}"
        elif kind == "proposal":
            rec.update(by=self.any_actor(), to=r.choice(self.states), about=[agreement])
        elif kind == "accusation":
            rec.update(by=r.choice(self.states), against=[r.choice(self.states)])
        else:  # threat
            rec.update(
                by=r.choice(self.states),
                against=[r.choice(self.states)],
                condition="unless talks resume",
            )
        if "id" in rec:
            self.ids.append(rec["id"])
        return rec

    def bench(self, i: int, step: int) -> dict[str, Any]:
        """The fixed-size history of the query target, spread evenly over the log."""
        r = self.rng
        state = self.states[step % STATES]
        rec = self.common("signing", i)
        rec["id"] = f"occ-{i:07d}"
        if step < STATES:
            rec["signatories"] = [{"actor": r.choice(self.persons), "on_behalf_of": state}]
        elif step < 2 * STATES - 40:
            rec.update(kind="ratification", by=state, method=r.choice(METHODS))
        elif step < 2 * STATES - 20:
            rec.update(
                kind="statement", by=state, stance=r.choice(STANCES), about=[BENCH_AGREEMENT]
            )
        elif step < 2 * STATES:
            rec.update(kind="withdrawal", by=state)
        else:
            rec.update(
                kind="statement", by=state, stance=r.choice(STANCES), about=[BENCH_AGREEMENT]
            )
        if rec["kind"] != "statement":
            rec["agreement"] = BENCH_AGREEMENT
        self.ids.append(rec["id"])
        return rec

    def amendment(self, i: int) -> dict[str, Any] | None:
        r = self.rng
        target = r.choice(self.ids)
        if target in self.retracted:
            return None
        if r.random() < RETRACTION_SHARE / (CORRECTION_SHARE + RETRACTION_SHARE):
            self.retracted.add(target)
            return {
                "kind": "retraction",
                "id": f"amd-{i:07d}",
                "date": self.day(2000),
                "target": target,
                "reason": "the report was withdrawn by its source",
                "sources": [r.choice(self.sources)],
            }
        change = r.choice(
            (
                {"summary": f"corrected summary {i}"},
                {"date": self.edtf()},
                {"place": f"City {r.randint(1, 500)}"},
            )
        )
        return {
            "kind": "correction",
            "id": f"amd-{i:07d}",
            "date": self.day(2000),
            "target": target,
            "set": change,
            "reason": "a later report gave the detail",
        }

    def occurrences(self) -> Iterator[dict[str, Any]]:
        bench_total = 2 * STATES + 200
        every = max(1, self.n // bench_total)
        bench_step = 0
        amend = CORRECTION_SHARE + RETRACTION_SHARE
        i = 0
        while i < self.n:
            i += 1
            if i % every == 0 and bench_step < bench_total:
                yield self.bench(i, bench_step)
                bench_step += 1
            elif self.ids and self.rng.random() < amend:
                record = self.amendment(i)
                yield record if record is not None else self.occurrence(i)
            else:
                yield self.occurrence(i)

    def records(self) -> Iterator[dict[str, Any]]:
        yield from self.registry()
        yield from self.occurrences()


def generate(occurrences: int, seed: int = 1, path: Path | None = None) -> Path:
    """Write the ledger for N occurrences (if not already there) and return its path."""
    path = path or DATA / f"ledger-{occurrences}.jsonl"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("w", encoding="utf-8") as out:
        for record in Generator(occurrences, seed).records():
            out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    partial.rename(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("occurrences", type=int, nargs="+")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    for n in args.occurrences:
        print(generate(n, args.seed))


if __name__ == "__main__":
    main()
