"""Exposure verified: after each change the worker's exposure delivery evaluates 2,000 synthetic
users per region through the OpenFeature SDK (the real flagd provider reading the real file) and
records the share it saw beside the one launchdeck intended; a file edited behind launchdeck's back
halts the region the ordinary way (audit, alert), whether the worker or `launchdeck exposure check`
finds it; the recorder is "not verifiable" and never halts; the launch page shows the newest check
per region. On SQLite and PostgreSQL; against the real Unleash server once."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from cli.main import app
from flows.exposure_check import TargetObserver
from flows.flagd_target import FlagdTarget, flag_definition
from flows.unleash_target import UnleashConfig, UnleashTarget
from flows.worker import Worker
from orchestrator.core.enums import Phase, RolloutState
from orchestrator.core.models import AuditEvent, ExposureCheck, Outbox
from orchestrator.core.settings import reset_settings
from orchestrator.core.topics import Topic
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec
from orchestrator.rollouts.exposure import deliver_exposures
from orchestrator.rollouts.exposure_checks import ExposureChecker
from orchestrator.rollouts.service import set_exposure
from orchestrator.rollouts.target import ExposureRequest
from tests.support.factories import region_plan
from tests.support.flows import rollout_of
from tests.support.rollouts import now
from tests.support.unleash import UnleashServer
from tests.support.web import signed_in

USERS = 2000
FLAG = "new-checkout"
REASON = re.compile(r"exposure check: intended 25%, observed (\d+\.\d)% of 2000 synthetic users")


def launch(session, actor, slug, **choices):
    """A kicked-off launch whose internal phase is open in EU and NA (ready to ramp)."""
    started = datetime.now(UTC) - timedelta(days=1)
    spec = LaunchSpec(
        slug=slug,
        name=slug.title(),
        tier=2,
        owner="owner@example.com",
        regions=[region_plan(code, {Phase.INTERNAL: started}) for code in ("EU", "NA")],
        approvers=["vp@example.com"],
        ramp_plan={"internal": [{"percent": 25}, {"percent": 100}]},
        **choices,
    )
    created = create_launch(session=session, spec=spec, actor=actor)
    kick_off_launch(session=session, launch_id=created.id, actor=actor)
    return created


def ramp(session, actor, created, region, percent):
    rid = rollout_of(session, created, region).id
    set_exposure(session=session, rollout_id=rid, phase=Phase.INTERNAL, percent=percent, actor=actor)
    return rid


def hand_edit(path: Path, region: str, percent: int) -> None:
    """Someone edits the flag file behind launchdeck's back: ``region`` served at ``percent``."""
    document = json.loads(path.read_text())
    flag = document["flags"][FLAG]
    flag["targeting"] = flag_definition(launch="checkout", percents={region: percent})["targeting"]
    path.write_text(json.dumps(document))


class EditedBehindOurBack(FlagdTarget):
    """A flagd target whose file someone edits right after launchdeck wrote it."""

    def apply(self, request: ExposureRequest) -> None:
        super().apply(request)
        hand_edit(self.path, request.region, 60)


def checks(session):
    rows = session.exec(select(ExposureCheck).order_by(col(ExposureCheck.id))).all()
    session.commit()
    return [(c.region, c.target, c.intended, c.users, c.ok) for c in rows], rows


@pytest.fixture
def flagd(flow_db, tmp_path, monkeypatch):
    """LAUNCHDECK_FLAGD_FILE set for the worker (the default target stays the recorder)."""
    path = tmp_path / "flags.json"
    monkeypatch.setenv("LAUNCHDECK_FLAGD_FILE", str(path))
    monkeypatch.delenv("LAUNCHDECK_ROLLOUT_TARGET", raising=False)
    monkeypatch.delenv("LAUNCHDECK_EXPOSURE_CHECK_USERS", raising=False)
    monkeypatch.delenv("LAUNCHDECK_EXPOSURE_CHECK_TOLERANCE", raising=False)
    reset_settings()
    return path


