"""The built-in rollout targets against real parts: the recorder on SQLite and PostgreSQL, the
webhook against a real HTTP server on 127.0.0.1 whose answers each test scripts.

No test sleeps: backoff waits go to a recorder, and the only waiting happens in the server thread
(a "hang") or in a condition variable that wakes as soon as the server has seen a request.
"""

import base64
import json
import random
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, text
from sqlmodel import Session
from standardwebhooks import Webhook, WebhookVerificationError

from flows.targets import (
    RecordingTarget,
    WebhookRejected,
    WebhookTarget,
    encode_body,
    redact_url,
    target_from_settings,
)
from orchestrator.core.enums import Phase
from orchestrator.core.errors import ConfigError, LaunchdeckError
from orchestrator.core.models import ExposureChange, Region, RegionRollout
from orchestrator.core.settings import Settings, get_settings, reset_settings
from orchestrator.rollouts.target import ExposureRequest, RolloutTarget, TargetUnavailable
from tests.support.factories import make_launch


def whsec(seed: str) -> str:
    return "whsec_" + base64.b64encode(seed.encode().ljust(32, b"#")).decode()


SECRET = whsec("current signing key")
PREVIOUS = whsec("previous signing key")
STRANGER = whsec("somebody else's key")
REQUESTED_AT = datetime(2027, 3, 1, 9, 30, tzinfo=UTC)


def exposure(*, rollout_id=12, launch_id=7, percent=25, phase=Phase.PUBLIC_BETA, key=None) -> ExposureRequest:
    return ExposureRequest(
        launch_id=launch_id,
        launch_slug="acme-assistant",
        rollout_id=rollout_id,
        region="EU",
        phase=phase,
        percent=percent,
        idempotency_key=key or f"exposure:{rollout_id}:{phase}:{percent}:v3",
        requested_at=REQUESTED_AT,
    )


class SleepRecorder:
    """Stands in for time.sleep: remembers the waits the backoff asked for, waits for none."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


# ---- recording target ------------------------------------------------------------------------


@pytest.fixture
def rollout(seeded, actor):
    """A real launch's EU rollout id; the seeding session is committed so the target can write."""
    launch = make_launch(seeded, actor)
    rid = seeded.execute(
        select(RegionRollout.id)
        .join(Region, Region.id == RegionRollout.region_id)
        .where(RegionRollout.launch_id == launch.id, Region.code == "EU")
    ).scalar_one()
    seeded.commit()  # SQLite: end the read so its write lock does not block the target's session
    return launch.id, rid


def stored(engine, rid):
    with Session(engine) as session:
        rows = session.execute(
            select(ExposureChange.phase, ExposureChange.percent, ExposureChange.idempotency_key)
            .where(ExposureChange.rollout_id == rid)
            .order_by(ExposureChange.percent)
        ).all()
    return [tuple(row) for row in rows]


def test_recording_target_stores_a_repeated_request_once(engine, rollout):
    launch_id, rid = rollout
    target = RecordingTarget(engine)
    request = exposure(rollout_id=rid, launch_id=launch_id, percent=5)

    target.apply(request)
    target.apply(request)

    assert target.name == "recording"
    assert stored(engine, rid) == [(Phase.PUBLIC_BETA, 5, request.idempotency_key)]


