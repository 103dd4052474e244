"""The ledger's errors as HTTP answers: the CLI's message, with a status that says why.

The message is the one `ledger` prints for the same question (both front ends raise the
same `LedgerError`s from the same functions); only the edge differs: exit status 1
there, a status code here.
"""

from __future__ import annotations

from ledger.errors import LedgerError, RecordError, RetryableError, SchemaError
from ledger.integrity import TamperingDetected
from projections.queries import NotFound


class BadParameter(LedgerError):
    """A query parameter the question cannot take, or cannot read."""

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(message)
        self.parameter = parameter


class Unauthorized(LedgerError):
    """A write without a bearer token the tokens file holds."""


class WritesOff(LedgerError):
    """A write to a server started without --allow-writes."""


class TooLarge(LedgerError):
    """A request body over the server's limit."""


STATUSES: tuple[tuple[type[LedgerError], int], ...] = (
    (NotFound, 404),
    (BadParameter, 422),
    (RecordError, 422),
    (Unauthorized, 401),
    (WritesOff, 403),
    (TooLarge, 413),
    (RetryableError, 503),
    (SchemaError, 503),
    (TamperingDetected, 500),
)


def status_of(error: LedgerError) -> int:
    """The status code for a refusal; any other error of the user's is a bad request (422)."""
    for kind, status in STATUSES:
        if isinstance(error, kind):
            return status
    return 422


def body_of(error: LedgerError) -> dict[str, object]:
    body: dict[str, object] = {"error": str(error), "status": status_of(error)}
    if isinstance(error, BadParameter):
        body["parameter"] = error.parameter
    if isinstance(error, RecordError):
        body.update(
            {"file": error.file, "record": error.index, "line": error.line, "field": error.field}
        )
    return body
