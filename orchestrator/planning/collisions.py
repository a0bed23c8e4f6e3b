"""Collisions between launches and with the calendar, computed from phase dates alone (pure):

- **overlap**: launches of tier 1 or 2 entering the same phase in the same region at most
  ``window_days`` calendar days apart (LAUNCHDECK_COLLISION_WINDOW_DAYS). Such launches are
  grouped into runs, each entry at most the window after the one before it, so ten launches in
  one fortnight are one collision naming ten launches, not forty-five pairs (and a page over two
  hundred launches stays a page). A run of two is exactly the pair.
- **freeze**: a phase date inside one of the region's freezes.
- **holiday**: a phase date on a public holiday of one of the region's countries, named with its
  country ("German Unity Day (DE)").

Dates: a phase date is a moment; its day is its day in the region's timezone, the day a plain
``YYYY-MM-DD`` names in every door (``clock.region_moment``) and the day freezes are kept in, so
days apart, freezes and holidays are all counted in the region's own calendar. Only what is still
ahead counts: a freeze or holiday on a day before ``today``, or a run of overlaps whose entries are
all before ``today``, is history, not a warning.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from orchestrator.core.clock import zone
from orchestrator.core.enums import Phase
from orchestrator.planning.holidays import Holiday, first_holidays
from orchestrator.planning.reads import Freeze, PhaseRow, RegionCalendar

BIG_TIERS = frozenset({1, 2})
SENTENCE_NAMES = 6  # launches a sentence names; the collision itself lists them all
PHASE_WORDS = {
    Phase.INTERNAL: "internal",
    Phase.PRIVATE_BETA: "private beta",
    Phase.PUBLIC_BETA: "public beta",
    Phase.GA: "GA",
}


class CollisionKind(StrEnum):
    OVERLAP = "overlap"
    FREEZE = "freeze"
    HOLIDAY = "holiday"


_KIND_ORDER = {CollisionKind.OVERLAP: 0, CollisionKind.FREEZE: 1, CollisionKind.HOLIDAY: 2}


@dataclass(frozen=True)
class Entry:
    """One launch entering one phase in one region (its current date), saved or about to be."""

    slug: str
    name: str
    tier: int
    region: str
    phase: Phase
    at: datetime  # aware UTC
    day: date  # its day in the region's timezone

    @property
    def place(self) -> str:
        return f"{self.region} {PHASE_WORDS[self.phase]}"


@dataclass(frozen=True)
class Collision:
    kind: CollisionKind
    region: str
    phase: Phase
    day: date  # the phase date (freeze, holiday), or the run's first date still ahead (overlap)
    entries: tuple[Entry, ...]  # overlap: two or more launches, by date; otherwise the one
    sentence: str
    freeze: Freeze | None = None
    holidays: tuple[Holiday, ...] = ()

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(entry.slug for entry in self.entries)

    @property
    def key(self) -> tuple[str, str, Phase, tuple[str, ...], date | None]:
        """What it is about: the same launches in the same place (and, for a freeze or a
        holiday, on the same date; a run of overlaps stays the same run as its dates move)."""
        day = None if self.kind == CollisionKind.OVERLAP else self.day
        return (self.kind.value, self.region, self.phase, tuple(sorted(self.slugs)), day)

    def involves(self, slug: str, region: str | None = None, phase: Phase | None = None) -> bool:
        return any(
            entry.slug == slug and region in (None, entry.region) and phase in (None, entry.phase)
            for entry in self.entries
        )


def find_collisions(
    entries: Iterable[Entry], calendars: Mapping[str, RegionCalendar], *, today: date, window_days: int
) -> list[Collision]:
    """Every collision among ``entries`` still ahead of ``today``, soonest first (then overlaps
    before freezes before holidays, then by region and phase)."""
    listed = list(entries)
    found = overlaps(listed, today=today, window_days=window_days) + calendar_hits(listed, calendars, today=today)
    phase_order = {phase: index for index, phase in enumerate(Phase.ordered())}
    found.sort(key=lambda c: (c.day, _KIND_ORDER[c.kind], c.region, phase_order[c.phase], c.slugs))
    return found


def overlaps(entries: Sequence[Entry], *, today: date, window_days: int) -> list[Collision]:
    """Runs of tier 1-2 launches entering one phase in one region within ``window_days`` of each
    other (calendar days between their UTC dates)."""
    window = timedelta(days=window_days)
    places: dict[tuple[str, Phase], list[Entry]] = defaultdict(list)
    for entry in entries:
        if entry.tier in BIG_TIERS and entry.day >= today - window:
            places[(entry.region, entry.phase)].append(entry)
    found = []
    for (region, phase), here in places.items():
        for run in _runs(sorted(here, key=lambda entry: (entry.day, entry.slug)), window):
            ahead = [member.day for member in run if member.day >= today]
            if len(run) > 1 and ahead:
                sentence = _overlap_sentence(run)
                found.append(Collision(CollisionKind.OVERLAP, region, phase, min(ahead), tuple(run), sentence))
    return found


def _runs(ordered: Sequence[Entry], window: timedelta) -> list[list[Entry]]:
    """``ordered`` (by date) cut wherever the gap to the previous entry exceeds ``window``."""
    runs: list[list[Entry]] = []
    for entry in ordered:
        if runs and entry.day - runs[-1][-1].day <= window:
            runs[-1].append(entry)
        else:
            runs.append([entry])
    return runs


def _overlap_sentence(run: Sequence[Entry]) -> str:
    first, last = run[0], run[-1]
    span = (last.day - first.day).days
    if len(run) == 2:
        return (
            f"{first.slug} (tier {first.tier}) and {last.slug} (tier {last.tier}) both enter {first.place} "
            f"{_days(span)} apart ({first.day:%Y-%m-%d} and {last.day:%Y-%m-%d})"
        )
    listed = ", ".join(f"{entry.slug} ({entry.day:%Y-%m-%d})" for entry in run[:SENTENCE_NAMES])
    if len(run) > SENTENCE_NAMES:
        listed += f" and {len(run) - SENTENCE_NAMES} more"
    return (
        f"{len(run)} tier 1-2 launches enter {first.place} within {_days(span)} "
        f"({first.day:%Y-%m-%d} to {last.day:%Y-%m-%d}): {listed}"
    )


def _days(count: int) -> str:
    return "the same day" if count == 0 else f"{count} day{'s' if count != 1 else ''}"


def local_day(at: datetime, calendar: RegionCalendar | None) -> date:
    """A phase moment's day in its region's timezone (UTC for a region the directory lacks)."""
    return at.astimezone(zone(calendar.timezone)).date() if calendar is not None else at.date()


def calendar_hits(entries: Sequence[Entry], calendars: Mapping[str, RegionCalendar], *, today: date) -> list[Collision]:
    """Phase dates ahead that fall in a freeze of their region or on a public holiday of its
    countries: one collision per phase date and kind. What a region's day holds is looked up once
    per region and day (two hundred launches share a few hundred of them)."""
    found = []
    seen: dict[tuple[str, date], tuple[Freeze | None, list[Holiday]]] = {}
    for entry in entries:
        calendar = calendars.get(entry.region)
        if calendar is None or entry.day < today:
            continue
        key = (entry.region, entry.day)
        if key not in seen:
            freeze = next((freeze for freeze in calendar.freezes if freeze.covers(entry.day)), None)
            seen[key] = (freeze, first_holidays([entry.day], calendar.holiday_countries))
        freeze, hits = seen[key]
        when = f"{entry.slug} {entry.place} on {entry.day:%Y-%m-%d}"
        if freeze is not None:
            sentence = f"{when} falls in {entry.region}'s {freeze.label}"
            found.append(
                Collision(CollisionKind.FREEZE, entry.region, entry.phase, entry.day, (entry,), sentence, freeze=freeze)
            )
        if hits:
            sentence = f"{when} is a public holiday: " + "; ".join(holiday.label for holiday in hits)
            found.append(
                Collision(
                    CollisionKind.HOLIDAY,
                    entry.region,
                    entry.phase,
                    entry.day,
                    (entry,),
                    sentence,
                    holidays=tuple(hits),
                )
            )
    return found


def entries_of(rows: Iterable[PhaseRow], calendars: Mapping[str, RegionCalendar]) -> list[Entry]:
    """Entries from phase rows: the current date of each, with its day in the region's timezone."""
    return [
        Entry(
            row.slug,
            row.name,
            row.tier,
            row.region,
            row.phase,
            row.current_at,
            local_day(row.current_at, calendars.get(row.region)),
        )
        for row in rows
    ]
