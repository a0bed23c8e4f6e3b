"""Driving one region step by step with the clock frozen by freezegun: launches built from a
LaunchSpec, the step due now, and reads that end with a commit (on SQLite every transaction
begins IMMEDIATE and holds the write lock, and the recording target writes through its own
session)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlmodel import col, select

from orchestrator.core.enums import GateKind, Phase, Vote, WaveMode
from orchestrator.core.models import Launch, Outbox, RegionRollout
from orchestrator.gates.approvals import cast_vote
from orchestrator.launches.service import create_launch
from orchestrator.launches.spec import LaunchSpec
from orchestrator.rollouts.service import TARGET_TOPIC, mark_live, set_exposure
from orchestrator.rollouts.steps import load_snapshot, next_step, take_step
from tests.support.db import gate_of
from tests.support.factories import region_plan

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday


def daily_dates(start=START, phases=None):
    """One phase a day from ``start``."""
    chosen = phases or Phase.ordered()
    return {phase: start + timedelta(days=index) for index, phase in enumerate(chosen)}


def spec_launch(session, actor, *, regions, slug="acme-assistant", wave_mode=WaveMode.PARALLEL, ramp_plan=None):
    """A launch built from a LaunchSpec; ``regions`` maps region codes to phase dates."""
    spec = LaunchSpec(
        slug=slug,
        name=slug.replace("-", " ").title(),
        tier=2,
        owner="owner@example.com",
        regions=[region_plan(code, dates) for code, dates in regions.items()],
        approvers=["vp@example.com"],
        wave_mode=wave_mode,
        ramp_plan=ramp_plan or {},
    )
    return create_launch(session=session, spec=spec, actor=actor)


def rollout_row(session, rid):
    """The region's rollout row as the database has it now (the row itself, not a dict)."""
    row = session.exec(
        select(RegionRollout).where(RegionRollout.id == rid).execution_options(populate_existing=True)
    ).one()
    session.commit()
    return row


def launch_status(session, launch_id):
    status = session.exec(
        select(Launch.status).where(Launch.id == launch_id).execution_options(populate_existing=True)
    ).one()
    session.commit()
    return status


def snapshot(session, rid):
    snap = load_snapshot(session, rollout_id=rid)
    session.commit()
    return snap


def at(value):
    """A timestamp as the database gave it back (SQLite drops the offset), as aware UTC."""
    return None if value is None else (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


def now():
    return datetime.now(UTC)


def target_rows(session):
    rows = list(
        session.exec(
            select(Outbox)
            .where(Outbox.topic == TARGET_TOPIC)
            .order_by(col(Outbox.id))
            .execution_options(populate_existing=True)
        )
    )
    session.commit()
    return rows


def count(session, model):
    total = session.exec(select(func.count()).select_from(model)).one()
    session.commit()
    return total


def approve(session, actor, rid, phase, voter="vp@example.com"):
    approval = gate_of(session, rid, phase, GateKind.APPROVAL)
    cast_vote(
        session=session,
        gate_id=approval.id,
        on_behalf_of=voter,
        on_behalf_reason="go/no-go meeting",
        vote=Vote.GO,
        actor=actor,
    )


def go_live(session, actor, rid, phase):
    set_exposure(session=session, rollout_id=rid, phase=phase, percent=100, actor=actor)
    mark_live(session=session, rollout_id=rid, phase=phase, actor=actor)


def step_now(session, actor, rid):
    """Take the step due now; returns it (None when nothing is due)."""
    snap = snapshot(session, rid)
    step = next_step(snap, now=now())
    if step is not None:
        take_step(session, snapshot=snap, step=step, actor=actor)
    return step
