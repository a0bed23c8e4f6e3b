"""The console's other forms in a real browser (Debian's chromium, Playwright), each used by the role
that may use it: a member blocks an item and adds evidence on My work, and sees no prod ops actions
on the launch page, where a halt form posted anyway (built in the page) answers 403 and changes
nothing; an approver votes Conditional Go and No-Go; prod ops reschedule a phase, waive an item,
change approvers, roll a region back and search the portfolio. Screenshots at 1280 and 390 px land
in test-artifacts/. (New launch, kickoff, halt and resume: test_console_forms_browser.py; check off:
test_console_work_browser.py and test_console_ga_browser.py, with the Go vote.)"""

import re

import pytest
from playwright.sync_api import Page
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc
from orchestrator.core.enums import GateKind, ItemStatus, RolloutState, Vote
from orchestrator.core.models import Decision, Gate, PhaseDate, Region, RegionRollout
from tests.api.test_console_work import SLUG, _items, work  # noqa: F401 - the fixture
from tests.api.test_dashboard_browser import ARTIFACTS, browser  # noqa: F401 - the fixture
from tests.support.web import browser_signed_in

pytestmark = pytest.mark.slow
LAUNCH = f"/dashboard/launches/{SLUG}"
# A form a member cannot see, built in their page and submitted as a browser would (same origin,
# their own CSRF field): only the role decides.
FORGE = """([action, csrf]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  for (const [name, value] of [['csrf', csrf], ['reason', 'mine'], ['understand', 'yes']]) {
    const input = document.createElement('input');
    Object.assign(input, {type: 'hidden', name, value});
    form.appendChild(input);
  }
  document.body.appendChild(form);
  form.submit();
}"""


def _shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _state(engine, region: str) -> str:
    with Session(engine) as session:
        return session.exec(
            select(RegionRollout.state)
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(Region.code == region)
        ).one()


def _votes(engine) -> dict[str, str]:
    with Session(engine) as session:
        rows = session.exec(
            select(Region.code, Decision.vote)
            .join(Gate, col(Gate.id) == col(Decision.gate_id))
            .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(Gate.kind == GateKind.APPROVAL, col(Decision.voided_at).is_(None))
        ).all()
    return {code: vote for code, vote in rows}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # the HTTP tests cover PostgreSQL
