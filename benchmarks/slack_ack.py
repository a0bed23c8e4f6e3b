"""Slack interaction acknowledgement latency: 50 people click "Done" at the same moment.

Each click is a signed `block_actions` POST to /slack/interactions, built the way Slack builds it
(form-encoded payload, v0 HMAC signature, fresh timestamp); the endpoint verifies it, checks the
item off (change + audit + outbox in one PostgreSQL transaction) and answers. Slack gives up after
3,000 ms; the goal is p99 under 100 ms. Baseline: GET /healthz of the same server at the same
concurrency, in the same run.

    .venv/bin/python -m benchmarks.slack_ack [--rounds 10] [--clicks 50]

Needs PostgreSQL on 127.0.0.1:5432 (LAUNCHDECK_BENCH_POSTGRES_URL to change it).
"""

import argparse
import json
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from sqlmodel import Session

from benchmarks._harness import (
    LoadResult,
    Request,
    load,
    machine,
    percentile,
    table,
    throwaway_postgres,
    uvicorn_process,
)
from benchmarks._seed import ACTOR, gated_launch, seed_directory
from notifications.ids import ActionId, ItemRef
from notifications.signing import slack_signature
from orchestrator.db import make_engine
from orchestrator.enums import Role
from orchestrator.seed import MemberSeed
from orchestrator.services.directory import upsert_member

SECRET = "bench-signing-secret-0123456789"
CLICKER = "U0BENCH01"
SPREAD = 10


def click(item_id: int) -> Request:
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

    async def send(client: httpx.AsyncClient) -> httpx.Response:
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": slack_signature(secret=SECRET, timestamp=timestamp, body=body),
        }
        return await client.post("/slack/interactions", content=body, headers=headers)

    return send


def health(_index: int) -> Request:
    async def send(client: httpx.AsyncClient) -> httpx.Response:
        return await client.get("/healthz")

    return send


def merged(results: list[LoadResult]) -> list[float]:
    return [latency for result in results for latency in result.latencies]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--clicks", type=int, default=50, help="concurrent clicks per round")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    logs = Path(tempfile.mkdtemp(prefix="bench-slack-"))
    with throwaway_postgres() as url:
        engine = make_engine(url)
        with Session(engine, expire_on_commit=False) as session:
            seed_directory(session)
            member = MemberSeed(
                email="mia@example.com", name="mia", team="marketing", role=Role.MEMBER, slack_user_id=CLICKER
            )
            upsert_member(session=session, seed=member, actor=ACTOR)
            # "hot": every click of a round on one region (each waits for the region's row lock,
            # by design); "spread": a round's clicks over ten launches, as on a busy day.
            hot = [gated_launch(session, slug=f"hot-{n}", items=args.clicks) for n in range(args.rounds + 1)]
            spread = []
            for n in range(args.rounds + 1):
                shares = [
                    gated_launch(session, slug=f"spread-{n}-{k}", items=args.clicks // SPREAD) for k in range(SPREAD)
                ]
                spread.append([item for group in zip(*shares, strict=True) for item in group])
        engine.dispose()
        env = {"LAUNCHDECK_DATABASE_URL": url, "LAUNCHDECK_SLACK_SIGNING_SECRET": SECRET}
        results: dict[str, list[LoadResult]] = {"health": [], "hot": [], "spread": []}
        with uvicorn_process("api.app:create_app", env=env, log=logs / "api.log") as base:
            for index in range(args.rounds + 1):  # round 0 warms up and is not counted
                this_round = {
                    "health": load(base, [health(n) for n in range(args.clicks)], concurrency=args.clicks),
                    "spread": load(base, [click(item) for item in spread[index]], concurrency=args.clicks),
                    "hot": load(base, [click(item) for item in hot[index]], concurrency=args.clicks),
                }
                for kind, result in this_round.items():
                    if set(result.statuses) != {200}:
                        raise SystemExit(f"{kind} answered {result.statuses}; see {logs / 'api.log'}")
                    if index > 0:
                        results[kind].append(result)
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
    print(f"{args.rounds} rounds x {args.clicks} concurrent requests, uvicorn (1 process), PostgreSQL")
    print(table(["request", "p50", "p99", "p50 ratio", "p99 ratio"], rows))
    for kind in ("spread", "hot"):
        p99 = percentile(merged(results[kind]), 99)
        verdict = "met" if p99 < 0.1 else "NOT met" if p99 < 3 else "NOT met, over Slack's limit"
        print(f"goal: {kind} click p99 under 100 ms (Slack's limit 3,000 ms): {verdict}")


if __name__ == "__main__":
    main()
