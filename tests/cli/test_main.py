"""The `launchdeck` command, run in-process with Typer's runner against real SQLite files, plus
one run of the installed entry point exactly as README shows it."""

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from cli.main import app
from orchestrator.core.settings import reset_settings

runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_commands_on_a_fresh_directory_say_to_run_init_or_upgrade(workdir):
    result = invoke("launch", "list")
    assert result.exit_code == 1
    assert "launchdeck db upgrade" in result.output
    assert "Traceback" not in result.output


def test_init_creates_the_default_sqlite_file_and_is_repeatable(workdir):
    first = invoke("init")
    assert first.exit_code == 0, first.output
    assert (workdir / "launchdeck.db").exists()
    assert "19 created" in first.output
    second = invoke("init")
    assert second.exit_code == 0
    assert "0 created, 0 updated, 19 unchanged" in " ".join(second.output.split())


def test_kickoff_of_a_launch_without_approvers_says_what_to_add(workdir):
    assert invoke("init").exit_code == 0
    args = ("--name", "X", "--tier", "2", "--owner", "pat@example.com", "--regions", "EU", "--ga", "2027-04-01")
    skips = ("--skip", "internal", "--skip", "private_beta", "--skip", "public_beta")
    assert invoke("launch", "create", "no-approvers", *args, *skips).exit_code == 0

    refused = invoke("launch", "kickoff", "no-approvers")

    assert refused.exit_code == 1
    assert "the approval gates of EU ga name nobody who could pass them" in refused.output
    assert "draft" in invoke("launch", "list").output


def test_launch_lifecycle_create_list_show_kickoff(workdir):
    assert invoke("init").exit_code == 0
    assert invoke("launch", "list").output.startswith("no launches yet")
    created = invoke(
        "launch",
        "create",
        "acme-ai",
        "--name",
        "Acme AI",
        "--tier",
        "1",
        "--owner",
        "pat@example.com",
        "--regions",
        "NA,EU",
        "--internal",
        "2027-01-10",
        "--ga",
        "2027-04-01",
        "--skip",
        "private_beta",
        "--skip",
        "public_beta",
        "--approver",
        "vp@example.com",
    )
    assert created.exit_code == 0, created.output
    listed = invoke("launch", "list")
    assert "acme-ai" in listed.output
    assert "draft" in listed.output
    shown = invoke("launch", "show", "acme-ai")
    assert shown.exit_code == 0
    assert "planned" in shown.output
    assert "2027-04-01" in shown.output
    approvers = shown.output[shown.output.index("Go/no-go approvers") :]
    assert approvers.count("vp@example.com") == 2  # GA in NA and in EU (no public beta here)
    assert invoke("launch", "kickoff", "acme-ai").exit_code == 0
    after = invoke("launch", "show", "acme-ai")
    assert "gated" in after.output
    assert "internal" in after.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("launch", "show", "nope"), "launch 'nope' does not exist"),
        (
            (
                "launch",
                "create",
                "x1y",
                "--name",
                "X",
                "--tier",
                "2",
                "--owner",
                "o@x.io",
                "--regions",
                "MARS",
                "--ga",
                "2027-01-01",
                *("--skip", "internal", "--skip", "private_beta", "--skip", "public_beta"),
            ),
            "unknown region(s) MARS",
        ),
        (
            (
                "launch",
                "create",
                "x1y",
                "--name",
                "X",
                "--tier",
                "2",
                "--owner",
                "o@x.io",
                "--regions",
                "EU",
                "--ga",
                "2027-13-01",
            ),
            "--ga: '2027-13-01' is not a date",
        ),
        (
            (
                "launch",
                "create",
                "Bad Slug",
                "--name",
                "X",
                "--tier",
                "2",
                "--owner",
                "o@x.io",
                "--regions",
                "EU",
                "--ga",
                "2027-01-01",
            ),
            "slug: 'Bad Slug' is not a valid slug: use 3 to 80 lowercase letters, digits and dashes, "
            "starting and ending with a letter or a digit (e.g. acme-assistant; pattern ^[a-z0-9][a-z0-9-]{1,78}[a-z0-9]$)",
        ),
        (
            ("launch", "create", "x1y", "--name", "X", "--tier", "2", "--owner", "o@x.io", "--regions", "EU"),
            "give at least one of --internal",
        ),
        (
            (
                "launch",
                "create",
                "x1y",
                "--name",
                "X",
                "--tier",
                "2",
                "--owner",
                "not-an-email",
                "--regions",
                "EU",
                "--ga",
                "2027-01-01",
            ),
            "owner: 'not-an-email' is not an email address; give the owner's email, e.g. pat@example.com",
        ),
    ],
)
def test_bad_input_gets_one_clear_line_and_changes_nothing(workdir, args, message):
    assert invoke("init").exit_code == 0
    result = invoke(*args)
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert invoke("launch", "list").output.startswith("no launches yet")


LAUNCH_WITHOUT_PUBLIC_BETA = (
    *("launch", "create", "acme-ai", "--name", "Acme AI", "--tier", "2", "--owner", "pat@example.com"),
    *("--regions", "EU", "--internal", "2027-01-10", "--private-beta", "2027-02-01", "--ga", "2027-04-01"),
)


