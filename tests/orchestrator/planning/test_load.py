"""GTM load (orchestrator/planning/load.py) over launches whose items are known: open items per
team and week against capacity, overloaded weeks, overdue items, and one team-week's items,
exactly; done items and finished launches left out; on SQLite and PostgreSQL."""

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import update

from orchestrator.core.clock import utcnow
from orchestrator.core.enums import ItemStatus, LaunchStatus, Phase
from orchestrator.core.errors import InvalidInput, NotFound
from orchestrator.core.models import ChecklistItem, Launch
from orchestrator.directory.seed import TeamSeed
from orchestrator.directory.service import upsert_team
from orchestrator.planning.load import LoadCell, TeamRow, gtm_load, load_grid, team_week_items
from tests.support.factories import item
from tests.support.planning import planned_launch

NOW = datetime(2027, 3, 3, 12, 0, tzinfo=UTC)  # a Wednesday: this week began on Monday 1 March
WEEKS = (date(2027, 3, 1), date(2027, 3, 8), date(2027, 3, 15), date(2027, 3, 22))


@pytest.fixture
def loaded(seeded, actor):
    """acme (active, internal on Mon 15 March) and bolt (draft, internal on 22 March) owe items due
    at 09:00 Berlin (08:00 UTC) on these days; gone (completed) owes one that no longer counts."""
    upsert_team(
        session=seeded, seed=TeamSeed(key="marketing", name="Product marketing", capacity_per_week=2), actor=actor
    )
    with freeze_time(datetime(2027, 2, 1, tzinfo=UTC)):
        acme = planned_launch(
            seeded,
            actor,
            "acme",
            {Phase.INTERNAL: datetime(2027, 3, 15, 9, tzinfo=UTC)},
            items=[
                item("late", offset=-20),  # 23 Feb: overdue
                item("kickoff", offset=-14),  # 1 Mar
                item("brief", offset=-10),  # 5 Mar
                item("deck", offset=-7),  # 8 Mar
                item("note", offset=-7, blocking=False),  # 8 Mar, advisory: still owed
                item("done_already", offset=-7),  # 8 Mar, done below
                item("copy", offset=-3),  # 12 Mar
                item("launch_day", offset=0),  # 15 Mar
                item("no_date", offset=None),  # in no week
                item("faq", team="support", offset=-7),  # 8 Mar
            ],
        )
        planned_launch(
            seeded,
            actor,
            "bolt",
            {Phase.INTERNAL: datetime(2027, 3, 22, 9, tzinfo=UTC)},
            items=[item("teaser", offset=-14), item("sunday", offset=-1)],  # 8 Mar, Sun 21 Mar
        )
        planned_launch(
            seeded,
            actor,
            "gone",
            {Phase.INTERNAL: datetime(2027, 3, 15, 9, tzinfo=UTC)},
            items=[item("old", offset=-7)],
        )
    seeded.execute(update(Launch).where(Launch.slug == "acme").values(status=LaunchStatus.ACTIVE))
    seeded.execute(update(Launch).where(Launch.slug == "gone").values(status=LaunchStatus.COMPLETED))
    seeded.execute(update(ChecklistItem).where(ChecklistItem.key == "done_already").values(status=ItemStatus.DONE))
    seeded.commit()
    return acme


def test_each_team_week_counts_open_items_against_capacity_and_marks_the_overloaded_weeks(loaded, seeded):
    with freeze_time(NOW):
        view = gtm_load(session=seeded, now=utcnow(), weeks=4)

    assert view.weeks == WEEKS
    teams = {team.team: team for team in view.teams}
    marketing = teams["marketing"]
    assert (marketing.capacity, marketing.capacity_set, marketing.overdue) == (2, True, 1)
    assert [cell.items for cell in marketing.cells] == [2, 4, 2, 0]
    assert [cell.over for cell in marketing.cells] == [False, True, False, False]
    support = teams["support"]
    assert (support.capacity, support.capacity_set, support.overdue) == (15, False, 0)
    assert [cell.items for cell in support.cells] == [0, 1, 0, 0]
    assert (
        sum(cell.items for team in view.teams if team.team not in ("marketing", "support") for cell in team.cells) == 0
    )
    assert [(team.team, cell.week, cell.items, cell.capacity) for team, cell in view.overloaded] == [
        ("marketing", date(2027, 3, 8), 4, 2)
    ]


def test_a_team_week_lists_its_open_items_soonest_first(loaded, seeded):
    with freeze_time(NOW):
        week = team_week_items(session=seeded, team="marketing", week=date(2027, 3, 8), now=utcnow())
        overdue = team_week_items(session=seeded, team="marketing", week=None, now=utcnow())

    assert (week.total, week.capacity, week.over, week.label) == (4, 2, True, "week of 2027-03-08")
    assert [(i.launch, i.key, i.due_at, i.blocking) for i in week.items] == [
        ("acme", "deck", datetime(2027, 3, 8, 8, tzinfo=UTC), True),
        ("acme", "note", datetime(2027, 3, 8, 8, tzinfo=UTC), False),
        ("bolt", "teaser", datetime(2027, 3, 8, 8, tzinfo=UTC), True),
        ("acme", "copy", datetime(2027, 3, 12, 8, tzinfo=UTC), True),
    ]
    assert [(i.key, i.region, i.phase, i.status) for i in overdue.items] == [
        ("late", "EU", Phase.INTERNAL, ItemStatus.TODO)
    ]
    assert overdue.label == "overdue (due before this week)"


def test_bad_weeks_and_unknown_teams_are_refused_with_what_to_give(seeded):
    with pytest.raises(InvalidInput, match="show 1 to 26 weeks, not 27"):
        gtm_load(session=seeded, now=NOW, weeks=27)
    with pytest.raises(NotFound, match="known teams: docs, enablement"):
        team_week_items(session=seeded, team="nobody", week=date(2027, 3, 8), now=NOW)


def test_the_grid_takes_the_default_capacity_where_the_directory_gives_none():
    teams = [TeamRow(1, "docs", "Docs", None), TeamRow(2, "legal", "Legal", 1)]
    grid = load_grid(teams=teams, counts={2: [3, 1, 2]}, weeks=WEEKS[:2], default_capacity=15)
    assert [(t.team, t.capacity, t.overdue, t.cells) for t in grid] == [
        ("docs", 15, 0, (LoadCell(WEEKS[0], 0, 15), LoadCell(WEEKS[1], 0, 15))),
        ("legal", 1, 3, (LoadCell(WEEKS[0], 1, 1), LoadCell(WEEKS[1], 2, 1))),
    ]
    assert [cell.week for cell in grid[1].overloaded] == [WEEKS[1]]
