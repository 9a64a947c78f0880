"""One error tree for the whole twin, and the one table mapping it to HTTP and exit codes.

Cores raise these (or plain ``ValueError`` from pure code, translated at the boundary);
driver exceptions never reach a user.
"""

from __future__ import annotations

from typing import Any


class TwinError(Exception):
    """Base of every error a user may see.

    Parameters
    ----------
    message:
        What went wrong, naming the file, line, field or value.
    hint:
        What the user can do about it.
    details:
        Structured data for API clients (for example the blocking structures).
    """

    code = "error"

    def __init__(self, message: str, *, hint: str | None = None, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        """JSON body for the API."""
        body: dict[str, Any] = {"error": self.code, "message": self.message}
        if self.hint:
            body["hint"] = self.hint
        if self.details is not None:
            body["details"] = self.details
        return body


class InputError(TwinError):
    """The input (file, field, parameter) is invalid."""

    code = "invalid_input"


class NotFound(TwinError):
    """A named thing does not exist."""

    code = "not_found"


class Conflict(TwinError):
    """The request conflicts with the current state (illegal transition, duplicate)."""

    code = "conflict"


class NoRoute(TwinError):
    """No legal route exists for the vehicle; ``details`` names what blocks it."""

    code = "no_route"


class Unavailable(TwinError):
    """A required service or binary is missing or down."""

    code = "unavailable"


#: error class -> (HTTP status, CLI exit code). The one place this mapping lives.
ERROR_CODES: dict[type[TwinError], tuple[int, int]] = {
    InputError: (422, 2),
    NoRoute: (422, 6),
    NotFound: (404, 3),
    Conflict: (409, 4),
    Unavailable: (503, 5),
    TwinError: (400, 1),
}


def http_status(exc: TwinError) -> int:
    """HTTP status code for an error."""
    return _lookup(exc)[0]


def exit_code(exc: TwinError) -> int:
    """Process exit code for an error."""
    return _lookup(exc)[1]


def _lookup(exc: TwinError) -> tuple[int, int]:
    for cls in type(exc).__mro__:
        if cls in ERROR_CODES:
            return ERROR_CODES[cls]  # type: ignore[index]
    return ERROR_CODES[TwinError]
