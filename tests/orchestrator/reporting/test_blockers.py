"""What is blocking a region from a phase: the read model asserted whole, on SQLite and PostgreSQL,
with the clock frozen by freezegun (days late, the time gate, the next automatic step)."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlmodel import select

from orchestrator.core.enums import ExitMetric, GateKind, GateStatus, ItemStatus, Phase, RolloutState, Vote, WaveMode
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.models import Member
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.gates.approvals import cast_vote
from orchestrator.gates.beta_exit import CriterionStatus
from orchestrator.items.details import assign_item
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec
from orchestrator.reporting.blockers import (
    ApprovalWait,
    BetaExitWait,
    Blockers,
    BlockingItem,
    Dependency,
    TimeWait,
    VoteLine,
    WaveWait,
    blockers,
)
from tests.support.db import gate_of, rollout_id
from tests.support.factories import approver_in_person, item, make_approvers, region_plan, severity_1_bug
from tests.support.rollouts import go_live, step_now

BETA = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
GA = datetime(2027, 3, 20, 9, 0, tzinfo=UTC)
NOW = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)
DUE = datetime(2027, 3, 6, 8, 0, tzinfo=UTC)  # 14 days before GA, 09:00 in Berlin


def _launch(session, actor):
    """A sequential launch (APAC before EU) whose EU region waits in GA for everything at once."""
    make_approvers(session, actor, "ann@example.com", "bob@example.com")
    upsert_member(
        session=session, seed=MemberSeed(email="lee@example.com", name="Lee Legal", team="legal"), actor=actor
    )
    dates = {Phase.PRIVATE_BETA: BETA, Phase.GA: GA}
    spec = LaunchSpec(
        slug="acme-blockers",
        name="Acme Blockers",
        tier=2,
        owner="owner@example.com",
        regions=[region_plan("APAC", dates), region_plan("EU", dates)],
        approvers=["ann@example.com", "bob@example.com"],
        wave_mode=WaveMode.SEQUENTIAL,
        beta_exit_criteria={Phase.PRIVATE_BETA: {ExitMetric.OPEN_SEVERITY_1: 0}},
    )
    items = [
        item("ga.legal_review", region=region, phase=Phase.GA, team="legal", offset=-14, depends_on=("ga.dpa",))
        for region in ("APAC", "EU")
    ] + [item("ga.dpa", region="EU", phase=Phase.GA, team="legal", blocking=False, offset=-14)]
    return create_launch(session=session, spec=spec, items=items, actor=actor)


def _drive_eu_into_ga(session, actor, launch):
    apac, eu = rollout_id(session, launch, "APAC"), rollout_id(session, launch, "EU")
    kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    go_live(session, actor, apac, Phase.PRIVATE_BETA)
    assert step_now(session, actor, eu) is not None  # the wave lets EU through private beta
    go_live(session, actor, eu, Phase.PRIVATE_BETA)
    severity_1_bug(session, actor, launch_id=launch.id, region="EU")  # holds the beta exit
    step_now(session, actor, eu)  # advance into GA
    return eu


def test_everything_that_blocks_a_region_from_ga_in_words(seeded, actor):
    launch = _launch(seeded, actor)
    with freeze_time(NOW):
        eu = _drive_eu_into_ga(seeded, actor, launch)
        legal = next(i for i in _items(seeded, eu) if i.key == "ga.legal_review")
        lee = seeded.exec(select(Member.id).where(Member.email == "lee@example.com")).one()
        assign_item(session=seeded, item_id=legal.id, assignee_id=lee, actor=actor)
        approval = gate_of(seeded, eu, Phase.GA, GateKind.APPROVAL)
        cast_vote(
            session=seeded, gate_id=approval.id, vote=Vote.GO, actor=approver_in_person(seeded, "ann@example.com")
        )

        found = blockers(session=seeded, slug="acme-blockers", region="EU", phase="ga", now=NOW)

    (vote,) = found.approval.votes
    assert vote == VoteLine(voter="ann@example.com", vote=Vote.GO, cast_at=NOW, counts=True, note=None)
    assert found == Blockers(
        slug="acme-blockers",
        region="EU",
        phase=Phase.GA,
        state=RolloutState.GATED,
        current_phase=Phase.GA,
        halted=False,
        halt_reason=None,
        reached=False,
        items=(
            BlockingItem(
                id=legal.id,
                key="ga.legal_review",
                title="Ga.legal review",
                status=ItemStatus.TODO,
                owner_team="Legal and compliance",
                assignee_name="Lee Legal",
                assignee_email="lee@example.com",
                due_at=DUE,
                overdue=True,
                days_late=4,
                blocked_reason=None,
                depends_on=(Dependency(key="ga.dpa", status=ItemStatus.TODO, done=False),),
            ),
        ),
        approval=ApprovalWait(
            status=GateStatus.OPEN,
            approvers=("ann@example.com", "bob@example.com"),
            needed=2,
            distinct_teams=False,
            votes=(vote,),
            gos=("ann@example.com",),
            no_gos=(),
            stale=(),
            missing=("bob@example.com",),
            holds=False,
        ),
        time=TimeWait(status=GateStatus.OPEN, phase_at=GA, opens_at=GA, reached=False),
        wave=WaveWait(mode=WaveMode.SEQUENTIAL, waiting_for=("APAC",)),
        beta_exit=BetaExitWait(
            status=GateStatus.OPEN,
            exits=Phase.PRIVATE_BETA,
            criteria=(CriterionStatus(ExitMetric.OPEN_SEVERITY_1, "<=", 0, 1, False),),
            met=False,
        ),
        next_step_at=GA,
        next_step="at 2027-03-20 09:00 UTC, when the time gate opens, if every other condition is met by then",
        reasons=[
            "ga.legal_review (Ga.legal review) is todo, owned by Legal and compliance, assigned to Lee Legal "
            "<lee@example.com>; due 2027-03-06 08:00 UTC, 4 days late; waits for ga.dpa (todo).",
            "Approval: 1 of 2 Gos needed (counting: ann@example.com go).",
            "Waiting for a vote from bob@example.com.",
            "The approval gate is judged once every other condition of the phase is met.",
            "The phase date is 2027-03-20 09:00 UTC, not reached yet.",
            "Sequential waves: APAC must be live in ga before EU.",
            "Beta exit criterion for leaving private_beta not met: open_severity_1 is 1, needs <= 0.",
            "Next automatic step: at 2027-03-20 09:00 UTC, when the time gate opens, "
            "if every other condition is met by then.",
        ],
    )

    # The earlier phase is reached: nothing blocks it. APAC is in private beta still, GA after it.
    with freeze_time(NOW):
        passed = blockers(session=seeded, slug="acme-blockers", region="EU", phase=Phase.PRIVATE_BETA, now=NOW)
        later = blockers(session=seeded, slug="acme-blockers", region="APAC", phase="ga", now=NOW)
    assert (passed.reached, passed.items, passed.wave.waiting_for, passed.next_step_at) == (True, (), (), None)
    assert passed.reasons == [
        "EU is past private_beta (now in ga, gated): nothing blocks it.",
        "Next automatic step: none needed for this phase.",
    ]
    assert later.reasons[0] == "APAC is in private_beta (live); ga comes after it."
    assert later.next_step == "after APAC goes live in private_beta"
    assert [i.key for i in later.items] == ["ga.legal_review"]
    assert later.items[0].depends_on == (Dependency(key="ga.dpa", status=None, done=False),)


def _items(session, rid):
    from orchestrator.core.models import ChecklistItem

    found = list(session.exec(select(ChecklistItem).where(ChecklistItem.rollout_id == rid)))
    session.commit()
    return found


def test_unknown_region_or_phase_names_the_known_ones(seeded, actor):
    _launch(seeded, actor)
    refusals = [
        ("MARS", "ga", NotFound, "region of launch acme-blockers (its regions: APAC, EU) 'MARS' does not exist"),
        (
            "EU",
            "beta",
            InvalidInput,
            "phase: 'beta' is not a phase; use one of internal, private_beta, public_beta, ga",
        ),
        ("EU", "internal", InvalidInput, "phase: EU skips internal; its phases: private_beta, ga"),
    ]
    for region, phase, error, message in refusals:
        with pytest.raises(error) as raised:
            blockers(session=seeded, slug="acme-blockers", region=region, phase=phase, now=NOW)
        assert raised.value.message == message
    with pytest.raises(NotFound, match="launch 'nope' does not exist"):
        blockers(session=seeded, slug="nope", region="EU", phase="ga", now=NOW)
