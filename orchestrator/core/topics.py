"""Every kind of side effect the outbox carries, as one closed vocabulary.

A producer (a service) enqueues a ``Topic``; the consumers (``notifications`` for Slack,
``flows`` for Prefect events and rollout targets) match on the same members, so a topic that is
renamed or dropped fails the type check on both sides instead of silently going undelivered.
The values are the strings stored in ``outbox.topic`` and shown in ``launchdeck outbox list``;
item, rollout and decision topics double as the audit action of the change that queued them.
"""

from enum import StrEnum


class Topic(StrEnum):
    LAUNCH_KICKED_OFF = "launch.kicked_off"
    LAUNCH_COMPLETED = "launch.completed"
    LAUNCH_TEMPLATE_APPLIED = "launch.template_applied"
    PHASE_RESCHEDULED = "phase.rescheduled"

    GATE_OPENED = "gate.opened"
    GATE_PASSED = "gate.passed"
    GATE_ITEM_REOPENED_AFTER_PASS = "gate.item_reopened_after_pass"

    ITEM_CHECKED = "item.checked"
    ITEM_REOPENED = "item.reopened"
    ITEM_STARTED = "item.started"
    ITEM_BLOCKED = "item.blocked"
    ITEM_NOT_APPLICABLE = "item.not_applicable"
    ITEM_WAIVED = "item.waived"
    ITEM_ASSIGNED = "item.assigned"
    ITEM_EVIDENCE_ATTACHED = "item.evidence_attached"
    ITEM_COMMENTED = "item.commented"

    ROLLOUT_READY = "rollout.ready"
    ROLLOUT_GATED = "rollout.gated"
    ROLLOUT_EXPOSURE_CHANGED = "rollout.exposure_changed"
    ROLLOUT_LIVE = "rollout.live"
    ROLLOUT_HALTED = "rollout.halted"
    ROLLOUT_RESUMED = "rollout.resumed"
    ROLLOUT_ROLLED_BACK = "rollout.rolled_back"
    TARGET_EXPOSURE = "target.exposure"

    DECISION_GO = "decision.go"
    DECISION_CONDITIONAL_GO = "decision.conditional_go"
    DECISION_NO_GO = "decision.no_go"
    DECISION_REEVALUATION_DUE = "decision.reevaluation_due"
    DECISION_VOIDED = "decision.voided"
    DECISION_CONFIRMATION_NEEDED = "decision.confirmation_needed"
    APPROVAL_REQUESTED = "approval.requested"
    APPROVAL_REMINDER = "approval.reminder"
    APPROVAL_VOTES_MISSING = "approval.votes_missing"

    REMINDER_OVERDUE = "reminder.overdue"
    REMINDER_ESCALATED = "reminder.escalated"
    DIGEST_DAILY = "digest.daily"
    DIGEST_BETA_WEEKLY = "digest.beta_weekly"
    BETA_GUARDRAIL_HALTED = "beta.guardrail_halted"

    # A change the Slack App Homes show that no other topic carries (an approval gate's approvers
    # changed); read with the other Home topics by the Home refresher's cursor (core/homes.py).
    HOME_REFRESH = "home.refresh"


# Topics the worker also publishes as Prefect events (flows/events.py), read once each by a cursor
# (``outbox.EVENTS_CURSOR``) rather than claimed: their rows' status is not what tells whether the
# event went out, so the outbox listing reads the cursor for them.
PUBLISHED_AS_EVENTS = frozenset(
    {
        Topic.LAUNCH_KICKED_OFF,
        Topic.LAUNCH_COMPLETED,
        Topic.GATE_PASSED,
        Topic.ROLLOUT_READY,
        Topic.ROLLOUT_GATED,
        Topic.ROLLOUT_EXPOSURE_CHANGED,
        Topic.ROLLOUT_LIVE,
        Topic.ROLLOUT_HALTED,
        Topic.ROLLOUT_RESUMED,
        Topic.ROLLOUT_ROLLED_BACK,
        Topic.DECISION_NO_GO,
        Topic.PHASE_RESCHEDULED,
    }
)
