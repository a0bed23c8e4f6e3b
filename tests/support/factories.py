"""Small builders for test data; they go through the real services so invariants hold."""

from collections.abc import Container
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, select

from orchestrator.beta.feedback import submit_feedback
from orchestrator.core.actors import Actor
from orchestrator.core.enums import FeedbackType, Phase, Role, Source
from orchestrator.core.models import Launch, Member
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.launches.service import create_launch
from orchestrator.launches.spec import ItemSpec, LaunchSpec, RegionPlan

BASE = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


def phase_dates(start: datetime = BASE, *, step_days: int = 14) -> dict[Phase, datetime]:
    return {phase: start + timedelta(days=step_days * index) for index, phase in enumerate(Phase.ordered())}


def past_dates(*, phases: Container[Phase] | None = None) -> dict[Phase, datetime]:
    """Phase dates all in the past, so time gates pass without freezing the clock."""
    dates = phase_dates(datetime.now(UTC).replace(microsecond=0) - timedelta(days=60), step_days=7)
    return {phase: when for phase, when in dates.items() if phases is None or phase in phases}


def region_plan(code: str, dates: dict[Phase, datetime]) -> RegionPlan:
    """A region's plan that skips, explicitly, every phase ``dates`` leaves out."""
    return RegionPlan(region=code, dates=dates, skip=[phase for phase in Phase.ordered() if phase not in dates])


def skips_for(dates: dict[str, str]) -> list[str]:
    """For JSON bodies: the phases (values) a region's ``dates`` leaves out, to skip explicitly."""
    return [phase.value for phase in Phase.ordered() if phase.value not in dates]


def make_launch(
    session: Session,
    actor: Actor,
    *,
    slug: str = "acme-assistant",
    tier: int = 2,
    regions: tuple[str, ...] = ("EU",),
    dates: dict[Phase, datetime] | None = None,
    items: list[ItemSpec] | None = None,
    approvers: list[str] | None = None,
    quorum: int | None = None,
    distinct_teams: bool = False,
) -> Launch:
    """A draft launch; its approval gates name ``approvers`` (default: vp@example.com), since
    kickoff refuses a launch whose approval gate names nobody."""
    spec = LaunchSpec(
        slug=slug,
        name=slug.replace("-", " ").title(),
        tier=tier,
        owner="owner@example.com",
        regions=[region_plan(code, dates or phase_dates()) for code in regions],
        approvers=["vp@example.com"] if approvers is None else approvers,
        approval_quorum=quorum,
        approval_distinct_teams=distinct_teams,
    )
    return create_launch(session=session, spec=spec, items=items or [], actor=actor)


def item(
    key: str,
    *,
    region: str = "EU",
    phase: Phase = Phase.INTERNAL,
    team: str = "marketing",
    blocking: bool = True,
    offset: int | None = -7,
    evidence: bool = False,
    depends_on: tuple[str, ...] = (),
) -> ItemSpec:
    return ItemSpec(
        region=region,
        phase=phase,
        key=key,
        title=key.replace("_", " ").capitalize(),
        owner_team=team,
        due_offset_days=offset,
        blocking=blocking,
        evidence_required=evidence,
        depends_on=depends_on,
    )


def severity_1_bug(session: Session, actor: Actor, *, launch_id: int, region: str = "EU") -> None:
    """An open severity-1 bug reported in private beta: it holds any ``open_severity_1 <= 0``
    exit criterion of the region closed."""
    submit_feedback(
        session=session,
        launch_id=launch_id,
        region_code=region,
        phase=Phase.PRIVATE_BETA,
        account="acct-1",
        type=FeedbackType.BUG,
        severity=1,
        text="Export loses rows",
        actor=actor,
    )


def make_approvers(session: Session, actor: Actor, *emails: str) -> None:
    """Members of the directory with the approver role (a vote counts for a member)."""
    for email in emails:
        seed = MemberSeed(email=email, name=email.split("@")[0].title(), role=Role.APPROVER)
        upsert_member(session=session, seed=seed, actor=actor)


def approver_in_person(session: Session, email: str, *, role: Role = Role.APPROVER) -> Actor:
    """The member ``email`` acting through Slack as themselves (as a signed request proves)."""
    member_id = session.exec(select(Member.id).where(Member.email == email)).one()
    return Actor(name=email, source=Source.SLACK, role=role, member_id=member_id)
