"""The Unleash rollout target against a real Unleash server (tests/support/unleash.py): a
two-region launch walks through public beta and GA and after every ramp step the Unleash client API
(what SDKs read) shows that region's percentage and the other region's untouched; a repeated
delivery changes nothing; a rollback sets 0; bad settings stop the worker at start-up naming the
setting, and a delivery that cannot go through is kept with advice until it can."""

from dataclasses import replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from flows import resources
from flows.targets import target_from_settings
from flows.unleash_target import UnleashConfig, UnleashTarget, region_rollouts
from flows.worker import Worker
from orchestrator.core.enums import GateKind, OutboxStatus, Phase, RolloutState, Vote
from orchestrator.core.errors import ConfigError
from orchestrator.core.models import ExposureChange, Gate, Outbox
from orchestrator.core.outbox import MAX_DELIVERY_ATTEMPTS, retry_dead
from orchestrator.core.settings import get_settings, reset_settings
from orchestrator.gates.approvals import cast_vote
from orchestrator.rollouts.exposure import deliver_exposures
from orchestrator.rollouts.service import roll_back_region
from orchestrator.rollouts.steps import StepKind
from tests.support.flows import ready_launch, rollout_of, wait_for
from tests.support.rollouts import now, step_now, target_rows
from tests.support.unleash import UnleashServer, openfeature_users

USERS = 2000  # synthetic users per region evaluated through OpenFeature after each step
RAMP = {phase: [{"percent": p, "hold_minutes": 0} for p in (5, 25, 100)] for phase in ("public_beta", "ga")}


def client_view(unleash: UnleashServer, flag: str) -> tuple[bool, dict[str, int]]:
    """What an SDK gets for ``flag``: whether it is on, and each region's rollout percent."""
    response = httpx.get(f"{unleash.url}/api/client/features/{flag}", headers={"Authorization": unleash.client_token})
    response.raise_for_status()
    return bool(response.json()["enabled"]), region_rollouts(response.json(), "region")


def sdk_fetch_shows(unleash: UnleashServer, flag: str, expected: dict[str, int]) -> bool:
    """Whether the full flag list SDKs fetch (``/api/client/features``) has caught up: a production
    Unleash serves it from a cache refreshed about every second (the test server has it off)."""
    response = httpx.get(f"{unleash.url}/api/client/features", headers={"Authorization": unleash.client_token})
    response.raise_for_status()
    (feature,) = [f for f in response.json()["features"] if f["name"] == flag] or [{}]
    rollouts = region_rollouts(feature, "region")
    return {region: rollouts.get(region, 0) for region in expected} == expected


def admin_strategies(unleash: UnleashServer, flag: str) -> list[dict[str, Any]]:
    path = f"/api/admin/projects/default/features/{flag}/environments/{unleash.environment}/strategies"
    response = httpx.get(unleash.url + path, headers={"Authorization": unleash.admin_token})
    response.raise_for_status()
    strategies: list[dict[str, Any]] = response.json()
    return strategies


def use_unleash(monkeypatch, unleash: UnleashServer, *, prefix: str, **overrides: str) -> None:
    """Point launchdeck's settings (and so the worker's target) at the test Unleash."""
    values = {
        "ROLLOUT_TARGET": "unleash",
        "UNLEASH_URL": unleash.url,
        "UNLEASH_ADMIN_TOKEN": unleash.admin_token,
        "UNLEASH_CLIENT_TOKEN": unleash.client_token,
        "UNLEASH_PROJECT": unleash.project,
        "UNLEASH_ENVIRONMENT": unleash.environment,
        "UNLEASH_FLAG_PREFIX": prefix,
        # These tests evaluate users themselves; the worker's own check after each step has its
        # test in test_exposure_check.py (2,000 users a step would add seconds here).
        "EXPOSURE_CHECK_USERS": "0",
    } | overrides
    for name, value in values.items():
        monkeypatch.setenv(f"LAUNCHDECK_{name}", value)
    reset_settings()
    resources.reset()


def approve_region(session, actor, launch, region: str) -> None:
    rid = rollout_of(session, launch, region).id
    for gate in session.exec(select(Gate).where(Gate.rollout_id == rid, Gate.kind == GateKind.APPROVAL)).all():
        cast_vote(
            session=session,
            gate_id=gate.id,
            on_behalf_of="vp@example.com",
            on_behalf_reason="go/no-go meeting",
            vote=Vote.GO,
            actor=actor,
        )


def walk(session, actor, worker, rid, *, check) -> list[tuple[str, int]]:
    """Take the region's due steps one by one; after each ramp step deliver it with the worker's
    exposure loop and call ``check(phase, percent)``. Returns the ramp steps taken."""
    ramps = []
    for _ in range(40):
        step = step_now(session, actor, rid)
        if step is None:
            break
        if step.kind == StepKind.RAMP:
            assert worker.deliver_exposure_changes() == 1
            ramps.append((step.phase.value, step.percent))
            check(step.phase, step.percent)
    return ramps


