"""The post-launch retro of a launch whose history is known to the minute (tests/support/history.py):
every figure exact, and its Markdown. The history is played once on SQLite for the figures'
tests; the same retro is then read back from PostgreSQL, and a retro before completion on both."""

import shutil
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlmodel import Session

from orchestrator.core.actors import Actor
from orchestrator.core.db import make_engine
from orchestrator.core.enums import GateKind, ItemStatus, LaunchStatus, Phase, Source
from orchestrator.directory.seed import load_seed
from orchestrator.directory.service import apply_seed
from orchestrator.retros.figures import BetaFigures, LastClosed, TeamOverdue
from orchestrator.retros.markdown import retro_markdown
from orchestrator.retros.retro import ConditionalGo, Slip, launch_retro
from tests.support.history import COMPLETED_AT, GA_AT, GA_MOVED_TO, SLUG, START, at, play

GENERATED = at(3, 27, 9)


def completed_retro(session, actor):
    with freeze_time(START) as frozen:
        play(session, actor, frozen)
        frozen.move_to(GENERATED)
        return launch_retro(session=session, slug=SLUG, now=GENERATED)


@pytest.fixture(scope="module")
def retro(sqlite_template, tmp_path_factory):
    """The retro of the completed history, played once for this module on a SQLite copy."""
    path = tmp_path_factory.mktemp("known-history") / "launchdeck.db"
    shutil.copyfile(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    actor = Actor(name="pat@example.com", source=Source.CLI)
    try:
        with Session(engine, expire_on_commit=False) as session:
            apply_seed(session=session, config=load_seed(None), actor=actor)
            return completed_retro(session, actor)
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True)
def test_postgresql_reads_the_same_retro(seeded, actor, retro):
    assert completed_retro(seeded, actor) == retro


def test_time_at_each_gate_and_in_each_ramp(retro):
    assert (retro.status, retro.kicked_off_at, retro.completed_at) == (LaunchStatus.COMPLETED, START, COMPLETED_AT)
    assert retro.duration == timedelta(days=24, hours=1, minutes=10)
    internal, ga = retro.phases
    assert (internal.region, internal.phase, internal.gates_opened_at, internal.ready_at) == (
        "EU", Phase.INTERNAL, START, at(3, 4, 9),
    )  # fmt: skip
    assert (internal.at_gate, internal.held_by, internal.in_ramp) == (
        timedelta(days=2),
        GateKind.TIME,
        timedelta(minutes=5),
    )
    assert internal.gate_passed == ((GateKind.CHECKLIST, at(3, 3, 15)), (GateKind.TIME, at(3, 4, 9)))
    assert (ga.gates_opened_at, ga.ready_at, ga.ramp_started_at, ga.live_at) == (
        at(3, 4, 9, 15), GA_MOVED_TO, at(3, 26, 9, 5), COMPLETED_AT,
    )  # fmt: skip
    assert ga.at_gate == timedelta(days=21, hours=23, minutes=45)
    assert ga.in_ramp == timedelta(hours=1, minutes=5)
    # The time and approval gates passed at the same instant; the approval is judged last.
    assert ga.held_by == GateKind.APPROVAL


def test_the_bottleneck_is_the_team_that_closed_each_gates_last_blocking_item(retro):
    internal, ga = retro.bottlenecks
    assert (internal.phase, internal.gate_passed_at, internal.team) == (
        Phase.INTERNAL,
        at(3, 3, 15),
        "Legal and compliance",
    )
    assert ga.last == (
        LastClosed("Vendor dpa", "Legal and compliance", at(3, 16, 16), ItemStatus.WAIVED, "pat@example.com"),
        LastClosed("Launch blog", "Product marketing", at(3, 15, 11), ItemStatus.DONE, "pat@example.com"),
        LastClosed("Support runbook", "Customer support", at(3, 9, 10), ItemStatus.DONE, "pat@example.com"),
    )
    assert ga.team == "Legal and compliance"


def test_slips_waivers_and_conditional_gos_with_their_reasons(retro):
    assert retro.slips == (
        Slip("EU", Phase.GA, GA_AT, GA_MOVED_TO, "Legal review of the DPA", "pat@example.com", at(3, 13, 10)),
    )
    assert retro.slips[0].days == 4
    (waiver,) = retro.waivers
    assert (waiver.region, waiver.phase, waiver.item, waiver.team, waiver.granted_at) == (
        "EU", Phase.GA, "Vendor dpa", "Legal and compliance", at(3, 16, 16),
    )  # fmt: skip
    assert (waiver.reason, waiver.revoked_at) == ("Accepted for the launch: the vendor signs next week", None)
    assert retro.conditional_gos == (
        ConditionalGo("EU", Phase.GA, "vp@example.com", "Support staffed for the first week", "vp@example.com",
                      at(3, 17, 10), voided=False),
    )  # fmt: skip


