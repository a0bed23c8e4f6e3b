"""A plain date (YYYY-MM-DD) means the start of that day in the region's own timezone, in every
door: the same date typed for Tokyo (UTC+9) and Los Angeles (UTC-7 in April) gives the same moment
whether it comes through the API, the CLI, the web console's forms or Slack's No-Go modal; a
timestamp with an offset is kept as it is. The API and the forms go over real HTTP to the app on
SQLite and PostgreSQL; the CLI runs in-process on the same database."""

from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select
from typer.testing import CliRunner

from cli.main import app as cli
from notifications.ids import GateRef
from notifications.inbound import approvals as slack_votes
from notifications.inbound.requests import VoteSubmission
from orchestrator.core.actors import Actor
from orchestrator.core.clock import day_start
from orchestrator.core.enums import GateKind, Phase, Vote
from orchestrator.core.models import (
    ChecklistItem,
    Decision,
    Gate,
    Launch,
    Member,
    PhaseDate,
    Region,
    RegionRollout,
    Waiver,
)
from orchestrator.core.settings import reset_settings
from orchestrator.directory.seed import RegionSeed
from orchestrator.directory.service import upsert_region
from tests.support.api import auth
from tests.support.web import csrf_of, member_signed_in

TOKYO, LA = "APAC:JP", "NA:US-W"
ZONES = {TOKYO: "Asia/Tokyo", LA: "America/Los_Angeles"}
GA, MOVED, LAPSES, LOOK_AGAIN = "2031-04-01", "2031-04-15", "2031-04-10", "2031-04-20"
EARLY = ["internal", "private_beta", "public_beta"]


def moment(day: str, code: str) -> datetime:
    return day_start(date.fromisoformat(day), timezone=ZONES[code])


@pytest.fixture
def doors(engine: Engine, seeded: Session, actor: Actor, tokens: dict[str, str], api_server: str) -> Iterator["Doors"]:
    """Los Angeles added to the directory, the approver known to Slack, and the CLI pointed at the
    test's database."""
    region = RegionSeed(code=LA, name="US West", timezone=ZONES[LA], parent="NA", rollout_order=42)
    upsert_region(session=seeded, seed=region, actor=actor)
    approver = seeded.exec(select(Member).where(Member.email == "approver@example.com")).one()
    approver.slack_user_id = "U0APPROVER"
    seeded.add(approver)
    seeded.commit()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LAUNCHDECK_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        reset_settings()
        with httpx.Client(base_url=f"{api_server}/api/v1", timeout=30) as api:
            yield Doors(engine, api_server, api, tokens)
    reset_settings()


class Doors:
    def __init__(self, engine: Engine, base: str, api: httpx.Client, tokens: dict[str, str]) -> None:
        self.engine, self.base, self.api, self.tokens = engine, base, api, tokens

    def call(self, path: str, body: dict[str, object], role: str = "prodops", expect: int = 200) -> None:
        answer = self.api.post(path, json=body, headers=auth(self.tokens[role]))
        assert answer.status_code == expect, answer.text

    def cli(self, *args: str) -> None:
        result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env={"COLUMNS": "240"})
        assert result.exit_code == 0, result.output

    def at(self, slug: str) -> dict[str, dict[str, datetime]]:
        """Per region: its GA date, first blocking GA item's waiver expiry, and the No-Go's re-evaluation."""
        found: dict[str, dict[str, datetime]] = {}
        with Session(self.engine) as session:
            for code in (TOKYO, LA):
                rollout = _rollout(session, slug, code)
                seen = {"ga": session.exec(select(PhaseDate.current_at).where(PhaseDate.rollout_id == rollout)).one()}
                waiver = session.exec(
                    select(Waiver.expires_at)
                    .join(ChecklistItem, col(ChecklistItem.id) == col(Waiver.item_id))
                    .where(ChecklistItem.rollout_id == rollout)
                ).first()
                vote = session.exec(
                    select(Decision.reevaluate_at)
                    .join(Gate, col(Gate.id) == col(Decision.gate_id))
                    .where(Gate.rollout_id == rollout)
                ).first()
                found[code] = {
                    name: value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
                    for name, value in {**seen, "waiver": waiver, "no_go": vote}.items()
                    if value is not None
                }
        return found


def _rollout(session: Session, slug: str, code: str) -> int:
    found = session.exec(
        select(RegionRollout.id)
        .join(Launch, col(Launch.id) == col(RegionRollout.launch_id))
        .join(Region, col(Region.id) == col(RegionRollout.region_id))
        .where(Launch.slug == slug, Region.code == code)
    ).one()
    assert found is not None
    return found


def _first(engine: Engine, slug: str, code: str, *, kind: str) -> int:
    """The id of the region's first blocking GA item (``kind="item"``) or of its GA approval gate."""
    with Session(engine) as session:
        rollout = _rollout(session, slug, code)
        if kind == "gate":
            query = select(Gate.id).where(Gate.rollout_id == rollout, Gate.kind == GateKind.APPROVAL)
        else:
            query = (
                select(ChecklistItem.id)
                .where(ChecklistItem.rollout_id == rollout, ChecklistItem.blocking, ChecklistItem.phase == Phase.GA)
                .order_by(col(ChecklistItem.id))
            )
        found = session.exec(query).first()
    assert found is not None
    return found


