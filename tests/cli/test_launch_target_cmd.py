"""`launchdeck launch create --target flagd --flag-key ...` on a real SQLite file: refused in one
line while flagd is not configured, then created and shown by `launch show`."""

from typer.testing import CliRunner

from cli.main import app
from orchestrator.core.settings import reset_settings

runner = CliRunner()
ARGS = (
    "--name",
    "New checkout",
    "--tier",
    "2",
    "--owner",
    "pat@example.com",
    "--regions",
    "EU,NA",
    "--ga",
    "2027-04-01",
)
SKIPS = ("--skip", "internal", "--skip", "private_beta", "--skip", "public_beta", "--approver", "vp@example.com")


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_launch_create_with_a_target_and_flag_key_then_show(workdir, monkeypatch):
    monkeypatch.delenv("LAUNCHDECK_FLAGD_FILE", raising=False)
    monkeypatch.delenv("LAUNCHDECK_ROLLOUT_TARGET", raising=False)
    assert invoke("init").exit_code == 0
    options = ("--target", "flagd", "--flag-key", "new-checkout")

    refused = invoke("launch", "create", "checkout", *ARGS, *SKIPS, *options)
    assert refused.exit_code == 1
    message = " ".join(refused.output.split())
    assert "rollout_target: the flagd target is not configured here: set LAUNCHDECK_FLAGD_FILE" in message
    assert "Traceback" not in refused.output
    unknown = invoke("launch", "create", "checkout", *ARGS, *SKIPS, "--target", "kafka")
    assert unknown.exit_code == 1
    assert "rollout_target" in unknown.output

    monkeypatch.setenv("LAUNCHDECK_FLAGD_FILE", str(workdir / "flags.json"))
    reset_settings()
    created = invoke("launch", "create", "checkout", *ARGS, *SKIPS, *options)
    assert created.exit_code == 0, created.output
    assert targets_shown("checkout") == [["EU", "flagd", "new-checkout"], ["NA", "flagd", "new-checkout"]]
    assert invoke("launch", "create", "plain-one", *ARGS, *SKIPS).exit_code == 0
    assert targets_shown("plain-one") == [["EU", "recording", "plain-one"], ["NA", "recording", "plain-one"]]


def targets_shown(slug):
    """The rows of `launch show`'s rollout target table, cell by cell."""
    shown = invoke("launch", "show", slug)
    assert shown.exit_code == 0
    output = shown.output
    table = output[output.index("Rollout target") : output.index("Go/no-go approvers")].splitlines()
    rows = [[cell.strip() for cell in line.strip("│ ").split("│")] for line in table if line.startswith("│")]
    return [row for row in rows if row[0] in ("EU", "NA")]