def exposure_rows(session, slug):
    rows = session.exec(
        select(ExposureChange).where(ExposureChange.launch_slug == slug).order_by(col(ExposureChange.id))
    ).all()
    session.commit()
    return rows


def test_a_two_region_launch_moves_a_real_unleash_flag_step_by_step(
    flow_db, seeded, actor, unleash_server, monkeypatch, tmp_path
):
    prefix = f"t{flow_db.dialect.name}."  # the test runs once per database against the one server
    use_unleash(monkeypatch, unleash_server, prefix=prefix)
    launch = ready_launch(
        seeded, actor, slug="unleash-walk", regions=("EU", "NA"), phases=(Phase.PUBLIC_BETA, Phase.GA), ramp_plan=RAMP
    )
    flag = f"{prefix}unleash-walk"
    worker = Worker(publish_events=False)
    eu, na = rollout_of(seeded, launch, "EU").id, rollout_of(seeded, launch, "NA").id

    seen: dict[str, tuple[int, set[int]]] = {}

    def sdk_sees(expected: dict[str, int]) -> None:
        """The client API shows exactly these percents, and (on one database) 2,000 synthetic users per
        region evaluated through OpenFeature land within 3 points of them; a user once in stays in."""
        enabled, rollouts = client_view(unleash_server, flag)
        assert enabled
        assert set(rollouts) <= set(expected)
        assert {region: rollouts.get(region, 0) for region in expected} == expected  # no strategy yet: 0%
        if flow_db.dialect.name != "sqlite":
            return  # what SDKs see does not depend on launchdeck's database: evaluated once (3 s)
        wait_for(lambda: sdk_fetch_shows(unleash_server, flag, expected), timeout=15, interval=0.05)
        evaluated = openfeature_users(unleash_server, flag, list(expected), users=USERS, cache_dir=tmp_path)
        for region, percent in expected.items():
            users = evaluated[region]
            share = len(users) * 100 / USERS
            assert abs(share - percent) <= 3 if 0 < percent < 100 else share == percent, (region, percent, share)
            before_percent, before = seen.get(region, (0, set()))
            if percent >= before_percent:
                assert before <= users, f"users of {region} dropped out going {before_percent}% -> {percent}%"
            seen[region] = (percent, users)

    approve_region(seeded, actor, launch, "EU")
    approve_region(seeded, actor, launch, "NA")
    steps = [(phase, percent) for phase in ("public_beta", "ga") for percent in (5, 25, 100)]
    assert walk(seeded, actor, worker, eu, check=lambda phase, percent: sdk_sees({"EU": percent, "NA": 0})) == steps
    assert rollout_of(seeded, launch, "EU").state == RolloutState.LIVE
    assert walk(seeded, actor, worker, na, check=lambda phase, percent: sdk_sees({"EU": 100, "NA": percent})) == steps

    # What Unleash answered is recorded beside each change, and the strategy is what keeps a user in.
    rows = exposure_rows(seeded, "unleash-walk")
    assert [(r.region, r.phase.value, r.percent, r.target) for r in rows] == [
        (region, phase, percent, "unleash") for region in ("EU", "NA") for phase, percent in steps
    ]
    assert all(r.answer["rollouts"][r.region] == r.percent and r.answer["flag"] == flag for r in rows)
    assert (rows[0].answer["environment"], rows[0].answer["enabled"]) == ("production", True)
    strategies = admin_strategies(unleash_server, flag)
    assert len(strategies) == 2
    assert {s["parameters"]["groupId"] for s in strategies} == {flag}
    assert {s["parameters"]["stickiness"] for s in strategies} == {"default"}

    # A worker that crashed after Unleash took the last change but before marking it delivered
    # sends it again: same end state, no second strategy, no second record.
    last = target_rows(seeded)[-1]
    seeded.exec(
        update(Outbox)
        .where(col(Outbox.id) == last.id)
        .values(status=OutboxStatus.PENDING, delivered_at=None, next_attempt_at=last.created_at)
    )
    seeded.commit()
    assert worker.deliver_exposure_changes() == 1
    assert client_view(unleash_server, flag) == (True, {"EU": 100, "NA": 100})
    assert len(admin_strategies(unleash_server, flag)) == 2
    assert len(exposure_rows(seeded, "unleash-walk")) == len(rows)

    # Rolling a region back sets it to 0 and says so; the other keeps its users.
    roll_back_region(session=seeded, rollout_id=eu, actor=actor, reason="Error rate up")
    assert worker.deliver_exposure_changes() == 1
    assert client_view(unleash_server, flag) == (True, {"EU": 0, "NA": 100})
    rollback = exposure_rows(seeded, "unleash-walk")[-1]
    assert (rollback.region, rollback.percent, rollback.answer["rolled_back"]) == ("EU", 0, True)


