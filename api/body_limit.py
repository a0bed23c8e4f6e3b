"""Request bodies past ``LAUNCHDECK_MAX_BODY_BYTES`` are refused with 413, before they are read.

The largest body launchdeck takes (a launch with fifty regions) is a few kilobytes, and every
body is read whole and parsed as JSON (the idempotency middleware hashes it first), so a huge one
would cost memory and CPU for nothing. A declared Content-Length past the limit is refused at
once, without reading a byte of the body; a chunked body is counted as it arrives and refused the
moment it passes the limit, whatever the route was doing with it. The 413 says Connection: close,
since the rest of the body is never read from that connection.

It is the outermost middleware, so no other layer reads a body it has not counted.
"""

import contextlib
import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyTooLarge(Exception):
    """Raised into the app from ``receive`` when the body passes the limit: whoever was reading
    it stops there, and the middleware answers 413 instead of anything the app would."""


def _too_large(limit: int) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps(
        {
            "type": "https://launchdeck.dev/problems/body_too_large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"the request body is larger than {limit} bytes (LAUNCHDECK_MAX_BODY_BYTES); send less",
            "errors": [{"field": "body", "message": f"at most {limit} bytes"}],
        }
    ).encode()
    headers = [
        (b"content-type", b"application/problem+json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    return headers, body


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _declared_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        counted = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal counted, exceeded
            message = await receive()
            if message["type"] == "http.request":
                counted += len(message.get("body", b""))
                if counted > self.max_bytes:
                    exceeded = True
                    raise BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded:  # the app answered its own way to the interrupted read: the 413 goes instead
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        with contextlib.suppress(BodyTooLarge):  # the read it interrupted: answered below
            await self.app(scope, counting_receive, guarded_send)
        if exceeded and not started:
            await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        headers, body = _too_large(self.max_bytes)
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
