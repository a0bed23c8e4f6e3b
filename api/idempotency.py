"""Idempotency-Key for every request that changes something: a retried request gets the first
answer again (marked `Idempotent-Replayed: true`) and changes nothing twice.

Keys are scoped to the API token. Reusing a key for a different request is refused (422); a
duplicate that arrives while the first is still running is refused (409) rather than run twice.
Answers of 5xx are not stored, so a retry after a server error runs again. A dry run
(``?dry_run=true``) changes nothing, so it passes through without taking or keeping a key.
"""

import hashlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from anyio import to_thread
from sqlalchemy import Engine
from sqlmodel import Session
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.core.errors import Unauthenticated
from orchestrator.core.replays import IN_PROGRESS, StoredAnswer, find_answer, release, reserve, store_answer
from orchestrator.directory.tokens import Principal, authenticate

CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TRUE_WORDS = frozenset({"1", "on", "t", "true", "y", "yes"})  # what a boolean query parameter takes as true
MAX_KEY_LENGTH = 200


BAD_KEY = f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters"
REUSED = "this Idempotency-Key was used for a different request; use a new key"
RUNNING = "a request with this Idempotency-Key is still running; retry shortly"


def _problem(status: int, detail: str, code: str) -> tuple[int, bytes]:
    body: dict[str, object] = {
        "type": f"https://launchdeck.dev/problems/{code}",
        "title": "Conflict" if status == 409 else "Invalid input",
        "status": status,
        "detail": detail,
    }
    return status, json.dumps(body).encode()


@dataclass(frozen=True)
class _Slot:
    """Where one token's answer to one key is kept; each call is one short transaction of its own
    in the thread pool (the request's own work runs on its own session)."""

    engine: Engine
    token_id: int
    key: str

    async def call(self, function: Any, **kwargs: Any) -> Any:
        return await to_thread.run_sync(
            lambda: _with_session(self.engine, function, token_id=self.token_id, key=self.key, **kwargs)
        )


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in CHANGING or _dry_run(scope):
            await self.app(scope, receive, send)
            return
        headers = {name.lower(): value for name, value in scope["headers"]}
        raw_key = headers.get(b"idempotency-key")
        if raw_key is None:
            await self.app(scope, receive, send)
            return
        key = raw_key.decode("latin-1").strip()
        if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
            await _send(send, *_problem(422, BAD_KEY, "invalid_idempotency_key"))
            return
        body = await _read_body(receive)
        engine: Engine = scope["app"].state.engine
        token_id = await to_thread.run_sync(_token_id, engine, headers.get(b"authorization", b"").decode("latin-1"))
        if token_id is None:  # the route answers 401 itself
            await self.app(scope, _replay(body), send)
            return
        slot = _Slot(engine, token_id, key)
        path = scope["path"] + ("?" + scope["query_string"].decode("latin-1") if scope.get("query_string") else "")
        request_hash = hashlib.sha256(scope["method"].encode() + b" " + path.encode() + b"\n" + body).hexdigest()
        stored = await _stored_or_reserved(slot, method=scope["method"], path=path, request_hash=request_hash)
        if stored is not None:
            await _send_stored(send, stored, request_hash)
            return
        await self._run_and_keep(scope, body, send, slot)

    async def _run_and_keep(self, scope: Scope, body: bytes, send: Send, slot: _Slot) -> None:
        """Run the request, passing its answer on as it comes except its last part, keep the answer
        in the slot (after a 5xx, free the slot instead, so a retry runs again), then send the last
        part. Why that order: a client that has the whole answer and sends the request again must
        get it replayed, not the 409 "still running" of a slot whose answer is not kept yet."""
        captured: dict[str, Any] = {"status": 500, "body": b""}
        held: list[Message] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
                if not message.get("more_body", False):
                    held.append(message)
                    return
            await send(message)

        try:
            await self.app(scope, _replay(body), capture)
        finally:
            if captured["status"] < 500:
                answer = captured["body"].decode("utf-8", "replace")
                await slot.call(store_answer, status_code=captured["status"], body=answer)
            else:
                await slot.call(release)
        for message in held:
            await send(message)


async def _stored_or_reserved(slot: _Slot, *, method: str, path: str, request_hash: str) -> StoredAnswer | None:
    """The answer kept in the slot (or its reservation by a request still running), or None when
    this request reserved the slot and is to run."""
    stored: StoredAnswer | None = await slot.call(find_answer)
    if stored is None:
        reserved = await slot.call(reserve, method=method, path=path, request_hash=request_hash)
        if not reserved:
            stored = await slot.call(find_answer)
    return stored


async def _send_stored(send: Send, stored: StoredAnswer, request_hash: str) -> None:
    """Replay the kept answer, or refuse: the key was used for another request, or its first
    request is still running."""
    if stored.request_hash != request_hash:
        await _send(send, *_problem(422, REUSED, "idempotency_key_reused"))
    elif stored.status_code == IN_PROGRESS:
        await _send(send, *_problem(409, RUNNING, "idempotency_in_progress"))
    else:
        await _send(send, stored.status_code, stored.body.encode(), replayed=True)


def _dry_run(scope: Scope) -> bool:
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return any(value.strip().lower() in TRUE_WORDS for value in query.get("dry_run", []))


def _with_session(engine: Engine, function: Any, **kwargs: Any) -> Any:
    with Session(engine, expire_on_commit=False) as session:
        return function(session=session, **kwargs)


def _token_id(engine: Engine, authorization: str) -> int | None:
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    try:
        principal: Principal = _with_session(engine, authenticate, secret=secret.strip())
    except Unauthenticated:
        return None
    return principal.token_id  # a bearer token's principal always names its token


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive


async def _send(send: Send, status: int, body: bytes, *, replayed: bool = False) -> None:
    content_type = b"application/problem+json" if status >= 400 else b"application/json"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
