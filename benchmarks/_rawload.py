"""A lean HTTP/1.1 load generator: asyncio streams over kept-alive loopback connections, requests
written as bytes, answers read by Content-Length.

Why not httpx: on this 2-core machine an httpx async client costs more CPU per request than the
endpoints it measures. In one run against a bare FastAPI endpoint it reached a quarter of wrk's
rate, and bursts of 50 GET /healthz took a p99 of 243 ms against 22 ms sent this way, so its
figures described the load generator rather than the server. This one does the minimum per
request (format the bytes, one write, read the head and the body) and kept pace with wrk (0.88 to
1.08 of its rate). `benchmarks/load_generators.py` measures the three side by side; the figures
are in BENCHMARKS.md, "Load generators".
"""

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}"]
        lines += [f"{name}: {value}" for name, value in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + self.body


# Built when it is sent, not before: a signed Slack request carries the time it was signed.
RequestFactory = Callable[[], HttpRequest]


class ProtocolError(RuntimeError):
    """The server answered something this generator does not read (chunked, or no length)."""


@dataclass(frozen=True)
class LoadResult:
    elapsed: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.elapsed


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def exchange(self, data: bytes) -> int:
        """Send one request and read its whole answer; returns the status code."""
        self.writer.write(data)
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ", 2)[1])
        length: int | None = None
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise ProtocolError(f"chunked answer (status {status}); this generator reads Content-Length only")
        if length is None:
            raise ProtocolError(f"answer without Content-Length (status {status})")
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


async def _open(base: str, count: int) -> tuple[str, list[_Connection]]:
    parts = urlsplit(base)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"a base URL with host and port, like http://127.0.0.1:8000, not {base!r}")
    connections = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        connections.append(_Connection(reader, writer))
    host = parts.netloc
    # One request each before the clock starts: the figure is the server's, not TCP's.
    warm = HttpRequest("GET", "/healthz").encode(host)
    await asyncio.gather(*(connection.exchange(warm) for connection in connections))
    return host, connections


async def _load(base: str, requests: Sequence[RequestFactory], concurrency: int) -> LoadResult:
    host, connections = await _open(base, concurrency)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    pending = iter(requests)

    async def drain(connection: _Connection) -> None:
        for factory in pending:  # a shared iterator: each connection takes the next request
            data = factory().encode(host)
            started = time.perf_counter()
            status = await connection.exchange(data)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

    try:
        started = time.perf_counter()
        await asyncio.gather(*(drain(connection) for connection in connections))
        elapsed = time.perf_counter() - started
    finally:
        for connection in connections:
            connection.close()
    return LoadResult(elapsed=elapsed, latencies=latencies, statuses=statuses)


def load(base: str, requests: Sequence[RequestFactory], *, concurrency: int) -> LoadResult:
    """Send ``requests`` through ``concurrency`` kept-alive connections, ``concurrency`` at a time
    (closed loop: each connection sends its next request when the previous one is answered).
    With as many connections as requests, every request is sent at once: a burst."""
    return asyncio.run(_load(base, requests, concurrency))
