"""Slack's endpoints over real HTTP (the ``api_server`` fixture, SQLite and PostgreSQL), with
requests signed exactly the way Slack signs them: ``v0:<timestamp>:<raw body>``, HMAC-SHA256.

What is proven: nothing is parsed or changed unless the signature and its timestamp hold; a click
is acknowledged with an empty 200 before its work is done (the work is held back by a database
lock the test controls, and the answer still comes; a graceful stop waits for it), and the work
follows: a Done click by the owning team checks the item once (audited as source "slack") however
often it is clicked; other teams and unknown Slack users are refused through response_url with
nothing changed; overflow choices open the right modal (through a recorder standing in for
views.open) and submissions change the item, answering in the body; ``/launch`` answers.
Clicks' effects are awaited by polling with a deadline (or the recorder's condition), never slept."""

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlmodel import Session, col, select

import api.app
from api.slack import get_responder, get_view_opener
from notifications.ids import ActionId, InputId, ItemChoice, ItemChoiceRef, ItemRef
from orchestrator.beta.criteria import set_exit_criteria
from orchestrator.core.db import WRITE_INTENT, is_sqlite
from orchestrator.core.enums import ExitMetric, ItemStatus, Phase, Role, Source
from orchestrator.core.models import AuditEvent, ChecklistItem, Launch, Waiver
from orchestrator.core.settings import reset_settings
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from tests.support.api import served_with_fakes
from tests.support.db import before_any_query
from tests.support.factories import item, make_launch, severity_1_bug
from tests.support.flows import wait_for
from tests.support.slack_http import (
    LAWYER,
    MARKETER,
    PRODOPS,
    SECRET,
    STRANGER,
    WAIT,
    Recorder,
    SlackClient,
    block_action,
    done,
    submission,
)


@pytest.fixture
def slack(request, monkeypatch, seeded, actor):
    """A launch with a marketing and a legal item, members linked to Slack users, and the live
    server with its views.open / response_url seams replaced by one recorder."""
    monkeypatch.setenv("LAUNCHDECK_SLACK_SIGNING_SECRET", SECRET)
    reset_settings()
    for email, team, role, slack_id in [
        ("mia@example.com", "marketing", Role.MEMBER, MARKETER),
        ("lee@example.com", "legal", Role.MEMBER, LAWYER),
        ("pat@example.com", None, Role.PRODOPS, PRODOPS),
    ]:
        seed = MemberSeed(email=email, name=email.split("@")[0], team=team, role=role, slack_user_id=slack_id)
        upsert_member(session=seeded, seed=seed, actor=actor)
    launch = make_launch(seeded, actor, slug="acme-assistant", items=[item("press_kit"), item("dpa", team="legal")])
    items = {row.key: row.id for row in seeded.exec(select(ChecklistItem).where(ChecklistItem.launch_id == launch.id))}

    recorder = Recorder()
    base = served_with_fakes(request, monkeypatch, {get_view_opener: lambda: recorder, get_responder: lambda: recorder})
    yield SlackClient(base, recorder, items, launch.slug)
    reset_settings()


def fresh(engine, item_id) -> ChecklistItem:
    with Session(engine) as session:
        row = session.get(ChecklistItem, item_id)
        assert row is not None
        return row


def audit(engine, item_id) -> list[AuditEvent]:
    with Session(engine) as session:
        return list(
            session.exec(
                select(AuditEvent)
                .where(AuditEvent.entity == "item", AuditEvent.entity_id == item_id)
                .order_by(col(AuditEvent.id))
            ).all()
        )


def done_soon(engine, item_id) -> ChecklistItem:
    """The item once a deferred check-off has been applied (polled, with a deadline)."""

    def applied() -> ChecklistItem | None:
        row = fresh(engine, item_id)
        return row if row.status == ItemStatus.DONE else None

    return wait_for(applied, timeout=WAIT)


