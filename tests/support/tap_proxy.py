"""A loopback HTTP proxy in front of a real server, so a test can act at one exact request.

The process under test is pointed at the proxy instead of the server; every request is relayed
unchanged, and a ``Tap`` is asked twice: before the request goes on (answer False and the server
never sees it) and after the server answered, before the client hears the answer (answer False and
the client never does). In between a test can do what it needs at that point, e.g. SIGKILL the
client: "Unleash took the change but the worker never learned it" is then a fact, not a race.
"""

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

import httpx

# Hop-by-hop headers and those the relay recomputes (httpx already decoded the body).
_NOT_RELAYED = frozenset({"host", "content-length", "connection", "transfer-encoding", "content-encoding"})


@dataclass(frozen=True)
class Exchange:
    """One request passing through, and (after) the server's answer."""

    method: str
    path: str
    body: bytes
    status: int | None = None
    answer: bytes = b""

    def body_json(self) -> Any:
        return _json(self.body)

    def answer_json(self) -> Any:
        return _json(self.answer)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class Tap(Protocol):
    def before(self, exchange: Exchange) -> bool:
        """Whether to forward the request (False: drop it, the server never sees it)."""
        ...

    def after(self, exchange: Exchange) -> bool:
        """Whether to pass the server's answer on (False: drop it, the client never hears it)."""
        ...


class TapProxy:
    """Relays every request to ``upstream``, asking ``tap`` before and after; one thread a request."""

    def __init__(self, upstream: str, tap: Tap) -> None:
        self.upstream = upstream.rstrip("/")
        self.tap = tap
        self._client = httpx.Client(timeout=30)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="tap-proxy", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> str:
        self._thread.start()
        return self.url

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._client.close()

    def relay(self, exchange: Exchange, headers: dict[str, str]) -> httpx.Response:
        return self._client.request(
            exchange.method, self.upstream + exchange.path, content=exchange.body or None, headers=headers
        )


def _handler(proxy: TapProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            exchange = Exchange(method=self.command, path=self.path, body=body)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in _NOT_RELAYED}
            if not proxy.tap.before(exchange):
                self.close_connection = True
                return
            response = proxy.relay(exchange, headers)
            answered = Exchange(exchange.method, exchange.path, body, response.status_code, response.content)
            if not proxy.tap.after(answered):
                self.close_connection = True
                return
            try:
                self.send_response(response.status_code)
                for name, value in response.headers.items():
                    if name.lower() not in _NOT_RELAYED:
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client is gone (killed): nobody left to answer

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _relay  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: object) -> None:
            return  # quiet: the test's own output says what happened

    return Handler
