"""Beta feedback (orchestrator/beta/feedback.py) on real databases: bad reports refused naming the field,
duplicates merged keeping counts, accounts and the worse severity."""

import pytest
from sqlmodel import func, select

from orchestrator.beta.feedback import merge_feedback, resolve_feedback, submit_feedback
from orchestrator.core.enums import FeedbackStatus, FeedbackType, Phase
from orchestrator.core.errors import InvalidInput, PreconditionFailed
from orchestrator.core.models import BetaFeedback
from tests.support.beta import beta_launch, feedback


def test_bad_feedback_is_refused_naming_the_field_and_writes_nothing(seeded, actor):
    launch = beta_launch(seeded, actor)
    cases = [({"severity": 0}, "severity"), ({"text": "   "}, "text"), ({"account": ""}, "account")]
    for changes, field in cases:
        arguments = {"account": "acme", "severity": 3, "text": "It broke", **changes}
        with pytest.raises(InvalidInput) as raised:
            feedback(seeded, actor, launch, **arguments)
        assert raised.value.field == field
    with pytest.raises(InvalidInput) as raised:
        submit_feedback(
            session=seeded,
            launch_id=launch.id,
            region_code="EU",
            phase=Phase.PRIVATE_BETA,
            account="acme",
            type=FeedbackType.GAP,
            severity=2,
            text="x",
            link="ftp://nope",
            actor=actor,
        )
    assert raised.value.field == "link"
    assert seeded.exec(select(func.count()).select_from(BetaFeedback)).one() == 0


def test_merging_duplicates_keeps_counts_accounts_and_the_worse_severity(seeded, actor):
    launch = beta_launch(seeded, actor)
    first = feedback(seeded, actor, launch, account="acme", severity=3)
    second = feedback(seeded, actor, launch, account="globex", severity=2)
    third = feedback(seeded, actor, launch, account="acme", severity=4)

    merge_feedback(session=seeded, feedback_id=second.id, into_id=first.id, actor=actor)
    merged = merge_feedback(session=seeded, feedback_id=third.id, into_id=first.id, actor=actor)
    again = merge_feedback(session=seeded, feedback_id=third.id, into_id=first.id, actor=actor)

    assert (merged.reports, merged.accounts, merged.severity) == (3, ["acme", "globex"], 2)
    assert again.reports == 3
    duplicate = seeded.get(BetaFeedback, second.id)
    assert (duplicate.status, duplicate.merged_into_id) == (FeedbackStatus.MERGED, first.id)
    with pytest.raises(PreconditionFailed, match="merged into"):
        resolve_feedback(session=seeded, feedback_id=second.id, actor=actor)
    with pytest.raises(InvalidInput):
        merge_feedback(session=seeded, feedback_id=first.id, into_id=first.id, actor=actor)
