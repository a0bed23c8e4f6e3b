"""`launchdeck checklists ...` and template-driven `launch create`, through the real command."""

from typer.testing import CliRunner

from cli.main import app
from orchestrator.core.settings import reset_settings

runner = CliRunner()


def invoke(*args):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


def test_validate_reports_the_shipped_library(workdir):
    code, output = invoke("checklists", "validate")
    assert code == 0, output
    assert output.startswith("ok ")
    assert "version 2026.11#" in output


def test_validate_a_company_directory_lists_every_problem_with_lines(workdir):
    ours = workdir / "ours"
    ours.mkdir()
    (ours / "items.yaml").write_text(
        "items:\n"
        "  - {key: acme.one, title: '{{ launch.nmae }}', owner: support, phase: ga}\n"
        "  - {key: acme.two, title: Two, owner: catering, phase: ga, depends_on: [acme.zero]}\n"
    )
    code, output = invoke("checklists", "validate", str(ours))
    assert code == 2
    assert f"{ours / 'items.yaml'}:2: acme.one: title:" in output
    assert f"{ours / 'items.yaml'}:3: acme.two: owner: unknown team 'catering'" in output
    assert "acme.two: depends_on: unknown item 'acme.zero'" in output
    assert "Traceback" not in output


def test_validate_uses_the_configured_checklists_dir(workdir, monkeypatch):
    ours = workdir / "ours"
    ours.mkdir()
    (ours / "items.yaml").write_text("items:\n  - {key: acme.one, title: One, owner: support, phase: ga}\n")
    _, default_output = invoke("checklists", "validate")
    monkeypatch.setenv("LAUNCHDECK_CHECKLISTS_DIR", str(ours))
    reset_settings()
    code, output = invoke("checklists", "validate")
    assert code == 0
    assert default_output.split(" items")[0] != output.split(" items")[0]  # one more item counted


def test_preview_shows_items_per_region_with_local_and_utc_due_dates(workdir):
    code, output = invoke(
        "checklists",
        "preview",
        "--tier",
        "1",
        "--regions",
        "NA,EU",
        "--flags",
        "personal_data",
        "--ga-date",
        "2027-04-01",
        "--name",
        "Acme AI",
    )
    assert code == 0, output
    assert "NA (North America, America/New_York)" in output
    assert "EU (Europe, Europe/Berlin)" in output
    assert "note: internal date assumed" in output
    assert "(T-14)" in output
    assert "items from template version 2026.11#" in output


def test_preview_refuses_unknown_flags_and_regions(workdir):
    code, output = invoke(
        "checklists", "preview", "--tier", "1", "--regions", "EU", "--flags", "telepathy", "--ga-date", "2027-04-01"
    )
    assert code == 1
    assert "--flags: unknown flag(s) telepathy" in output
    code, output = invoke("checklists", "preview", "--tier", "1", "--regions", "MARS", "--ga-date", "2027-04-01")
    assert code == 1
    assert "--regions: unknown region(s) MARS" in output


def test_create_from_templates_then_apply_and_reschedule(workdir):
    assert invoke("init")[0] == 0
    code, output = invoke(
        "launch",
        "create",
        "acme-ai",
        "--name",
        "Acme AI",
        "--tier",
        "2",
        "--owner",
        "pat@example.com",
        "--regions",
        "EU,NA",
        "--flags",
        "personal_data",
        "--public-beta",
        "2027-03-01",
        "--ga",
        "2027-04-01",
        *("--skip", "internal", "--skip", "private_beta"),
    )
    assert code == 0, output
    assert "checklist items from template 2026.11#" in output
    code, output = invoke("checklists", "apply", "acme-ai", "--dry-run")
    assert code == 0
    assert "would change 0 item(s)" in output
    code, output = invoke(
        "launch",
        "reschedule",
        "acme-ai",
        "--region",
        "EU",
        "--phase",
        "ga",
        "--date",
        "2027-04-15",
        "--reason",
        "Legal review",
    )
    assert code == 0, output
    code, output = invoke("launch", "show", "acme-ai")
    assert "2027-04-15 +14d" in output


def test_reschedule_without_a_reason_or_in_a_foreign_region_is_refused(workdir):
    assert invoke("init")[0] == 0
    invoke(
        "launch",
        "create",
        "acme-ai",
        "--name",
        "A",
        "--tier",
        "3",
        "--owner",
        "p@x.io",
        "--regions",
        "EU",
        "--ga",
        "2027-04-01",
        *("--skip", "internal", "--skip", "private_beta", "--skip", "public_beta"),
    )
    code, output = invoke(
        "launch", "reschedule", "acme-ai", "--region", "NA", "--phase", "ga", "--date", "2027-05-01", "--reason", "x"
    )
    assert code == 1
    assert "region of launch acme-ai (its regions: EU) 'NA' does not exist" in output
    code, output = invoke(
        "launch", "reschedule", "acme-ai", "--region", "EU", "--phase", "ga", "--date", "2027-05-01", "--reason", " "
    )
    assert code == 1
    assert "reason: a reschedule needs a reason" in output