def test_a_phase_left_without_a_date_is_refused_naming_the_region_the_phase_and_the_skip_option(workdir):
    assert invoke("init").exit_code == 0
    result = invoke(*LAUNCH_WITHOUT_PUBLIC_BETA)
    assert result.exit_code == 1
    said = " ".join(result.output.split())
    assert "region EU: public_beta has no date" in said
    assert "--skip public_beta" in said
    assert invoke("launch", "list").output.startswith("no launches yet")


def test_a_phase_skipped_with_the_option_shows_as_skipped(workdir):
    assert invoke("init").exit_code == 0
    created = invoke(*LAUNCH_WITHOUT_PUBLIC_BETA, "--skip", "public_beta")
    assert created.exit_code == 0, created.output
    shown = invoke("launch", "show", "acme-ai")
    assert shown.exit_code == 0
    dates_row = next(
        line for line in shown.output.splitlines() if line.lstrip("│ ").startswith("EU") and "2027" in line
    )
    assert "skipped" in dates_row, shown.output


def test_a_bad_seed_file_lists_every_problem_with_its_line(workdir):
    seed = workdir / "seed.yaml"
    seed.write_text(
        "teams:\n"
        "  - {key: marketing, name: Marketing}\n"
        "regions:\n"
        "  - {code: EU, name: Europe, timezone: Europe/Atlantis}\n"
        "  - {code: 'NA:CA-QC', name: Quebec, timezone: America/Toronto, parent: NA}\n"
        "members:\n"
        "  - {email: ann@example.com, name: Ann, team: sales, colour: blue}\n"
    )
    result = invoke("init", "--seed", str(seed))
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert f"{seed}:4: regions.0.timezone" in output
    assert "Europe/Atlantis" in output
    assert f"{seed}:7: members.0.colour: unknown key" in output
    assert not (workdir / "launchdeck.db").exists() or "19 created" not in output


def test_seed_reference_errors_name_the_line_and_the_fix(workdir):
    seed = workdir / "seed.yaml"
    seed.write_text(
        "teams:\n  - {key: marketing, name: Marketing}\n"
        "regions:\n  - {code: 'NA:CA-QC', name: Quebec, timezone: America/Toronto, parent: NA}\n"
        "members:\n  - {email: ann@example.com, name: Ann, team: sales}\n"
    )
    result = invoke("init", "--seed", str(seed))
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert f"{seed}:4: regions.0.parent: unknown region 'NA'" in output
    assert f"{seed}:6: members.0.team: unknown team 'sales'" in output


def test_unparseable_seed_yaml_reports_the_line(workdir):
    seed = workdir / "seed.yaml"
    seed.write_text("teams:\n  - key: product\n    name: [unclosed\n")
    result = invoke("init", "--seed", str(seed))
    assert result.exit_code == 2
    assert f"{seed}:" in result.output
    assert "not valid YAML" in " ".join(result.output.split())


def test_a_seed_file_with_a_key_given_twice_is_refused_naming_the_key_and_both_lines(workdir):
    seed = workdir / "seed.yaml"
    seed.write_text(
        "teams:\n  - {key: marketing, name: Marketing}\n"
        "regions:\n  - {code: EU, name: Europe, timezone: Europe/Berlin}\n"
        "members:\n  - email: ann@example.com\n    name: Ann\n    team: marketing\n    name: Anne\n"
    )
    result = invoke("init", "--seed", str(seed))
    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert f"{seed}:9: key 'name' is given twice in the same mapping (lines 7 and 9)" in output


def test_a_bad_database_url_is_a_clear_error(workdir, monkeypatch):
    monkeypatch.setenv("LAUNCHDECK_DATABASE_URL", "mysql://nobody@localhost/db")
    reset_settings()
    result = invoke("launch", "list")
    assert result.exit_code == 2
    assert "LAUNCHDECK_DATABASE_URL" in result.output


def _all_command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            paths.extend(_all_command_paths(sub, (*prefix, name)))
    return paths


@pytest.mark.parametrize(
    "path", _all_command_paths(typer.main.get_command(app)), ids=lambda p: " ".join(p) or "launchdeck"
)
def test_every_command_has_help(path):
    result = invoke(*path, "--help")
    assert result.exit_code == 0
    output = " ".join(result.output.split())
    assert "Usage:" in output
    assert "--help" in output


def test_installed_entry_point_init_then_list_on_the_default_sqlite_file(tmp_path):
    """What README promises: `launchdeck init && launchdeck launch list` in an empty directory."""
    executable = shutil.which("launchdeck") or str(Path(sys.executable).parent / "launchdeck")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAUNCHDECK_")}
    init = subprocess.run([executable, "init"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert init.returncode == 0, init.stderr
    listed = subprocess.run(
        [executable, "launch", "list"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert listed.returncode == 0, listed.stderr
    assert "no launches yet" in listed.stdout
    assert (tmp_path / "launchdeck.db").exists()
