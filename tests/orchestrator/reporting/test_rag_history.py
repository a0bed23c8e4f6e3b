"""The daily RAG snapshot (orchestrator/reporting/rag_history.py): once per launch and day, and the
trend against last week."""

from datetime import timedelta

from freezegun import freeze_time
from sqlmodel import func, select

from orchestrator.core.models import AuditEvent, RagSnapshot
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.digest import build_leadership_digest
from orchestrator.reporting.rag import Rag
from orchestrator.reporting.rag_history import rag_trends, record_rag_snapshots
from tests.support.factories import item, make_launch, phase_dates
from tests.support.reporting import ACTOR, NOW


def test_snapshots_are_once_per_launch_and_day_and_give_the_trend(seeded):
    launch = make_launch(seeded, ACTOR, dates=phase_dates(NOW + timedelta(days=30)), items=[item("legal", offset=-5)])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=ACTOR)
    week_ago = NOW - timedelta(days=7)
    with freeze_time(week_ago):
        digest = build_leadership_digest(session=seeded, now=week_ago)
        assert digest.launches[0].rag == Rag.GREEN
        assert record_rag_snapshots(session=seeded, digest=digest, actor=ACTOR) == 1
        assert record_rag_snapshots(session=seeded, digest=digest, actor=ACTOR) == 0  # a retried run adds nothing
    assert seeded.exec(select(func.count()).select_from(RagSnapshot)).one() == 1
    assert (
        seeded.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "rag.snapshotted")).one()
        == 1
    )

    trends = rag_trends(session=seeded, current={launch.id: Rag.RED}, today=NOW.date())
    assert trends[launch.id].previous == Rag.GREEN
    assert trends[launch.id].previous_day == week_ago.date()
    assert trends[launch.id].direction == "worsened"
    assert rag_trends(session=seeded, current={launch.id: Rag.GREEN}, today=NOW.date())[launch.id].direction == (
        "unchanged"
    )
    # Six days after the snapshot there is no week-old history yet.
    too_soon = rag_trends(session=seeded, current={launch.id: Rag.RED}, today=(week_ago + timedelta(days=6)).date())
    assert too_soon[launch.id].direction == "no history yet"
