"""`launchdeck item ...`, `launchdeck vote`, `launchdeck launch halt|resume|rollback|blockers`,
in-process against a real SQLite file: each changes state with its audit event through the same
service as the API, and each refuses what the service refuses, with its message and exit code."""

import json

from freezegun import freeze_time
from sqlmodel import col, select
from typer.testing import CliRunner

from cli.context import cli_actor, open_session
from cli.main import app
from orchestrator.core.enums import Role
from orchestrator.core.models import AuditEvent
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member

runner = CliRunner()
NOW = "2027-03-10T09:00:00+00:00"


def invoke(*args):
    return runner.invoke(app, list(args), catch_exceptions=False, env={"COLUMNS": "240"})


def flat(output):
    for rule in "│┃┏┓┗┛┡┩└┘┳┻╇━─┼┬┴":
        output = output.replace(rule, " ")
    return " ".join(output.split())


def ok(*args):
    result = invoke(*args)
    assert result.exit_code == 0, result.output
    return flat(result.output)


def refused(*args, code=1):
    result = invoke(*args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return flat(result.output)


def actions():
    with open_session() as session:
        return list(session.exec(select(AuditEvent.action).order_by(col(AuditEvent.id))))


def _launch():
    ok("init")
    with open_session() as session:
        for email, name, team, role in (
            ("ann@example.com", "Ann", None, Role.APPROVER),
            ("lee@example.com", "Lee Legal", "legal", Role.MEMBER),
        ):
            upsert_member(
                session=session, seed=MemberSeed(email=email, name=name, team=team, role=role), actor=cli_actor()
            )
    ok(
        "launch", "create", "acme-cli", "--name", "Acme CLI", "--tier", "3", "--owner", "pat@example.com",
        "--regions", "EU", "--internal", "2027-03-01", "--ga", "2027-04-01",
        "--skip", "private_beta", "--skip", "public_beta", "--approver", "ann@example.com",
    )  # fmt: skip
    ok("launch", "kickoff", "acme-cli")


def _blockers(phase):
    return json.loads(ok("launch", "blockers", "acme-cli", "--region", "EU", "--phase", phase, "--json"))


def test_item_commands_change_items_like_the_api_and_refuse_what_it_refuses(workdir):
    with freeze_time(NOW):
        _launch()
        items = _blockers("internal")["items"]
        free = next(item for item in items if not item["depends_on"])
        waiting = next(item for item in items if item["depends_on"])
        ident = str(free["id"])
        before = len(actions())
        evidence = ("--evidence", "https://wiki.example.com/y")
        deps = ", ".join(dep["key"] for dep in waiting["depends_on"])
        assert f"depends on items not done yet: {deps}" in refused("item", "check", str(waiting["id"]), *evidence)
        assert len(actions()) == before

        assert "assigned to lee@example.com" in ok("item", "assign", ident, "lee@example.com")
        assert "evidence attached to" in ok("item", "evidence", ident, "https://wiki.example.com/x")
        assert "now done" in ok("item", "check", ident)
        assert "now todo" in ok("item", "uncheck", ident, "--reason", "Checked too early")
        assert "now blocked" in ok("item", "block", ident, "--reason", "Waiting on legal")
        assert "now waived" in ok("item", "waive", ident, "--reason", "Accepted for the pilot")
        assert actions()[before:] == [
            "item.assigned", "item.evidence_attached", "item.checked", "item.reopened", "item.blocked", "item.waived",
        ]  # fmt: skip

        after = len(actions())
        assert "cannot mark blocked checklist item while it is waived" in refused(
            "item", "block", ident, "--reason", "again"
        )
        assert "member 'nobody@example.com' does not exist" in refused("item", "assign", ident, "nobody@example.com")
        assert "evidence_url: must be an http(s) link" in refused("item", "evidence", ident, "wiki/page")
        assert "checklist item 999999 does not exist" in refused("item", "check", "999999")
        assert len(actions()) == after
        blockers = _blockers("internal")
        assert free["key"] not in [item["key"] for item in blockers["items"]]


def test_vote_rollout_and_blockers_commands(workdir):
    with freeze_time(NOW):
        _launch()
        vote = ("vote", "acme-cli", "go", "--region", "EU", "--phase", "ga")

        assert "is not a member of the directory" in refused(*vote)
        assert "has no approval gate for internal; phases with one: ga" in refused(
            "vote", "acme-cli", "go", "--region", "EU", "--phase", "internal"
        )
        assert "a No-Go needs the date" in refused("vote", "acme-cli", "no-go", "--region", "EU", "--phase", "ga")
        before = len(actions())
        voted = ok(*vote, "--on-behalf-of", "ann@example.com", "--on-behalf-reason", "go/no-go meeting")
        assert "voted ann@example.com go on acme-cli EU ga (recorded by" in voted
        assert actions()[before:] == ["decision.cast"]

        shown = ok("launch", "blockers", "acme-cli", "--region", "EU", "--phase", "ga")
        assert "EU is in internal (gated); ga comes after it." in shown
        assert "approval yes 1 of 1 Gos; votes: ann@example.com go; missing: -" in shown
        assert "Next automatic step: after EU goes live in internal." in shown
        internal = ok("launch", "blockers", "acme-cli", "--region", "EU", "--phase", "internal")
        assert "Open blocking items" in internal
        assert "Next automatic step: as soon as the last condition is met." in internal
        assert "region of launch acme-cli (its regions: EU) 'MARS' does not exist" in refused(
            "launch", "blockers", "acme-cli", "--region", "MARS", "--phase", "ga"
        )
        assert "'beta' is not a phase; use one of internal, private_beta, public_beta, ga" in refused(
            "launch", "blockers", "acme-cli", "--region", "EU", "--phase", "beta"
        )

        region = ("acme-cli", "--region", "EU")
        before = len(actions())
        assert "halted acme-cli EU: now halted in internal" in ok("launch", "halt", *region, "--reason", "Incident 7")
        assert "already halted" in refused("launch", "halt", *region, "--reason", "again")
        assert "EU is halted (Incident 7): nothing moves until it is resumed." in ok(
            "launch", "blockers", *region, "--phase", "internal"
        )
        assert "resumed acme-cli EU: now gated in internal" in ok("launch", "resume", *region)
        assert "nothing to resume" in refused("launch", "resume", *region)
        assert "rolled back acme-cli EU: now rolled_back" in ok("launch", "rollback", *region, "--reason", "Bad data")
        assert "already rolled back" in refused("launch", "rollback", *region, "--reason", "again")
        assert actions()[before:] == ["rollout.halted", "rollout.resumed", "rollout.rolled_back"]
