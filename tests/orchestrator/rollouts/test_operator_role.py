"""Kickoff and the brakes decide who may use them inside the service, on SQLite and PostgreSQL:
whatever door a person came through, only product ops and admins kick off, halt, resume or roll
back, and a refusal writes nothing; launchdeck's own flows act with no role and are trusted."""

import pytest

from orchestrator.core.actors import Actor
from orchestrator.core.enums import LaunchStatus, Role, RolloutState, Source
from orchestrator.core.errors import Forbidden, InvalidInput
from orchestrator.core.models import Launch, RegionRollout
from orchestrator.launches.service import kick_off_launch
from orchestrator.rollouts.service import halt_region, resume_region, roll_back_region
from tests.support.db import fresh, ledger, rollout_id
from tests.support.factories import make_launch, past_dates


def person(role: Role | None, source: Source = Source.SLACK) -> Actor:
    return Actor(name=f"{role or 'nobody'}@example.com", source=source, member_id=1, role=role)


def test_only_operators_kick_off_and_pull_the_brakes_and_flows_are_trusted(seeded, actor):
    launch = make_launch(seeded, actor, dates=past_dates())
    rid = rollout_id(seeded, launch)
    services = {
        "kick off a launch": lambda who: kick_off_launch(session=seeded, launch_id=launch.id, actor=who),
        "halt a region": lambda who: halt_region(session=seeded, rollout_id=rid, actor=who, reason="incident"),
        "resume a region": lambda who: resume_region(session=seeded, rollout_id=rid, actor=who, reason="fixed"),
        "roll back a region": lambda who: roll_back_region(session=seeded, rollout_id=rid, actor=who, reason="x"),
    }
    before = ledger(seeded)
    for doing, call in services.items():
        for refused in (person(Role.MEMBER), person(Role.APPROVER)):
            with pytest.raises(Forbidden, match=f"role {refused.role} may not {doing}"):
                call(refused)
        with pytest.raises(Forbidden, match="without a role; sign in first"):
            call(person(None, Source.API))  # a people's door that forgot to authenticate
    assert ledger(seeded) == before  # nothing written by any refusal
    assert fresh(seeded, Launch, launch.id)["status"] is LaunchStatus.DRAFT

    services["kick off a launch"](person(Role.PRODOPS))
    services["halt a region"](Actor(name="guardrail", source=Source.FLOW))  # the worker's own halts
    assert fresh(seeded, RegionRollout, rid)["state"] is RolloutState.HALTED
    services["resume a region"](person(Role.ADMIN))
    services["roll back a region"](person(Role.PRODOPS))
    assert fresh(seeded, RegionRollout, rid)["state"] is RolloutState.ROLLED_BACK


def test_a_reason_longer_than_its_columns_is_refused_naming_the_field(seeded, actor):
    launch = make_launch(seeded, actor, dates=past_dates())
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    rid = rollout_id(seeded, launch)
    before = ledger(seeded)
    with pytest.raises(InvalidInput, match=r"keep it to 500 characters \(it has 501\)") as refused:
        halt_region(session=seeded, rollout_id=rid, actor=actor, reason="x" * 501)
    assert refused.value.field == "reason"
    with pytest.raises(InvalidInput, match="keep it to 500 characters"):
        roll_back_region(session=seeded, rollout_id=rid, actor=actor, reason="x" * 501)
    assert ledger(seeded) == before
    halt_region(session=seeded, rollout_id=rid, actor=actor, reason="x" * 500)  # fits: stored on both databases
    with pytest.raises(InvalidInput, match="keep it to 1000 characters"):
        resume_region(session=seeded, rollout_id=rid, actor=actor, reason="y" * 1001)
    assert fresh(seeded, RegionRollout, rid)["halt_reason"] == "x" * 500
