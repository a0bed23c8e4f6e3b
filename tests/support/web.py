"""Dashboard forms over HTTP the way a browser sends them: with the page's CSRF field (read from
the form the server rendered) and the CSRF cookie it set."""

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, select

from orchestrator.core.clock import utcnow
from orchestrator.core.models import Member
from orchestrator.directory.login_links import issue_login_link

if TYPE_CHECKING:  # Playwright is imported only by the browser tests
    from playwright.sync_api import Browser, Page

CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def form_csrf(client: httpx.Client, path: str = "/login") -> str:
    """The CSRF field of the form at ``path`` (the GET also gives the client its CSRF cookie)."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return csrf_of(page.text)


def post_login(client: httpx.Client, token: str, next: str | None = None) -> httpx.Response:
    data = {"token": token, "csrf": form_csrf(client)}
    if next is not None:
        data["next"] = next
    return client.post("/login", data=data)


@contextmanager
def signed_in(base: str, token: str) -> Iterator[httpx.Client]:
    """A client signed in to the dashboard with ``token``, as the login form does it."""
    with httpx.Client(base_url=base) as client:
        answer = post_login(client, token, "/dashboard/")
        assert answer.status_code == 303, answer.text
        yield client


@contextmanager
def member_signed_in(base: str, engine: Engine, email: str) -> Iterator[httpx.Client]:
    """A client signed in as the member ``email`` the supported way: a one-time link, as
    ``/launch login`` sends it, opened and confirmed with its page's button."""
    with Session(engine) as session:
        member = session.exec(select(Member).where(Member.email == email)).one()
        secret = issue_login_link(session=session, member=member, now=utcnow())
    with httpx.Client(base_url=base) as client:
        confirm = client.get(f"/auth/link/{secret}")
        assert confirm.status_code == 200, confirm.text
        answer = client.post("/auth/link", data={"link": secret, "csrf": csrf_of(confirm.text)})
        assert answer.status_code == 303, answer.text
        yield client


def browser_signed_in(browser: "Browser", base: str, engine: Engine, email: str, **context: Any) -> "Page":
    """A page of a fresh browser context (its own cookies; ``context`` are Playwright's context
    options) signed in as the member ``email`` with ``/launch login``'s one-time link."""
    with Session(engine) as session:
        member = session.exec(select(Member).where(Member.email == email)).one()
        secret = issue_login_link(session=session, member=member, now=utcnow())
    page = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, **context}).new_page()
    page.goto(f"{base}/auth/link/{secret}")
    page.click("#confirm")
    page.wait_for_url(re.compile(r".*/dashboard/$"))
    return page
