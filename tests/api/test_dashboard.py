"""The leadership dashboard over real HTTP (uvicorn on loopback, SQLite and PostgreSQL): token
sign-in as a signed cookie, the portfolio and launch pages, the CSV and iCalendar exports, pages
that never write, and a query count per page that does not grow with the number of launches."""

import csv
import io
import re
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import Engine, event, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from orchestrator.beta.criteria import set_exit_criteria
from orchestrator.beta.feedback import submit_feedback
from orchestrator.core.actors import Actor
from orchestrator.core.enums import ExitMetric, FeedbackType, GateKind, GateStatus, Phase, Source
from orchestrator.core.models import (
    ApiToken,
    AuditEvent,
    ChecklistItem,
    Gate,
    Launch,
    PhaseDate,
    RagSnapshot,
    RegionRollout,
)
from orchestrator.core.sqltime import seconds_between
from orchestrator.directory.tokens import revoke_token
from orchestrator.gates.beta_exit import beta_exit_status, launch_exit_statuses
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.portfolio import MARKER_WINDOW, change_marker
from tests.support.api import API_PREFIX, BETA_LAUNCH, auth, create_kicked_off_launch
from tests.support.factories import item, make_launch, phase_dates
from tests.support.web import csrf_of, form_csrf, post_login, signed_in

ACTOR = Actor(name="pat@example.com", source=Source.CLI)


@pytest.fixture
def launch(api_server, tokens, engine):
    with httpx.Client(base_url=api_server) as client:
        return create_kicked_off_launch(client, tokens["prodops"], engine, spare_token_id=1)


