"""Helpers for the planning tests: launches with the wave mode and tier they need, a region's
freezes and window set as an admin would, and the proof that a dry run writes nothing (every
table's row count, and every statement sent to the database while it runs)."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sqlalchemy import Engine, event, func, select
from sqlmodel import Session, SQLModel, col

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Phase, WaveMode
from orchestrator.core.models import Launch, Region
from orchestrator.launches.service import create_launch
from orchestrator.launches.spec import ItemSpec, LaunchSpec
from tests.support.factories import region_plan

WRITES = ("INSERT", "UPDATE", "DELETE")


def planned_launch(
    session: Session,
    actor: Actor,
    slug: str,
    dates: dict[Phase, datetime],
    *,
    tier: int = 1,
    regions: tuple[str, ...] = ("EU",),
    wave_mode: WaveMode = WaveMode.PARALLEL,
    items: list[ItemSpec] | None = None,
) -> Launch:
    """A draft launch with the same ``dates`` in every region (the other phases skipped)."""
    spec = LaunchSpec(
        slug=slug,
        name=slug.replace("-", " ").title(),
        tier=tier,
        owner="owner@example.com",
        regions=[region_plan(code, dates) for code in regions],
        approvers=["vp@example.com"],
        wave_mode=wave_mode,
    )
    return create_launch(session=session, spec=spec, items=items or [], actor=actor)


def set_calendar(session: Session, code: str, *, freezes=None, window=None, countries=None) -> None:
    region = session.execute(select(Region).where(col(Region.code) == code)).scalar_one()
    if freezes is not None:
        region.freezes = freezes
    if window is not None:
        region.rollout_window = window
    if countries is not None:
        region.holiday_countries = countries
    session.add(region)
    session.commit()


def table_counts(session: Session) -> dict[str, int]:
    counts = {
        table.name: session.execute(select(func.count()).select_from(table)).scalar_one()
        for table in SQLModel.metadata.sorted_tables
    }
    session.commit()
    return counts


@contextmanager
def statements_sent(engine: Engine) -> Iterator[list[str]]:
    """Every statement sent to ``engine`` meanwhile (the Slack click worker's polling aside)."""
    sent: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        if "slackinteraction" not in statement:
            sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def writes(statements: list[str]) -> list[str]:
    return [statement for statement in statements if statement.lstrip().upper().startswith(WRITES)]
