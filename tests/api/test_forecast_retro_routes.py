"""The forecast and retro doors over real HTTP (SQLite and PostgreSQL): the API's JSON and Markdown,
who may record a forecast, the dashboard's retro page and download, and the launch page's forecast.
The launch's history is known to the minute (tests/support/history.py), set in 2026; the server
answers at the real time, so the forecasts it makes now see no recent closings."""

import httpx
from freezegun import freeze_time
from sqlalchemy import func
from sqlmodel import Session, select

from orchestrator.core.models import AuditEvent, Forecast
from tests.support.api import API_PREFIX, auth
from tests.support.history import SLUG, START, at, play
from tests.support.web import signed_in


def get(base, token, path, expect=200):
    answer = httpx.get(f"{base}{API_PREFIX}{path}", headers=auth(token), timeout=30)
    assert answer.status_code == expect, answer.text
    return answer


def post(base, token, path, expect=200):
    answer = httpx.post(f"{base}{API_PREFIX}{path}", headers=auth(token), timeout=30)
    assert answer.status_code == expect, answer.text
    return answer.json()


def test_the_forecast_is_read_by_every_role_and_recorded_by_launch_operators(api_server, tokens, seeded, actor, engine):
    with freeze_time(START) as frozen:
        play(seeded, actor, frozen, until=at(3, 12, 9))

    found = get(api_server, tokens["leadership"], f"/launches/{SLUG}/forecast").json()
    (eu,) = found["regions"]
    assert (eu["region"], eu["phase"], eu["phase_at"], eu["open_blocking"]) == ("EU", "ga", "2026-03-22T09:00:00Z", 2)
    # Months later nothing has closed in the last two weeks: no projection, no miss.
    assert (eu["projected_at"], eu["days_late"], eu["misses"], eu["reason"]) == (None, None, False, None)
    assert eu["conditions"] == ["1 more Go needed; not voted: vp@example.com"]
    assert [(row["made_at"], row["projected_at"]) for row in found["history"]] == [
        ("2026-03-12T09:00:00Z", "2026-04-01T09:00:00Z"),
        ("2026-03-11T09:00:00Z", "2026-03-29T09:00:00Z"),
    ]
    refused = httpx.post(f"{api_server}{API_PREFIX}/launches/{SLUG}/forecast", headers=auth(tokens["leadership"]))
    assert refused.status_code == 403
    assert "admin, prodops" in refused.json()["detail"]

    recorded = post(api_server, tokens["prodops"], f"/launches/{SLUG}/forecast")
    again = post(api_server, tokens["prodops"], f"/launches/{SLUG}/forecast")
    assert (recorded["made"], recorded["new"], again["new"]) == (1, 1, 0)
    assert recorded["forecast"]["history"][0]["open_blocking"] == 2
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Forecast)).one() == 3
    assert (
        "launch 'nope'" in get(api_server, tokens["leadership"], "/launches/nope/forecast", expect=404).json()["detail"]
    )

    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get(f"/dashboard/launches/{SLUG}").text
    assert '<tr data-region="EU" data-phase="ga">' in page
    assert "no projection" in page
    # The colour reads the latest recorded forecast: today's had nothing to project.
    assert 'id="overall"' in page


def test_the_retro_as_json_markdown_and_a_dashboard_page_that_writes_nothing(api_server, tokens, seeded, actor, engine):
    with freeze_time(START) as frozen:
        play(seeded, actor, frozen)

    retro = get(api_server, tokens["leadership"], f"/launches/{SLUG}/retro").json()
    assert (retro["status"], retro["completed_at"], retro["duration_seconds"]) == (
        "completed", "2026-03-26T10:10:00Z", (24 * 24 + 1) * 3600 + 600,
    )  # fmt: skip
    assert [(p["phase"], p["at_gate_seconds"], p["held_by"], p["in_ramp_seconds"]) for p in retro["phases"]] == [
        ("internal", 2 * 86400, "time", 300),
        ("ga", 21 * 86400 + 23 * 3600 + 45 * 60, "approval", 3900),
    ]
    assert [b["team"] for b in retro["bottlenecks"]] == ["Legal and compliance", "Legal and compliance"]
    assert retro["slips"][0]["reason"] == "Legal review of the DPA"
    assert retro["conditional_gos"][0]["conditions"] == "Support staffed for the first week"
    assert [f["days_off"] for f in retro["accuracy"][0]["forecasts"]] == [13, 16, 6]
    assert retro["beta"][0]["median_fix_seconds"] == 29 * 3600

    markdown = get(api_server, tokens["member"], f"/launches/{SLUG}/retro.md")
    assert markdown.headers["content-type"] == "text/markdown; charset=utf-8"
    assert markdown.text.startswith("# Retro: Known History (known-history)\n")
    assert "| EU | 4 | 3 | 2 | 0 | 1 d 5 h | 2 d 6 h |" in markdown.text

    def events() -> int:
        with Session(engine) as session:
            return session.exec(select(func.count()).select_from(AuditEvent)).one()

    before = events()
    with signed_in(api_server, tokens["leadership"]) as client:
        page = client.get(f"/dashboard/launches/{SLUG}/retro")
        download = client.get(f"/dashboard/launches/{SLUG}/retro.md")
        launch_page = client.get(f"/dashboard/launches/{SLUG}").text
        missing = client.get("/dashboard/launches/nope/retro")
    assert page.status_code == 200
    assert '<td data-label="Bottleneck" class="bottleneck"><strong>Legal and compliance</strong></td>' in page.text
    assert '<td data-label="At the gate" class="num at-gate">21 d 23 h</td>' in page.text
    assert "Recorded forecasts were off by 11.7 days on average." in page.text
    assert download.headers["content-disposition"] == f'attachment; filename="{SLUG}-retro.md"'
    assert download.text.splitlines()[3:] == markdown.text.splitlines()[3:]  # all but the generation time
    assert f'href="/dashboard/launches/{SLUG}/retro"' in launch_page
    assert "No gate left to forecast." in launch_page
    assert missing.status_code == 404
    assert events() == before
