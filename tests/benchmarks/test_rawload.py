"""The raw-socket load generator behind the published Slack figures (benchmarks/_rawload.py):
every request sent once, every answer read whole and counted, and answers it cannot frame refused
rather than misread."""

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from benchmarks._rawload import HttpRequest, ProtocolError, load


def test_every_request_is_sent_once_and_every_answer_counted(api_server: str) -> None:
    requests = [lambda: HttpRequest("GET", "/healthz") for _ in range(30)]
    # a POST with a body: an unauthenticated check-off is refused with a problem+json body
    requests += [
        lambda: HttpRequest("POST", "/api/v1/items/1/check", {"Content-Type": "application/json"}, b"{}")
        for _ in range(10)
    ]

    result = load(api_server, requests, concurrency=8)

    assert result.statuses == {200: 30, 401: 10}
    assert len(result.latencies) == 40
    assert all(latency > 0 for latency in result.latencies)
    assert result.per_second > 0


BURST = 25


class _AnswerOnceAllArrived(socketserver.StreamRequestHandler):
    """Holds every answer until BURST requests have arrived (a barrier per round): 200 if they all
    came before any was answered, 503 if the barrier gave up waiting."""

    arrived = threading.Barrier(BURST)

    def handle(self) -> None:
        while self.rfile.readline():  # the request line, then headers up to the blank line
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            try:
                self.arrived.wait(timeout=10)
                status = b"200 OK"
            except threading.BrokenBarrierError:
                status = b"503 Service Unavailable"
            self.wfile.write(b"HTTP/1.1 " + status + b"\r\nContent-Length: 0\r\n\r\n")


def test_a_burst_sends_every_request_before_any_is_answered() -> None:
    with _serving(_AnswerOnceAllArrived) as base:
        result = load(base, [lambda: HttpRequest("GET", "/") for _ in range(BURST)], concurrency=BURST)

    assert result.statuses == {200: BURST}


@contextmanager
def _serving(handler: type[socketserver.BaseRequestHandler]) -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _ChunkedAnswers(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        while self.request.recv(65536):
            self.request.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n")


def test_an_answer_it_cannot_frame_is_refused_not_misread() -> None:
    with _serving(_ChunkedAnswers) as base, pytest.raises(ProtocolError, match="chunked"):
        load(base, [lambda: HttpRequest("GET", "/")], concurrency=1)
