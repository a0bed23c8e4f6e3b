"""A launch's audit timeline as sentences, newest first, a page at a time: the events, the facts
they name (``audit_facts``), and the sentences (``audit_sentences``). A pure read."""

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import Source
from orchestrator.core.models import Launch
from orchestrator.launches.queries import launch_id_for
from orchestrator.reporting.audit import AuditFilters, list_audit
from orchestrator.reporting.audit_facts import read_audit_facts
from orchestrator.reporting.audit_sentences import sentence

PER_PAGE = 50


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    sentence: str
    source: Source
    action: str  # kept for the page's markup (a data attribute), never shown as the text


@dataclass(frozen=True)
class AuditTimeline:
    entries: tuple[TimelineEntry, ...]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def audit_timeline(*, session: Session, launch_id: int, page: int = 1, per_page: int = PER_PAGE) -> AuditTimeline:
    """One page of the launch's ledger in sentences; a page past the end shows the last one.
    Four statements when the last page is asked for past the end, plus one per kind of thing
    the page's events mention."""
    page = max(page, 1)
    events, total = list_audit(
        session=session, launch_id=launch_id, filters=AuditFilters(), limit=per_page, offset=(page - 1) * per_page
    )
    last = max(1, -(-total // per_page))
    if page > last:
        page = last
        events, total = list_audit(
            session=session, launch_id=launch_id, filters=AuditFilters(), limit=per_page, offset=(page - 1) * per_page
        )
    facts = read_audit_facts(session, events)
    entries = tuple(
        TimelineEntry(at=as_utc(event.at), sentence=sentence(event, facts), source=event.source, action=event.action)
        for event in events
    )
    return AuditTimeline(entries=entries, total=total, page=page, per_page=per_page)


@dataclass(frozen=True)
class LaunchAudit:
    slug: str
    name: str
    timeline: AuditTimeline


def launch_audit(*, session: Session, slug: str, page: int = 1, per_page: int | None = None) -> LaunchAudit:
    """The launch called ``slug`` and one page of its timeline (``PER_PAGE`` events unless told);
    ``NotFound`` for an unknown slug."""
    per_page = per_page or PER_PAGE
    launch_id = launch_id_for(session=session, slug=slug)
    name = session.exec(select(Launch.name).where(Launch.id == launch_id)).one()
    return LaunchAudit(
        slug=slug,
        name=name,
        timeline=audit_timeline(session=session, launch_id=launch_id, page=page, per_page=per_page),
    )
