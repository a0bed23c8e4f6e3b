"""Beta feedback scoring (orchestrator/beta/scoring.py): the documented formula, the ranking with its
tie-breaks on a real database, and the scoring settings from the environment."""

import pytest
from freezegun import freeze_time

from orchestrator.beta.feedback import merge_feedback, resolve_feedback
from orchestrator.beta.scoring import ScoringConfig, ranked_feedback, score
from tests.support.beta import beta_launch, feedback


def test_score_follows_the_documented_formula():
    config = ScoringConfig(severity_weights={1: 8, 2: 4, 3: 2, 4: 1}, frequency_exponent=0.5, reach_exponent=1.0)
    assert score(severity=2, reports=9, accounts=3, config=config) == 4 * 3 * 3
    assert score(severity=4, reports=1, accounts=1, config=config) == 1
    flat = ScoringConfig(severity_weights={1: 1, 2: 1, 3: 1, 4: 1}, frequency_exponent=0.0, reach_exponent=0.0)
    assert score(severity=1, reports=50, accounts=50, config=flat) == 1


def test_ranking_is_by_score_then_stable_tie_breaks(seeded, actor):
    launch = beta_launch(seeded, actor)
    with freeze_time("2027-03-02T09:00:00Z"):
        lone_blocker = feedback(seeded, actor, launch, account="acme", severity=1, text="Data lost")
    with freeze_time("2027-03-03T09:00:00Z"):
        popular = feedback(seeded, actor, launch, account="acme", severity=3, text="Slow export")
        for account in ("globex", "initech", "umbrella", "hooli", "stark"):
            duplicate = feedback(seeded, actor, launch, account=account, severity=3, text="Export slow")
            merge_feedback(session=seeded, feedback_id=duplicate.id, into_id=popular.id, actor=actor)
        older_tie = feedback(seeded, actor, launch, account="acme", severity=4, text="Typo A")
        newer_tie = feedback(seeded, actor, launch, account="acme", severity=4, text="Typo B")
        done = feedback(seeded, actor, launch, account="acme", severity=2, text="Fixed already")
        resolve_feedback(session=seeded, feedback_id=done.id, actor=actor)

    config = ScoringConfig(severity_weights={1: 8, 2: 4, 3: 2, 4: 1}, frequency_exponent=0.5, reach_exponent=1.0)
    ranked = ranked_feedback(session=seeded, launch_id=launch.id, config=config)

    # popular: 2 * sqrt(6) * 6 = 29.39; blocker: 8; typos: 1 each, the older first.
    assert [row.feedback_id for row in ranked] == [popular.id, lone_blocker.id, older_tie.id, newer_tie.id]
    assert [row.rank for row in ranked] == [1, 2, 3, 4]
    assert (ranked[0].reports, ranked[0].accounts) == (6, 6)
    assert ranked == ranked_feedback(session=seeded, launch_id=launch.id, config=config)

    severity_first = ScoringConfig(severity_weights={1: 100, 2: 4, 3: 2, 4: 1}, frequency_exponent=0, reach_exponent=0)
    assert ranked_feedback(session=seeded, launch_id=launch.id, config=severity_first)[0].feedback_id == lone_blocker.id
    assert ranked_feedback(session=seeded, launch_id=launch.id, region="NA", config=config) == []


def test_scoring_settings_come_from_the_environment_and_bad_ones_name_the_variable(monkeypatch):
    from orchestrator.core.errors import ConfigError
    from orchestrator.core.settings import get_settings, reset_settings

    monkeypatch.setenv("LAUNCHDECK_BETA_SEVERITY_WEIGHTS", '{"1": 10, "2": 5, "3": 1, "4": 0}')
    monkeypatch.setenv("LAUNCHDECK_BETA_FREQUENCY_EXPONENT", "1")
    reset_settings()
    try:
        config = ScoringConfig.from_settings()
        assert (dict(config.severity_weights), config.frequency_exponent, config.reach_exponent) == (
            {1: 10, 2: 5, 3: 1, 4: 0},
            1.0,
            1.0,
        )
        monkeypatch.setenv("LAUNCHDECK_BETA_SEVERITY_WEIGHTS", '{"1": 10}')
        reset_settings()
        with pytest.raises(ConfigError, match="LAUNCHDECK_BETA_SEVERITY_WEIGHTS"):
            get_settings()
    finally:
        monkeypatch.delenv("LAUNCHDECK_BETA_SEVERITY_WEIGHTS")
        monkeypatch.delenv("LAUNCHDECK_BETA_FREQUENCY_EXPONENT")
        reset_settings()