def test_each_role_uses_its_forms_in_the_browser_and_a_member_is_refused_prod_ops_ones(
    browser,  # noqa: F811
    api_server,
    engine,
    work,  # noqa: F811
    tokens,
):
    ARTIFACTS.mkdir(exist_ok=True)
    items = _items(engine)
    na_press, blog, dpa = items[("NA", "press_release")], items[("EU", "launch_blog")], items[("EU", "dpa_signed")]

    # A member: Block and Add evidence on My work; no prod ops actions, and a forged halt is a 403.
    mia = browser_signed_in(browser, api_server, engine, "mia@example.com", bypass_csp=True)
    mia.click("header nav >> text=My work")
    card = mia.locator(f'li[data-item="{na_press.id}"]')
    card.locator("form.block-form input[name=reason]").fill("Waiting on the translation agency")
    card.locator("form.block-form button[type=submit]").click()
    mia.wait_for_url(re.compile(rf".*changed={na_press.id}$"))
    assert "is now blocked" in mia.locator("#changed").inner_text()
    card = mia.locator(f'li[data-item="{blog.id}"]')
    card.locator("form.evidence-form input[name=url]").fill("https://blog.example.com/draft")
    card.locator("form.evidence-form button[type=submit]").click()
    mia.wait_for_url(re.compile(rf".*changed={blog.id}$"))
    assert "evidence: https://blog.example.com/draft" in mia.locator("#changed").inner_text()
    _shot(mia, "member-block-evidence-1280")
    mia.goto(f"{api_server}{LAUNCH}")
    assert mia.locator("#ops").count() == 0
    assert mia.locator("form[action$='/halt']").count() == 0
    csrf = mia.locator("input[name=csrf]").first.get_attribute("value")
    with mia.expect_navigation() as forged:
        mia.evaluate(FORGE, [f"{LAUNCH}/regions/EU/halt", csrf])
    assert forged.value is not None
    assert forged.value.status == 403
    assert "role member may not" in mia.locator("main").inner_text()
    assert _state(engine, "EU") != RolloutState.HALTED
    _shot(mia, "member-refused-halt-1280")
    with Session(engine) as session:
        assert session.get(type(na_press), na_press.id).status == ItemStatus.BLOCKED

    # An approver: Conditional Go on EU, No-Go on NA.
    vp = browser_signed_in(browser, api_server, engine, "vp@example.com")
    vp.click("header nav >> text=My work")
    eu = vp.locator("li[data-gate]", has_text="· EU ·")
    eu.locator("summary", has_text="Conditional Go").click()
    eu.locator("textarea[name=conditions]").fill("Support staffed for launch week")
    eu.locator("input[name=risk_accepted_by]").fill("cfo@example.com")
    eu.locator("form.vote-conditional button[type=submit]").click()
    vp.wait_for_url(re.compile(r".*/blockers\?region=EU&phase=ga#approval$"))
    vp.click("header nav >> text=My work")
    na = vp.locator("li[data-gate]", has_text="· NA ·")
    na.locator("summary", has_text="No-Go").click()
    na.locator("textarea[name=comment]").fill("Sev 1 open in the NA billing path")
    na.locator("input[name=reevaluate_on]").fill("2031-01-15")
    na.locator("form.vote-no-go button[type=submit]").click()
    vp.wait_for_url(re.compile(r".*/blockers\?region=NA&phase=ga#approval$"))
    _shot(vp, "approver-no-go-1280")
    assert _votes(engine) == {"EU": Vote.CONDITIONAL_GO, "NA": Vote.NO_GO}

    # Prod ops: reschedule EU GA, waive legal's item, change APAC's approvers, roll APAC back.
    ops = browser_signed_in(browser, api_server, engine, "prodops@example.com")
    ops.goto(f"{api_server}{LAUNCH}")
    ops.click('details[data-region="EU"] summary')
    ops.select_option("#reschedule-EU-phase", "ga")
    ops.fill("#reschedule-EU-date", "2031-01-20")
    ops.fill("#reschedule-EU-reason", "Legal review")
    ops.click("#reschedule-EU button")
    ops.wait_for_url(re.compile(r".*#reschedule-EU$"))
    assert "planned 2031-01-20" in ops.locator('#matrix tr[data-region="EU"]').inner_text()
    ops.click("details.ops-waive summary")
    ops.fill(f"#waive-{dpa.id}-reason", "Signed on paper; scan follows")
    ops.click(f"#waive-{dpa.id} button")
    ops.wait_for_url(re.compile(rf".*#waive-{dpa.id}$"))
    ops.click("details.ops-approvers summary")
    ops.select_option("#approvers-phase", "ga")
    ops.select_option("#approvers-region", "APAC")
    ops.fill("#approvers-emails", "vp@example.com")
    ops.fill("#approvers-reason", "cfo is on leave")
    ops.click("#approvers button")
    ops.wait_for_url(re.compile(r".*#approvers$"))
    ops.locator('details[data-region="APAC"]').evaluate("details => { details.open = true; }")
    ops.fill("#rollback-APAC-reason", "Bad data in APAC")
    ops.check("#rollback-APAC input[name=understand]")
    ops.click("#rollback-APAC button")
    ops.wait_for_url(re.compile(r".*#rollback-APAC$"))
    _shot(ops, "prodops-actions-1280")
    ops.set_viewport_size({"width": 390, "height": 844})
    assert ops.evaluate("document.documentElement.scrollWidth") <= 390
    _shot(ops, "prodops-actions-390")
    ops.set_viewport_size({"width": 1280, "height": 900})
    with Session(engine) as session:
        eu_ga = session.exec(
            select(PhaseDate.current_at)
            .join(RegionRollout, col(RegionRollout.id) == col(PhaseDate.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(Region.code == "EU")
        ).one()
        apac_gate = session.exec(
            select(Gate.approvers)
            .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(Region.code == "APAC", Gate.kind == GateKind.APPROVAL)
        ).one()
        waived = session.get(type(dpa), dpa.id)
    assert as_utc(eu_ga).isoformat() == "2031-01-19T23:00:00+00:00"  # 00:00 in Berlin
    assert apac_gate == ["vp@example.com"]
    assert waived is not None
    assert waived.status == ItemStatus.WAIVED
    assert _state(engine, "APAC") == RolloutState.ROLLED_BACK
    assert "EU" not in _votes(engine)  # the reschedule voided EU's Conditional Go

    # Anyone: the portfolio's search.
    ops.goto(f"{api_server}/dashboard/")
    ops.fill("#q", "acme")
    ops.click("form.search button[type=submit]")
    ops.wait_for_url(re.compile(r".*q=acme.*"))
    assert ops.locator(f'tr[data-slug="{SLUG}"]').is_visible()
