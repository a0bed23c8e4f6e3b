"""Per-launch choice of rollout target: each launch's (or region's) exposure changes reach the
target it names through the worker's registry, the rest the configured default; a target nobody
configured is refused when the launch is created. On SQLite and PostgreSQL, clock frozen."""

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlmodel import col, select

from flows.flagd_target import FlagdTarget
from flows.target_registry import TargetRegistry, targets_from_settings
from flows.targets import RecordingTarget
from orchestrator.core.enums import OutboxStatus, Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import AuditEvent, ExposureChange, Launch, RegionRollout
from orchestrator.core.settings import get_settings, reset_settings
from orchestrator.launches.queries import launch_detail
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec
from orchestrator.rollouts.exposure import deliver_exposures
from orchestrator.rollouts.service import roll_back_region, set_exposure
from orchestrator.rollouts.target import TargetRejected
from tests.support.factories import region_plan
from tests.support.rollouts import START, now, target_rows


@pytest.fixture
def flagd_file(tmp_path, monkeypatch) -> Iterator[Path]:
    """LAUNCHDECK_FLAGD_FILE set (the default target stays the recorder)."""
    path = tmp_path / "flags.json"
    monkeypatch.setenv("LAUNCHDECK_FLAGD_FILE", str(path))
    monkeypatch.delenv("LAUNCHDECK_ROLLOUT_TARGET", raising=False)
    reset_settings()
    yield path
    monkeypatch.delenv("LAUNCHDECK_FLAGD_FILE")
    reset_settings()


def spec(slug, *, regions=("EU", "NA"), **choices) -> LaunchSpec:
    plans = [region_plan(code, {Phase.INTERNAL: START}) for code in regions]
    region_choices = choices.pop("region_choices", {})
    for plan in plans:
        for name, value in region_choices.get(plan.region, {}).items():
            setattr(plan, name, value)
    return LaunchSpec(
        slug=slug,
        name=slug.title(),
        tier=2,
        owner="owner@example.com",
        regions=plans,
        approvers=["vp@example.com"],
        ramp_plan={"internal": [{"percent": 5}, {"percent": 25}, {"percent": 100}]},
        **choices,
    )


def ramp(session, actor, launch, percents):
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    for rid in session.exec(select(RegionRollout.id).where(RegionRollout.launch_id == launch.id)).all():
        for percent in percents:
            set_exposure(session=session, rollout_id=rid, phase=Phase.INTERNAL, percent=percent, actor=actor)


