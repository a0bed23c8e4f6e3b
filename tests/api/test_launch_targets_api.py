"""A launch names its rollout target and flag key over real HTTP: refused with a 422 naming the
field while that target is not configured (or unknown), shown in the launch detail once created.
On SQLite and PostgreSQL."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.core.settings import reset_settings
from tests.api.test_routes import Api, launch_body, when


@pytest.fixture
def api(api_server, tokens) -> Iterator[Api]:
    client = Api(api_server, tokens)
    yield client
    client.http.close()


@pytest.fixture
def flagd_configured(tmp_path, monkeypatch) -> Iterator[Path]:
    path = tmp_path / "flags.json"
    monkeypatch.setenv("LAUNCHDECK_FLAGD_FILE", str(path))
    monkeypatch.delenv("LAUNCHDECK_ROLLOUT_TARGET", raising=False)
    reset_settings()
    yield path
    monkeypatch.delenv("LAUNCHDECK_FLAGD_FILE")
    reset_settings()


def errors(problem):
    return {error["field"]: error["message"] for error in problem["errors"]}


def test_a_launch_names_its_target_and_flag_key_and_the_detail_shows_them(api, flagd_configured):
    regions = {"EU": {"ga": when(30)}, "NA": {"ga": when(40)}}
    body = launch_body("new-checkout", regions)

    refused = api.post("/launches", {**body, "rollout_target": "webhook"}, expect=422)
    assert errors(refused) == {
        "rollout_target": "the webhook target is not configured here: set LAUNCHDECK_WEBHOOK_URL and "
        "LAUNCHDECK_WEBHOOK_SECRET (see README: Rollout targets)"
    }
    unknown = api.post("/launches", {**body, "rollout_target": "kafka"}, expect=422)
    assert "recording" in errors(unknown)["rollout_target"]
    bad_key = api.post("/launches", {**body, "flag_key": "new checkout"}, expect=422)
    assert "is not a valid flag key" in errors(bad_key)["flag_key"]
    per_region = {**body, "regions": [{**body["regions"][0], "rollout_target": "unleash"}, body["regions"][1]]}
    assert "unleash" in errors(api.post("/launches", per_region, expect=422))["regions.0.rollout_target"]
    api.get("/launches/new-checkout", expect=404)  # nothing half written

    chosen = {**body, "rollout_target": "flagd", "flag_key": "checkout-v2"}
    chosen["regions"] = [body["regions"][0], {**body["regions"][1], "rollout_target": "recording"}]
    created = api.post("/launches", chosen, expect=201)
    shown = api.get("/launches/new-checkout")
    assert created == shown
    assert (shown["rollout_target"], shown["flag_key"]) == ("flagd", "checkout-v2")
    assert [(r["region"], r["target"], r["flag_key"]) for r in shown["rollouts"]] == [
        ("EU", "flagd", "checkout-v2"),
        ("NA", "recording", "checkout-v2"),
    ]
    default = api.post("/launches", launch_body("plain-launch", regions), expect=201)
    assert (default["rollout_target"], default["flag_key"]) == (None, None)
    assert {(r["target"], r["flag_key"]) for r in default["rollouts"]} == {("recording", "plain-launch")}