@pytest.mark.one_database(reason="sign-in redirects and cookie flags (tests/ONE_DATABASE.md)")
def test_a_page_without_a_session_redirects_to_login_and_back(api_server, launch, tokens):
    with httpx.Client(base_url=api_server) as client:
        answer = client.get(f"/dashboard/launches/{launch.slug}")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next=/dashboard/launches/{launch.slug}"
        form = client.get(answer.headers["location"])
        assert form.status_code == 200
        assert f'name="next" value="/dashboard/launches/{launch.slug}"' in form.text
        signed = client.post(
            "/login",
            data={
                "token": tokens["leadership"],
                "next": f"/dashboard/launches/{launch.slug}",
                "csrf": csrf_of(form.text),
            },
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


@pytest.mark.one_database(reason="sign-in form refusals (tests/ONE_DATABASE.md)")
@pytest.mark.parametrize(
    ("token", "message"),
    [("ldk_not-a-real-token", "unknown or revoked"), ("", "paste an API token")],
)
def test_a_bad_token_is_refused_on_the_form_with_the_reason(api_server, tokens, token, message):
    with httpx.Client(base_url=api_server) as client:
        answer = post_login(client, token)
        assert answer.status_code == 401
        assert "text/html" in answer.headers["content-type"]
        assert message in answer.text
        assert "set-cookie" not in answer.headers


@pytest.mark.one_database(reason="sign-in redirect target (tests/ONE_DATABASE.md)")
def test_login_only_redirects_inside_the_dashboard(api_server, tokens):
    with httpx.Client(base_url=api_server) as client:
        answer = post_login(client, tokens["member"], "https://evil.example/x")
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


# Cookie and feed-key parsing happens before any query: the database behind it makes no difference.
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("cookie", ["\u0661.\u0662.x", "1.2.\u00e9", "1.2", "", "\u00e9" * 40])
def test_odd_cookies_and_feed_keys_are_refused_not_crashed_on(api_server, launch, cookie):
    raw = {"cookie": f"launchdeck_session={cookie}".encode()}  # bytes: httpx sends them as they are
    with httpx.Client(base_url=api_server) as client:
        assert client.get("/dashboard/", headers=raw).status_code == 303
        assert client.get(f"/dashboard/launches/{launch.slug}/phases.ics", params={"feed": cookie}).status_code in (
            303,
            401,
        )


@pytest.mark.one_database(reason="session cookie handling (tests/ONE_DATABASE.md)")
def test_logout_forgets_the_session(api_server, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        out = client.post("/logout", data={"csrf": form_csrf(client, "/dashboard/")})
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


def test_a_skipped_phase_shows_as_skipped_in_a_neutral_style_never_green(api_server, launch, tokens):
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get(f"/dashboard/launches/{launch.slug}")
        portfolio = client.get("/dashboard/")
    portfolio_row = re.search(rf'<tr data-slug="{launch.slug}">(.*?)</tr>', portfolio.text, re.S)
    assert portfolio_row is not None, portfolio.text
    assert 'EU: internal (gated) <span class="skipped-phases">skips private beta, public beta</span>' in (
        portfolio_row.group(1)
    )
    assert page.status_code == 200
    row = re.search(r'<tr data-region="EU">(.*?)</tr>', page.text, re.S)
    assert row is not None, page.text
    cells = dict(re.findall(r'<td data-phase="(\w+)"[^>]*>(.*?)</td>', row.group(1), re.S))
    for skipped in ("private_beta", "public_beta"):
        assert '<span class="cell-status">skipped</span>' in cells[skipped], cells[skipped]
        assert 'class="rag rag-skipped">Skipped<' in cells[skipped], cells[skipped]
        assert "rag-green" not in cells[skipped]
        assert "rag-red" not in cells[skipped]
    assert "skipped" not in cells["internal"]
    assert "skipped" not in cells["ga"]


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
    # The audit timeline tells the check-off as a sentence: who (name and team), which item, where.
    assert re.search(
        r'<span class="sentence">Member Person \(Product marketing\) checked &#39;[^<]+&#39; for \w+ ', page
    ), re.findall(r'class="sentence">([^<]*)', page)
    assert "<svg" in page
    assert 'role="img"' in page
    assert "Show the numbers" in page  # the burndown's table alternative
    assert 'id="beta-feedback"' in page  # ranked beta feedback, or a note that there is none


# ---- Beta programs on the launch page (issue #8) -----------------------------------------------


def _criteria(page: str, region: str, phase: str) -> dict[str, str]:
    """A matrix cell's criteria as metric -> its line of text (value, threshold, met or not)."""
    cell = re.search(rf'<tr data-region="{region}">.*?<td data-phase="{phase}"[^>]*>(.*?)</td>', page, re.S)
    assert cell is not None, page
    return {
        metric: re.sub(r"<[^>]+>", "", line).strip()
        for metric, line in re.findall(r'<li data-metric="([a-z_0-9]+)">(.*?)</li>', cell.group(1), re.S)
    }


def _ranked(page: str) -> list[tuple[str, str, str]]:
    """The ranked feedback table as (rank, feedback text, region · phase) rows."""
    table = re.search(r'<table id="beta-feedback">(.*?)</table>', page, re.S)
    if table is None:
        return []
    return [
        (rank, text, region)
        for rank, text, region in re.findall(
            r'<tr data-feedback="\d+">\s*<td class="num">(\d+)</td>.*?<th scope="row"[^>]*>(.*?)</th>'
            r".*?<td>[^<]*</td>\s*<td>(\w+) · ",
            table.group(1),
            re.S,
        )
    ]


def test_beta_exit_criteria_and_ranked_feedback_show_and_change(api_server, tokens):
    with httpx.Client(base_url=api_server) as api:
        created = api.post(f"{API_PREFIX}/launches", json=BETA_LAUNCH, headers=auth(tokens["prodops"]))
        assert created.status_code == 201, created.text
    path = "/dashboard/launches/acme-beta"
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get(path).text
        assert _criteria(page, "EU", "public_beta") == {
            "open_severity_1": "open severity 1: 0 (needs at most 0) — met",
            "active_accounts": "active accounts: 0 (needs at least 2) — not met",
        }
        assert _criteria(page, "EU", "ga") == {}  # no criteria for leaving public beta
        assert "No open beta feedback." in page

        report = {"region": "EU", "phase": "private_beta", "account": "acme", "type": "bug", "text": "Export fails"}
        with httpx.Client(base_url=api_server) as api:
            for body in (
                {**report, "severity": 3, "text": "Typo on the billing page"},
                {**report, "severity": 1, "text": "Export loses data " + "x" * 200, "link": "https://t.example/1"},
                {**report, "region": "NA", "severity": 2, "text": "Slow search"},
            ):
                answer = api.post(
                    f"{API_PREFIX}/launches/acme-beta/beta/feedback", json=body, headers=auth(tokens["member"])
                )
                assert answer.status_code == 201, answer.text
        page = client.get(path).text
        assert (
            _criteria(page, "EU", "public_beta")["open_severity_1"] == "open severity 1: 1 (needs at most 0) — not met"
        )
        assert _criteria(page, "NA", "public_beta")["open_severity_1"] == "open severity 1: 0 (needs at most 0) — met"
        ranked = _ranked(page)
        assert [(rank, region) for rank, _text, region in ranked] == [("1", "EU"), ("2", "NA"), ("3", "EU")]
        assert ranked[0][1].startswith("Export loses data")
        assert ranked[0][1].endswith("…")
        assert len(ranked[0][1]) <= 121  # shortened; the full text is in the title
        assert 'href="https://t.example/1"' in page

        only_na = client.get(path, params={"region": "NA"})
        assert only_na.status_code == 200
        assert [(rank, region) for rank, _text, region in _ranked(only_na.text)] == [("1", "NA")]
        assert '<option value="NA" selected>' in only_na.text

        unknown = client.get(path, params={"region": "MARS"})
        assert unknown.status_code == 422
        assert "&#39;MARS&#39; is not a region of this launch (it has: EU, NA)" in unknown.text
        assert len(_ranked(unknown.text)) == 3  # the page still shows every region


@pytest.fixture
def beta_launch(seeded):
    launch = make_launch(seeded, ACTOR, slug="beta-sets", regions=("EU", "NA", "APAC"))
    assert launch.id is not None
    set_exit_criteria(
        session=seeded,
        launch_id=launch.id,
        phase=Phase.PRIVATE_BETA,
        thresholds={ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 1, ExitMetric.FIX_WEEKS: 1},
        actor=ACTOR,
    )
    for region, severity in (("EU", 1), ("EU", 1), ("NA", 2), ("APAC", 1)):
        submit_feedback(
            session=seeded,
            launch_id=launch.id,
            region_code=region,
            phase=Phase.PRIVATE_BETA,
            account=f"acct-{region}-{severity}",
            type=FeedbackType.BUG,
            severity=severity,
            text="Broken",
            actor=ACTOR,
        )
    return launch


def test_launch_exit_statuses_equal_beta_exit_status_for_every_gate(seeded, beta_launch):
    """The dashboard's set-based read gives exactly what the per-gate read gives."""
    now = datetime(2027, 3, 1, tzinfo=UTC)
    together = launch_exit_statuses(session=seeded, launch_id=beta_launch.id, now=now)
    gates = seeded.exec(
        select(Gate)
        .join(RegionRollout)
        .where(RegionRollout.launch_id == beta_launch.id, Gate.kind == GateKind.BETA_EXIT)
    ).all()
    assert gates
    for gate in gates:
        one = beta_exit_status(session=seeded, rollout_id=gate.rollout_id, phase=gate.phase, now=now)
        assert one, "every beta-exit gate of this launch has criteria"
        assert together[(gate.rollout_id, gate.phase)] == one
    values = {status.metric: status.value for status in together[(gates[0].rollout_id, gates[0].phase)]}
    assert set(values) == {ExitMetric.OPEN_SEVERITY_1, ExitMetric.ACTIVE_ACCOUNTS, ExitMetric.FIX_WEEKS}


def test_portfolio_next_gate_says_how_many_exit_criteria_are_met(api_server, tokens, seeded, beta_launch):
    """Every region got as far as private beta, so each waits at its beta exit gate: the portfolio's
    next-gate cell counts the criteria met and names each one's value and threshold."""
    assert beta_launch.id is not None
    kick_off_launch(session=seeded, launch_id=beta_launch.id, actor=ACTOR)
    order = Phase.ordered()
    for gate in seeded.exec(select(Gate).join(RegionRollout).where(RegionRollout.launch_id == beta_launch.id)):
        if order.index(gate.phase) < order.index(Phase.PUBLIC_BETA):
            gate.status = GateStatus.PASSED
    seeded.commit()
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get("/dashboard/")
    row = re.search(r'<tr data-slug="beta-sets">(.*?)</tr>', page.text, re.S)
    assert row is not None, page.text
    assert re.search(r"public beta, .*exit criteria: [0-3] of 3 met", row.group(1), re.S), row.group(1)
    assert "open_severity_1: " in row.group(1)
    assert "(needs &gt;= 1)" in row.group(1)  # active_accounts and fix_weeks, escaped in the title


@pytest.mark.one_database(reason="a 404 page (tests/ONE_DATABASE.md)")
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
        # The app's Slack interaction worker polls the same engine in the background (its own
        # BEGIN IMMEDIATE transactions); its statements are no page's.
        if "slackinteraction" not in statement and statement != "BEGIN IMMEDIATE":
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _add_launches(session: Session, count: int, start: int) -> None:
    """Launches with items, beta exit criteria and beta feedback in both regions."""
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
        set_exit_criteria(
            session=session,
            launch_id=launch.id,
            phase=Phase.PRIVATE_BETA,
            thresholds={ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 5, ExitMetric.FIX_WEEKS: 2},
            actor=ACTOR,
        )
        for region in ("EU", "NA"):
            submit_feedback(
                session=session,
                launch_id=launch.id,
                region_code=region,
                phase=Phase.PRIVATE_BETA,
                account=f"acct-{number}",
                type=FeedbackType.BUG,
                severity=1 + number % 4,
                text=f"Feedback {number} in {region}",
                actor=ACTOR,
            )


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
        assert "Feedback 1 in EU" in client.get("/dashboard/launches/bulk-1").text
        _add_launches(seeded, 8, 2)
        many = measure()
    assert few == many
    # 10, the next gates' beta exit criteria (4: these launches have some), the marker's 2nd, the tab
    # counts, each region's latest recorded forecast, the order of every active launch (rag_rank: a
    # page computes only its own launches)
    assert few[0] <= 18
    # 25, and one per kind of thing the latest audit events name (audit_facts: ten kinds at most);
    # then the readiness forecast: 2, from the page's own burndowns (and a few per region whose next
    # gate waits for votes or beta exit criteria: none here, every region waits at internal)
    assert few[1] <= 35 + 2


# ---- the change marker the portfolio cache trusts ------------------------------------------------


def test_the_portfolio_shows_a_change_at_once_though_it_is_reused_between_changes(api_server, launch, tokens, engine):
    """The portfolio is computed once and reused (api/portfolio_cache.py); the change marker is
    what makes the next page show a change recorded in between, well inside the reuse time."""
    with Session(engine) as session:
        blocking = session.exec(
            select(ChecklistItem.id)
            .join(Launch, col(Launch.id) == col(ChecklistItem.launch_id))
            .where(Launch.slug == launch.slug, col(ChecklistItem.blocking).is_(True))
            .order_by(col(ChecklistItem.id))
        ).first()
    assert blocking is not None

    def portfolio_row(client: httpx.Client) -> str:
        page = client.get("/dashboard/")
        row = re.search(rf'<tr data-slug="{launch.slug}">(.*?)</tr>', page.text, re.S)
        assert row is not None, page.text
        return row.group(1)

    with signed_in(api_server, tokens["leadership"]) as client:
        before = portfolio_row(client)
        assert portfolio_row(client) == before  # reused, or recomputed the same
        answer = httpx.post(
            f"{api_server}{API_PREFIX}/items/{blocking}/block",
            json={"reason": "vendor contract unsigned"},
            headers=auth(tokens["prodops"]),
        )
        assert answer.status_code == 200, answer.text
        after = portfolio_row(client)
    assert "1 blocking item blocked" not in before
    assert "1 blocking item blocked" in after


def _event_with_id(engine: Engine, event_id: int) -> None:
    """An audit event with a chosen id: how a transaction that took its id early and committed late
    looks to a reader."""
    with Session(engine) as session:
        session.add(AuditEvent(id=event_id, entity="item", action="item.checked", actor="x", source=Source.API))
        session.commit()


def _marker(engine: Engine) -> tuple[int, int]:
    with Session(engine) as session:
        return change_marker(session=session)


def test_change_marker_moves_with_every_recent_event_even_one_committed_late(engine, seeded):
    base = 100_000
    _event_with_id(engine, base)
    first = _marker(engine)
    assert _marker(engine) == first  # nothing written, nothing changed
    _event_with_id(engine, base + 10)
    newer = _marker(engine)
    assert newer != first
    _event_with_id(engine, base + 5)  # a lower id, committed after the higher one was seen
    late = _marker(engine)
    assert late != newer
    assert late[0] == newer[0] == base + 10


def test_change_marker_looks_back_a_bounded_window(engine, seeded):
    """The documented bound: only an event committed after ``MARKER_WINDOW`` newer ones goes
    unseen (the cache's age limit covers it); counting every event cost time per event."""
    base = 100_000
    _event_with_id(engine, base + MARKER_WINDOW + 10)
    before = _marker(engine)
    _event_with_id(engine, base)  # more than a window below the newest
    assert _marker(engine) == before


# ---- Time arithmetic in SQL (the portfolio's slips) ---------------------------------------------


def test_seconds_between_matches_python_on_both_databases(seeded):
    """The slip the portfolio reads from the database equals the Python difference: a slip, a
    date pulled in, a slip with an extra hour (what a DST change looks like in UTC) and none."""
    launch = make_launch(seeded, ACTOR, slug="slips")
    rollout_id = seeded.exec(select(RegionRollout.id).where(RegionRollout.launch_id == launch.id)).one()
    moves = {
        Phase.INTERNAL: timedelta(days=3),
        Phase.PRIVATE_BETA: -timedelta(days=2, hours=5),
        Phase.PUBLIC_BETA: timedelta(days=9, hours=1),
        Phase.GA: timedelta(0),
    }
    dates = seeded.exec(select(PhaseDate).where(PhaseDate.rollout_id == rollout_id)).all()
    for planned in dates:
        planned.current_at = planned.baseline_at + moves[planned.phase]
        seeded.add(planned)
    seeded.commit()
    read = dict(
        seeded.execute(
            sa_select(
                col(PhaseDate.phase), seconds_between(col(PhaseDate.current_at), col(PhaseDate.baseline_at))
            ).where(col(PhaseDate.rollout_id) == rollout_id)
        ).all()
    )
    assert read == {phase: int(move.total_seconds()) for phase, move in moves.items()}
