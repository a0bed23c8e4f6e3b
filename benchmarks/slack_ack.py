"""Slack interaction acknowledgement latency: 50 people click "Done" at the same moment.

Each click is a signed `block_actions` POST to /slack/interactions, built the way Slack builds it
(form-encoded payload, v0 HMAC signature, fresh timestamp); the endpoint verifies it, records it
(the clicks arriving together in one INSERT, api/slack_recording.py) and answers, and the API's
processors check the item off from that record (change + audit + outbox + done mark in one
PostgreSQL transaction). Slack gives up after
3,000 ms; the goal is p99 under 100 ms. Baseline: GET /healthz of the same server at the same
concurrency, in the same run.

Requests go out through `benchmarks/_rawload.py` (raw HTTP/1.1 on kept-alive connections, every
request of a round written at once): an httpx client pool was slower than the server it measured.

Two figures per click round: the acknowledgement latency (what Slack waits for), and how long from
the round's first request until all of its check-offs are in the database (polled every 5 ms), so
an acknowledgement that is fast only because the work piles up behind it shows.

    .venv/bin/python -m benchmarks.slack_ack [--rounds 10] [--clicks 50] [--app FACTORY]

Busy mode (issue #21, `benchmarks/_slack_busy.py`): the same bursts with 0, 1 and 2 CPU burner
processes, the clicks applied by the API's own threads or by a `launchdeck slack-applier` process:

    .venv/bin/python -m benchmarks.slack_ack --busy [--rounds 5] [--burners 0,1,2] [--passes 2]
        [--variants api,process,process-nice0,process-2api]

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL to change it).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from benchmarks._harness import machine, percentile, table, throwaway_postgres, uvicorn_process
from benchmarks._rawload import HttpRequest, LoadResult, RequestFactory, load
from benchmarks._seed import ACTOR, gated_launch, seed_directory
from benchmarks._slack_busy import DEFAULT_VARIANTS, report, run_config, spread_items
from notifications.ids import ActionId, ItemRef
from notifications.inbound.signing import slack_signature
from orchestrator.core.db import make_engine
from orchestrator.core.enums import ItemStatus, Role
from orchestrator.core.models import ChecklistItem
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member

SECRET = "bench-signing-secret-0123456789"
CLICKER = "U0BENCH01"
SPREAD = 10
APPLIED_TIMEOUT = 120.0
APP = "api.app:serving_app"


def click(item_id: int) -> RequestFactory:
    """One Done click as Slack sends it; signed when sent, so its timestamp is fresh."""
    payload = {
        "type": "block_actions",
        "user": {"id": CLICKER, "team_id": "T0BENCH"},
        "trigger_id": f"trigger-{item_id}",
        "response_url": "https://hooks.slack.com/actions/T0BENCH/1/abc",
        "container": {"type": "message", "channel_id": "C0LAUNCH", "message_ts": "111.222"},
        "actions": [
            {
                "action_id": ActionId.ITEM_DONE.value,
                "block_id": f"item:{item_id}:v1:actions",
                "action_ts": "1.2",
                "type": "button",
                "value": ItemRef(item_id=item_id, version=1).to_value(),
            }
        ],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()

    def signed() -> HttpRequest:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(secret=SECRET, timestamp=timestamp, body=body),
        }
        return HttpRequest("POST", "/slack/interactions", headers, body)

    return signed


def health(_index: int) -> RequestFactory:
    return lambda: HttpRequest("GET", "/healthz")


def merged(results: list[LoadResult]) -> list[float]:
    return [latency for result in results for latency in result.latencies]


def applied_after(engine: Engine, items: list[int], started: float) -> float:
    """Seconds from ``started`` until every one of ``items`` is done (polled every 5 ms)."""
    query = (
        select(func.count())
        .select_from(ChecklistItem)
        .where(col(ChecklistItem.id).in_(items), ChecklistItem.status == ItemStatus.DONE)
    )
    deadline = started + APPLIED_TIMEOUT
    while True:
        with Session(engine) as session:
            if session.exec(query).one() == len(items):
                return time.perf_counter() - started
        if time.perf_counter() > deadline:
            raise SystemExit(f"the clicks of a round were not all applied within {APPLIED_TIMEOUT:.0f} s")
        time.sleep(0.005)


def clicks(base: str, engine: Engine, items: list[int]) -> tuple[LoadResult, float]:
    """One round of concurrent clicks: their answers, and when the last check-off was applied."""
    started = time.perf_counter()
    result = load(base, [click(item) for item in items], concurrency=len(items))
    return result, applied_after(engine, items, started)


def busy(args: argparse.Namespace) -> None:
    """Every variant at every burner count (``--busy``), interleaved, in one database."""
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-slack-busy-"))
    counts = [int(count) for count in args.burners.split(",")]
    variants = args.variants.split(",")
    outcomes = []
    with throwaway_postgres() as url:
        engine = make_engine(url)
        seed_clicker(engine)
        env = {"LAUNCHDECK_DATABASE_URL": url, "LAUNCHDECK_SLACK_SIGNING_SECRET": SECRET}
        for number in range(args.passes):
            for count in counts:
                for variant in variants:
                    prefix = f"p{number}-b{count}-{variant}"
                    items = spread_items(engine, prefix=prefix, rounds=args.rounds + 1, clicks=args.clicks)
                    outcome = run_config(
                        variant=variant,
                        burner_count=count,
                        items=items,
                        env=env,
                        logs=logs,
                        round_of=lambda base, clicked: clicks(base, engine, clicked),
                        health=health,
                        app=args.app,
                    )
                    print(f"  {time.strftime('%H:%M:%S', time.gmtime())} UTC {variant}, {count} burner(s) done")
                    outcomes.append(outcome)
        engine.dispose()
    report(outcomes, rounds=args.rounds, clicks=args.clicks)


def seed_clicker(engine: Engine) -> None:
    """The directory, and the marketing member whose Slack user clicks."""
    with Session(engine, expire_on_commit=False) as session:
        seed_directory(session)
        member = MemberSeed(
            email="mia@example.com", name="mia", team="marketing", role=Role.MEMBER, slack_user_id=CLICKER
        )
        upsert_member(session=session, seed=member, actor=ACTOR)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clicks", type=int, default=50, help="concurrent clicks per round")
    parser.add_argument("--app", default=APP, help=f"uvicorn app factory to measure (default {APP})")
    parser.add_argument("--busy", action="store_true", help="burners x appliers (benchmarks/_slack_busy.py)")
    parser.add_argument("--burners", default="0,1,2", help="--busy: CPU burner counts, comma-separated")
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS), help="--busy: applier variants")
    parser.add_argument("--passes", type=int, default=2, help="--busy: passes over every configuration")
    args = parser.parse_args()
    if args.busy:
        busy(args)
        return
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    with throwaway_postgres() as url:
        engine = make_engine(url)
        seed_clicker(engine)
        with Session(engine, expire_on_commit=False) as session:
            # "hot": every click of a round on one region (each waits for the region's row lock,
            # by design); "spread": a round's clicks over ten launches, as on a busy day.
            hot = [gated_launch(session, slug=f"hot-{n}", items=args.clicks) for n in range(args.rounds + 1)]
            spread = []
            for n in range(args.rounds + 1):
                shares = [
                    gated_launch(session, slug=f"spread-{n}-{k}", items=args.clicks // SPREAD) for k in range(SPREAD)
                ]
                spread.append([item for group in zip(*shares, strict=True) for item in group])
        env = {"LAUNCHDECK_DATABASE_URL": url, "LAUNCHDECK_SLACK_SIGNING_SECRET": SECRET}
        results: dict[str, list[LoadResult]] = {"health": [], "hot": [], "spread": []}
        applied: dict[str, list[float]] = {"hot": [], "spread": []}
        with uvicorn_process(args.app, env=env, log=logs / "api.log") as base:
            for index in range(args.rounds + 1):  # round 0 warms up and is not counted
                health_result = load(base, [health(n) for n in range(args.clicks)], concurrency=args.clicks)
                spread_result, spread_applied = clicks(base, engine, spread[index])
                hot_result, hot_applied = clicks(base, engine, hot[index])
                this_round = {"health": health_result, "spread": spread_result, "hot": hot_result}
                for kind, result in this_round.items():
                    if set(result.statuses) != {200}:
                        raise SystemExit(f"{kind} answered {result.statuses}; see {logs / 'api.log'}")
                    if index > 0:
                        results[kind].append(result)
                if index > 0:
                    applied["spread"].append(spread_applied)
                    applied["hot"].append(hot_applied)
        engine.dispose()
    health_latencies = merged(results["health"])
    rows = []
    for label, values in (
        ("GET /healthz (baseline)", health_latencies),
        ("Done click, 50 spread over 10 launches", merged(results["spread"])),
        ("Done click, 50 on one region (worst case)", merged(results["hot"])),
    ):
        p50, p99 = percentile(values, 50), percentile(values, 99)
        rows.append(
            [
                label,
                f"{p50 * 1000:.0f} ms",
                f"{p99 * 1000:.0f} ms",
                f"{p50 / percentile(health_latencies, 50):.1f}",
                f"{p99 / percentile(health_latencies, 99):.1f}",
            ]
        )
    print(f"{args.rounds} rounds x {args.clicks} concurrent requests, uvicorn (1 process), PostgreSQL, {args.app}")
    print(table(["request", "p50", "p99", "p50 ratio", "p99 ratio"], rows))
    print()
    applied_rows = [
        [
            f"{label}: all {args.clicks} check-offs applied",
            f"{percentile(applied[kind], 50) * 1000:.0f} ms",
            f"{max(applied[kind]) * 1000:.0f} ms",
        ]
        for kind, label in (("spread", "spread over 10 launches"), ("hot", "one region"))
    ]
    print(table(["round of clicks", "median", "slowest round"], applied_rows))
    for kind in ("spread", "hot"):
        p99 = percentile(merged(results[kind]), 99)
        verdict = "met" if p99 < 0.1 else "NOT met" if p99 < 3 else "NOT met, over Slack's limit"
        print(f"goal: {kind} click p99 under 100 ms (Slack's limit 3,000 ms): {verdict}")


if __name__ == "__main__":
    main()
