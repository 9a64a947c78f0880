"""Error handlers: the error tree to HTTP answers, and validation errors to 422."""

from __future__ import annotations

import logging

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
        return JSONResponse(exc.to_dict(), status_code=http_status(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for e in exc.errors():
            loc = ".".join(str(p) for p in e.get("loc", ()) if p != "body")
            problems.append({"field": loc, "message": e.get("msg"), "input": e.get("input")})
        first = problems[0] if problems else {"field": "?", "message": "invalid"}
        body = {
            "error": "invalid_input",
            "message": f"{first['field']}: {first['message']}",
            "details": problems,
        }
        return JSONResponse(_jsonable(body), status_code=422)

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


def _jsonable(obj: object) -> object:
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)
