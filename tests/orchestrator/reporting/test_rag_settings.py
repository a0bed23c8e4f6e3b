"""RAG rules from settings (LAUNCHDECK_RAG_*): the thresholds come from the environment, the digest
uses them, and a bad value names the variable."""

from datetime import timedelta

import pytest

from orchestrator.core.enums import Phase, RolloutState
from orchestrator.core.settings import reset_settings
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.digest import build_leadership_digest
from orchestrator.reporting.rag import Rag, RagRules, RegionDigest, rag_for
from tests.support.factories import item, make_launch, phase_dates
from tests.support.reporting import ACTOR, NOW


def region(**overrides: object) -> RegionDigest:
    values: dict[str, object] = {
        "region": "EU",
        "region_name": "Europe",
        "state": RolloutState.GATED,
        "phase": Phase.INTERNAL,
        "percent": 0,
        "open_blocking": 1,
        "overdue_blocking": 0,
        "blocked": 0,
        "blocked_blocking": 0,
        "next_blocking_due_at": NOW + timedelta(days=5),
        "slip_days": 0,
        "slip_phase": None,
        "next_gate_phase": Phase.INTERNAL,
        "next_gate_at": NOW + timedelta(days=10),
    }
    values.update(overrides)
    return RegionDigest(**values)  # type: ignore[arg-type]


@pytest.fixture
def rag_env(monkeypatch):
    monkeypatch.setenv("LAUNCHDECK_RAG_DUE_SOON_DAYS", "7")
    monkeypatch.setenv("LAUNCHDECK_RAG_SLIP_AMBER_DAYS", "2")
    reset_settings()
    yield
    monkeypatch.undo()
    reset_settings()


def test_rag_rules_come_from_settings(rag_env):
    rules = RagRules.from_settings()
    assert rules == RagRules(due_soon=timedelta(days=7), slip_amber_days=2)
    assert rag_for([region()], now=NOW).rag == Rag.GREEN  # built-in: due in 5 days is not "soon"
    assert rag_for([region()], now=NOW, rules=rules).rag == Rag.AMBER
    slipped = region(slip_days=3, slip_phase=Phase.GA, next_blocking_due_at=None)
    assert rag_for([slipped], now=NOW, rules=rules).reason == "EU: ga slipped 3 days"


def test_the_digest_uses_the_configured_rules(rag_env, seeded):
    launch = make_launch(seeded, ACTOR, dates=phase_dates(NOW + timedelta(days=10)), items=[item("legal", offset=-5)])
    kick_off_launch(session=seeded, launch_id=launch.id, actor=ACTOR)
    # The item is due 5 days from NOW: amber under the configured 7-day window, green under 3.
    assert build_leadership_digest(session=seeded, now=NOW).launches[0].rag == Rag.AMBER
    assert build_leadership_digest(session=seeded, now=NOW, rules=RagRules()).launches[0].rag == Rag.GREEN


def test_rag_settings_are_validated(monkeypatch):
    from orchestrator.core.errors import ConfigError
    from orchestrator.core.settings import get_settings

    monkeypatch.setenv("LAUNCHDECK_RAG_DUE_SOON_DAYS", "0")
    reset_settings()
    try:
        with pytest.raises(ConfigError, match="LAUNCHDECK_RAG_DUE_SOON_DAYS"):
            get_settings()
    finally:
        monkeypatch.undo()
        reset_settings()
