"""The dashboard in a real browser: Debian's chromium driven by Playwright signs in with a token,
opens the portfolio and a launch, and sees a value change after an item is checked through the
HTTP API; and clicks "Sign in with Slack" through the fake Slack's authorize page to the
dashboard. Screenshots (desktop and 390 px phone width) land in test-artifacts/ for a human look."""

import re
import shutil
from pathlib import Path

import httpx
import pytest

from orchestrator.core.enums import Phase, Role
from orchestrator.core.settings import reset_settings
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.launches.service import kick_off_launch
from tests.support.api import API_PREFIX, BETA_LAUNCH, auth, create_kicked_off_launch
from tests.support.factories import item, make_launch
from tests.support.fake_slack import fake_slack  # noqa: F401 - the fixture
from tests.support.fake_slack_oidc import CLIENT_ID, CLIENT_SECRET, SlackPerson

pytestmark = pytest.mark.slow

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    assert executable, "Debian's chromium is needed (`apt-get install chromium`; .ci/run installs it)"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the HTTP tests cover PostgreSQL
def test_sign_in_open_pages_and_see_a_check_off(browser, api_server, tokens, engine):
    ARTIFACTS.mkdir(exist_ok=True)
    with httpx.Client(base_url=api_server) as client:
        fixtures = create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=1)

    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{api_server}/dashboard/launches/{fixtures.slug}")
    assert "/login" in page.url  # a Slack link lands on the sign-in form first
    page.fill("#token", "ldk_wrong")
    page.click("button[type=submit]")
    assert "unknown or revoked" in page.locator("#login-error").inner_text()
    page.fill("#token", tokens["leadership"])
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(rf".*/dashboard/launches/{fixtures.slug}$"))

    page.goto(f"{api_server}/dashboard/")
    row = page.locator(f'tr[data-slug="{fixtures.slug}"]')
    assert row.locator(".rag").inner_text() in {"Red", "Amber", "Green"}
    page.screenshot(path=str(ARTIFACTS / "portfolio-desktop.png"), full_page=True)

    row.locator("a").first.click()
    page.wait_for_url(re.compile(rf".*/dashboard/launches/{fixtures.slug}$"))
    done = page.locator('tr[data-team="marketing"] .blocking-done')
    before = done.inner_text()
    assert before.startswith("0 of ")
    page.screenshot(path=str(ARTIFACTS / "launch-desktop.png"), full_page=True)

    with httpx.Client(base_url=api_server) as client:
        answer = client.post(
            f"{API_PREFIX}/items/{fixtures.item_id}/check",
            json={"evidence_url": "https://docs.example.com/proof"},
            headers=auth(tokens["member"]),
        )
        assert answer.status_code == 200, answer.text
    page.reload()
    assert done.inner_text() == before.replace("0 of ", "1 of ", 1)
    assert page.locator("#audit").get_by_text(re.compile(r"^Member Person \(.+\) checked '")).count() >= 1
    page.screenshot(path=str(ARTIFACTS / "launch-after-check-desktop.png"), full_page=True)

    # Beta: a criterion's value and the ranked feedback change after feedback is logged over HTTP.
    with httpx.Client(base_url=api_server) as client:
        created = client.post(f"{API_PREFIX}/launches", json=BETA_LAUNCH, headers=auth(tokens["prodops"]))
        assert created.status_code == 201, created.text
    beta = f"{api_server}/dashboard/launches/{BETA_LAUNCH['slug']}"
    page.goto(beta)
    severity_1 = page.locator('tr[data-region="EU"] td[data-phase="public_beta"] li[data-metric="open_severity_1"]')
    assert severity_1.inner_text() == "open severity 1: 0 (needs at most 0) — met"
    assert page.locator("#beta-feedback").inner_text() == "No open beta feedback."
    with httpx.Client(base_url=api_server) as client:
        for severity, text in ((3, "Typo in the invite email"), (1, "Export loses rows")):
            answer = client.post(
                f"{API_PREFIX}/launches/{BETA_LAUNCH['slug']}/beta/feedback",
                json={
                    "region": "EU",
                    "phase": "private_beta",
                    "account": "acme",
                    "type": "bug",
                    "severity": severity,
                    "text": text,
                },
                headers=auth(tokens["member"]),
            )
            assert answer.status_code == 201, answer.text
    page.reload()
    assert severity_1.inner_text() == "open severity 1: 1 (needs at most 0) — not met"
    rows = page.locator("#beta-feedback tbody tr")
    assert rows.count() == 2
    assert rows.nth(0).locator("th").inner_text() == "Export loses rows"
    assert rows.nth(0).locator("td").first.inner_text() == "1"
    page.select_option("#feedback-region", "NA")
    page.click("form.filter button[type=submit]")
    page.wait_for_url(re.compile(r".*region=NA.*"))
    assert page.locator("#beta-feedback").inner_text() == "No open beta feedback in NA."
    page.screenshot(path=str(ARTIFACTS / "launch-beta-desktop.png"), full_page=True)

    phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone.context.add_cookies(page.context.cookies())
    for name, path in (
        ("portfolio", "/dashboard/"),
        ("launch", f"/dashboard/launches/{fixtures.slug}"),
        ("launch-beta", f"/dashboard/launches/{BETA_LAUNCH['slug']}"),
    ):
        phone.goto(f"{api_server}{path}")
        # Nothing but the scrollable table boxes may be wider than the screen.
        overflow = phone.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 390, f"{name} page is {overflow} px wide at 390 px"
        phone.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_sign_in_with_slack_in_a_browser(browser, api_server, fake_slack, seeded, actor, monkeypatch):  # noqa: F811
    seed = MemberSeed(email="pat@example.com", name="Pat", role=Role.PRODOPS, slack_user_id="U0PAT0001")
    upsert_member(session=seeded, seed=seed, actor=actor)
    for name, value in {
        "LAUNCHDECK_SLACK_CLIENT_ID": CLIENT_ID,
        "LAUNCHDECK_SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "LAUNCHDECK_SLACK_API_URL": fake_slack.base_url,
        "LAUNCHDECK_PUBLIC_URL": api_server,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    fake_slack.oidc.at_browser = SlackPerson(user_id="U0PAT0001", email="pat@example.com", name="Pat")
    try:
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(f"{api_server}/dashboard/")
        assert "/login" in page.url
        page.click("#sign-in-with-slack")
        page.wait_for_url(re.compile(r".*/dashboard/$"))
        assert "Signed in as pat@example.com (prodops)" in page.locator("header").inner_text()
        assert len(fake_slack.oidc.authorize_requests) == 1
        page.click("header form button[type=submit]")  # Sign out: a POST with the form's CSRF field
        assert "You are signed out." in page.locator("main").inner_text()
    finally:
        monkeypatch.undo()
        reset_settings()


PHONE = {"width": 390, "height": 844}
WIDE_REGIONS = ("APAC", "APAC:JP", "EU", "LATAM", "NA")


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # layout only: one database is enough
def test_portfolio_and_a_five_region_launch_fit_a_390_px_phone(browser, api_server, tokens, engine, seeded, actor):
    """No sideways scrolling at 390 px: the page itself is no wider than the screen, and the region
    x phase matrix (five regions, four phases) stacks instead of scrolling inside its box."""
    ARTIFACTS.mkdir(exist_ok=True)
    launch = make_launch(
        seeded,
        actor,
        slug="world-tour",
        regions=WIDE_REGIONS,
        items=[item("press_release_approved", region=code, phase=Phase.GA) for code in WIDE_REGIONS],
    )
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    desktop.goto(f"{api_server}/login")
    desktop.fill("#token", tokens["leadership"])
    desktop.click("button[type=submit]")
    desktop.wait_for_url(re.compile(r".*/dashboard/$"))
    phone = browser.new_page(viewport=PHONE, is_mobile=True)
    phone.context.add_cookies(desktop.context.cookies())
    for name, path in (("portfolio", "/dashboard/?show=all"), ("launch-5-regions", "/dashboard/launches/world-tour")):
        desktop.goto(f"{api_server}{path}")
        desktop.screenshot(path=str(ARTIFACTS / f"{name}-1280.png"), full_page=True)
        phone.goto(f"{api_server}{path}")
        page_width, screen = phone.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert screen == PHONE["width"]
        assert page_width <= screen, f"{name} is {page_width} px wide on a {screen} px screen"
        phone.screenshot(path=str(ARTIFACTS / f"{name}-390.png"), full_page=True)
    matrix, box = phone.evaluate(
        "[document.querySelector('#matrix').scrollWidth, document.querySelector('#matrix').parentElement.clientWidth]"
    )
    assert matrix <= box, f"the matrix is {matrix} px wide in a {box} px box: it would scroll sideways"
    assert phone.locator('#matrix tr[data-region="APAC:JP"] td[data-phase="ga"]').is_visible()
    # On the phone each phase cell says which phase it is (the header row is hidden).
    label = phone.evaluate(
        "getComputedStyle(document.querySelector('#matrix td[data-phase=\"ga\"]'), '::before').content"
    )
    assert label == '"Ga: "'
