"""From creation to GA in the browser alone (Debian's chromium through Playwright): a prod ops
manager creates a launch on the New launch form (one region, Tier 3, every phase before GA skipped
explicitly, GA dated today, a one-step ramp) and kicks it off; the members who own its blocking
items check them off on My work, with evidence; the approver votes Go there; the worker (the one
the flow tests run, in-process) takes the region through its ramp; and the portfolio shows the
region in GA. Screenshots of each step at 1280 px land in test-artifacts/."""

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from playwright.sync_api import Page
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from flows.worker import Worker
from orchestrator.core.actors import Actor
from orchestrator.core.enums import LaunchStatus, Phase, Role, RolloutState
from orchestrator.core.models import ChecklistItem, Launch, RegionRollout, Team
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from tests.api.test_dashboard_browser import ARTIFACTS, browser  # noqa: F401 - the fixture
from tests.support.flows import wait_for
from tests.support.web import browser_signed_in

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_server")]
SLUG = "browser-ga"
OWNERS = {"product": "pia@example.com", "docs": "dan@example.com"}  # who checks each team's items


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"ga-{name}-1280.png"), full_page=True)


def _blocking_items(engine: Engine) -> list[tuple[int, str, bool]]:
    """The launch's blocking items: id, owner team, evidence needed."""
    with Session(engine) as session:
        rows = session.exec(
            select(ChecklistItem.id, Team.key, ChecklistItem.evidence_required)
            .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
            .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
            .where(Launch.slug == SLUG, ChecklistItem.blocking)
            .order_by(col(ChecklistItem.id))
        ).all()
    return [(item_id, team, evidence) for item_id, team, evidence in rows if item_id is not None]


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the HTTP tests cover PostgreSQL
def test_prodops_takes_a_launch_from_creation_to_ga_in_the_browser(
    browser,  # noqa: F811
    api_server,
    tokens,
    seeded,
    actor: Actor,
    engine,
    flow_db,
):
    ARTIFACTS.mkdir(exist_ok=True)
    for team, email in OWNERS.items():
        member = MemberSeed(email=email, name=email.split("@")[0].title(), team=team, role=Role.MEMBER)
        upsert_member(session=seeded, seed=member, actor=actor)
    seeded.commit()

    # Prod ops: New launch (every phase before GA skipped, GA today in EU), then Kick off.
    ops = browser_signed_in(browser, api_server, engine, "prodops@example.com")
    ops.click("#new-launch")
    ops.fill("#f-name", "Browser GA")
    ops.fill("#f-slug", SLUG)
    ops.fill("#f-owner", "owner@example.com")
    ops.select_option("#f-tier", "3")
    ops.check('input[name="region.EU"]')
    for phase in (Phase.INTERNAL, Phase.PRIVATE_BETA, Phase.PUBLIC_BETA):
        ops.check(f'input[name="skip.EU.{phase.value}"]')
    ops.fill("#d-EU-ga", datetime.now(UTC).date().isoformat())  # 00:00 in Berlin: already past
    ops.fill("#f-approvers", "approver@example.com")
    ops.fill("#r-ga", "100%")  # straight to everyone: no hold to wait out
    _shot(ops, "1-new-launch")
    ops.click("#create-button")
    ops.wait_for_url(re.compile(rf".*/dashboard/launches/{SLUG}$"))
    ops.check("#kickoff input[name=understand]")
    ops.click("#kickoff button")
    ops.wait_for_url(re.compile(rf".*/dashboard/launches/{SLUG}#kickoff$"))
    assert "active" in ops.locator("p.meta").first.inner_text()
    _shot(ops, "2-kicked-off")

    # Members: each checks their team's blocking items off on My work.
    items = _blocking_items(engine)
    assert {team for _id, team, _evidence in items} == set(OWNERS), items
    for team, email in OWNERS.items():
        page = browser_signed_in(browser, api_server, engine, email)
        page.click("header nav >> text=My work")
        for item_id, _team, evidence in (item for item in items if item[1] == team):
            card = page.locator(f'li[data-item="{item_id}"]')
            if evidence:
                card.locator("input[name=evidence_url]").fill(f"https://wiki.example.com/{SLUG}/{item_id}")
            card.locator("form.check-form button[type=submit]").click()
            page.wait_for_url(re.compile(rf".*/my-work\?changed={item_id}$"))
            assert "is now done" in page.locator("#changed").inner_text()
        _shot(page, f"3-my-work-{team}")
        page.context.close()

    # The approver votes Go on My work (the gate's last condition) and lands on What is blocking.
    voter = browser_signed_in(browser, api_server, engine, "approver@example.com")
    voter.click("header nav >> text=My work")
    voter.locator("form.vote-go button[type=submit]").click()
    voter.wait_for_url(re.compile(rf".*/launches/{SLUG}/blockers\?region=EU&phase=ga#approval$"))
    _shot(voter, "4-voted-what-is-blocking")

    # The worker ramps the region to 100% and marks GA live; the launch completes.
    worker = Worker(publish_events=False)

    def completed() -> bool:
        worker.run_once()
        with Session(engine) as session:
            return session.exec(select(Launch.status).where(Launch.slug == SLUG)).one() == LaunchStatus.COMPLETED

    with ThreadPoolExecutor(1) as pool:  # Prefect's flows run their own event loop; Playwright holds this thread's
        pool.submit(wait_for, completed, timeout=30, interval=0.2).result()
    with Session(engine) as session:
        rollout = session.exec(select(RegionRollout)).one()
        assert (rollout.state, rollout.phase, rollout.percent) == (RolloutState.LIVE, Phase.GA, 100)

    ops.goto(f"{api_server}/dashboard/")
    ops.click("nav.tabs a[data-show=completed]")
    ops.wait_for_url(re.compile(r".*show=completed.*"))
    row = ops.locator(f'tr[data-slug="{SLUG}"]')
    shown = row.locator('td[data-label="Phase by region"]').inner_text().strip()
    assert shown == "EU: ga (live) skips internal, private beta, public beta"
    assert row.locator(".launch-status").text_content() == "completed"
    _shot(ops, "5-portfolio-ga")
