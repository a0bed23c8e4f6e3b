"""A launch whose whole history is known to the minute, played through the real services with
the clock moved by freezegun: the forecast, RAG and retro tests (and the API, CLI and browser
tests of their pages) assert exact figures against it.

"known-history" rolls out to EU only, internal then GA. In 2026 (the past, so the served pages
read it the same at any real date):

- Mar 2 09:00 created and kicked off (internal gates open); Mar 2 12:00 press release checked
  (marketing); Mar 3 15:00 privacy review checked (legal; due Mar 3 08:00 UTC: late): the internal
  checklist passes. The advisory docs page (docs, due Mar 1) is never done.
- Mar 4 09:00 the time gate passes (ready); 09:05 exposure 100%; 09:10 live; 09:15 GA gates open.
- Beta: Mar 5 10:00 severity 1 (fixed 14:00: 4 h); Mar 6 09:00 severity 1 (fixed Mar 8 15:00:
  2 d 6 h); Mar 6 09:30 severity 3 and 10:00 its duplicate, merged at 11:00.
- Mar 9 10:00 support runbook checked (support).
- Forecasts recorded Mar 11 09:00 (and again 10:00, the same forecast), Mar 12 09:00.
- Mar 13 10:00 GA moved from Mar 22 09:00 to Mar 26 09:00: "Legal review of the DPA".
- Mar 15 11:00 launch blog checked (marketing); 12:00 forecast recorded.
- Mar 16 16:00 vendor DPA waived (legal): the GA checklist passes. Mar 17 10:00 conditional Go.
- Mar 26 09:00 time and approval gates pass (ready); 09:05 10%; 10:05 100%; 10:10 live: the
  launch completes.
"""

from datetime import UTC, datetime

from sqlmodel import Session, col, select

from orchestrator.beta.feedback import merge_feedback, resolve_feedback, submit_feedback
from orchestrator.core.actors import Actor
from orchestrator.core.enums import FeedbackType, GateKind, Phase, Vote
from orchestrator.core.models import ChecklistItem, Launch
from orchestrator.forecasts.service import record_forecasts
from orchestrator.gates.approvals import cast_vote
from orchestrator.items.service import check_item, waive_item
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec
from orchestrator.rollouts.steps import load_snapshot, next_step, take_step
from tests.support.db import gate_of, rollout_id
from tests.support.factories import item, region_plan

SLUG = "known-history"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
INTERNAL_AT = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)
GA_AT = datetime(2026, 3, 22, 9, 0, tzinfo=UTC)
GA_MOVED_TO = datetime(2026, 3, 26, 9, 0, tzinfo=UTC)
COMPLETED_AT = datetime(2026, 3, 26, 10, 10, tzinfo=UTC)
RAMP = {"ga": [{"percent": 10, "hold_minutes": 60}, {"percent": 100}]}
ITEMS = [
    item("press_release", phase=Phase.INTERNAL, team="marketing", offset=0),
    item("privacy_review", phase=Phase.INTERNAL, team="legal", offset=-1),
    item("docs_page", phase=Phase.INTERNAL, team="docs", blocking=False, offset=-3),
    item("support_runbook", phase=Phase.GA, team="support", offset=-7),
    item("launch_blog", phase=Phase.GA, team="marketing", offset=-5),
    item("vendor_dpa", phase=Phase.GA, team="legal", offset=-6),
]


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def _item_id(session: Session, launch_id: int, key: str) -> int:
    found = session.exec(
        select(ChecklistItem.id).where(ChecklistItem.launch_id == launch_id, ChecklistItem.key == key)
    ).one()
    session.commit()
    assert found is not None
    return found


def _step(session: Session, actor: Actor, rid: int, expected: str) -> None:
    snapshot = load_snapshot(session, rollout_id=rid)
    session.commit()
    step = next_step(snapshot, now=datetime.now(UTC))
    assert step is not None, expected
    assert step.kind.value == expected, (step, expected)
    take_step(session, snapshot=snapshot, step=step, actor=actor)


def _feedback(session: Session, actor: Actor, launch_id: int, account: str, severity: int, kind: FeedbackType) -> int:
    report = submit_feedback(
        session=session,
        launch_id=launch_id,
        region_code="EU",
        phase=Phase.INTERNAL,
        account=account,
        type=kind,
        severity=severity,
        text=f"Report from {account}",
        actor=actor,
    )
    assert report.id is not None
    return report.id


class Story:
    """The history, played forward in as many goes as a test likes (freezegun's ``frozen`` clock
    is moved to each step's time and left at the end of each go)."""

    def __init__(self, session: Session, actor: Actor, frozen: object) -> None:
        self.session = session
        self.frozen = frozen
        self.steps = _timeline(session, actor)
        self.played = 0

    def until(self, when: datetime = COMPLETED_AT) -> int:
        """Play every step up to ``when`` (inclusive) not played yet; returns the launch's id."""
        while self.played < len(self.steps) and self.steps[self.played][0] <= when:
            moment, action = self.steps[self.played]
            self.frozen.move_to(moment)  # type: ignore[attr-defined]
            action()  # type: ignore[operator]
            self.played += 1
        self.frozen.move_to(when)  # type: ignore[attr-defined]
        return launch_id_of(self.session)