def test_the_same_plain_date_gives_the_same_moment_via_api_cli_and_web_form(doors):
    # Created with GA on the same plain date in both regions, through each door.
    regions = [{"region": code, "dates": {"ga": GA}, "skip": EARLY} for code in (TOKYO, LA)]
    body = {"slug": "via-api", "name": "Via API", "tier": 3, "owner": "owner@example.com", "regions": regions}
    doors.call("/launches", {**body, "approvers": ["approver@example.com"]}, expect=201)
    skips = [arg for phase in EARLY for arg in ("--skip", phase)]
    doors.cli(
        "launch", "create", "via-cli", "--name", "Via CLI", "--tier", "3", "--owner", "owner@example.com",
        "--regions", f"{TOKYO},{LA}", "--ga", GA, *skips, "--approver", "approver@example.com",
    )  # fmt: skip
    with member_signed_in(doors.base, doors.engine, "prodops@example.com") as web:
        form = {
            "csrf": csrf_of(web.get("/dashboard/launches/new").text),
            "do": "create", "slug": "via-web", "name": "Via Web", "tier": "3", "owner": "owner@example.com",
            "wave_mode": "parallel", "approvers": "approver@example.com",
        }  # fmt: skip
        for code in (TOKYO, LA):
            form |= {f"region.{code}": "yes", f"date.{code}.ga": GA} | {f"skip.{code}.{p}": "yes" for p in EARLY}
        created = web.post("/dashboard/launches/new", data=form)
        assert created.status_code == 303, created.text
        page = web.get("/dashboard/launches/via-web").text
        assert f"planned {GA}" in page  # and it reads back as the day typed, in each region

    expected = {code: {"ga": moment(GA, code)} for code in (TOKYO, LA)}
    assert expected[TOKYO]["ga"] == datetime(2031, 3, 31, 15, tzinfo=UTC)
    assert {slug: doors.at(slug) for slug in ("via-api", "via-cli", "via-web")} == dict.fromkeys(
        ("via-api", "via-cli", "via-web"), expected
    )

    # Rescheduled to the same plain date, through each door.
    for code in (TOKYO, LA):
        doors.call(f"/launches/via-api/regions/{code}/reschedule", {"phase": "ga", "date": MOVED, "reason": "r"})
        doors.cli(
            "launch", "reschedule", "via-cli", "--region", code, "--phase", "ga", "--date", MOVED, "--reason", "r"
        )
    with member_signed_in(doors.base, doors.engine, "prodops@example.com") as web:
        for code in (TOKYO, LA):
            csrf = csrf_of(web.get("/dashboard/launches/via-web").text)
            fields = {"csrf": csrf, "phase": "ga", "date": MOVED, "reason": "r"}
            moved = web.post(f"/dashboard/launches/via-web/regions/{code}/reschedule", data=fields)
            assert moved.status_code == 303, moved.text
    expected = {code: {"ga": moment(MOVED, code)} for code in (TOKYO, LA)}
    assert {slug: doors.at(slug) for slug in ("via-api", "via-cli", "via-web")} == dict.fromkeys(
        ("via-api", "via-cli", "via-web"), expected
    )


def test_a_waivers_expiry_and_a_no_gos_reevaluation_are_the_regions_day_in_every_door(doors):
    regions = [{"region": code, "dates": {"ga": GA}, "skip": EARLY} for code in (TOKYO, LA)]
    for slug in ("by-api", "by-cli", "by-web", "by-slack"):
        launch = {"slug": slug, "name": slug, "tier": 3, "owner": "owner@example.com", "regions": regions}
        doors.call("/launches", {**launch, "approvers": ["approver@example.com"]}, expect=201)
        doors.call(f"/launches/{slug}/kickoff", {})
    for code in (TOKYO, LA):
        item = _first(doors.engine, "by-api", code, kind="item")
        doors.call(f"/items/{item}/waive", {"reason": "accepted", "expires_at": LAPSES})
        doors.cli(
            "item",
            "waive",
            str(_first(doors.engine, "by-cli", code, kind="item")),
            "--reason",
            "accepted",
            "--expires",
            LAPSES,
        )
        no_go = {"vote": "no_go", "comment": "not yet", "reevaluate_at": LOOK_AGAIN}
        doors.call(f"/gates/{_first(doors.engine, 'by-api', code, kind='gate')}/votes", no_go, role="approver")
        doors.cli(
            "vote", "by-cli", "no-go", "--region", code, "--phase", "ga", "--reason", "not yet",
            "--reevaluate-on", LOOK_AGAIN, "--on-behalf-of", "approver@example.com", "--on-behalf-reason", "meeting",
        )  # fmt: skip
        ref = GateRef(gate_id=_first(doors.engine, "by-slack", code, kind="gate"))
        picked = VoteSubmission("U0APPROVER", ref, Vote.NO_GO, "not yet", reevaluate_on=LOOK_AGAIN)
        with Session(doors.engine) as session:
            slack_votes.handle_submission(session, picked)
    with member_signed_in(doors.base, doors.engine, "approver@example.com") as web:
        for code in (TOKYO, LA):
            gate = _first(doors.engine, "by-web", code, kind="gate")
            fields = {"csrf": csrf_of(web.get("/dashboard/my-work").text), "vote": "no_go", "comment": "not yet"}
            voted = web.post(f"/dashboard/my-work/gates/{gate}/vote", data=fields | {"reevaluate_on": LOOK_AGAIN})
            assert voted.status_code == 303, voted.text

    ga = {code: moment(GA, code) for code in (TOKYO, LA)}
    looked = {code: {"ga": ga[code], "no_go": moment(LOOK_AGAIN, code)} for code in (TOKYO, LA)}
    waived = {code: {**looked[code], "waiver": moment(LAPSES, code)} for code in (TOKYO, LA)}
    assert doors.at("by-api") == waived
    assert doors.at("by-cli") == waived
    assert doors.at("by-web") == looked
    assert doors.at("by-slack") == looked
    assert waived[LA]["no_go"] == datetime(2031, 4, 20, 7, tzinfo=UTC)
