"""`launchdeck beta ...` and beta exit criteria in `launch create` / `launch show`, in-process
against a real SQLite file."""

from typer.testing import CliRunner

from cli.main import app

runner = CliRunner()


def invoke(*args):
    # Wide enough that rich tables do not truncate cells.
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "240"})


def flat(output: str) -> str:
    """The output's words in order, with table rules and borders dropped."""
    for rule in "│┃┏┓┗┛┡┩└┘┳┻╇━─┼┬┴":
        output = output.replace(rule, " ")
    return " ".join(output.split())


def test_a_beta_program_from_the_terminal(workdir):
    assert invoke("init").exit_code == 0
    created = invoke(
        "launch",
        "create",
        "acme-beta",
        "--name",
        "Acme Beta",
        "--tier",
        "3",
        "--owner",
        "pat@example.com",
        "--regions",
        "EU",
        "--private-beta",
        "2027-01-10",
        "--ga",
        "2027-04-01",
        *("--skip", "internal", "--skip", "public_beta"),
        "--beta-exit",
        "private_beta:open_severity_1=0,active_accounts=1",
    )
    assert created.exit_code == 0, created.output

    cohort = invoke("beta", "cohort", "acme-beta", "--region", "EU", "--phase", "private_beta", "--cap", "1")
    assert cohort.exit_code == 0, cohort.output
    assert "created cohort 1" in cohort.output
    first = invoke("beta", "enroll", "1", "acme", "--terms-accepted-by", "cto@acme.example")
    second = invoke("beta", "enroll", "1", "globex", "--via", "nomination")
    assert "acme: enrolled" in flat(first.output)
    assert "globex: waitlisted" in flat(second.output)

    out = invoke("beta", "opt-out", "1", "acme", "--reason", "Too busy")
    assert out.exit_code == 0, out.output
    again = invoke("beta", "enroll", "1", "acme")
    assert again.exit_code == 1
    assert "opted out" in flat(again.output)
    assert "Traceback" not in again.output
    listed = flat(invoke("beta", "cohorts", "acme-beta").output)
    assert "1 EU private_beta 1 1 0 0 1 anyone" in listed

    for text, severity in (("Export times out", "2"), ("Typo on the banner", "4")):
        logged = invoke(
            "beta",
            "feedback",
            "acme-beta",
            "--region",
            "EU",
            "--phase",
            "private_beta",
            "--account",
            "globex",
            "--type",
            "bug",
            "--severity",
            severity,
            "--text",
            text,
        )
        assert logged.exit_code == 0, logged.output
    ranked = invoke("beta", "ranked", "acme-beta")
    assert ranked.exit_code == 0, ranked.output
    rows = [line for line in ranked.output.splitlines() if "Export" in line or "Typo" in line]
    assert "Export" in rows[0]
    assert "Typo" in rows[1]

    shown = flat(invoke("launch", "show", "acme-beta").output)
    assert "Beta exit criteria" in shown
    assert "open_severity_1 0 <= 0 yes" in shown
    assert "active_accounts 0 >= 1 no" in shown

    changed = invoke("beta", "criteria", "acme-beta", "private_beta:active_accounts=3,fix_weeks=2")
    assert changed.exit_code == 0, changed.output
    shown = flat(invoke("launch", "show", "acme-beta").output)
    assert "active_accounts 0 >= 3 no" in shown
    assert "fix_weeks 0 >= 2 no" in shown
    assert "open_severity_1" not in shown, "the phase's criteria are replaced, not merged"


def test_bad_exit_criteria_are_named(workdir):
    assert invoke("init").exit_code == 0
    result = invoke(
        "launch",
        "create",
        "acme-bad",
        "--name",
        "Bad",
        "--tier",
        "3",
        "--owner",
        "pat@example.com",
        "--regions",
        "EU",
        "--ga",
        "2027-04-01",
        *("--skip", "internal", "--skip", "private_beta", "--skip", "public_beta"),
        "--beta-exit",
        "private_beta:happiness=3",
    )
    assert result.exit_code == 1
    assert "--beta-exit" in result.output
    assert "open_severity_1" in result.output
