"""The flows' part of forecasts and retros: the scheduled tasks record forecasts (without a Prefect
server, as plain functions), the digest's artifact lists the week's misses, and the region flow
that takes a launch's last region live leaves the retro as a markdown artifact of that run."""

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import httpx
import pytest
from freezegun import freeze_time
from sqlmodel import select

from flows.scheduled import digest_markdown
from flows.worker import Worker
from orchestrator.core.enums import LaunchStatus, Phase
from orchestrator.core.models import Forecast
from orchestrator.reporting.digest import Digest, LaunchDigest
from orchestrator.reporting.forecast_misses import ForecastMiss
from orchestrator.reporting.rag import Rag
from tests.support.flows import drain, ready_launch, wait_for
from tests.support.history import GA_AT, START, Story, at
from tests.support.reporting import NOW, region


def test_the_digest_artifact_lists_the_weeks_forecast_misses():
    miss = ForecastMiss(1, "acme|ai", "EU", Phase.GA, GA_AT, at(3, 29, 9), made_at=at(3, 11, 9))
    launch = LaunchDigest(1, "acme|ai", "Acme AI", 1, "o@example.com", None, Rag.AMBER, miss.reason, (region(),))
    lines = digest_markdown(Digest(generated_at=NOW, launches=(launch,), forecast_misses=(miss,))).splitlines()
    assert lines[-3:] == [
        "### Forecast misses of the week",
        "",
        "- acme/ai: forecast: EU GA checklist done 7 days after 2026-03-22 (forecast of 2026-03-11)",
    ]


def test_the_hourly_and_daily_tasks_record_the_days_forecasts_once(flow_db, seeded, actor):
    from flows.scheduled import queue_todays_digest, record_todays_forecasts

    with freeze_time(START) as frozen:
        Story(seeded, actor, frozen).until(at(3, 10, 8))
        first = record_todays_forecasts.fn()  # the hourly flow's task
        frozen.move_to(at(3, 10, 9))
        digest, queued = queue_todays_digest.fn()  # records first, then builds the digest
    rows = seeded.exec(select(Forecast.made_at, Forecast.confirmed_at)).all()
    assert (first.made, first.new, queued) == (1, 1, True)
    assert [(made.replace(tzinfo=UTC), confirmed.replace(tzinfo=UTC)) for made, confirmed in rows] == [
        (at(3, 10, 8), at(3, 10, 9))  # the digest's forecast was the same: confirmed, not added
    ]
    assert digest.launches[0].regions[0].forecast_done_at is not None


# SQLite only: the retro's reads run on both databases in tests/orchestrator/retros; this is about the run.
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_the_last_region_flow_of_a_launch_leaves_its_retro_as_an_artifact(flow_db, seeded, actor, prefect_server):
    slug = f"retro-{uuid.uuid4().hex[:8]}"  # the run's Prefect server is shared by both backends
    launch = ready_launch(seeded, actor, slug=slug, phases=(Phase.INTERNAL,))
    seeded.commit()  # end the read ready_launch left open (on SQLite it would keep its snapshot)
    assert drain(Worker(publish_events=False), seeded, launch.slug).status == LaunchStatus.COMPLETED

    def retro_artifact():
        answer = httpx.post(
            f"{prefect_server}/artifacts/filter",
            json={"artifacts": {"key": {"any_": [f"{slug}-retro"]}}, "flow_runs": {}, "task_runs": {}, "limit": 5},
            timeout=30,
        )
        answer.raise_for_status()
        return [SimpleNamespace(**row) for row in answer.json()]

    (artifact,) = wait_for(retro_artifact, timeout=30)  # it may reach the server a moment after the run
    assert artifact.type == "markdown"
    assert artifact.data.startswith(f"# Retro: {slug.title()} ({slug})\n")
    assert "| EU | Internal |" in artifact.data
    run = httpx.get(f"{prefect_server}/flow_runs/{artifact.flow_run_id}", timeout=30).json()
    assert run["name"] == f"launch/{slug}/EU/internal"
    assert datetime.fromisoformat(artifact.created) <= datetime.now(UTC)
