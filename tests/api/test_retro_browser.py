"""A launch's retro in a real browser (Debian's chromium, Playwright): signed in with a token, the
retro page of the launch whose history is known (tests/support/history.py) at 1280 px and at a
390 px phone width, where its tables become cards and nothing scrolls sideways. Screenshots land
in test-artifacts/."""

import re

import pytest
from freezegun import freeze_time

from tests.api.test_dashboard_browser import ARTIFACTS, browser  # noqa: F401 - the fixture
from tests.support.history import SLUG, START, play

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the HTTP tests cover PostgreSQL
def test_the_retro_page_at_desktop_and_phone_width(browser, api_server, tokens, seeded, actor):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    with freeze_time(START) as frozen:
        play(seeded, actor, frozen)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{api_server}/dashboard/launches/{SLUG}")
    page.fill("#token", tokens["leadership"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf".*/dashboard/launches/{SLUG}$"))
    page.click("#retro-link")
    page.wait_for_url(re.compile(rf".*/dashboard/launches/{SLUG}/retro$"))
    assert page.locator('#bottlenecks tr[data-phase="ga"] .bottleneck').inner_text() == "Legal and compliance"
    assert page.locator('#times tr[data-phase="ga"] .at-gate').inner_text() == "21 d 23 h"
    page.screenshot(path=str(ARTIFACTS / "retro-1280.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.context.add_cookies(page.context.cookies())
    phone.goto(f"{api_server}/dashboard/launches/{SLUG}/retro")
    width, screen = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert screen == 390
    assert width <= screen, f"the retro is {width} px wide on a {screen} px screen"
    assert phone.locator('#beta tr[data-region="EU"] .median-fix').is_visible()
    phone.screenshot(path=str(ARTIFACTS / "retro-390.png"), full_page=True)
