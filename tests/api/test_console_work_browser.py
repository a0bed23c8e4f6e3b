"""My work in a real browser (Debian's chromium, Playwright): a member signs in with a one-time
link, checks an item off on My work, and the page says so; screenshots at 1280 and 390 px land in
test-artifacts/, and the What is blocking page needs no sideways scrolling on a 390 px phone."""

import re

import pytest
from sqlmodel import Session, select

from orchestrator.core.clock import utcnow
from orchestrator.core.models import Member
from orchestrator.directory.login_links import issue_login_link
from tests.api.test_console_work import SLUG, _items, work  # noqa: F401 - the fixture
from tests.api.test_dashboard_browser import ARTIFACTS, browser  # noqa: F401 - the fixture

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the HTTP tests cover PostgreSQL
def test_a_member_checks_an_item_off_on_my_work(browser, api_server, engine, work):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    press = _items(engine)[("EU", "press_release")]
    with Session(engine) as session:
        mia = session.exec(select(Member).where(Member.email == "mia@example.com")).one()
        secret = issue_login_link(session=session, member=mia, now=utcnow())

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{api_server}/auth/link/{secret}")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    page.click("header nav >> text=My work")
    page.wait_for_url(re.compile(r".*/dashboard/my-work$"))
    card = page.locator(f'li[data-item="{press.id}"]')
    assert card.locator(".item-status").inner_text() == "todo"
    page.screenshot(path=str(ARTIFACTS / "my-work-1280.png"), full_page=True)
    card.locator("form.check-form button[type=submit]").click()
    page.wait_for_url(re.compile(rf".*/dashboard/my-work\?changed={press.id}$"))
    assert "is now done" in page.locator("#changed").inner_text()
    assert page.locator(f'li[data-item="{press.id}"]').count() == 0

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.context.add_cookies(page.context.cookies())
    for name, path in (
        ("my-work", "/dashboard/my-work"),
        ("blockers", f"/dashboard/launches/{SLUG}/blockers?region=EU&phase=ga"),
    ):
        phone.goto(f"{api_server}{path}")
        width, screen = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert screen == 390
        assert width <= screen, f"{name} is {width} px wide on a {screen} px screen"
        phone.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    assert phone.locator('#blocking-items tr[data-key="launch_blog"]').is_visible()
    page.goto(f"{api_server}/dashboard/launches/{SLUG}/blockers?region=EU&phase=ga")
    page.screenshot(path=str(ARTIFACTS / "blockers-1280.png"), full_page=True)
