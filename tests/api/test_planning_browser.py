"""The planning pages in a real browser (Debian's chromium through Playwright): the rollout
timeline of a launch and of the portfolio (a launch's row opened to its regions), and the GTM load
with an overloaded week, at 1280 px and 390 px; nothing wider than the phone's screen. Screenshots
land in test-artifacts/ for a human look."""

import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import col

from orchestrator.core.enums import LaunchStatus, Phase, WaveMode
from orchestrator.core.models import Launch
from orchestrator.directory.seed import TeamSeed
from orchestrator.directory.service import upsert_team
from orchestrator.launches.queries import rollout_id_for
from orchestrator.launches.schedule import reschedule_phase
from tests.support.factories import item
from tests.support.planning import planned_launch, set_calendar

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TODAY = datetime.now(UTC).date()


def day(offset: int) -> datetime:
    return datetime.combine(TODAY + timedelta(days=offset), time(9, 0), tzinfo=UTC)


def _portfolio(session, actor) -> None:
    """Three active launches (one sequential across three regions, with a slip into a freeze) and
    a draft close behind one of them; marketing owes five items in one week against a capacity of 3."""
    upsert_team(
        session=session, seed=TeamSeed(key="marketing", name="Product marketing", capacity_per_week=3), actor=actor
    )
    set_calendar(
        session,
        "EU",
        freezes=[
            {
                "start": (TODAY + timedelta(days=70)).isoformat(),
                "end": (TODAY + timedelta(days=77)).isoformat(),
                "reason": "Quarter close",
            }
        ],
    )
    dates = {Phase.INTERNAL: day(14), Phase.PRIVATE_BETA: day(28), Phase.PUBLIC_BETA: day(49), Phase.GA: day(63)}
    items = [item(f"task_{n}", offset=-3) for n in range(5)]  # all due the same day: one week
    planned_launch(
        session,
        actor,
        "acme-assistant",
        dates,
        regions=("NA", "EU", "APAC"),
        wave_mode=WaveMode.SEQUENTIAL,
        items=items,
    )
    planned_launch(
        session, actor, "billing-v2", {Phase.INTERNAL: day(21), Phase.GA: day(90)}, tier=2, regions=("EU", "NA")
    )
    planned_launch(session, actor, "checkout", {Phase.GA: day(66)}, tier=2, regions=("EU",))
    planned_launch(session, actor, "docs-refresh", {Phase.GA: day(40)}, tier=3, regions=("APAC",))
    session.execute(update(Launch).where(col(Launch.slug) != "checkout").values(status=LaunchStatus.ACTIVE))
    session.commit()
    eu = rollout_id_for(session=session, slug="acme-assistant", region="EU")
    reschedule_phase(session=session, rollout_id=eu, phase=Phase.GA, new_at=day(72), actor=actor, reason="Legal review")


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed (`apt-get install chromium`; .ci/run installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the HTTP tests cover PostgreSQL
def test_timeline_and_load_pages_at_desktop_and_phone_width(browser, api_server, tokens, seeded, actor, engine):
    ARTIFACTS.mkdir(exist_ok=True)
    _portfolio(seeded, actor)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{api_server}/login")
    page.fill("#token", tokens["leadership"])
    page.click("button[type=submit]")
    page.wait_for_url(f"{api_server}/dashboard/")

    page.goto(f"{api_server}/dashboard/launches/acme-assistant/timeline")
    assert page.locator('#timeline-table tr[data-region="EU"][data-phase="ga"] td.slip').inner_text() == "+9"
    assert page.locator("svg.timeline-chart .slip.late").count() == 1
    assert page.locator("svg.timeline-chart rect.freeze").count() == 1
    page.screenshot(path=str(ARTIFACTS / "timeline-launch-desktop.png"), full_page=True)

    page.goto(f"{api_server}/dashboard/timeline")
    row = page.locator('#timeline-lanes li[data-slug="acme-assistant"]')
    row.locator("summary").click()
    assert row.locator("details").get_attribute("open") is not None
    assert page.locator("#timeline-lanes > li").count() == 3  # the draft is not on it
    page.screenshot(path=str(ARTIFACTS / "timeline-portfolio-desktop.png"), full_page=True)

    page.goto(f"{api_server}/dashboard/load")
    over = page.locator('tr[data-team="marketing"] td.over')
    assert over.count() == 1
    assert over.locator(".items").inner_text() == "5"
    page.screenshot(path=str(ARTIFACTS / "load-desktop.png"), full_page=True)
    over.locator("a").click()
    assert page.locator("#team-week-items tbody tr").count() == 5

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.context.add_cookies(page.context.cookies())
    for name, path in (
        ("timeline-launch", "/dashboard/launches/acme-assistant/timeline"),
        ("timeline-portfolio", "/dashboard/timeline"),
        ("load", "/dashboard/load"),
        ("collisions", "/dashboard/collisions"),
    ):
        phone.goto(f"{api_server}{path}")
        phone.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{name} page is {width} px wide at 390 px"
        phone.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