def test_recording_target_stores_each_percent(engine, rollout):
    launch_id, rid = rollout
    target = RecordingTarget(engine)
    for percent in (5, 25, 100):
        target.apply(exposure(rollout_id=rid, launch_id=launch_id, percent=percent))

    assert [percent for _, percent, _ in stored(engine, rid)] == [5, 25, 100]


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["postgres"], indirect=True)  # SQLite serialises writers (BEGIN IMMEDIATE)
def test_recording_target_treats_a_concurrent_duplicate_as_a_repeat(engine, rollout):
    """Another writer inserts the same step and commits while ours is waiting on the unique index."""
    launch_id, rid = rollout
    request = exposure(rollout_id=rid, launch_id=launch_id, percent=25)
    # The pool is left last, after the rival's connection closed, so a failed assertion cannot
    # leave the worker waiting on a row lock forever.
    with ThreadPoolExecutor(max_workers=1) as pool, engine.connect() as rival, engine.connect() as watcher:
        rival.execute(
            ExposureChange.__table__.insert().values(
                rollout_id=rid,
                launch_slug="rival-writer",
                region="EU",
                phase=Phase.PUBLIC_BETA,
                percent=25,
                idempotency_key=request.idempotency_key,
                received_at=REQUESTED_AT,
            )
        )
        applied = pool.submit(RecordingTarget(engine).apply, request)
        waiting = threading.Event()
        deadline = time.monotonic() + 5
        while not waiting.is_set() and time.monotonic() < deadline:
            # The target's insert is blocked behind the rival's uncommitted row.
            blocked = watcher.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
            watcher.commit()
            if blocked:
                waiting.set()
            else:
                waiting.wait(0.01)
        assert waiting.is_set(), "the target's insert never waited on the rival's row"
        rival.commit()
        applied.result(timeout=10)  # re-raises whatever the target raised

    with Session(engine) as session:
        rows = session.execute(select(ExposureChange.launch_slug).where(ExposureChange.rollout_id == rid)).all()
    assert [tuple(row) for row in rows] == [("rival-writer",)]


def test_recording_target_still_refuses_an_unknown_rollout(engine, rollout):
    with Session(engine) as session:
        missing = (session.execute(select(func.max(RegionRollout.id))).scalar_one() or 0) + 1000
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        RecordingTarget(engine).apply(exposure(rollout_id=missing))


# ---- a scripted HTTP server ------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b'{"ok":true}'
    hang: bool = False  # hold the request without answering until the test ends


@dataclass
class Receiver:
    """What a receiver on one secret concluded about a request: verified or refused (and why)."""

    secret: str
    verdicts: list[str] = field(default_factory=list)

    def check(self, request: "Seen") -> bool:
        try:
            Webhook(self.secret).verify(request.body, request.headers)
        except WebhookVerificationError as exc:
            self.verdicts.append(f"refused: {exc}")
            return False
        self.verdicts.append("verified")
        return True


@dataclass
class ScriptedServer:
    """A real HTTP server on 127.0.0.1; answers follow ``script`` in order, then ``default``."""

    script: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    arrived: threading.Condition = field(default_factory=threading.Condition)
    release: threading.Event = field(default_factory=threading.Event)
    receiver: Receiver | None = None  # when set, answers 401 to what this secret does not verify

    def next_reply(self, request: Seen) -> Reply:
        with self.arrived:
            self.seen.append(request)
            self.arrived.notify_all()
            if self.receiver is not None and not self.receiver.check(request):
                return Reply(401, body=b"signature does not verify")
            return self.script.pop(0) if self.script else self.default

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Seen]:
        with self.arrived:
            assert self.arrived.wait_for(lambda: len(self.seen) >= count, timeout=timeout), self.seen
            return list(self.seen)