@contextmanager
def write_lock_on(engine, item_id) -> Iterator[None]:
    """Hold what a check-off of the item must wait for, until the block ends: the database's write
    lock on SQLite (``BEGIN IMMEDIATE``), the item's row (``FOR UPDATE``) on PostgreSQL."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_INTENT: True})
        with connection.begin():
            if not is_sqlite(engine):
                connection.execute(select(ChecklistItem.id).where(ChecklistItem.id == item_id).with_for_update())
            yield


# --- signature ------------------------------------------------------------------------------


@before_any_query
def test_a_bad_signature_is_refused_and_changes_nothing(slack, engine):
    press_kit = slack.items["press_kit"]
    for options in ({"secret": "not-the-secret"}, {"signature": "v0=" + "0" * 64}):
        answer = slack.interact(done(MARKETER, press_kit), **options)
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "signature" in answer.json()["detail"]
    unsigned = slack.http.post("/slack/commands", content=b"command=%2Flaunch&text=help&user_id=U0MARKET1")
    assert unsigned.status_code == 401
    assert fresh(engine, press_kit).status == ItemStatus.TODO
    assert audit(engine, press_kit) == []


@before_any_query
def test_a_stale_timestamp_is_refused_as_a_replay(slack, engine):
    press_kit = slack.items["press_kit"]
    answer = slack.interact(done(MARKETER, press_kit), timestamp=int(time.time()) - 301)
    assert answer.status_code == 401
    assert "old" in answer.json()["detail"]
    future = slack.command("help")  # a fresh one still works
    assert future.status_code == 200
    assert fresh(engine, press_kit).status == ItemStatus.TODO


@before_any_query
def test_without_a_signing_secret_the_endpoints_say_what_to_set(slack, monkeypatch):
    monkeypatch.delenv("LAUNCHDECK_SLACK_SIGNING_SECRET")
    reset_settings()
    answer = slack.command("help")
    assert answer.status_code == 503
    assert "LAUNCHDECK_SLACK_SIGNING_SECRET" in answer.json()["detail"]


@before_any_query
def test_url_verification_answers_the_challenge(slack):
    body = json.dumps({"type": "url_verification", "token": "x", "challenge": "3eZbrw1aBm2rZgRN"}).encode()
    answer = slack.post("/slack/events", body, content_type="application/json")
    assert answer.status_code == 200
    assert answer.text == "3eZbrw1aBm2rZgRN"
    other = slack.post(
        "/slack/events", json.dumps({"type": "event_callback"}).encode(), content_type="application/json"
    )
    assert other.status_code == 200


# --- buttons ---------------------------------------------------------------------------------


def test_done_by_the_owning_team_checks_the_item_once(slack, engine):
    press_kit = slack.items["press_kit"]
    first = slack.interact(done(MARKETER, press_kit))
    assert first.status_code == 200
    assert first.content == b""  # block_actions: an empty acknowledgement
    checked = done_soon(engine, press_kit)
    assert checked.checked_by == "mia@example.com"
    events = audit(engine, press_kit)
    assert [(event.action, event.source, event.actor) for event in events] == [
        ("item.checked", Source.SLACK, "mia@example.com")
    ]

    second = slack.interact(done(MARKETER, press_kit))  # a later click, with the old version
    assert (second.status_code, second.content) == (200, b"")
    [told] = slack.recorder.wait_for_responses(1)  # after its (no-op) work, so the checks below see it
    assert "already done" in told["text"]
    assert fresh(engine, press_kit).version == checked.version
    assert len(audit(engine, press_kit)) == 1


def test_a_double_click_changes_nothing_twice(slack, engine):
    press_kit = slack.items["press_kit"]
    answers = [slack.interact(done(MARKETER, press_kit)) for _ in range(2)]  # both acknowledged at once
    assert [(answer.status_code, answer.content) for answer in answers] == [(200, b""), (200, b"")]
    [told] = slack.recorder.wait_for_responses(1)
    assert "already done" in told["text"]  # the second click, applied after the first, not racing it
    assert done_soon(engine, press_kit).version == 2
    assert [event.action for event in audit(engine, press_kit)] == ["item.checked"]


# The click's work is held back by the item's row lock: PostgreSQL only, since on SQLite the one
# database write lock would hold back the click's recording (its INSERT) as well. On both
# databases tests/api/test_slack_durability.py shows the work following the acknowledgement.
on_postgres_only = pytest.mark.parametrize(
    "engine", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@on_postgres_only
def test_a_click_is_acknowledged_before_its_work_is_done(slack, engine):
    press_kit = slack.items["press_kit"]
    with write_lock_on(engine, press_kit):
        # Answering after the check-off would wait for this lock and time out here.
        answer = slack.interact(done(MARKETER, press_kit), timeout=WAIT)
        assert (answer.status_code, answer.content) == (200, b"")
        assert fresh(engine, press_kit).status == ItemStatus.TODO  # the work is still held back
        assert audit(engine, press_kit) == []
    done_soon(engine, press_kit)  # and it is carried out once the lock is gone
    assert [event.action for event in audit(engine, press_kit)] == ["item.checked"]


@on_postgres_only
def test_a_graceful_stop_carries_out_the_clicks_it_acknowledged(slack, engine):
    """A server of its own, stopped while an acknowledged click is still held back by the lock:
    the stop waits for the click to be applied instead of dropping it."""
    import uvicorn

    from flows.server import free_port

    app = api.app.create_app(engine=engine)
    app.dependency_overrides[get_responder] = lambda: slack.recorder
    app.dependency_overrides[get_view_opener] = lambda: slack.recorder
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    wait_for(lambda: server.started, timeout=30, interval=0.05)
    own = SlackClient(f"http://127.0.0.1:{port}", slack.recorder, slack.items, slack.slug)
    press_kit = slack.items["press_kit"]
    with write_lock_on(engine, press_kit):
        answer = own.interact(done(MARKETER, press_kit), timeout=WAIT)
        assert (answer.status_code, answer.content) == (200, b"")
        own.http.close()
        server.should_exit = True
        wait_for(lambda: not app.state.slack_work.accepting, timeout=30, interval=0.01)  # stopping began
        assert fresh(engine, press_kit).status == ItemStatus.TODO
    serving.join(timeout=30)
    assert not serving.is_alive()
    assert fresh(engine, press_kit).status == ItemStatus.DONE  # applied before the server was gone
    assert [event.action for event in audit(engine, press_kit)] == ["item.checked"]


def test_a_click_from_another_team_is_refused_and_changes_nothing(slack, engine):
    press_kit = slack.items["press_kit"]
    answer = slack.interact(done(LAWYER, press_kit))
    assert (answer.status_code, answer.content) == (200, b"")
    [told] = slack.recorder.wait_for_responses(1)  # ephemeral, through response_url
    assert told["response_url"] == "https://hooks.slack.com/actions/T0TEAM/1/abc"
    assert "marketing team" in told["text"]
    assert "Nothing was changed" in told["text"]
    unchanged = fresh(engine, press_kit)
    assert (unchanged.status, unchanged.version) == (ItemStatus.TODO, 1)
    assert audit(engine, press_kit) == []


@pytest.mark.one_database(reason="a refusal message (tests/ONE_DATABASE.md)")
def test_an_unknown_slack_user_is_refused(slack, engine):
    press_kit = slack.items["press_kit"]
    answer = slack.interact(done(STRANGER, press_kit))
    assert (answer.status_code, answer.content) == (200, b"")
    [told] = slack.recorder.wait_for_responses(1)
    assert "does not know Slack user" in told["text"]
    assert STRANGER in told["text"]
    assert fresh(engine, press_kit).status == ItemStatus.TODO
    assert audit(engine, press_kit) == []


@pytest.mark.one_database(reason="a refusal message (tests/ONE_DATABASE.md)")
def test_a_domain_error_is_a_friendly_text(slack, engine):
    answer = slack.interact(done(PRODOPS, 999_999))
    assert (answer.status_code, answer.content) == (200, b"")
    [told] = slack.recorder.wait_for_responses(1)
    assert "does not exist" in told["text"]


@before_any_query
def test_a_payload_we_did_not_render_is_a_400(slack):
    answer = slack.interact(block_action(MARKETER, ActionId.ITEM_DONE, value='{"item_id": "x"}'))
    assert answer.status_code == 400


# --- overflow and modals ---------------------------------------------------------------------


@pytest.mark.one_database(reason="modal rendering (tests/ONE_DATABASE.md)")
def test_overflow_waive_opens_the_waiver_modal(slack, engine):
    press_kit = slack.items["press_kit"]
    option = ItemChoiceRef(item_id=press_kit, version=1, choice=ItemChoice.WAIVE).to_value()
    answer = slack.interact(block_action(MARKETER, ActionId.ITEM_OVERFLOW, option=option))
    assert answer.status_code == 200
    assert answer.content == b""
    [opened] = slack.recorder.wait_for_views(1)
    assert opened["trigger_id"] == f"trigger-{MARKETER}"
    view = opened["view"]
    assert view["type"] == "modal"
    assert view["callback_id"] == ActionId.WAIVE_SUBMIT
    assert ItemRef.from_value(view["private_metadata"]) == ItemRef(item_id=press_kit, version=1)
    assert view["blocks"][1]["block_id"] == InputId.WAIVE_REASON
    assert fresh(engine, press_kit).status == ItemStatus.TODO  # opening a modal changes nothing


@pytest.mark.one_database(reason="a refusal message (tests/ONE_DATABASE.md)")
def test_overflow_from_another_team_opens_no_modal(slack):
    option = ItemChoiceRef(item_id=slack.items["press_kit"], version=1, choice=ItemChoice.BLOCK).to_value()
    answer = slack.interact(block_action(LAWYER, ActionId.ITEM_OVERFLOW, option=option))
    assert (answer.status_code, answer.content) == (200, b"")
    [told] = slack.recorder.wait_for_responses(1)
    assert "marketing team" in told["text"]
    assert slack.recorder.views == []  # the refusal is sent after the decision, so no modal follows


def test_a_waiver_submitted_by_prodops_waives_the_item(slack, engine):
    press_kit = slack.items["press_kit"]
    answer = slack.interact(submission(PRODOPS, ItemChoice.WAIVE, press_kit, "Covered by the EU press tour"))
    assert answer.status_code == 200
    assert answer.content == b""  # closes the modal
    waived = fresh(engine, press_kit)
    assert waived.status == ItemStatus.WAIVED
    with Session(engine) as session:
        waiver = session.exec(select(Waiver).where(Waiver.item_id == press_kit)).one()
    assert (waiver.approver, waiver.reason) == ("pat@example.com", "Covered by the EU press tour")
    assert [(e.action, e.source) for e in audit(engine, press_kit)] == [("item.waived", Source.SLACK)]


def test_a_team_member_can_only_request_a_waiver(slack, engine):
    press_kit = slack.items["press_kit"]
    answer = slack.interact(submission(MARKETER, ItemChoice.WAIVE, press_kit, "Agency is late"))
    assert answer.json()["response_action"] == "update"
    assert fresh(engine, press_kit).status == ItemStatus.TODO
    [event] = audit(engine, press_kit)
    assert (event.action, event.reason) == ("item.commented", "Waiver requested: Agency is late")


def test_a_bad_evidence_link_keeps_the_modal_open(slack, engine):
    press_kit = slack.items["press_kit"]
    answer = slack.interact(submission(MARKETER, ItemChoice.EVIDENCE, press_kit, "wiki/press-kit"))
    reply = answer.json()
    assert reply["response_action"] == "errors"
    assert "http(s) link" in reply["errors"][InputId.EVIDENCE_URL]
    good = slack.interact(submission(MARKETER, ItemChoice.EVIDENCE, press_kit, "https://wiki.example.com/kit"))
    assert good.content == b""
    assert fresh(engine, press_kit).evidence_url == "https://wiki.example.com/kit"


def test_blocked_needs_a_reason(slack, engine):
    dpa = slack.items["dpa"]
    empty = slack.interact(submission(LAWYER, ItemChoice.BLOCK, dpa, "  "))
    assert InputId.BLOCKED_REASON in empty.json()["errors"]
    slack.interact(submission(LAWYER, ItemChoice.BLOCK, dpa, "Waiting for the DPA signature"))
    assert fresh(engine, dpa).blocked_reason == "Waiting for the DPA signature"


# --- /launch ---------------------------------------------------------------------------------


def test_launch_status_summarises_the_launch(slack):
    answer = slack.command(f"status {slack.slug}")
    assert answer.status_code == 200
    reply = answer.json()
    assert reply["response_type"] == "ephemeral"
    assert "Acme Assistant" in reply["text"]
    assert "*EU* Europe" in reply["text"]
    assert "2 open blocking of 2 items" in reply["text"]
    missing = slack.command("status no-such-launch").json()["text"]
    assert "does not exist" in missing


def test_launch_status_shows_the_beta_exit_criteria_a_region_waits_on(slack, seeded, actor):
    launch_id = seeded.exec(select(Launch.id).where(Launch.slug == slack.slug)).one()
    set_exit_criteria(
        session=seeded,
        launch_id=launch_id,
        phase=Phase.PRIVATE_BETA,
        thresholds={ExitMetric.OPEN_SEVERITY_1: 0, ExitMetric.ACTIVE_ACCOUNTS: 0},
        actor=actor,
    )
    severity_1_bug(seeded, actor, launch_id=launch_id)
    seeded.commit()
    text = slack.command(f"status {slack.slug}").json()["text"]
    assert (
        "exit criteria for Public beta: :x: open_severity_1: 1 (needs &lt;= 0), "
        ":white_check_mark: active_accounts: 0 (needs &gt;= 0)"
    ) in text


@before_any_query
def test_launch_help_and_unknown_subcommands_list_the_commands(slack):
    for text in ("help", "", "frobnicate now"):
        reply = slack.command(text).json()
        assert "/launch status <launch-slug>" in reply["text"]
        assert "/launch mine" in reply["text"]
    assert "I don't know `/launch frobnicate now`" in slack.command("frobnicate now").json()["text"]


def test_launch_mine_lists_my_teams_open_items(slack):
    text = slack.command("mine", user=MARKETER).json()["text"]
    assert "Press kit" in text
    assert "Dpa" not in text
    assert "does not know" in slack.command("mine", user=STRANGER).json()["text"]
