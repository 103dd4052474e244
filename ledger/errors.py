"""Errors the ledger reports to its users.

Every refusal names where the problem is (file, record, line, field) so an analyst can
fix the input without guessing; the CLI turns these into exit status 1 at its edge.
"""

from __future__ import annotations

from dataclasses import dataclass


class LedgerError(Exception):
    """Base of every error that is the user's to fix, not a bug."""


@dataclass
class RecordError(LedgerError):
    """A record refused, with the place it came from.

    `field` is a dotted path (``signatories[1].actor``); `file`, `index` (1-based,
    counting records in the file) and `line` are filled in by whoever knows them.
    """

    message: str
    field: str | None = None
    file: str | None = None
    index: int | None = None
    line: int | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def located(
        self, *, file: str | None = None, index: int | None = None, line: int | None = None
    ) -> RecordError:
        """The same error, with the place filled in where it was not known yet."""
        return RecordError(
            self.message,
            field=self.field,
            file=self.file or file,
            index=self.index if self.index is not None else index,
            line=self.line if self.line is not None else line,
        )

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file)
        if self.index is not None:
            record = f"record {self.index}"
            if self.line is not None:
                record += f" (line {self.line})"
            where.append(record)
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class TamperingDetected(LedgerError):
    """The stored log, its tree heads or its read models are not what the ledger wrote."""


class SchemaError(LedgerError):
    """The database schema is missing, outdated, or newer than this program."""


class RetryableError(LedgerError):
    """Another writer held the ledger; nothing was written and the same command may be retried."""


class DatabaseUnavailable(LedgerError):
    """The database could not be opened, reached or written: bad URL, missing folder, a
    file that is not a database, a server that does not answer, read-only or full media.

    Nothing is the ledger's fault here and nothing was written; the message says which.
    """


class NoLedger(DatabaseUnavailable):
    """No ledger where one was named: only init, import and record create one, so a typo
    in a path is never answered with an empty ledger."""


class UnknownName(LedgerError):
    """A name the command line gave (a projection, a format) that the ledger does not know."""
