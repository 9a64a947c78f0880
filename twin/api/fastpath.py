"""A lean ASGI path for ``POST /route/check``, the API's hot endpoint.

Route-checking clients call ``/route/check`` far more than anything else, and a check
itself takes about a millisecond, so FastAPI's per-request machinery (route matching
over every router, dependency solving, request objects) would cost a third of each
answer. This middleware answers that one path directly: the body is validated by the
same pydantic model (:class:`twin.api.routers.route.RouteRequest`, parsed from the raw
JSON in Rust), the answer comes from the same function as the FastAPI endpoint
(:func:`twin.api.routers.route.answer_check`), and errors get the same status codes
and bodies (:mod:`twin.api.errors`). It sits inside FastAPI's outer middlewares, so
the body-size limit and the 500 handler still apply. The FastAPI endpoint stays
registered: it documents the path in OpenAPI and answers when this is not installed.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from twin.api.errors import error_answer, validation_body
from twin.api.routers.route import RouteRequest, answer_check
from twin.errors import TwinError

PATH = "/route/check"
_OPTIONS = orjson.OPT_SERIALIZE_NUMPY


class RouteCheckFastPath:
    """ASGI middleware answering ``POST /route/check``; every other request passes on."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer the route check, or hand the request to the wrapped app."""
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        status, payload = answer(scope["app"].state, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def answer(state: Any, body: bytes) -> tuple[int, bytes]:
    """Status and JSON bytes of a route check for the raw request ``body``."""
    try:
        request = RouteRequest.model_validate_json(body)
    except ValidationError as exc:
        return 422, orjson.dumps(validation_body(exc.errors(include_url=False)), option=_OPTIONS)
    try:
        return 200, orjson.dumps(answer_check(state, request), option=_OPTIONS)
    except TwinError as exc:
        status, err = error_answer(exc)
        return status, orjson.dumps(err, option=_OPTIONS, default=str)


async def _read_body(receive: Receive) -> bytes:
    """The whole request body (the body-limit middleware outside bounds its size).

    Not ``starlette.requests.Request.body()``: that raises ``ClientDisconnect`` when the
    client has gone, which would surface as a server error outside the routes; here a
    gone client just gets an answer nobody reads."""
    chunks: list[bytes] = []
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
