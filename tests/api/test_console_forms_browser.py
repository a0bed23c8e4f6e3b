"""Prod ops in a real browser (Debian's chromium through Playwright): sign in with a one-time
link, create a launch through the New launch form (preview first, then create), kick it off, and
halt then resume a region, with screenshots at 1280 and 390 px in test-artifacts/."""

import re

import pytest
from sqlmodel import Session, col, select, update

from orchestrator.core.clock import utcnow
from orchestrator.core.enums import LaunchStatus, RolloutState
from orchestrator.core.models import Launch, Member, RegionRollout, Team
from orchestrator.directory.login_links import issue_login_link
from tests.api.test_dashboard_browser import ARTIFACTS, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow
DATES = {"internal": "2030-01-07", "private_beta": "2030-02-04", "public_beta": "2030-03-04", "ga": "2030-04-01"}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the HTTP tests cover PostgreSQL
def test_prodops_creates_kicks_off_halts_and_resumes_in_the_browser(browser, api_server, tokens, seeded, engine):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    seeded.exec(update(Team).where(col(Team.key) == "product").values(lead="leadership@example.com"))
    seeded.exec(update(Team).where(col(Team.key) == "support").values(lead="admin@example.com"))
    seeded.commit()
    member = seeded.exec(select(Member).where(Member.email == "prodops@example.com")).one()
    secret = issue_login_link(session=seeded, member=member, now=utcnow())

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{api_server}/auth/link/{secret}")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    page.click("#new-launch")
    page.wait_for_url(re.compile(r".*/dashboard/launches/new$"))
    page.fill("#f-name", "Browser Launch")
    page.fill("#f-slug", "browser-launch")
    page.fill("#f-owner", "owner@example.com")
    page.select_option("#f-tier", "2")
    page.check('input[name="flag.personal_data"]')
    page.check('input[name="region.EU"]')
    for phase, day in DATES.items():
        page.fill(f"#d-EU-{phase}", day)
    page.click("#preview-button")
    page.wait_for_selector("#preview")
    assert "leadership@example.com, admin@example.com" in page.locator("#preview-approvers").inner_text()
    page.screenshot(path=str(ARTIFACTS / "new-launch-preview-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(ARTIFACTS / "new-launch-preview-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("#create-button")
    page.wait_for_url(re.compile(r".*/dashboard/launches/browser-launch$"))
    page.check("#kickoff input[name=understand]")
    page.click("#kickoff button")
    page.wait_for_url(re.compile(r".*/dashboard/launches/browser-launch#kickoff$"))
    assert "active" in page.locator("p.meta").first.inner_text()

    region = page.locator('details[data-region="EU"]')
    page.click('details[data-region="EU"] summary')
    page.fill("#halt-EU-reason", "error rate above 2%")
    page.check("#halt-EU input[name=understand]")
    page.click("#halt-EU button")
    page.wait_for_url(re.compile(r".*#halt-EU$"))
    with Session(engine) as session:
        assert session.exec(select(RegionRollout.state)).one() == RolloutState.HALTED
    page.screenshot(path=str(ARTIFACTS / "launch-ops-desktop.png"), full_page=True)

    region.evaluate("details => { details.open = true; }")  # a #fragment may have opened it already
    page.fill("#resume-EU-reason", "fixed")
    page.check("#resume-EU input[name=understand]")
    page.click("#resume-EU button")
    page.wait_for_url(re.compile(r".*#resume-EU$"))
    page.set_viewport_size({"width": 390, "height": 844})
    region.evaluate("details => { details.open = true; }")
    page.screenshot(path=str(ARTIFACTS / "launch-ops-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    with Session(engine) as session:
        assert session.exec(select(RegionRollout.state)).one() != RolloutState.HALTED
        assert session.exec(select(Launch.status)).one() == LaunchStatus.ACTIVE