def handler_for(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            reply = server.next_reply(Seen(self.command, self.path, dict(self.headers.items()), body))
            if reply.hang:
                server.release.wait(timeout=10)
                self.close_connection = True
                return
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

    return Handler


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        """A client that gave up on a hanging request is expected here, not worth a traceback."""


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    scripted = ScriptedServer()
    httpd = QuietServer(("127.0.0.1", 0), handler_for(scripted))
    scripted.url = f"http://127.0.0.1:{httpd.server_address[1]}/hooks/exposure?token=abc"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield scripted
    finally:
        scripted.release.set()  # let hanging handlers finish
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sleeps() -> SleepRecorder:
    return SleepRecorder()


def webhook(url, sleeps, **options) -> WebhookTarget:
    options.setdefault("secrets", [SECRET])
    options.setdefault("jitter", lambda ceiling: ceiling)  # the ceiling itself, so waits are exact
    return WebhookTarget(url=url, sleep=sleeps, **options)


# ---- webhook target --------------------------------------------------------------------------


def test_webhook_sends_the_documented_request_signed_the_standard_webhooks_way(server, sleeps):
    server.receiver = Receiver(SECRET)
    request = exposure()
    before = int(time.time())
    with webhook(server.url, sleeps) as target:
        target.apply(request)
    after = int(time.time())

    [seen] = server.wait_for(1)
    assert server.receiver.verdicts == ["verified"]
    assert (seen.method, seen.path) == ("POST", "/hooks/exposure?token=abc")
    assert json.loads(seen.body) == {
        "launch": "acme-assistant",
        "launch_id": 7,
        "region": "EU",
        "phase": "public_beta",
        "percent": 25,
        "rollout_id": 12,
        "idempotency_key": "exposure:12:public_beta:25:v3",
        "requested_at": "2027-03-01T09:30:00+00:00",
    }
    assert datetime.fromisoformat(json.loads(seen.body)["requested_at"]) == REQUESTED_AT
    assert seen.body == encode_body(request)
    assert seen.headers["Content-Type"] == "application/json"
    # The webhook-id is the change's idempotency key, so receivers de-duplicate retries by it.
    assert seen.headers["webhook-id"] == seen.headers["Idempotency-Key"] == "exposure:12:public_beta:25:v3"
    assert before <= int(seen.headers["webhook-timestamp"]) <= after
    [signature] = seen.headers["webhook-signature"].split(" ")
    assert signature.startswith("v1,")
    assert len(base64.b64decode(signature.removeprefix("v1,"))) == 32  # an HMAC-SHA256
    assert Webhook(SECRET).verify(seen.body, seen.headers) == json.loads(seen.body)
    assert sleeps.calls == []


def test_the_readme_receiver_snippet_takes_a_real_delivery_and_refuses_a_forged_one(server, sleeps, monkeypatch):
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme[readme.index("#### Webhook") :]
    snippet = section[section.index("```python\n") + len("```python\n") :].split("```", 1)[0]
    applied: list[tuple[str, str, int]] = []
    monkeypatch.setenv("LAUNCHDECK_WEBHOOK_SECRET", SECRET)
    scope = {"already_applied": lambda key: False, "set_exposure": lambda *change: applied.append(change)}
    exec(compile(snippet, "README.md", "exec"), scope)
    webhook(server.url, sleeps).apply(exposure())
    [seen] = server.wait_for(1)

    assert scope["receive"](seen.body, seen.headers) == 200
    assert applied == [("acme-assistant", "EU", 25)]
    assert scope["receive"](seen.body.replace(b"25", b"95"), seen.headers) == 401
    assert applied == [("acme-assistant", "EU", 25)]


def test_a_changed_byte_another_secret_or_a_stale_timestamp_do_not_verify(server, sleeps):
    webhook(server.url, sleeps).apply(exposure())
    [seen] = server.wait_for(1)

    tampered = bytearray(seen.body)
    tampered[seen.body.index(b"25")] = ord("9")  # percent 25 -> 95
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(SECRET).verify(bytes(tampered), seen.headers)
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(STRANGER).verify(seen.body, seen.headers)
    with pytest.raises(WebhookVerificationError, match="signature"):
        Webhook(SECRET).verify(seen.body, {**seen.headers, "webhook-id": "exposure:12:public_beta:95:v3"})

    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    webhook(server.url, sleeps, clock=lambda: an_hour_ago).apply(exposure())
    stale = server.wait_for(2)[1]
    assert int(stale.headers["webhook-timestamp"]) == int(an_hour_ago.timestamp())
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(SECRET).verify(stale.body, stale.headers)


def test_after_a_rotation_receivers_on_the_current_or_the_previous_secret_both_verify(server, sleeps):
    """Signed with the current secret and the one being rotated out: a receiver not yet switched
    keeps taking changes, one already switched too, a stranger's is refused (401, not retried)."""
    target = webhook(server.url, sleeps, secrets=[SECRET, PREVIOUS])
    for accepted in (PREVIOUS, SECRET):
        server.receiver = Receiver(accepted)
        target.apply(exposure())
        assert server.receiver.verdicts == ["verified"]
    server.receiver = Receiver(STRANGER)
    with pytest.raises(WebhookRejected) as caught:
        target.apply(exposure())
    assert caught.value.status == 401
    assert server.receiver.verdicts == ["refused: No matching signature found"]

    signatures = server.seen[0].headers["webhook-signature"].split(" ")
    assert len(signatures) == 2
    assert signatures[0] == Webhook(SECRET).sign(
        "exposure:12:public_beta:25:v3",
        datetime.fromtimestamp(int(server.seen[0].headers["webhook-timestamp"]), UTC),
        server.seen[0].body,
    )


def test_malformed_secrets_are_refused_before_any_delivery():
    for bad in ([], ["plain-text"], ["whsec_"], [SECRET, "whsec_***"]):
        with pytest.raises(ValueError, match="secret"):
            WebhookTarget(url="https://hooks.example.com/x", secrets=bad)


def test_server_errors_are_retried_with_exponential_backoff_same_id_fresh_signature(server, sleeps):
    server.script = [Reply(500), Reply(500), Reply(200)]
    webhook(server.url, sleeps).apply(exposure())

    seen = server.wait_for(3)
    assert len(seen) == 3
    assert sleeps.calls == [0.5, 1.0]
    assert len({request.body for request in seen}) == 1  # every attempt carries the same bytes
    assert {request.headers["webhook-id"] for request in seen} == {"exposure:12:public_beta:25:v3"}
    for request in seen:
        Webhook(SECRET).verify(request.body, request.headers)


def test_backoff_is_full_jitter_below_a_doubling_capped_ceiling(server, sleeps):
    server.default = Reply(502)
    draws = random.Random(20)
    target = webhook(server.url, sleeps, max_attempts=9, backoff_seconds=1.0, jitter=lambda c: draws.uniform(0, c))
    with pytest.raises(TargetUnavailable):
        target.apply(exposure())

    ceilings = [1.0, 2.0, 4.0, 8.0, 10.0, 10.0, 10.0, 10.0]
    assert [target.backoff_ceiling(attempt) for attempt in range(8)] == ceilings
    assert len(sleeps.calls) == 8
    assert all(0 <= wait <= ceiling for wait, ceiling in zip(sleeps.calls, ceilings, strict=True))
    assert len(set(sleeps.calls)) == 8  # jittered, not the ceilings
    assert sleeps.calls != ceilings
    # A jitter source that misbehaves is clamped into [0, ceiling].
    wild = webhook(server.url, sleeps, jitter=lambda c: c * 5)
    assert (wild.backoff(0), wild.backoff(10)) == (0.5, 10.0)
    assert webhook(server.url, sleeps, jitter=lambda c: -1.0).backoff(3) == 0.0


def test_too_many_requests_waits_as_long_as_retry_after_says_in_seconds_or_as_a_date(server, sleeps):
    now = datetime(2027, 3, 1, 9, 30, 0, tzinfo=UTC)
    server.script = [
        Reply(429, {"Retry-After": "2"}),
        Reply(429, {"Retry-After": format_datetime(now + timedelta(seconds=7), usegmt=True)}),
        Reply(503, {"Retry-After": "Wed, 21 Oct 2037 07:28:00 GMT"}),  # years away: capped
        Reply(503, {"Retry-After": "3600"}),  # capped
        Reply(429, {"Retry-After": format_datetime(now - timedelta(minutes=1), usegmt=True)}),  # past: now
        Reply(429, {"Retry-After": "soon"}),  # unreadable: the backoff
        Reply(200),
    ]
    webhook(server.url, sleeps, max_attempts=7, clock=lambda: now).apply(exposure())

    assert len(server.wait_for(7)) == 7
    assert sleeps.calls == [2.0, 7.0, 30.0, 30.0, 0.0, 10.0]


def test_a_client_error_is_not_retried(server, sleeps):
    server.script = [Reply(400, body=b'{"error": "unknown region EU"}')]
    with pytest.raises(WebhookRejected) as caught:
        webhook(server.url, sleeps).apply(exposure())

    assert isinstance(caught.value, LaunchdeckError)
    assert caught.value.status == 400
    assert "HTTP 400" in caught.value.message
    assert "unknown region EU" in caught.value.message
    assert "token=abc" not in caught.value.message
    assert len(server.seen) == 1
    assert sleeps.calls == []


def test_a_server_that_stays_unavailable_gives_up_after_max_attempts(server, sleeps):
    server.default = Reply(503, body=b"maintenance")
    with pytest.raises(TargetUnavailable) as caught:
        webhook(server.url, sleeps, max_attempts=3).apply(exposure())

    assert len(server.wait_for(3)) == 3
    assert sleeps.calls == [0.5, 1.0]
    message = str(caught.value)
    assert server.url.split("?")[0] in message
    assert "token=abc" not in message
    assert "HTTP 503: maintenance" in message
    assert "3 attempt(s)" in message


def test_a_hanging_server_times_out_is_retried_then_gives_up(server, sleeps):
    server.default = Reply(hang=True)
    started = time.monotonic()
    with pytest.raises(TargetUnavailable) as caught:
        webhook(server.url, sleeps, timeout_seconds=0.2, max_attempts=2).apply(exposure())

    assert time.monotonic() - started < 2
    assert len(server.wait_for(2)) == 2
    assert sleeps.calls == [0.5]
    assert "ReadTimeout" in str(caught.value)


def test_a_hang_then_success_is_one_delivery(server, sleeps):
    server.script = [Reply(hang=True), Reply(200)]
    webhook(server.url, sleeps, timeout_seconds=0.2).apply(exposure())
    assert len(server.wait_for(2)) == 2
    assert sleeps.calls == [0.5]


def test_a_refused_connection_is_unavailable(sleeps):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is closed now: nothing listens on it.
    url = f"http://127.0.0.1:{port}/hook?token=abc"
    with pytest.raises(TargetUnavailable) as caught:
        webhook(url, sleeps, max_attempts=3).apply(exposure())

    assert sleeps.calls == [0.5, 1.0]
    assert f"http://127.0.0.1:{port}/hook" in str(caught.value)
    assert "ConnectError" in str(caught.value)


def test_redact_url_drops_query_fragment_and_credentials():
    assert redact_url("https://user:pw@hooks.example.com:8443/x/y?token=1#f") == "https://hooks.example.com:8443/x/y"


def test_the_secret_is_not_in_the_repr():
    assert SECRET not in repr(WebhookTarget(url="https://hooks.example.com/x", secrets=[SECRET]))


# ---- choosing a target from settings ---------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in (
        "LAUNCHDECK_ROLLOUT_TARGET",
        "LAUNCHDECK_WEBHOOK_URL",
        "LAUNCHDECK_WEBHOOK_SECRET",
        "LAUNCHDECK_WEBHOOK_PREVIOUS_SECRETS",
        "LAUNCHDECK_WEBHOOK_TIMEOUT_SECONDS",
        "LAUNCHDECK_WEBHOOK_MAX_ATTEMPTS",
    ):
        monkeypatch.delenv(name, raising=False)
    reset_settings()
    yield monkeypatch
    reset_settings()


