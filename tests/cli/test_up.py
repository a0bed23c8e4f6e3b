"""`launchdeck up` on a fresh directory: Prefect server, worker, Slack applier and API come up,
answer, and all stop together on SIGTERM (what README's run command starts)."""

import os
import signal
import subprocess

import httpx
import pytest

from flows.server import free_port
from tests.support.flows import wait_for
from tests.support.processes import LAUNCHDECK

pytestmark = pytest.mark.slow


def test_up_starts_prefect_worker_and_api_and_stops_them_all(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LAUNCHDECK_", "PREFECT_"))}
    prefect_port, api_port = free_port(), free_port()
    log = tmp_path / "up.log"
    with log.open("wb") as sink:
        up = subprocess.Popen(
            [LAUNCHDECK, "up", "--port", str(prefect_port), "--api-port", str(api_port)],
            cwd=tmp_path,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: "worker: running" in log.read_text() or up.poll() is not None, timeout=240)
        assert up.poll() is None, log.read_text()
        output = log.read_text()
        assert f"http://127.0.0.1:{api_port}/docs" in output
        dashboard = f"http://127.0.0.1:{api_port}/dashboard/"
        assert dashboard in output
        # No Slack settings: the banner says where the messages are shown instead.
        assert f"http://127.0.0.1:{api_port}/dashboard/messages and in .launchdeck/worker.log" in output
        # The printed dashboard URL answers: without a session it leads to the sign-in form.
        signed_out = httpx.get(dashboard, follow_redirects=True)
        assert signed_out.status_code == 200
        assert str(signed_out.url) == f"http://127.0.0.1:{api_port}/login?next=/dashboard/"
        assert 'name="token"' in signed_out.text
        assert f"http://127.0.0.1:{prefect_port}" in output
        # Slack clicks applied by an applier process of its own (LAUNCHDECK_SLACK_APPLIER unset).
        assert "Slack clicks: applied by `launchdeck slack-applier`" in output
        applier_log = tmp_path / ".launchdeck" / "slack-applier.log"
        wait_for(lambda: "slack-applier " in applier_log.read_text(), timeout=60)
        assert httpx.get(f"http://127.0.0.1:{api_port}/readyz").json() == {"status": "ready"}
        assert httpx.get(f"http://127.0.0.1:{prefect_port}/api/health").status_code == 200
        assert (tmp_path / "launchdeck.db").exists()
        listed = subprocess.run(
            [
                LAUNCHDECK,
                "launch",
                "create",
                "seeded-check",
                "--name",
                "Seeded",
                "--tier",
                "3",
                "--owner",
                "o@x.io",
                "--regions",
                "EU",
                "--ga",
                "2027-04-01",
                *("--skip", "internal", "--skip", "private_beta", "--skip", "public_beta"),
            ],  # regions exist: up loaded the directory
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert listed.returncode == 0, listed.stderr
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=90)

    def everything_down():
        for url in (f"http://127.0.0.1:{api_port}/healthz", f"http://127.0.0.1:{prefect_port}/api/health"):
            try:
                httpx.get(url, timeout=1)
                return False
            except httpx.HTTPError:
                continue
        return True

    wait_for(everything_down, timeout=30)
    assert "stopped" in (tmp_path / ".launchdeck" / "slack-applier.log").read_text()  # stopped with the rest
