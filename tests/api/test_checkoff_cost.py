"""What a check-off over HTTP asks of the database stays what BENCHMARKS.md reports, so a change
that adds a statement or a transaction to the request people make all day fails here, not in a
benchmark nobody reran. Counted as the benchmark counts (`benchmarks/_sql_cost.py`: events on
every engine and pool of this process, since the route runs on the app's async twin of the test's
engine); nothing else in the process talks to the database while a request is counted.
"""

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from benchmarks._sql_cost import counting
from orchestrator.core.actors import Actor
from orchestrator.core.enums import RolloutState
from orchestrator.core.models import ChecklistItem, RegionRollout
from orchestrator.launches.service import kick_off_launch
from tests.support.api import API_PREFIX, auth
from tests.support.factories import item, make_launch, phase_dates

# PostgreSQL: token; item + rollout locked (with the owner and names for the team rule); the item's
# compare-and-set, audit event, outbox row and the count of the phase's other open blocking items,
# one statement (`core.recorded_change`). SQLite: the UPDATE, audit, outbox and count as four
# statements, plus each transaction's BEGIN (the token read's, then BEGIN IMMEDIATE for the
# change), which SQLite sends as statements.
EXPECTED = {"postgresql": {"statements": 3, "transactions": 1}, "sqlite": {"statements": 8, "transactions": 2}}


def test_a_check_off_is_one_transaction_of_a_fixed_few_statements(
    engine: Engine, api_server: str, seeded: Session, tokens: dict[str, str], actor: Actor
) -> None:
    past = phase_dates(datetime.now(UTC) - timedelta(days=60), step_days=7)  # only the checklist holds
    launch = make_launch(seeded, actor, dates=past, items=[item(f"task_{n}") for n in range(4)])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)  # type: ignore[arg-type]
    item_ids = list(
        seeded.exec(
            select(ChecklistItem.id).where(ChecklistItem.launch_id == launch.id).order_by(col(ChecklistItem.id))
        )
    )
    seeded.commit()
    expected = EXPECTED[engine.dialect.name]

    costs = []
    with httpx.Client(base_url=api_server, timeout=30) as client:
        for item_id in item_ids:
            with counting() as counted:
                answer = client.post(f"{API_PREFIX}/items/{item_id}/check", json={}, headers=auth(tokens["prodops"]))
            assert answer.status_code == 200, answer.text
            assert answer.json()["status"] == "done"
            costs.append(counted.cost)

    *typical, last = costs
    for cost in typical:
        assert cost.statements == expected["statements"], costs
        assert cost.transactions == expected["transactions"], costs
        assert cost.checkouts <= expected["transactions"], costs
    # The last blocking item closed: the gates were evaluated and passed in the same request.
    assert last.statements > expected["statements"], costs
    state = seeded.exec(select(RegionRollout.state).where(RegionRollout.launch_id == launch.id)).one()
    assert state is RolloutState.READY
