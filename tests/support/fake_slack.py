"""A fake Slack Web API on loopback, for driving the real slack_sdk WebClient over real HTTP.

Why a server and not mocks: slack_sdk's sync client speaks urllib, and what we need to prove
(retry handlers, Retry-After, timeouts, what was actually sent) only happens on the wire.

Implements ``auth.test``, ``chat.postMessage`` (keeping message ``metadata``), ``chat.update``,
``views.open``, ``views.publish`` (keeping each user's Home), ``conversations.open``,
``conversations.list``, ``conversations.history``, and Sign in with Slack
(``fake_slack.oidc``: tests/support/fake_slack_oidc.py) (newest first, ``oldest``,
``include_all_metadata``, cursor paging) with Slack's JSON shapes, records every call, and takes a
fault script per method::

    fake_slack.script("chat.postMessage", [Reply.rate_limited(1), Reply.server_error(), Reply.ok()])

Scripted replies are used one per call, in order; afterwards the method behaves normally.
``fake_slack.flaky(rate=0.3, seed=7)`` makes a seeded share of the unscripted calls fail (429,
500, or no answer at all) until ``recover()``; the seed makes a failing run repeatable.
``Reply.hang()`` *performs* the call and then holds the answer back until ``release_hangs()`` (or
the fixture's teardown): the worst case for a client, where Slack did the work but the answer
never arrived. ``fake_slack.slow(seconds=5)`` answers every call only after that long (a Slack that
is up but slow). Both waits are server-side on a ``threading.Event``; tests never sleep.
``go_down()`` stops listening (every call refused at connect: Slack unreachable) until
``come_back()`` listens again at the same address.

Use it through the ``fake_slack`` fixture (import it into the test module).
"""

import itertools
import json
import random
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qs

import pytest

from notifications.delivery.slack_transport import SlackTransport
from tests.support.fake_slack_oidc import FakeOidc

TOKEN = "xoxb-fake-token"
_MAX_HANG_SECONDS = 10.0


@dataclass(frozen=True)
class Reply:
    """One scripted answer. Build with the class methods."""

    kind: Literal["ok", "rate_limited", "server_error", "hang", "lost", "error"]
    status: int = 200
    retry_after: int = 0
    code: str = ""

    @classmethod
    def ok(cls) -> "Reply":
        return cls("ok")

    @classmethod
    def rate_limited(cls, retry_after: int = 1) -> "Reply":
        return cls("rate_limited", status=429, retry_after=retry_after)

    @classmethod
    def server_error(cls, status: int = 500) -> "Reply":
        return cls("server_error", status=status)

    @classmethod
    def hang(cls) -> "Reply":
        return cls("hang")

    @classmethod
    def lost(cls) -> "Reply":
        """No answer and nothing done: the request was lost before Slack acted on it (a client
        timeout where retrying is safe even for a post)."""
        return cls("lost")

    @classmethod
    def error(cls, code: str) -> "Reply":
        """HTTP 200 with ``{"ok": false, "error": code}``, as Slack answers most failures."""
        return cls("error", code=code)


@dataclass(frozen=True)
class Call:
    """One request as received: method name, decoded body (JSON or form), headers, and when."""

    method: str
    body: dict[str, Any]
    headers: dict[str, str]
    answered: str  # the Reply kind used, or "ok"
    at: float = 0.0  # time.monotonic() on arrival


@dataclass
class FakeMessage:
    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    edits: int = 0
    metadata: dict[str, Any] | None = None


