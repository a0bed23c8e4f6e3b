"""The portfolio as leadership browses it: active, completed or all launches, a search over slug,
name and owner, and pages of fifty with the count of each tab.

The search runs in the database the same way on SQLite and PostgreSQL (``core.sqltext``), and
bad input (an unknown tab, an over-long or control-character search, a page that is not a
number) is refused with the field and what to type instead, before anything is read.
"""

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ColumnElement, case, func, or_, true
from sqlalchemy import select as select_columns
from sqlmodel import Session, col

from orchestrator.core.enums import LaunchStatus
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import Launch
from orchestrator.core.sqltext import contains_text
from orchestrator.reporting.portfolio import Portfolio, portfolio
from orchestrator.reporting.rag import RagRules
from orchestrator.reporting.rag_rank import ranked_launches

PER_PAGE = 50
SEARCH_MAX = 100  # characters: longer than any slug, name or owner anyone types to find a launch
PAGE_MAX = 100_000


class Show(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    ALL = "all"


# "All" lists active launches first, then drafts, then the finished ones; by slug within each.
_STATUS_RANK = {LaunchStatus.ACTIVE: 0, LaunchStatus.DRAFT: 1, LaunchStatus.COMPLETED: 2, LaunchStatus.CANCELLED: 3}


@dataclass(frozen=True)
class PortfolioQuery:
    show: Show = Show.ACTIVE
    q: str | None = None
    page: int = 1

    @property
    def is_default(self) -> bool:
        """Active launches, no search: the view the portfolio cache holds (page by page)."""
        return self.show == Show.ACTIVE and self.q is None


@dataclass(frozen=True)
class PortfolioView:
    query: PortfolioQuery
    portfolio: Portfolio  # this page's rows only; for "active", ordered red first
    total: int  # launches matching in the chosen tab
    counts: Mapping[Show, int]  # launches matching in each tab
    page: int  # the page shown (a page past the end shows the last)
    per_page: int
    statuses: Mapping[int, LaunchStatus] = field(default_factory=dict)  # per launch id on this page

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def first(self) -> int:
        """The 1-based position of this page's first row (0 when nothing matched)."""
        return (self.page - 1) * self.per_page + 1 if self.portfolio.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.portfolio.rows) - 1 if self.portfolio.rows else 0


def page_size() -> int:
    """Launches a page shows (read per call, so a test can make pages short)."""
    return PER_PAGE


def parse_query(*, show: str | None, q: str | None, page: str | None) -> PortfolioQuery:
    """The query parameters as typed in the address bar, checked; ``InvalidInput`` names the bad one."""
    tab = (show or Show.ACTIVE.value).strip().lower()
    if tab not in {choice.value for choice in Show}:
        raise InvalidInput("show", f"{(show or '')[:40]!r} is not a list; use active, completed or all")
    return PortfolioQuery(show=Show(tab), q=_search_text(q), page=page_number(page))


def _search_text(q: str | None) -> str | None:
    text = (q or "").strip()
    if len(text) > SEARCH_MAX:
        raise InvalidInput(
            "q",
            f"the search is {len(text)} characters long; use at most {SEARCH_MAX} "
            "(a part of a launch's slug, name or owner)",
        )
    if any(unicodedata.category(char) in {"Cc", "Cs"} for char in text):
        raise InvalidInput("q", "the search contains control characters; type plain text")
    return text or None


def page_number(page: str | None) -> int:
    """A page number as typed in the address bar (empty: the first); ``InvalidInput`` otherwise."""
    text = (page or "1").strip()
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= PAGE_MAX:
        raise InvalidInput("page", f"{text[:20]!r} is not a page number; use a whole number from 1")
    return int(text)


def portfolio_view(
    *, session: Session, now: datetime, query: PortfolioQuery, rules: RagRules | None = None
) -> PortfolioView:
    """One page of the chosen tab, computing only that page's launches.

    Active launches are ranked red first, as on the digest: the database colours every match
    (``rag_rank``, one statement) and the page is cut from that order; the completed and all tabs
    are cut in SQL by status, then slug. A pure read; the caller ends the transaction."""
    rules = rules or RagRules.from_settings()
    per_page = page_size()
    matching = _matching(query.q)
    counts = _counts(session, matching)
    total = counts[query.show]
    page = min(query.page, max(1, -(-total // per_page)))
    start = (page - 1) * per_page
    if query.show == Show.ACTIVE:
        active = matching & (col(Launch.status) == LaunchStatus.ACTIVE)
        ranked = ranked_launches(session, which=active, now=now, rules=rules) if total else []
        shown = _computed(session, [launch_id for launch_id, _rag in ranked[start : start + per_page]], now, rules)
        statuses = {row.launch.id: LaunchStatus.ACTIVE for row in shown.rows}
    else:
        shown, statuses = _listed(session, query=query, which=matching, window=(start, per_page), now=now, rules=rules)
    return PortfolioView(
        query=query, portfolio=shown, total=total, counts=counts, page=page, per_page=per_page, statuses=statuses
    )


def _listed(
    session: Session,
    *,
    query: PortfolioQuery,
    which: ColumnElement[bool],
    window: tuple[int, int],
    now: datetime,
    rules: RagRules,
) -> tuple[Portfolio, dict[int, LaunchStatus]]:
    """A page of the completed or all tab (``window``: offset and size), cut in SQL, and only its
    launches computed."""
    if query.show == Show.COMPLETED:
        which = which & (col(Launch.status) == LaunchStatus.COMPLETED)
    start, per_page = window
    listed = session.execute(
        select_columns(col(Launch.id), col(Launch.status))
        .where(which)
        .order_by(_rank(), col(Launch.slug))
        .offset(start)
        .limit(per_page)
    ).all()
    statuses = {launch_id: LaunchStatus(status) for launch_id, status in listed}
    return _computed(session, list(statuses), now, rules), statuses


def _computed(session: Session, launch_ids: list[int], now: datetime, rules: RagRules) -> Portfolio:
    """These launches' rows, in the order given."""
    if not launch_ids:
        return Portfolio(generated_at=now, rows=(), rules=rules)
    computed = portfolio(session=session, now=now, rules=rules, launch_ids=launch_ids)
    rows = {row.launch.id: row for row in computed.rows}
    ordered = tuple(rows[launch_id] for launch_id in launch_ids if launch_id in rows)
    return Portfolio(generated_at=computed.generated_at, rows=ordered, rules=rules)


def _matching(q: str | None) -> ColumnElement[bool]:
    if q is None:
        return true()
    return or_(
        contains_text(col(Launch.slug), q), contains_text(col(Launch.name), q), contains_text(col(Launch.owner), q)
    )


def _counts(session: Session, matching: ColumnElement[bool]) -> dict[Show, int]:
    """How many launches match in each tab, in one statement."""
    by_status = {
        LaunchStatus(status): int(count)
        for status, count in session.execute(
            select_columns(col(Launch.status), func.count()).where(matching).group_by(col(Launch.status))
        )
    }
    return {
        Show.ACTIVE: by_status.get(LaunchStatus.ACTIVE, 0),
        Show.COMPLETED: by_status.get(LaunchStatus.COMPLETED, 0),
        Show.ALL: sum(by_status.values()),
    }


def _rank() -> ColumnElement[int]:
    return case({status.value: rank for status, rank in _STATUS_RANK.items()}, value=col(Launch.status), else_=9)
