"""The dashboard's page of console messages (no Slack connected): what GTM teams would see, newest
activity first, rendered from the blocks with their buttons, for signed-in readers only, and with
every piece of user text inert."""

import dataclasses
import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from freezegun import freeze_time
from sqlmodel import select

from api.block_html import blocks_html
from notifications.delivery.console_store import ConsoleStore
from notifications.delivery.console_transport import ConsoleTransport
from notifications.delivery.slack_delivery import dispatch_notifications
from orchestrator.core.models import ChecklistItem
from orchestrator.core.settings import reset_settings
from orchestrator.items.service import check_item
from orchestrator.launches.service import kick_off_launch
from tests.support.db import rows
from tests.support.factories import item, make_launch
from tests.support.web import signed_in

pytestmark = pytest.mark.one_database(reason="renders the console messages page (tests/ONE_DATABASE.md)")

T0 = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
HOSTILE = "<script>alert(1)</script> <!channel> *bold* <https://evil.example|x>"


def deliver(session, console, when):
    with freeze_time(when):
        dispatch_notifications(session=session, transport=console, now=when, leadership_channel="#leaders")


def listed_channels(html: str) -> list[str]:
    return re.findall(r'<strong class="channel">([^<]*)</strong>', html)


def test_posted_and_updated_messages_are_listed_newest_first_with_their_buttons(
    api_server, tokens, seeded, actor, engine
):
    launch = make_launch(seeded, actor, items=[item("press_kit", team="marketing"), item("faq", team="support")])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    console = ConsoleTransport(store=ConsoleStore(engine))
    deliver(seeded, console, T0)
    (press_kit,) = rows(seeded, select(ChecklistItem).where(ChecklistItem.key == "press_kit"))
    check_item(session=seeded, item_id=press_kit.id, actor=actor)
    deliver(seeded, console, T0 + timedelta(minutes=5))  # marketing's gate message is edited

    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get("/dashboard/messages")

    assert page.status_code == 200
    html = page.text
    assert listed_channels(html) == ["#launch-marketing", "#launch-support"]  # the edit is the latest
    assert "updated 1 time, last" in html
    assert html.count("updated 1 time") == 1  # support's message was never edited
    assert '<button type="button" disabled class="bk-button bk-primary">Done</button>' in html  # support's open items
    assert 'aria-label="More actions">⋯</button> <span class="bk-choices">Mark blocked… · Request waiver…' in html
    assert '<p class="bk-header">' in html
    assert launch.name in html
    assert '<a href="/dashboard/messages">Slack (console)</a>' in html  # linked while Slack is off
    assert "script-src" not in page.headers["content-security-policy"]  # no script may run at all
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"


def test_the_page_without_a_session_redirects_to_sign_in(api_server):
    with httpx.Client(base_url=api_server) as client:
        answer = client.get("/dashboard/messages?page=2")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/dashboard/messages%3Fpage%3D2"


def test_an_item_title_full_of_markup_is_shown_as_text(api_server, tokens, seeded, actor, engine):
    hostile = dataclasses.replace(item("press_kit", team="marketing"), title=HOSTILE)
    launch = make_launch(seeded, actor, items=[hostile])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    deliver(seeded, ConsoleTransport(store=ConsoleStore(engine)), T0)

    with signed_in(api_server, tokens["member"]) as client:
        html = client.get("/dashboard/messages").text

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;!channel&gt;" in html  # shown as typed, not as a mention
    assert 'href="https://evil.example"' not in html
    assert "&lt;https://evil.example|x&gt;" in html


def test_raw_mrkdwn_renders_links_mentions_and_styles_safely():
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": '"><img src=x onerror=alert(1)>'}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*bold* _it_ <https://ok.example/?a=1&amp;b=2|docs> <javascript:alert(1)|click> "
                '<!channel> <@U123> &lt;b&gt; <https://x.example/"onmouseover="alert(1)|q>',
            },
        },
        {"type": "divider"},
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "<b>Go</b>"}, "style": "danger"},
                {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "url": 'https://d.example/"x'},
            ],
        },
    ]

    html = str(blocks_html(blocks))

    assert "<img" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<strong>bold</strong> <em>it</em>" in html
    assert '<a href="https://ok.example/?a=1&amp;b=2" rel="noopener noreferrer nofollow">docs</a>' in html
    assert "javascript:" not in html.replace("click", "")  # shown as its label only
    assert '<span class="bk-mention">@channel</span> <span class="bk-mention">@U123</span> &lt;b&gt;' in html
    assert 'href="https://x.example/&#34;onmouseover=&#34;alert(1)"' in html  # the quote cannot end the attribute
    assert '<hr class="bk-divider">' in html
    assert '<button type="button" disabled class="bk-button bk-danger">&lt;b&gt;Go&lt;/b&gt;</button>' in html
    assert 'title="opens https://d.example/&#34;x"' in html


def test_messages_are_paged_fifty_at_a_time(api_server, tokens, engine):
    console = ConsoleTransport(store=ConsoleStore(engine))
    for n in range(51):
        with freeze_time(T0 + timedelta(seconds=n)):
            console.post(channel=f"#c{n}", text=f"message {n}", blocks=[])

    with signed_in(api_server, tokens["leadership"]) as client:
        first = client.get("/dashboard/messages").text
        second = client.get("/dashboard/messages?page=2").text

    assert listed_channels(first) == [f"#c{n}" for n in range(50, 0, -1)]
    assert '<a href="/dashboard/messages?page=2" rel="next">Older</a>' in first
    assert listed_channels(second) == ["#c0"]
    assert '<a href="/dashboard/messages?page=1" rel="prev">Newer</a>' in second


@pytest.fixture
def slack_configured(monkeypatch):
    monkeypatch.setenv("LAUNCHDECK_SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", "shh")
    reset_settings()
    yield
    reset_settings()


def test_with_slack_connected_the_navigation_does_not_offer_the_page(slack_configured, api_server, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        portfolio = client.get("/dashboard/")
    assert portfolio.status_code == 200
    assert "Slack (console)" not in portfolio.text
