"""An app for tests/cli/test_serving.py: answers whether Nagle's algorithm is off on the caller's own
connection, read from the server side (the transport whose peer is the caller)."""

import asyncio
import gc
import os
import socket

from fastapi import FastAPI, Request


def create_app() -> FastAPI:
    app = FastAPI()

    @app.get("/nodelay")
    async def nodelay(request: Request) -> dict[str, int]:
        assert request.client is not None
        caller = (request.client.host, request.client.port)
        for candidate in gc.get_objects():
            if isinstance(candidate, asyncio.Transport) and candidate.get_extra_info("peername") == caller:
                sock = candidate.get_extra_info("socket")
                return {"nodelay": sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), "pid": os.getpid()}
        raise LookupError(f"no transport with peer {caller}")

    return app
