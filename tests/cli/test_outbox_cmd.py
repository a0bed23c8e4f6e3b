"""`launchdeck outbox list`: each row's real state, so a look for stuck messages finds only rows a
deliverer has yet to deliver (not Prefect-event rows, which no deliverer ever marks)."""

from sqlmodel import col, select
from typer.testing import CliRunner

from cli.context import open_session
from cli.main import app
from flows.events import CURSOR as EVENTS_CURSOR
from orchestrator.core.models import DeliveryCursor, Outbox

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "240"})


def lines(output, topic):
    return [" ".join(line.split()) for line in output.splitlines() if f" {topic} " in line]


def kicked_off_launch():
    assert invoke("init").exit_code == 0
    created = invoke(
        "launch", "create", "acme-ai", "--name", "Acme AI", "--tier", "2", "--owner", "pat@example.com",
        "--regions", "EU", "--ga", "2027-04-01",
        "--skip", "internal", "--skip", "private_beta", "--skip", "public_beta", "--approver", "vp@example.com",
    )  # fmt: skip
    assert created.exit_code == 0, created.output
    assert invoke("launch", "kickoff", "acme-ai").exit_code == 0


def move_events_cursor_past_every_row():
    with open_session() as session:
        last = session.exec(select(Outbox.id).order_by(col(Outbox.id).desc())).first()
        session.add(DeliveryCursor(name=EVENTS_CURSOR, last_outbox_id=last))
        session.commit()


def test_a_prefect_event_row_says_whether_it_was_emitted_not_pending_with_zero_attempts(workdir):
    kicked_off_launch()

    (waiting,) = lines(invoke("outbox", "list").output, "launch.kicked_off")
    assert "waiting for a worker to emit it as a Prefect event" in waiting
    assert "pending" not in waiting
    move_events_cursor_past_every_row()
    (emitted,) = lines(invoke("outbox", "list").output, "launch.kicked_off")
    assert "emitted as Prefect event" in emitted
    assert " 0 " not in emitted  # no attempts column for a row nobody claims


def test_the_pending_view_lists_only_rows_a_deliverer_still_has_to_deliver(workdir):
    kicked_off_launch()

    pending = invoke("outbox", "list", "--status", "pending").output
    assert lines(pending, "gate.opened")  # a Slack message not sent yet
    assert all("pending" in line for line in lines(pending, "gate.opened"))
    assert not lines(pending, "launch.kicked_off")
    assert not lines(pending, "rollout.gated")
