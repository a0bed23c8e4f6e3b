"""The idempotency middleware keeps an answer before its client has all of it.

Found as a flaky `test_a_retried_post_with_an_idempotency_key_returns_the_first_answer`: the
answer went out before it was kept, so a client retrying the moment it had it could meet the slot
still marked running and get a 409 instead of the replay. Driven here at the ASGI boundary of the
real app, so the moment the last part of the answer is sent can be inspected, not raced."""

import asyncio
import json
from typing import Any

from sqlmodel import Session

from api.app import create_app
from orchestrator.core.replays import find_answer
from orchestrator.directory.tokens import authenticate
from tests.support.api import LAUNCH


def _post(path: str, token: str, key: str, body: bytes) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"authorization", f"Bearer {token}".encode()),
            (b"idempotency-key", key.encode()),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


def test_the_answer_is_kept_before_the_last_part_of_it_is_sent(engine, tokens, seeded):
    app = create_app(engine=engine)
    token = tokens["prodops"]
    with Session(engine) as session:
        token_id = authenticate(session=session, secret=token).token_id
    body = json.dumps(LAUNCH).encode()
    kept_when_sent: list[int | None] = []
    statuses: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            with Session(engine) as session:
                stored = find_answer(session=session, token_id=token_id, key="retry-me")
            kept_when_sent.append(None if stored is None else stored.status_code)

    asyncio.run(app(_post("/api/v1/launches", token, "retry-me", body), receive, send))
    assert statuses == [201]
    assert kept_when_sent == [201], f"when the answer's last part went out, the slot held {kept_when_sent}"