def test_bad_unleash_settings_stop_the_worker_at_start_up_naming_the_setting(flow_db, unleash_server, monkeypatch):
    cases = {
        "LAUNCHDECK_UNLEASH_ADMIN_TOKEN": {"UNLEASH_ADMIN_TOKEN": "*:*.wrong"},
        "LAUNCHDECK_UNLEASH_PROJECT": {"UNLEASH_PROJECT": "no-such-project"},
        "LAUNCHDECK_UNLEASH_ENVIRONMENT": {"UNLEASH_ENVIRONMENT": "staging"},
        "LAUNCHDECK_UNLEASH_CLIENT_TOKEN": {"UNLEASH_CLIENT_TOKEN": "default:production.wrong"},
    }
    for setting, overrides in cases.items():
        use_unleash(monkeypatch, unleash_server, prefix="bad.", **overrides)
        worker = Worker(publish_events=False)
        worker.stop()  # so that a check that wrongly passes returns at once instead of running on
        with pytest.raises(ConfigError) as refused:
            worker.run_forever()
        assert len(refused.value.problems) == 1
        assert refused.value.problems[0].startswith(f"{setting}: "), refused.value.problems
        assert "wrong" not in str(refused.value)  # the token itself is never shown

    use_unleash(monkeypatch, unleash_server, prefix="bad.", UNLEASH_URL="http://127.0.0.1:9")
    with pytest.raises(ConfigError, match=r"LAUNCHDECK_UNLEASH_URL: no Unleash answers at http://127\.0\.0\.1:9 "):
        target_from_settings(get_settings(), flow_db)

    monkeypatch.delenv("LAUNCHDECK_UNLEASH_CLIENT_TOKEN")
    reset_settings()
    with pytest.raises(ConfigError, match=r"ROLLOUT_TARGET=unleash needs .*LAUNCHDECK_UNLEASH_CLIENT_TOKEN"):
        get_settings()

    use_unleash(monkeypatch, unleash_server, prefix="good.")
    target = target_from_settings(get_settings(), flow_db)
    assert isinstance(target, UnleashTarget)
    assert unleash_server.admin_token not in repr(target)


def test_a_delivery_unleash_refuses_or_cannot_take_is_parked_with_advice_and_sent_once_fixed(
    seeded, actor, engine, unleash_server
):
    prefix = f"p{engine.dialect.name}."
    launch = ready_launch(seeded, actor, slug="unleash-down", phases=(Phase.GA,), ramp_plan=RAMP)
    approve_region(seeded, actor, launch, "EU")
    rid = rollout_of(seeded, launch).id
    while (step := step_now(seeded, actor, rid)) is not None and step.kind != StepKind.RAMP:
        pass
    good = UnleashConfig(
        url=unleash_server.url,
        admin_token=unleash_server.admin_token,
        client_token=unleash_server.client_token,
        environment=unleash_server.environment,
        flag_prefix=prefix,
    )

    def deliver(config: UnleashConfig, *, at) -> tuple[OutboxStatus, int, str | None]:
        target = UnleashTarget(config, engine=engine)
        deliver_exposures(session=seeded, target=target, now=at)
        target.close()
        (row,) = target_rows(seeded)
        return row.status, row.attempts, row.last_error

    # A wrong admin token: parked at once, saying which setting to fix and how to send it again.
    status, attempts, error = deliver(replace(good, admin_token="*:*.nope"), at=now())
    assert (status, attempts) == (OutboxStatus.DEAD, 1)
    assert "refused LAUNCHDECK_UNLEASH_ADMIN_TOKEN (HTTP 401)" in error
    assert "launchdeck outbox retry --all-dead" in error
    assert retry_dead(seeded, outbox_ids=None, now=now(), actor=actor) == 1

    # Unleash unreachable: kept and retried with backoff until the attempts are spent, then parked.
    down = replace(good, url="http://127.0.0.1:9")
    clock = now()
    for attempt in range(1, MAX_DELIVERY_ATTEMPTS + 1):
        clock += timedelta(hours=1)  # past each backoff
        status, attempts, error = deliver(down, at=clock)
        assert attempts == attempt
    assert status == OutboxStatus.DEAD
    assert "no Unleash answers at http://127.0.0.1:9" in error
    assert "check LAUNCHDECK_UNLEASH_URL" in error
    assert exposure_rows(seeded, "unleash-down") == []

    # Fixed and sent again: the very change arrives, once.
    assert retry_dead(seeded, outbox_ids=None, now=clock, actor=actor) == 1
    assert deliver(good, at=clock)[:2] == (OutboxStatus.SENT, 0)
    assert client_view(unleash_server, f"{prefix}unleash-down") == (True, {"EU": 5})
