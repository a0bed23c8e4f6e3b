"""`launchdeck launch timeline`, `load`, `collisions`, and `--dry-run` on `launch create` and
`launch reschedule`, in-process against a real SQLite file: text tables with the figures the core
computes, and a dry run that creates or moves nothing. Dates are counted from today (the CLI reads
the real clock)."""

from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()
TODAY = datetime.now(UTC).date()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "320"})


def day(offset):
    return (TODAY + timedelta(days=offset)).isoformat()


def create(slug, tier, ga, *extra):
    skips = ("--skip", "private_beta", "--skip", "public_beta")
    return invoke(
        "launch", "create", slug, "--name", slug.title(), "--tier", str(tier), "--owner", "pat@example.com",
        "--regions", "EU", "--internal", day(10), "--ga", ga, *skips, "--approver", "vp@example.com", *extra,
    )  # fmt: skip


def test_timeline_load_collisions_and_dry_runs_at_the_terminal(workdir):
    assert invoke("init").exit_code == 0
    assert create("acme", 1, day(40)).exit_code == 0
    assert invoke("launch", "kickoff", "acme").exit_code == 0
    moved = invoke(
        "launch", "reschedule", "acme", "--region", "EU", "--phase", "ga", "--date", day(42), "--reason", "Legal"
    )
    assert moved.exit_code == 0, moved.output

    dry = create("bolt", 2, day(45), "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert f"acme (tier 1) and bolt (tier 2) both enter EU GA 3 days apart ({day(42)} and {day(45)})" in dry.output
    assert "dry run: new launch bolt:" in dry.output
    assert "no launches" not in invoke("launch", "list").output
    assert "bolt" not in invoke("launch", "list").output  # nothing created

    assert create("bolt", 2, day(45)).exit_code == 0
    timeline = invoke("launch", "timeline", "acme")
    assert timeline.exit_code == 0, timeline.output
    row = next(line for line in timeline.output.splitlines() if " ga " in line and "EU" in line)
    assert [cell.strip() for cell in row.split("│")[4:7]] == [day(40), day(42), "+2"], row
    assert f"{day(40)} -> {day(42)}: Legal" in row
    assert "EU: wave 1, window any time, no freezes, holidays of DE, FR, GB" in timeline.output

    collisions = invoke("collisions")
    assert collisions.exit_code == 0
    assert "overlap" in collisions.output
    assert "acme, bolt" in collisions.output

    load = invoke("load", "--weeks", "3")
    assert load.exit_code == 0, load.output
    monday = TODAY - timedelta(days=TODAY.weekday())
    assert f"GTM load from the week of {monday.isoformat()} (items/capacity)" in load.output
    header = next(line for line in load.output.splitlines() if "Overdue" in line)
    assert [cell.strip() for cell in header.split("┃")[3:6]] == [
        f"{monday + timedelta(weeks=n):%m-%d}" for n in range(3)
    ]
    assert any(line.startswith("│ marketing ") for line in load.output.splitlines())
    assert invoke("load", "--weeks", "30").exit_code == 1

    check = invoke("launch", "reschedule", "acme", "--region", "EU", "--phase", "ga", "--date", day(80), "--dry-run")
    assert check.exit_code == 0, check.output
    assert "It would end" in check.output
    assert f"dry run: acme EU GA to {day(80)}" in check.output
    assert f"{day(40)} -> {day(42)}: Legal " in invoke("launch", "timeline", "acme").output  # not moved