def play(session: Session, actor: Actor, frozen: object, *, until: datetime = COMPLETED_AT) -> int:
    """Play the history up to ``until`` in one go; returns the launch's id."""
    return Story(session, actor, frozen).until(until)


def _timeline(session: Session, actor: Actor) -> list[tuple[datetime, object]]:
    state: dict[str, int] = {}

    def create() -> None:
        spec = LaunchSpec(
            slug=SLUG,
            name="Known History",
            tier=2,
            owner="owner@example.com",
            regions=[region_plan("EU", {Phase.INTERNAL: INTERNAL_AT, Phase.GA: GA_AT})],
            approvers=["vp@example.com"],
            ramp_plan=RAMP,
        )
        launch = create_launch(session=session, spec=spec, items=ITEMS, actor=actor)
        assert launch.id is not None
        kick_off_launch(session=session, launch_id=launch.id, actor=actor)
        state["launch"] = launch.id
        state["rollout"] = rollout_id(session, launch)

    def check(key: str) -> None:
        check_item(session=session, item_id=_item_id(session, state["launch"], key), actor=actor)

    def step(expected: str) -> None:
        _step(session, actor, state["rollout"], expected)

    def record() -> None:
        record_forecasts(session=session, now=datetime.now(UTC), actor=actor)

    def beta() -> None:
        launch_id = state["launch"]
        state["a"] = _feedback(session, actor, launch_id, "acct-1", 1, FeedbackType.BUG)

    def more_beta() -> None:
        state["b"] = _feedback(session, actor, state["launch"], "acct-2", 1, FeedbackType.BUG)

    def gap() -> None:
        state["c"] = _feedback(session, actor, state["launch"], "acct-3", 3, FeedbackType.GAP)

    def duplicate() -> None:
        state["d"] = _feedback(session, actor, state["launch"], "acct-4", 3, FeedbackType.GAP)

    def reschedule() -> None:
        reschedule_phase(
            session=session,
            rollout_id=state["rollout"],
            phase=Phase.GA,
            new_at=GA_MOVED_TO,
            actor=actor,
            reason="Legal review of the DPA",
        )

    def waive() -> None:
        waive_item(
            session=session,
            item_id=_item_id(session, state["launch"], "vendor_dpa"),
            actor=actor,
            reason="Accepted for the launch: the vendor signs next week",
        )

    def conditional_go() -> None:
        approval = gate_of(session, state["rollout"], Phase.GA, GateKind.APPROVAL)
        cast_vote(
            session=session,
            gate_id=approval.id,
            vote=Vote.CONDITIONAL_GO,
            on_behalf_of="vp@example.com",
            on_behalf_reason="go/no-go meeting of 2026-03-17",
            conditions="Support staffed for the first week",
            risk_accepted_by="vp@example.com",
            actor=actor,
        )

    return [
        (START, create),
        (at(3, 2, 12), lambda: check("press_release")),
        (at(3, 3, 15), lambda: check("privacy_review")),
        (INTERNAL_AT, lambda: step("evaluate_gates")),
        (at(3, 4, 9, 5), lambda: step("ramp")),
        (at(3, 4, 9, 10), lambda: step("go_live")),
        (at(3, 4, 9, 15), lambda: step("advance")),
        (at(3, 5, 10), beta),
        (at(3, 5, 14), lambda: resolve_feedback(session=session, feedback_id=state["a"], actor=actor)),
        (at(3, 6, 9), more_beta),
        (at(3, 6, 9, 30), gap),
        (at(3, 6, 10), duplicate),
        (
            at(3, 6, 11),
            lambda: merge_feedback(session=session, feedback_id=state["d"], into_id=state["c"], actor=actor),
        ),
        (at(3, 8, 15), lambda: resolve_feedback(session=session, feedback_id=state["b"], actor=actor)),
        (at(3, 9, 10), lambda: check("support_runbook")),
        (at(3, 11, 9), record),
        (at(3, 11, 10), record),
        (at(3, 12, 9), record),
        (at(3, 13, 10), reschedule),
        (at(3, 15, 11), lambda: check("launch_blog")),
        (at(3, 15, 12), record),
        (at(3, 16, 16), waive),
        (at(3, 17, 10), conditional_go),
        (GA_MOVED_TO, lambda: step("evaluate_gates")),
        (at(3, 26, 9, 5), lambda: step("ramp")),
        (at(3, 26, 10, 5), lambda: step("ramp")),
        (COMPLETED_AT, lambda: step("go_live")),
    ]


def launch_id_of(session: Session) -> int:
    found = session.exec(select(Launch.id).where(col(Launch.slug) == SLUG)).one()
    session.commit()
    assert found is not None
    return found
