"""Signing people in to the dashboard, over real HTTP (uvicorn on loopback) with the real slack-sdk
client against the fake Slack on loopback: Sign in with Slack (OpenID Connect) end to end, the
one-time link ``/launch login`` DMs, CSRF on every form, the security headers, and when cookies
are ``Secure``. Members sign in as themselves: their role is read again on every page."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from slack_sdk.models.blocks import Block
from sqlmodel import Session, select

from notifications.inbound.slack_sign_in import SignInFailed, sign_in_from_settings
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import Role
from orchestrator.core.models import AuditEvent, LoginLink, Member
from orchestrator.core.settings import get_settings, reset_settings
from orchestrator.directory.login_links import issue_login_link
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from tests.support.api import create_kicked_off_launch
from tests.support.fake_slack import TOKEN, FakeSlack, fake_slack  # noqa: F401 - the fixture
from tests.support.fake_slack_oidc import CLIENT_ID, CLIENT_SECRET, SlackPerson
from tests.support.flows import wait_for
from tests.support.slack_http import SECRET, WAIT, Recorder, SlackClient
from tests.support.web import csrf_of, form_csrf, post_login

PAT = SlackPerson(user_id="U0PAT0001", email="pat@example.com", name="Pat Ops")
MIA = SlackPerson(user_id="U0MIA0001", email="Mia@Example.com", name="Mia Market")  # no Slack id in the directory
STRANGER = SlackPerson(user_id="U0WHO0001", email="who@elsewhere.example", name="Someone Else")
SESSION = "launchdeck_session"


@pytest.fixture
def people(seeded, actor):
    for email, role, team, slack_id in [
        ("pat@example.com", Role.PRODOPS, None, PAT.user_id),
        ("mia@example.com", Role.MEMBER, "marketing", None),
        ("ada@example.com", Role.ADMIN, None, None),
    ]:
        seed = MemberSeed(email=email, name=email.split("@")[0].title(), role=role, team=team, slack_user_id=slack_id)
        upsert_member(session=seeded, seed=seed, actor=actor)
    return seeded


@pytest.fixture
def site(api_server, fake_slack: FakeSlack, people, monkeypatch):  # noqa: F811
    """The live app configured for Sign in with Slack and Slack commands, against the fake."""
    for name, value in {
        "LAUNCHDECK_SLACK_CLIENT_ID": CLIENT_ID,
        "LAUNCHDECK_SLACK_CLIENT_SECRET": CLIENT_SECRET,
        "LAUNCHDECK_SLACK_API_URL": fake_slack.base_url,
        "LAUNCHDECK_PUBLIC_URL": api_server,
        "LAUNCHDECK_SLACK_SIGNING_SECRET": SECRET,
        "LAUNCHDECK_SLACK_BOT_TOKEN": TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    reset_settings()
    yield api_server
    monkeypatch.undo()
    reset_settings()


def slack_sign_in(client: httpx.Client, fake: FakeSlack, person: SlackPerson) -> httpx.Response:
    """Click "Sign in with Slack", approve on Slack's page as ``person``, come back; the callback's answer."""
    start = client.get("/auth/slack", params={"next": "/dashboard/"})
    assert start.status_code == 303, start.text
    fake.oidc.at_browser = person
    slack_page = httpx.get(start.headers["location"])
    assert slack_page.status_code == 302
    return client.get(slack_page.headers["location"])


def test_sign_in_with_slack_round_trip(site, fake_slack, people, actor, engine):  # noqa: F811
    with httpx.Client(base_url=site) as browser:
        login = browser.get("/login")
        assert 'id="sign-in-with-slack"' in login.text
        start = browser.get("/auth/slack", params={"next": "/dashboard/"})
        assert start.status_code == 303
        authorize = urlsplit(start.headers["location"])
        assert authorize.path == "/openid/connect/authorize"
        query = {key: values[0] for key, values in parse_qs(authorize.query).items()}
        assert query["response_type"] == "code"
        assert query["scope"] == "openid email profile"
        assert query["client_id"] == CLIENT_ID
        assert query["redirect_uri"] == f"{site}/auth/slack/callback"
        assert len(query["state"]) >= 20
        assert len(query["nonce"]) >= 20
        flow_cookie = start.headers["set-cookie"].lower()
        assert "launchdeck_oidc=" in flow_cookie
        assert "httponly" in flow_cookie
        assert "samesite=lax" in flow_cookie
        assert query["state"].lower() not in flow_cookie  # the cookie is signed and opaque, not the state itself

        # Slack's answer with another state (a forged or crossed callback) signs nobody in.
        fake_slack.oidc.at_browser = PAT
        back = urlsplit(httpx.get(start.headers["location"]).headers["location"])
        code = parse_qs(back.query)["code"][0]
        forged = browser.get("/auth/slack/callback", params={"code": code, "state": "not-the-state"})
        assert forged.status_code == 400
        assert "does not match a sign-in started in this browser" in forged.text
        assert SESSION not in browser.cookies
        assert fake_slack.oidc.token_calls == 0  # refused before the code was spent

        # The real round trip: a prodops member lands on the dashboard and sees what prodops may do.
        landed = slack_sign_in(browser, fake_slack, PAT)
        assert landed.status_code == 303
        assert landed.headers["location"] == "/dashboard/"
        session_cookie = landed.headers["set-cookie"]
        assert "httponly" in session_cookie.lower()
        assert "samesite=lax" in session_cookie.lower()
        page = browser.get("/dashboard/")
        assert page.status_code == 200
        assert "Signed in as pat@example.com (prodops)" in page.text
        assert "run launches (create, kick off" in page.text

        # The role is read again on every page: a change shows on the very next one.
        upsert_member(
            session=people,
            seed=MemberSeed(email="pat@example.com", name="Pat", role=Role.LEADERSHIP, slack_user_id=PAT.user_id),
            actor=actor,
        )
        page = browser.get("/dashboard/")
        assert "Signed in as pat@example.com (leadership)" in page.text
        assert "run launches" not in page.text
        assert "You may: read." in page.text

    # A verified email finds a member whose Slack id the directory lacks (case aside).
    with httpx.Client(base_url=site) as browser:
        assert slack_sign_in(browser, fake_slack, MIA).status_code == 303
        assert "Signed in as mia@example.com (member)" in browser.get("/dashboard/").text
        with Session(engine) as session:  # removed from the directory: signed out on the next page
            session.delete(session.exec(select(Member).where(Member.email == "mia@example.com")).one())
            session.commit()
        assert browser.get("/dashboard/").status_code == 303

    # Someone Slack knows and the directory does not: told so and whom to ask, and not signed in.
    with httpx.Client(base_url=site) as browser:
        refused = slack_sign_in(browser, fake_slack, STRANGER)
        assert refused.status_code == 403
        assert "not in launchdeck&#39;s directory" in refused.text
        assert "Ada &lt;ada@example.com&gt; (admin)" in refused.text  # admins first, then product ops
        assert SESSION not in browser.cookies
        assert browser.get("/dashboard/").status_code == 303

    # Slack's ID token must carry this browser's nonce: a code issued for another sign-in is refused.
    config = sign_in_from_settings(get_settings())
    assert config is not None
    fake_slack.oidc.at_browser = PAT
    url = config.authorize_url(redirect_uri=f"{site}/auth/slack/callback", state="s", nonce="the-nonce")
    code = parse_qs(urlsplit(httpx.get(url).headers["location"]).query)["code"][0]
    with pytest.raises(SignInFailed, match="another sign-in"):
        config.identity(code=code, redirect_uri=f"{site}/auth/slack/callback", nonce="another-nonce")


def test_launch_login_dms_a_link_that_works_once_and_not_after_it_expires(site, fake_slack, people, engine):  # noqa: F811
    slack = SlackClient(site, Recorder(), {}, "")
    stranger = slack.command("login", user=STRANGER.user_id).json()
    assert "does not know" in stranger["text"]
    answer = slack.command("login", user=PAT.user_id)
    assert answer.status_code == 200
    assert "sent you a sign-in link in a direct message" in answer.json()["text"]
    dm = f"D{PAT.user_id}"
    wait_for(lambda: fake_slack.messages.get(dm), timeout=WAIT)
    (message,) = fake_slack.messages[dm]
    assert [type(Block.parse(block)).__name__ for block in message.blocks] == ["SectionBlock"]
    link = re.search(rf"<({re.escape(site)}/auth/link/[^|>]+)\|", message.text)
    assert link, message.text
    with Session(engine) as session:
        (row,) = session.exec(select(LoginLink)).all()
        assert link.group(1).rsplit("/", 1)[1] not in row.token_hash  # only a hash is kept

    with httpx.Client(base_url=site) as browser:
        confirm = browser.get(link.group(1))  # opening the link (a preview, a scanner) uses nothing up
        assert confirm.status_code == 200
        assert confirm.headers["cache-control"] == "no-store"
        secret = link.group(1).rsplit("/", 1)[1]
        signed = browser.post("/auth/link", data={"link": secret, "csrf": csrf_of(confirm.text)})
        assert signed.status_code == 303
        assert signed.headers["location"] == "/dashboard/"
        assert "Signed in as pat@example.com (prodops)" in browser.get("/dashboard/").text

    with httpx.Client(base_url=site) as other:
        again = other.post("/auth/link", data={"link": secret, "csrf": form_csrf(other, link.group(1))})
        assert again.status_code == 401
        assert "already used (each link works once)" in again.text
        assert SESSION not in other.cookies

    with Session(engine) as session:
        member = session.exec(select(Member).where(Member.email == "pat@example.com")).one()
        old = issue_login_link(session=session, member=member, now=utcnow() - timedelta(minutes=11))
        actions = session.exec(select(AuditEvent.action).where(AuditEvent.entity == "member")).all()
        assert actions.count("member.login_link_sent") == 2
        assert actions.count("member.signed_in_by_link") == 1
    with httpx.Client(base_url=site) as late:
        expired = late.post("/auth/link", data={"link": old, "csrf": form_csrf(late, f"/auth/link/{old}")})
        assert expired.status_code == 401
        assert "expired (links work for 10 minutes)" in expired.text
        assert late.get("/dashboard/").status_code == 303


HEADERS = {
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}


def assert_secure_headers(answer: httpx.Response) -> None:
    policy = answer.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "form-action 'self'" in policy
    assert "script-src" not in policy  # no script at all, inline or not
    for name, value in HEADERS.items():
        assert answer.headers[name] == value, name


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # no query differs: the round trips cover PostgreSQL
def test_csrf_headers_logout_and_secure_cookies(api_server, tokens, engine, monkeypatch):
    with httpx.Client(base_url=api_server) as setup:
        launch = create_kicked_off_launch(setup, tokens["prodops"], engine, spare_token_id=1)
    with httpx.Client(base_url=api_server) as browser:
        assert 'id="sign-in-with-slack"' not in browser.get("/login").text  # Sign in with Slack not set up
        assert browser.get("/auth/slack").status_code == 404
        # A cross-site POST to /login signs nobody in: without the form's field, or from another site.
        assert browser.post("/login", data={"token": tokens["leadership"]}).status_code == 403
        csrf = form_csrf(browser)
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            refused = browser.post("/login", data={"token": tokens["leadership"], "csrf": csrf}, headers=headers)
            assert refused.status_code == 403
            assert "set-cookie" not in refused.headers
        assert SESSION not in browser.cookies
        with httpx.Client(base_url=api_server) as other:  # another browser's field does not fit this one
            assert other.post("/login", data={"token": tokens["leadership"], "csrf": csrf}).status_code == 403

        assert post_login(browser, tokens["leadership"], "/dashboard/").status_code == 303
        for path in ("/login", "/dashboard/", f"/dashboard/launches/{launch.slug}", "/logout"):
            answer = browser.get(path)
            assert answer.status_code == 200, path
            assert_secure_headers(answer)

        # Signing out is a POST with the form's field; a cross-site one or a GET signs nobody out.
        assert browser.post("/logout").status_code == 403
        csrf = csrf_of(browser.get("/dashboard/").text)
        assert (
            browser.post("/logout", data={"csrf": csrf}, headers={"Origin": "https://evil.example"}).status_code == 403
        )
        assert "Sign out?" in browser.get("/logout").text
        assert browser.get("/dashboard/").status_code == 200  # still signed in
        assert browser.post("/logout", data={"csrf": csrf}).status_code == 200
        assert browser.get("/dashboard/").status_code == 303

    # Secure only when https is said by a proxy launchdeck trusts (uvicorn would believe loopback).
    forwarded = {"X-Forwarded-Proto": "https"}
    with httpx.Client(base_url=api_server, headers=forwarded) as untrusted:
        cookie = post_login(untrusted, tokens["leadership"]).headers["set-cookie"].lower()
        assert "; secure" not in cookie
    monkeypatch.setenv("LAUNCHDECK_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8")
    reset_settings()
    try:
        with httpx.Client(base_url=api_server, headers=forwarded) as trusted:
            cookie = post_login(trusted, tokens["leadership"]).headers["set-cookie"].lower()
            assert "; secure" in cookie
        with httpx.Client(base_url=api_server, headers={"X-Forwarded-Proto": "http"}) as plain:
            assert "; secure" not in post_login(plain, tokens["leadership"]).headers["set-cookie"].lower()
    finally:
        monkeypatch.delenv("LAUNCHDECK_TRUSTED_PROXIES")
        reset_settings()