def test_settings_choose_the_recording_target_by_default(clean_env, sqlite_engine):
    target = target_from_settings(Settings(), sqlite_engine)
    assert isinstance(target, RecordingTarget)
    assert target.name == "recording"


def test_settings_choose_the_webhook_target(clean_env, sqlite_engine):
    settings = Settings(
        rollout_target="webhook",
        webhook_url="https://hooks.example.com/exposure",
        webhook_secret=SECRET,
        webhook_timeout_seconds=2.5,
        webhook_max_attempts=3,
    )
    target = target_from_settings(settings, sqlite_engine)
    assert isinstance(target, WebhookTarget)
    assert (target.name, target.url, target.timeout_seconds, target.max_attempts) == (
        "webhook",
        "https://hooks.example.com/exposure",
        2.5,
        3,
    )
    target.close()


def test_settings_from_the_environment_sign_with_the_current_and_previous_secrets(clean_env, sqlite_engine, server):
    clean_env.setenv("LAUNCHDECK_ROLLOUT_TARGET", "webhook")
    clean_env.setenv("LAUNCHDECK_WEBHOOK_URL", server.url)
    clean_env.setenv("LAUNCHDECK_WEBHOOK_SECRET", SECRET)
    clean_env.setenv("LAUNCHDECK_WEBHOOK_PREVIOUS_SECRETS", f"{PREVIOUS}, {STRANGER}")
    target: RolloutTarget = target_from_settings(get_settings(), sqlite_engine)
    target.apply(exposure())

    [seen] = server.wait_for(1)
    assert len(seen.headers["webhook-signature"].split(" ")) == 3
    for secret in (SECRET, PREVIOUS, STRANGER):
        Webhook(secret).verify(seen.body, seen.headers)
    assert get_settings().webhook_secrets() == [SECRET, PREVIOUS, STRANGER]


