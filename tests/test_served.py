"""The loopback servers API tests run (``tests.support.api.served``) stop when asked, even after a
test froze the clock while they were serving."""

import httpx
from fastapi import FastAPI
from freezegun import freeze_time

from tests.support import api


def _healthz_app() -> FastAPI:
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def test_a_server_that_served_through_a_frozen_clock_stops_when_asked() -> None:
    """While the clock is frozen the server answers a request, so its loop goes round and schedules
    its next tick on the frozen clock; after the freeze it must still notice it was asked to stop
    (on asyncio's own loop it waited for that tick in real time, for ever)."""
    with api.served(_healthz_app(), wait_for_stop=False) as base, freeze_time("2027-01-10 09:00:00"):
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    assert api.join_stopped_servers(timeout=5) == 0