def test_each_step_is_checked_and_a_flag_edited_behind_launchdecks_back_halts_the_region(
    flow_db, flagd, seeded, actor, api_server, tokens
):
    checkout = launch(seeded, actor, "checkout", rollout_target="flagd", flag_key=FLAG)
    plain = launch(seeded, actor, "plain")
    eu = ramp(seeded, actor, checkout, "EU", 25)
    ramp(seeded, actor, plain, "EU", 25)

    # The worker delivers both changes and checks each: flagd evaluated, the recorder not verifiable.
    assert Worker(publish_events=False).deliver_exposure_changes() == 2
    summary, rows = checks(seeded)
    assert sorted(summary) == [("EU", "flagd", 25, USERS, True), ("EU", "recording", 25, 0, None)]
    by_target = {row.target: row for row in rows}
    assert abs(by_target["flagd"].observed - 25) <= 3
    assert (by_target["flagd"].flag, by_target["flagd"].note) == (FLAG, None)
    assert by_target["recording"].observed is None
    assert by_target["recording"].note.startswith("not verifiable: the recording target")
    assert rollout_of(seeded, checkout, "EU").state == RolloutState.ROLLING_OUT
    assert rollout_of(seeded, plain, "EU").state == RolloutState.ROLLING_OUT

    # Someone sets EU to 60% in the file: `launchdeck exposure check` finds it and halts EU.
    hand_edit(flagd, "EU", 60)
    result = CliRunner().invoke(app, ["exposure", "check", "checkout"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    lines = [" ".join(line.strip("│ ").split()) for line in result.output.splitlines()]
    eu_line = next(line for line in lines if line.startswith("EU "))
    assert eu_line.startswith("EU │ flagd │ 25% │ 6")
    assert "│ 2000 │ mismatch │ halted: exposure" in eu_line
    assert any(line.startswith("NA ") and "nothing sent" in line for line in lines), result.output
    halted = rollout_of(seeded, checkout, "EU")
    assert halted.state == RolloutState.HALTED
    observed = float(REASON.fullmatch(halted.halt_reason).group(1))
    assert abs(observed - 60) <= 3
    _summary, rows = checks(seeded)
    assert (rows[-1].region, rows[-1].ok, rows[-1].observed) == ("EU", False, observed)
    assert rows[-1].note == f"halted: {halted.halt_reason}"
    # The ordinary halt: audited in the CLI user's name, and the alert queued.
    audit = seeded.exec(
        select(AuditEvent).where(AuditEvent.entity_id == eu, AuditEvent.action == "rollout.halted")
    ).one()
    alert = seeded.exec(
        select(Outbox).where(Outbox.topic == Topic.ROLLOUT_HALTED, Outbox.launch_id == checkout.id)
    ).one()
    seeded.commit()
    assert audit.reason == halted.halt_reason
    assert audit.source == "cli"
    assert alert.payload["reason"] == halted.halt_reason

    # The worker finds it too when the file changes right after launchdeck wrote it: NA halts.
    ramp(seeded, actor, checkout, "NA", 25)
    checker = ExposureChecker(
        observer=TargetObserver(EditedBehindOurBack(flagd), users=USERS), tolerance=3, actor=actor
    )
    assert deliver_exposures(session=seeded, target=EditedBehindOurBack(flagd), now=now(), checker=checker) == 1
    na = rollout_of(seeded, checkout, "NA")
    assert na.state == RolloutState.HALTED
    assert REASON.fullmatch(na.halt_reason)

    # The launch page shows the newest check of each region.
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get("/dashboard/launches/checkout")
    assert page.status_code == 200
    table = page.text[page.text.index('id="exposure-checks"') : page.text.index('id="teams-h"')]
    assert table.count('data-verdict="mismatch"') == 2
    assert 'data-region="EU"' in table
    assert 'data-region="NA"' in table
    assert "25%" in table
    assert f"{observed:.1f}%" in table
    assert "halted: exposure check: intended 25%" in table


def test_a_step_on_a_real_unleash_is_checked_through_its_openfeature_provider(
    flow_db, seeded, actor, unleash_server: UnleashServer
):
    prefix = f"check{flow_db.dialect.name}."  # once per database against the one server
    config = UnleashConfig(
        url=unleash_server.url,
        admin_token=unleash_server.admin_token,
        client_token=unleash_server.client_token,
        project=unleash_server.project,
        environment=unleash_server.environment,
        flag_prefix=prefix,
    )
    target = UnleashTarget(config, engine=flow_db)
    try:
        created = launch(seeded, actor, "unleashed")
        rid = ramp(seeded, actor, created, "EU", 25)
        checker = ExposureChecker(observer=TargetObserver(target, users=USERS), tolerance=3, actor=actor)
        assert deliver_exposures(session=seeded, target=target, now=now(), checker=checker) == 1
    finally:
        target.close()
    summary, rows = checks(seeded)
    assert summary == [("EU", "unleash", 25, USERS, True)]
    assert rows[0].flag == f"{prefix}unleashed"
    assert abs(rows[0].observed - 25) <= 3
    assert rows[0].observed != 25
    assert rows[0].rollout_id == rid


def test_a_worker_loads_the_openfeature_sdk_only_when_it_first_checks_a_step() -> None:
    """The SDK, its providers and the Unleash client cost a worker start 0.3 s of its 2.1 s
    import; only flagd and Unleash targets' checks use them. In a fresh interpreter, since this
    one has them loaded already."""
    import subprocess
    import sys

    probe = (
        "import sys, flows.worker; "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'openfeature', 'UnleashClient'}))"
    )
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert loaded.stdout.strip() == "[]"