def test_each_launch_and_region_reaches_the_target_it_names(engine, seeded, actor, flagd_file):
    with freeze_time(START):
        plain = create_launch(session=seeded, spec=spec("plain-launch"), actor=actor)
        flagged = create_launch(
            session=seeded, spec=spec("checkout", rollout_target="flagd", flag_key="new-checkout"), actor=actor
        )
        mixed = create_launch(
            session=seeded,
            spec=spec("mixed", region_choices={"EU": {"rollout_target": "flagd", "flag_key": "mixed-eu"}}),
            actor=actor,
        )
        for launch in (plain, flagged, mixed):
            ramp(seeded, actor, launch, (5, 25))
        eu = seeded.exec(
            select(RegionRollout.id).where(RegionRollout.launch_id == flagged.id).order_by(col(RegionRollout.id))
        ).first()
        roll_back_region(session=seeded, rollout_id=eu, reason="bad numbers", actor=actor)
        seeded.commit()

        registry = targets_from_settings(get_settings(), engine)
        assert (registry.name, registry.names) == ("recording", ["flagd", "recording"])
        assert deliver_exposures(session=seeded, target=registry, now=now()) == 13

    assert {row.status for row in target_rows(seeded)} == {OutboxStatus.SENT}
    recorded = seeded.exec(select(ExposureChange.launch_slug, ExposureChange.region, ExposureChange.percent)).all()
    seeded.commit()
    assert sorted(recorded) == [
        ("mixed", "NA", 5),
        ("mixed", "NA", 25),
        ("plain-launch", "EU", 5),
        ("plain-launch", "EU", 25),
        ("plain-launch", "NA", 5),
        ("plain-launch", "NA", 25),
    ]
    flags = json.loads(flagd_file.read_text())["flags"]
    assert sorted(flags) == ["mixed-eu", "new-checkout"]
    percents = {
        key: {k: v for k, v in flag["metadata"].items() if k.startswith("launchdeck.percent.")}
        for key, flag in flags.items()
    }
    assert percents == {
        "new-checkout": {"launchdeck.percent.EU": 0, "launchdeck.percent.NA": 25},  # EU rolled back
        "mixed-eu": {"launchdeck.percent.EU": 25},
    }

    views = {
        launch: [
            (view.region, view.target, view.flag_key) for view in launch_detail(session=seeded, slug=launch).rollouts
        ]
        for launch in ("plain-launch", "checkout", "mixed")
    }
    assert views == {
        "plain-launch": [("EU", "recording", "plain-launch"), ("NA", "recording", "plain-launch")],
        "checkout": [("EU", "flagd", "new-checkout"), ("NA", "flagd", "new-checkout")],
        "mixed": [("EU", "flagd", "mixed-eu"), ("NA", "recording", "mixed")],
    }
    stored = seeded.exec(select(Launch.rollout_target, Launch.flag_key).where(Launch.slug == "checkout")).one()
    assert tuple(stored) == ("flagd", "new-checkout")
    created = {
        event.launch_id: event.after
        for event in seeded.exec(select(AuditEvent).where(AuditEvent.action == "launch.created"))
    }
    seeded.commit()
    assert (created[flagged.id]["rollout_target"], created[flagged.id]["flag_key"]) == ("flagd", "new-checkout")
    assert created[mixed.id]["region_targets"] == {"EU": {"rollout_target": "flagd", "flag_key": "mixed-eu"}}
    assert "region_targets" not in created[plain.id]
    assert "rollout_target" not in created[plain.id]


def test_a_target_nobody_configured_is_refused_at_creation_naming_the_field_and_the_fix(seeded, actor, flagd_file):
    with pytest.raises(InvalidInput) as caught:
        create_launch(session=seeded, spec=spec("hooked", rollout_target="webhook"), actor=actor)
    assert caught.value.field == "rollout_target"
    assert "set LAUNCHDECK_WEBHOOK_URL and LAUNCHDECK_WEBHOOK_SECRET" in caught.value.problem
    with pytest.raises(InvalidInput) as caught:
        create_launch(
            session=seeded,
            spec=spec("unleashed", region_choices={"NA": {"rollout_target": "unleash"}}),
            actor=actor,
        )
    assert caught.value.field == "regions.1.rollout_target"
    assert "the unleash target is not configured here" in caught.value.problem
    assert seeded.exec(select(Launch.id)).all() == []  # nothing half written

    with pytest.raises(ValueError, match="is not a valid flag key"):
        spec("bad-key", flag_key="new checkout!")
    with pytest.raises(ValueError, match="rollout_target"):
        spec("bad-target", rollout_target="kafka")


def test_a_change_naming_a_target_this_worker_lacks_is_rejected_with_what_to_configure(engine, tmp_path):
    from tests.flows.test_targets import exposure

    registry = TargetRegistry(
        {"recording": RecordingTarget(engine), "flagd": FlagdTarget(tmp_path / "f.json")},
        default="recording",
        problems={"webhook": "the webhook target is not configured here: set LAUNCHDECK_WEBHOOK_URL"},
    )
    request = exposure()
    assert registry.target_for(request).name == "recording"
    assert registry.target_for(type(request)(**{**request.__dict__, "target": "flagd"})).name == "flagd"
    with pytest.raises(TargetRejected, match=r"acme-assistant \(EU\) sends its exposure to 'webhook': the webhook"):
        registry.apply(type(request)(**{**request.__dict__, "target": "webhook"}))
    with pytest.raises(ValueError, match="default rollout target"):
        TargetRegistry({}, default="recording", problems={})