def test_overdue_counts_per_team(retro):
    # Privacy review was due Mar 3 08:00 UTC and done at 15:00; the advisory docs page (due Mar 1) never was.
    assert retro.overdue == (
        TeamOverdue("Documentation", items=1, overdue=1, overdue_blocking=0),
        TeamOverdue("Legal and compliance", items=2, overdue=1, overdue_blocking=1),
        TeamOverdue("Customer support", items=1, overdue=0, overdue_blocking=0),
        TeamOverdue("Product marketing", items=2, overdue=0, overdue_blocking=0),
    )


def test_forecast_accuracy_against_the_day_the_checklist_passed(retro):
    (ga,) = retro.accuracy  # no forecast was recorded while the internal checklist was open
    assert (ga.region, ga.phase, ga.actual_at, ga.without_projection) == ("EU", Phase.GA, at(3, 16, 16), 0)
    # Made (first time that day), projected, days off the Mar 16 pass.
    assert ga.errors == (
        (at(3, 11, 9), at(3, 29, 9), 13),
        (at(3, 12, 9), at(4, 1, 9), 16),
        (at(3, 15, 12), at(3, 22, 1, 30), 6),  # 1 open, 2 closed in 13.125 days: 6.5625 days to go
    )
    assert ga.mean_abs_days == pytest.approx(35 / 3)
    assert retro.accuracy_mean_abs_days == pytest.approx(35 / 3)


def test_beta_feedback_volume_and_time_to_fix_severity_1(retro):
    # Two severity 1 (fixed in 4 h and in 2 d 6 h), one severity 3 reported twice (merged).
    eu, everything = retro.beta
    assert eu == BetaFigures(
        "EU", reports=4, issues=3, severity_1=2, severity_1_open=0,
        fix_times=(timedelta(hours=4), timedelta(days=2, hours=6)),
    )  # fmt: skip
    assert (eu.median_fix, eu.longest_fix) == (timedelta(days=1, hours=5), timedelta(days=2, hours=6))
    assert everything.region == "all"
    assert everything.fix_times == eu.fix_times


def test_the_markdown_tells_every_figure(retro):
    text = retro_markdown(retro)
    assert text.startswith("# Retro: Known History (known-history)\n")
    for line in (
        "| EU | Internal | 2026-03-02 09:00 | 2026-03-04 09:00 | 2 d 0 h | time | 5 min | 2026-03-04 09:10 |",
        "| EU | GA | 2026-03-04 09:15 | 2026-03-26 09:00 | 21 d 23 h | approval | 1 h 5 min | 2026-03-26 10:10 |",
        "| EU | GA | 2026-03-22 | 2026-03-26 | +4 | Legal review of the DPA | pat@example.com | 2026-03-13 10:00 |",
        "| Legal and compliance | 2 | 1 | 1 |",
        "| EU | GA | 2026-03-16 16:00 | 3 | 2026-03-11: 2026-03-29, +13 d | 2026-03-15: 2026-03-22, +6 d | 11.7 | 0 |",
        "| EU | 4 | 3 | 2 | 0 | 1 d 5 h | 2 d 6 h |",
        "Mean error over every forecast: 11.7 days.",
    ):
        assert line in text.splitlines(), line


def test_a_retro_on_demand_before_completion_shows_the_figures_so_far(seeded, actor):
    with freeze_time(START) as frozen:
        play(seeded, actor, frozen, until=at(3, 12, 9))
        retro = launch_retro(session=seeded, slug=SLUG, now=at(3, 12, 9))
    assert (retro.status, retro.completed_at, retro.duration) == (LaunchStatus.ACTIVE, None, None)
    assert [(row.phase, row.ready_at is not None) for row in retro.phases] == [
        (Phase.INTERNAL, True),
        (Phase.GA, False),
    ]
    assert (retro.phases[1].at_gate, retro.phases[1].held_by) == (None, None)
    assert [b.phase for b in retro.bottlenecks] == [Phase.INTERNAL]
    assert retro.accuracy == ()  # the GA checklist has not passed: nothing to compare with yet
    assert "active: figures so far" in retro_markdown(retro)