@dataclass
class FakeSlack:
    """State of the fake; ``base_url`` is what ``WebClient(base_url=...)`` needs."""

    token: str = TOKEN
    unknown_channels: set[str] = field(default_factory=set)
    channel_ids: dict[str, str] = field(default_factory=dict)
    base_url: str = ""
    oidc: FakeOidc = field(default_factory=FakeOidc)
    _calls: list[Call] = field(default_factory=list)
    _scripts: dict[str, list[Reply]] = field(default_factory=dict)
    _messages: dict[str, dict[str, FakeMessage]] = field(default_factory=dict)
    _names: dict[str, str] = field(default_factory=dict)  # channel id -> name, as channels get used
    _homes: dict[str, dict[str, Any]] = field(default_factory=dict)  # user id -> their published Home
    _ts: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _release: threading.Event = field(default_factory=threading.Event)
    _flaky: tuple[float, random.Random] | None = None
    _delay: float = 0.0
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- test-facing API --------------------------------------------------------------------------

    def script(self, method: str, replies: list[Reply]) -> None:
        with self._lock:
            self._scripts.setdefault(method, []).extend(replies)

    @property
    def calls(self) -> list[Call]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    @property
    def messages(self) -> dict[str, list[FakeMessage]]:
        """Channel id -> its messages in ts order; an update changes the message in place."""
        with self._lock:
            return {
                channel: [by_ts[ts] for ts in sorted(by_ts, key=float)] for channel, by_ts in self._messages.items()
            }

    @property
    def homes(self) -> dict[str, dict[str, Any]]:
        """User id -> the App Home view last published for them (``views.publish``)."""
        with self._lock:
            return dict(self._homes)

    def flaky(self, *, rate: float, seed: int) -> None:
        """From now on fail ``rate`` of the unscripted calls, chosen by a seeded RNG: a 429 (Retry-After
        0), a 500, a request lost before Slack acted (``lost``), or an answer lost after it did
        (``hang``: the worst case for a post, which the dispatcher must find again, not repeat)."""
        with self._lock:
            self._flaky = (rate, random.Random(seed))

    def recover(self) -> None:
        with self._lock:
            self._flaky = None
            self._delay = 0.0

    def slow(self, *, seconds: float) -> None:
        """From now on hold every answer ``seconds`` after doing the work (until ``recover()``, or
        ``release_hangs()``/teardown, which answer at once): Slack up, but slow."""
        with self._lock:
            self._delay = seconds

    def release_hangs(self) -> None:
        self._release.set()

    def go_down(self) -> None:
        """Stop listening: from now on every call is refused at connect (Slack unreachable) until
        ``come_back()``. What Slack holds (messages, Homes, recorded calls) stays."""
        self._close()

    def come_back(self) -> None:
        """Listen again, at the same address."""
        host, port = self.base_url.removeprefix("http://").split("/", 1)[0].rsplit(":", 1)
        self._listen(host, int(port))

    # -- lifecycle --------------------------------------------------------------------------------

    def start(self) -> None:
        self._listen("127.0.0.1", 0)

    def _listen(self, host: str, port: int) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                fake._handle(self)

            def do_GET(self) -> None:  # slack_sdk reads (conversations.history/list) with GET
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        bound_host, bound_port = self._server.server_address[:2]
        self.base_url = f"http://{bound_host!s}:{bound_port}/api/"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-slack", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._release.set()
        self._close()

    def _close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # -- request handling -------------------------------------------------------------------------

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        path, _, query = request.path.partition("?")
        if path == "/openid/connect/authorize":  # a browser page, not the Web API
            status, location = self.oidc.authorize(query)
            request.send_response(status)
            request.send_header("Location", location)
            request.send_header("Content-Length", "0")
            request.end_headers()
            return
        method = path.rsplit("/", 1)[-1]
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length).decode("utf-8") if length else ""
        body = self._decode(raw, request.headers.get("Content-Type") or "")
        body.update({key: values[-1] for key, values in parse_qs(query).items()})
        with self._lock:
            queue = self._scripts.get(method) or []
            reply = queue.pop(0) if queue else self._unscripted(method)
            self._calls.append(Call(method, body, dict(request.headers.items()), reply.kind, time.monotonic()))
            delay = self._delay
        status, headers, payload = 200, {}, {"ok": False, "error": reply.code}
        if reply.kind == "rate_limited":
            status, headers, payload = (
                429,
                {"Retry-After": str(reply.retry_after)},
                {"ok": False, "error": "ratelimited"},
            )
        elif reply.kind == "server_error":
            status, payload = reply.status, {"ok": False, "error": "internal_error"}
        elif reply.kind in {"ok", "hang"}:
            payload = self._perform(method, body, request.headers.get("Authorization") or "")
        if reply.kind in {"hang", "lost"}:
            self._release.wait(_MAX_HANG_SECONDS)
        elif delay > 0:
            self._release.wait(delay)
        self._answer(request, status, headers, payload)

    def _unscripted(self, method: str) -> Reply:
        """The reply to a call with no script: ok, unless the fake is flaky and the RNG says fail."""
        if self._flaky is None:
            return Reply.ok()
        rate, rng = self._flaky
        if rng.random() >= rate:
            return Reply.ok()
        return rng.choice([Reply.rate_limited(0), Reply.server_error(500), Reply.lost(), Reply.hang()])

    @staticmethod
    def _decode(raw: str, content_type: str) -> dict[str, Any]:
        if not raw:
            return {}
        if content_type.startswith("application/json"):
            decoded = json.loads(raw)
            return decoded if isinstance(decoded, dict) else {"_": decoded}
        form: dict[str, Any] = {key: values[-1] for key, values in parse_qs(raw).items()}
        for key in ("blocks", "metadata"):  # form posts carry these as JSON strings
            if isinstance(form.get(key), str):
                form[key] = json.loads(form[key])
        return form

    @staticmethod
    def _answer(request: BaseHTTPRequestHandler, status: int, headers: dict[str, str], payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode("utf-8")
        try:
            request.send_response(status)
            request.send_header("Content-Type", "application/json; charset=utf-8")
            request.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                request.send_header(name, value)
            request.end_headers()
            request.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (a scripted hang): exactly what Slack would see

    def _perform(self, method: str, body: dict[str, Any], authorization: str) -> dict[str, Any]:
        if method == "openid.connect.token":  # the app's client id and secret, no bot token
            return self.oidc.token(body, authorization)
        if method == "openid.connect.userInfo":  # the signed-in person's own access token
            return self.oidc.user_info(authorization)
        if not authorization.startswith("Bearer "):
            return {"ok": False, "error": "not_authed"}
        if authorization.removeprefix("Bearer ") != self.token:
            return {"ok": False, "error": "invalid_auth"}
        with self._lock:
            if method == "auth.test":
                return {
                    "ok": True,
                    "url": "https://fake.slack.com/",
                    "team": "Fake Workspace",
                    "user": "launchdeck",
                    "team_id": "T0FAKE",
                    "user_id": "U0BOT",
                    "bot_id": "B0BOT",
                }
            if method == "chat.postMessage":
                return self._post(body)
            if method == "chat.update":
                return self._update(body)
            if method == "conversations.open":
                users = str(body.get("users") or "")
                if not users:
                    return {"ok": False, "error": "users_list_not_supplied"}
                if "," in users:
                    return {"ok": True, "channel": {"id": "G" + users.replace(",", "")[:10].upper()}}
                return {"ok": True, "channel": {"id": "D" + users.upper()}}
            if method == "conversations.list":
                names = {**self._names, **{id_: name.lstrip("#") for name, id_ in self.channel_ids.items()}}
                channels = [{"id": id_, "name": name, "is_archived": False} for id_, name in names.items()]
                return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}
            if method == "conversations.history":
                return self._history(body)
            if method == "views.publish":
                return self._publish(body)
            if method == "views.open":
                if not body.get("trigger_id"):
                    return {"ok": False, "error": "invalid_trigger_id"}
                view = body.get("view")
                if isinstance(view, str):
                    view = json.loads(view)
                return {"ok": True, "view": {"id": "V0FAKE", **(view or {})}}
        return {"ok": False, "error": "unknown_method"}

    def _publish(self, body: dict[str, Any]) -> dict[str, Any]:
        """``views.publish``: the user's Home replaced by ``view`` (kept in ``homes``)."""
        view = body.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        user = str(body.get("user_id") or "")
        if not user:
            return {"ok": False, "error": "invalid_arguments"}
        if not isinstance(view, dict) or view.get("type") != "home" or len(view.get("blocks") or []) > 100:
            return {"ok": False, "error": "invalid_arguments"}
        self._homes[user] = view
        return {"ok": True, "view": {"id": f"V0HOME{user}", "team_id": "T0FAKE", **view}}

    def _channel_id(self, channel: str) -> str | None:
        if channel in self.unknown_channels or not channel:
            return None
        if channel in self.channel_ids:
            return self.channel_ids[channel]
        if channel.startswith("#"):
            channel_id = "C" + "".join(ch for ch in channel[1:].upper() if ch.isalnum())[:10]
            self._names[channel_id] = channel[1:]
            return channel_id
        return channel

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(str(body.get("channel") or ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        if not body.get("text") and not body.get("blocks"):
            return {"ok": False, "error": "no_text"}
        n = next(self._ts)
        ts = f"{int(time.time())}.{n:06d}"  # wall-clock seconds, like Slack's, so ``oldest`` filters work
        metadata = body.get("metadata")
        message = FakeMessage(
            channel,
            ts,
            str(body.get("text") or ""),
            list(body.get("blocks") or []),
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        self._messages.setdefault(channel, {})[ts] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": {"type": "message", "text": message.text}}

    def _history(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = str(body.get("channel") or "")
        if not channel or channel.startswith("#"):
            return {"ok": False, "error": "channel_not_found"}  # Slack takes ids only here
        oldest = float(body.get("oldest") or 0)
        limit = int(body.get("limit") or 100)
        start = int(body.get("cursor") or 0)
        with_metadata = str(body.get("include_all_metadata")).lower() in {"1", "true"}
        newest_first = sorted(self._messages.get(channel, {}).values(), key=lambda m: float(m.ts), reverse=True)
        matching = [m for m in newest_first if float(m.ts) > oldest]
        page = matching[start : start + limit]
        messages = [
            {
                "type": "message",
                "ts": m.ts,
                "text": m.text,
                **({"metadata": m.metadata} if with_metadata and m.metadata else {}),
            }
            for m in page
        ]
        more = start + limit < len(matching)
        return {
            "ok": True,
            "messages": messages,
            "has_more": more,
            "response_metadata": {"next_cursor": str(start + limit) if more else ""},
        }

    def _update(self, body: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel_id(str(body.get("channel") or ""))
        if channel is None:
            return {"ok": False, "error": "channel_not_found"}
        message = self._messages.get(channel, {}).get(str(body.get("ts") or ""))
        if message is None:
            return {"ok": False, "error": "message_not_found"}
        message.text = str(body.get("text") or message.text)
        message.blocks = list(body.get("blocks") or [])
        message.edits += 1
        return {"ok": True, "channel": channel, "ts": message.ts, "text": message.text}


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running fake on 127.0.0.1:<free port>; stopped (and any hang released) afterwards."""
    fake = FakeSlack()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()


def transport(fake: FakeSlack) -> SlackTransport:
    """The real Slack transport pointed at ``fake``: no pacing, no real sleeps, a 2 s timeout."""
    return SlackTransport(token=TOKEN, base_url=fake.base_url, timeout=2, pace_seconds=0, sleep=lambda _s: None)
