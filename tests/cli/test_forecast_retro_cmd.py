"""`launchdeck launch forecast` and `launchdeck launch retro`, in-process against a real SQLite file
holding the launch whose history is known to the minute (tests/support/history.py)."""

import json

from freezegun import freeze_time
from sqlmodel import func, select
from typer.testing import CliRunner

from cli.context import cli_actor, open_session
from cli.main import app
from orchestrator.core.models import Forecast
from tests.support.history import SLUG, START, at, play

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "240"})


def flat(output):
    for rule in "│┃┏┓┗┛┡┩└┘┳┻╇━─┼┬┴":
        output = output.replace(rule, " ")
    return " ".join(output.split())


def ok(*args):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return result.output


def forecasts():
    with open_session() as session:
        return session.exec(select(func.count()).select_from(Forecast)).one()


def test_the_forecast_command_records_once_a_day_and_prints_the_miss(workdir):
    ok("init")
    with open_session() as session, freeze_time(START) as frozen:
        play(session, cli_actor(), frozen, until=at(3, 11, 8))
    with freeze_time(at(3, 11, 9)):
        printed = flat(ok("launch", "forecast", SLUG))
        again = json.loads(ok("launch", "forecast", SLUG, "--json"))
        ok("launch", "forecast", SLUG, "--no-record")
    assert "EU ga 2026-03-22 2 0.11 2026-03-29 7 1 more Go needed; not voted: vp@example.com" in printed
    assert "forecast: EU GA checklist done 7 days after 2026-03-22" in printed
    assert "recorded 1 forecast(s), 1 new today" in printed
    assert again["regions"][0]["projected_at"] == "2026-03-29T09:00:00Z"
    assert forecasts() == 1  # asked three times the same day with the same answer: one row
    missing = invoke("launch", "forecast", "nope")
    assert missing.exit_code == 1
    assert "launch 'nope'" in missing.output
    assert "Traceback" not in missing.output


def test_the_retro_command_prints_tables_markdown_and_json(workdir):
    ok("init")
    with open_session() as session, freeze_time(START) as frozen:
        play(session, cli_actor(), frozen)
    printed = flat(ok("launch", "retro", SLUG))
    markdown = ok("launch", "retro", SLUG, "--markdown")
    answer = json.loads(ok("launch", "retro", SLUG, "--json"))
    assert "Known History (known-history) retro: completed 2026-03-26 10:10, 24 d 1 h in all" in printed
    assert "EU ga 21 d 23 h approval 1 h 5 min 2026-03-26 10:10" in printed
    assert "EU ga Legal and compliance Vendor dpa (Legal and compliance, waived 2026-03-16 16:00)" in printed
    assert "forecasts were off by 11.7 days on average" in printed
    assert "beta EU: 4 reports, 3 issues, 2 severity 1 (0 open), median time to fix 1 d 5 h" in printed
    assert markdown.startswith("# Retro: Known History (known-history)\n")
    assert "| Documentation | 1 | 1 | 0 |" in markdown
    assert answer["overdue"][0] == {"team": "Documentation", "items": 1, "overdue": 1, "overdue_blocking": 0}