def test_a_secret_not_in_the_whsec_format_is_refused_at_start_up(clean_env):
    clean_env.setenv("LAUNCHDECK_ROLLOUT_TARGET", "webhook")
    clean_env.setenv("LAUNCHDECK_WEBHOOK_URL", "https://hooks.example.com/x")
    clean_env.setenv("LAUNCHDECK_WEBHOOK_SECRET", "s3cret-signing-key")
    with pytest.raises(ConfigError) as caught:
        get_settings()
    assert "LAUNCHDECK_WEBHOOK_SECRET: must be whsec_ followed by base64" in caught.value.message
    assert "s3cret" not in caught.value.message
    clean_env.setenv("LAUNCHDECK_WEBHOOK_SECRET", SECRET)
    clean_env.setenv("LAUNCHDECK_WEBHOOK_PREVIOUS_SECRETS", f"{PREVIOUS},not-base64!")
    reset_settings()
    with pytest.raises(ConfigError, match="LAUNCHDECK_WEBHOOK_PREVIOUS_SECRETS"):
        get_settings()


def test_a_webhook_without_url_is_refused_by_settings(clean_env):
    with pytest.raises(ValidationError, match="LAUNCHDECK_WEBHOOK_URL"):
        Settings(rollout_target="webhook")


def test_a_webhook_without_url_is_refused_at_start_up(clean_env):
    clean_env.setenv("LAUNCHDECK_ROLLOUT_TARGET", "webhook")
    with pytest.raises(ConfigError) as caught:
        get_settings()
    assert "LAUNCHDECK_WEBHOOK_URL" in caught.value.message


def test_the_flagd_target_needs_its_file_and_is_built_from_settings(clean_env, sqlite_engine, tmp_path):
    from flows.flagd_target import FlagdTarget

    with pytest.raises(ValidationError, match="LAUNCHDECK_ROLLOUT_TARGET=flagd needs LAUNCHDECK_FLAGD_FILE"):
        Settings(rollout_target="flagd")
    target = target_from_settings(Settings(rollout_target="flagd", flagd_file=tmp_path / "f.json"), sqlite_engine)
    assert isinstance(target, FlagdTarget)
    assert (target.name, target.path) == ("flagd", tmp_path / "f.json")
    with pytest.raises(ConfigError, match="set LAUNCHDECK_WEBHOOK_URL and LAUNCHDECK_WEBHOOK_SECRET"):
        target_from_settings(Settings(), sqlite_engine, name="webhook")
