"""Serving an ASGI app factory with uvicorn, one process or several, with Nagle's algorithm off on
every connection either way.

Why not `uvicorn.run(..., workers=N)` as is: for more than one process uvicorn (0.54) binds the
listening socket itself and leaves its ``proto`` at 0. Accepted sockets inherit it, and asyncio
turns TCP_NODELAY on only for sockets that say IPPROTO_TCP, so with ``--workers 2`` every request
on a kept-alive connection after the first waited about 40 ms for the client's delayed ACK
(uvicorn issue #3149, open). Measured with wrk on GET /healthz: one connection, p50 0.66 ms with
one process and 44 ms with two; 20 connections, 2,070 against 445 requests per second. The single
process path is unaffected (asyncio binds that socket from getaddrinfo, which says TCP).

`launchdeck serve` serves through here, and so do the benchmarks (``python -m cli.serving``), so
both run the same server settings.
"""

import argparse
import socket

import uvicorn
from uvicorn.supervisors import Multiprocess


class TcpNoDelayConfig(uvicorn.Config):
    """A uvicorn Config whose own listening socket says it is TCP, so asyncio sets TCP_NODELAY on
    the connections it accepts. Module level: worker processes unpickle it."""

    def bind_socket(self) -> socket.socket:
        bound = super().bind_socket()
        if bound.family not in (socket.AF_INET, socket.AF_INET6):
            return bound  # a Unix socket: no Nagle to turn off
        tcp = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
        tcp.set_inheritable(True)
        return tcp


def serve_factory(factory: str, *, host: str, port: int, workers: int, log_level: str = "info") -> None:
    """Serve ``factory`` ("module:function", called once in each process) until stopped."""
    config = TcpNoDelayConfig(factory, factory=True, host=host, port=port, workers=workers, log_level=log_level)
    if workers > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
    else:
        uvicorn.Server(config).run()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve an ASGI app factory (see cli/serving.py).")
    parser.add_argument("factory", help='"module:function" returning the app')
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args()
    serve_factory(args.factory, host=args.host, port=args.port, workers=args.workers, log_level=args.log_level)


if __name__ == "__main__":
    # Through the module's import name, so worker processes unpickle `cli.serving.TcpNoDelayConfig`
    # rather than a class of `__main__`.
    from cli.serving import main as serving_main

    serving_main()
