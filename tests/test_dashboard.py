"""The leadership dashboard over real HTTP (uvicorn on loopback, SQLite and PostgreSQL): token
sign-in as a signed cookie, the portfolio and launch pages, the CSV and iCalendar exports, pages
that never write, and a query count per page that does not grow with the number of launches."""

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import event, func
from sqlmodel import Session, col, select

from orchestrator.actors import Actor
from orchestrator.enums import Source
from orchestrator.models import ApiToken, AuditEvent, ChecklistItem, Launch, RagSnapshot
from orchestrator.services.launches import kick_off_launch
from orchestrator.services.tokens import revoke_token
from tests.api_helpers import API_PREFIX, auth, create_kicked_off_launch
from tests.factories import item, make_launch, phase_dates

ACTOR = Actor(name="pat@example.com", source=Source.CLI)


@pytest.fixture
def launch(api_server, tokens, engine):
    with httpx.Client(base_url=api_server) as client:
        return create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=1)


@contextmanager
def signed_in(base: str, token: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base) as client:
        answer = client.post("/login", data={"token": token, "next": "/dashboard/"})
        assert answer.status_code == 303, answer.text
        yield client


def test_a_page_without_a_session_redirects_to_login_and_back(api_server, launch, tokens):
    with httpx.Client(base_url=api_server) as client:
        answer = client.get(f"/dashboard/launches/{launch.slug}")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next=/dashboard/launches/{launch.slug}"
        form = client.get(answer.headers["location"])
        assert form.status_code == 200
        assert f'name="next" value="/dashboard/launches/{launch.slug}"' in form.text
        signed = client.post(
            "/login", data={"token": tokens["leadership"], "next": f"/dashboard/launches/{launch.slug}"}
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == f"/dashboard/launches/{launch.slug}"
        cookie = signed.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert tokens["leadership"].lower() not in cookie  # the secret never reaches the browser
        page = client.get(signed.headers["location"])
        assert page.status_code == 200
        assert "Acme API" in page.text


@pytest.mark.parametrize(
    ("token", "message"),
    [("ldk_not-a-real-token", "unknown or revoked"), ("", "paste an API token")],
)
def test_a_bad_token_is_refused_on_the_form_with_the_reason(api_server, tokens, token, message):
    with httpx.Client(base_url=api_server) as client:
        answer = client.post("/login", data={"token": token})
        assert answer.status_code == 401
        assert "text/html" in answer.headers["content-type"]
        assert message in answer.text
        assert "set-cookie" not in answer.headers


def test_login_only_redirects_inside_the_dashboard(api_server, tokens):
    with httpx.Client(base_url=api_server) as client:
        answer = client.post("/login", data={"token": tokens["member"], "next": "https://evil.example/x"})
        assert answer.headers["location"] == "/dashboard/"


def test_a_forged_cookie_or_a_revoked_token_sends_back_to_login(api_server, launch, tokens, engine):
    with httpx.Client(base_url=api_server, cookies={"launchdeck_session": "1.9999999999.forged"}) as forged:
        assert forged.get("/dashboard/").status_code == 303
    with signed_in(api_server, tokens["approver"]) as client:
        assert client.get("/dashboard/").status_code == 200
        with Session(engine) as session:
            token_id = session.exec(select(ApiToken.id).where(ApiToken.name == "approver-bot")).one()
            revoke_token(session=session, token_id=token_id, actor=ACTOR, now=datetime.now(UTC))
        answer = client.get("/dashboard/")
        assert answer.status_code == 303
        assert answer.headers["location"].startswith("/login")


@pytest.mark.parametrize("cookie", ["\u0661.\u0662.x", "1.2.\u00e9", "1.2", "", "\u00e9" * 40])
def test_odd_cookies_and_feed_keys_are_refused_not_crashed_on(api_server, launch, cookie):
    raw = {"cookie": f"launchdeck_session={cookie}".encode()}  # bytes: httpx sends them as they are
    with httpx.Client(base_url=api_server) as client:
        assert client.get("/dashboard/", headers=raw).status_code == 303
        assert client.get(f"/dashboard/launches/{launch.slug}/phases.ics", params={"feed": cookie}).status_code in (
            303,
            401,
        )


def test_logout_forgets_the_session(api_server, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        out = client.post("/logout")
        assert out.status_code == 200
        assert "signed out" in out.text
        assert client.get("/dashboard/").status_code == 303


def test_portfolio_lists_the_launch_with_status_in_words(api_server, launch, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get("/dashboard/")
    assert page.status_code == 200
    row = re.search(rf'<tr data-slug="{launch.slug}">(.*?)</tr>', page.text, re.S)
    assert row is not None, page.text
    assert re.search(r'class="rag rag-(red|amber|green)">(Red|Amber|Green)<', row.group(1))
    assert "no history yet" in row.group(1)
    assert "<caption>" in page.text
    assert 'scope="col"' in page.text


def test_launch_page_changes_after_an_item_is_checked_through_the_api(api_server, launch, tokens, engine):
    with Session(engine) as session:
        marketing_blocking = session.exec(
            select(func.count())
            .select_from(ChecklistItem)
            .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
            .where(Launch.slug == launch.slug, col(ChecklistItem.blocking).is_(True))
            .where(
                col(ChecklistItem.owner_team_id).in_(
                    select(ChecklistItem.owner_team_id).where(ChecklistItem.id == launch.item_id)
                )
            )
        ).one()
        checked = session.get(ChecklistItem, launch.item_id)
        assert checked is not None
        assert checked.blocking, "the fixture's marketing item should be blocking"
    with signed_in(api_server, tokens["leadership"]) as client:

        def marketing_done() -> str:
            page = client.get(f"/dashboard/launches/{launch.slug}")
            assert page.status_code == 200
            found = re.search(
                r'<tr data-team="marketing">.*?<span class="blocking-done">([^<]*)</span>', page.text, re.S
            )
            assert found is not None, page.text
            return found.group(1)

        assert marketing_done() == f"0 of {marketing_blocking}"
        with httpx.Client(base_url=api_server) as api:
            answer = api.post(
                f"{API_PREFIX}/items/{launch.item_id}/check",
                json={"evidence_url": "https://docs.example.com/proof"},
                headers=auth(tokens["member"]),
            )
            assert answer.status_code == 200, answer.text
        assert marketing_done() == f"1 of {marketing_blocking}"
        page = client.get(f"/dashboard/launches/{launch.slug}").text
    assert "item.checked" in page  # the audit timeline shows the check-off
    assert "<svg" in page
    assert 'role="img"' in page
    assert "Show the numbers" in page  # the burndown's table alternative
    assert 'id="beta-feedback"' in page  # the place issue #8 fills


def test_unknown_launch_is_a_404_page(api_server, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        answer = client.get("/dashboard/launches/no-such-launch")
    assert answer.status_code == 404
    assert "no-such-launch" in answer.text


def test_pages_write_nothing(api_server, launch, tokens, engine):
    def counts() -> tuple[int, int]:
        with Session(engine) as session:
            return (
                session.exec(select(func.count()).select_from(AuditEvent)).one(),
                session.exec(select(func.count()).select_from(RagSnapshot)).one(),
            )

    before = counts()
    with signed_in(api_server, tokens["leadership"]) as client:
        for path in (
            "/dashboard/",
            f"/dashboard/launches/{launch.slug}",
            f"/dashboard/launches/{launch.slug}/items.csv",
        ):
            assert client.get(path).status_code == 200
    assert counts() == before


def test_items_csv_has_every_item(api_server, launch, tokens, engine):
    with signed_in(api_server, tokens["leadership"]) as client:
        answer = client.get(f"/dashboard/launches/{launch.slug}/items.csv")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    with Session(engine) as session:
        total = session.exec(
            select(func.count()).select_from(ChecklistItem).join(Launch).where(Launch.slug == launch.slug)
        ).one()
    assert len(rows) == total
    assert {row["region"] for row in rows} == {"EU"}
    assert {"id", "status", "team", "due_at", "days_late", "blocking"} <= set(rows[0])


def test_phase_feed_is_rfc5545_and_subscribable_with_its_key(api_server, launch, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get(f"/dashboard/launches/{launch.slug}").text
        feed_url = re.search(r'href="([^"]*phases\.ics\?feed=[^"]*)"', page)
        assert feed_url is not None
        with_cookie = client.get(f"/dashboard/launches/{launch.slug}/phases.ics")
    url = feed_url.group(1).replace("&amp;", "&")
    with httpx.Client() as calendar_app:  # no cookie: only the key
        answer = calendar_app.get(url)
        assert answer.status_code == 200, answer.text
        assert calendar_app.get(url.replace("feed=", "feed=9")).status_code == 401
        assert calendar_app.get(f"{api_server}/dashboard/launches/{launch.slug}/phases.ics").status_code == 303
    assert answer.headers["content-type"].startswith("text/calendar")
    body = answer.content
    assert with_cookie.status_code == 200
    assert with_cookie.text.count("BEGIN:VEVENT") == answer.text.count("BEGIN:VEVENT")
    assert body.endswith(b"\r\n")
    assert b"\n" not in body.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))
    text = answer.text
    uids = re.findall(r"^UID:(.*)\r$", text, re.M)
    assert sorted(uids) == sorted(f"{launch.slug}.EU.{phase}@launchdeck" for phase in ("internal", "ga"))
    assert text.count("BEGIN:VEVENT") == 2
    assert "DTSTART:20270110T090000Z" in text


# ---- SQL statements per page do not grow with the number of launches ---------------------------


@contextmanager
def counting(engine):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _add_launches(session: Session, count: int, start: int) -> None:
    for number in range(start, start + count):
        launch = make_launch(
            session,
            ACTOR,
            slug=f"bulk-{number}",
            regions=("EU", "NA"),
            dates=phase_dates(datetime(2027, 3, 1, 9, tzinfo=UTC) + timedelta(days=number)),
            items=[
                item(f"task_{n}", region=region, phase=phase, blocking=n % 2 == 0)
                for n in range(3)
                for region in ("EU", "NA")
                for phase in phase_dates()
            ],
        )
        assert launch.id is not None
        kick_off_launch(session=session, launch_id=launch.id, actor=ACTOR)


def test_queries_per_page_are_the_same_for_2_and_10_launches(api_server, tokens, engine, seeded):
    _add_launches(seeded, 2, 0)
    with signed_in(api_server, tokens["leadership"]) as client:

        def measure() -> tuple[int, int]:
            with counting(engine) as portfolio:
                assert client.get("/dashboard/").status_code == 200
            with counting(engine) as launch_page:
                assert client.get("/dashboard/launches/bulk-1").status_code == 200
            return len(portfolio), len(launch_page)

        few = measure()
        _add_launches(seeded, 8, 2)
        many = measure()
    assert few == many
    assert few[0] <= 10
    assert few[1] <= 25
