"""Error handlers: the error tree to HTTP answers, and validation errors to 422."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from twin.errors import TwinError, http_status

log = logging.getLogger(__name__)


def install(app: FastAPI) -> None:
    """Register the handlers on ``app``."""

    @app.exception_handler(TwinError)
    async def _twin(_: Request, exc: TwinError) -> JSONResponse:
        status, body = error_answer(exc)
        return JSONResponse(body, status_code=status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(validation_body(exc.errors()), status_code=422)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        msg = str(exc.orig).splitlines()[0] if exc.orig else "constraint violated"
        return JSONResponse({"error": "conflict", "message": msg}, status_code=409)

    @app.exception_handler(OperationalError)
    async def _down(_: Request, exc: OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", exc)
        return JSONResponse(
            {"error": "unavailable", "message": "the database is unreachable"}, status_code=503
        )

    @app.exception_handler(DBAPIError)
    async def _dbapi(_: Request, exc: DBAPIError) -> JSONResponse:
        msg = str(exc.orig).splitlines()[0] if exc.orig else "database rejected the request"
        return JSONResponse({"error": "invalid_input", "message": msg}, status_code=422)


def validation_body(errors: Sequence[Any]) -> dict[str, Any]:
    """The 422 body for request-validation errors (pydantic's error dicts): every
    problem with its field path, the first one in the message."""
    problems = []
    for e in errors:
        loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        problems.append({"field": loc, "message": e.get("msg"), "input": e.get("input")})
    first = problems[0] if problems else {"field": "?", "message": "invalid"}
    body = {
        "error": "invalid_input",
        "message": f"{first['field']}: {first['message']}",
        "details": problems,
    }
    return _jsonable(body)  # type: ignore[return-value]


def error_answer(exc: TwinError) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body of a twin error."""
    return http_status(exc), exc.to_dict()


def _jsonable(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    if isinstance(obj, bytes):  # a body that is not JSON: show its text, not b'...'
        return obj.decode("utf-8", errors="replace")
    return str(obj)
