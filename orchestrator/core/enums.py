"""Closed vocabularies of the domain. StrEnums so they read well in JSON, SQL and logs."""

from enum import StrEnum


class Phase(StrEnum):
    INTERNAL = "internal"
    PRIVATE_BETA = "private_beta"
    PUBLIC_BETA = "public_beta"
    GA = "ga"

    @classmethod
    def ordered(cls) -> list["Phase"]:
        return [cls.INTERNAL, cls.PRIVATE_BETA, cls.PUBLIC_BETA, cls.GA]

    def next(self) -> "Phase | None":
        order = Phase.ordered()
        index = order.index(self)
        return order[index + 1] if index + 1 < len(order) else None


class RolloutState(StrEnum):
    PLANNED = "planned"
    GATED = "gated"
    READY = "ready"
    ROLLING_OUT = "rolling_out"
    LIVE = "live"
    HALTED = "halted"
    ROLLED_BACK = "rolled_back"


class LaunchStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class ItemStatus(StrEnum):
    TODO = "todo"
    IN_PROGRESS = "in_progress"
    BLOCKED = "blocked"
    DONE = "done"
    WAIVED = "waived"
    NOT_APPLICABLE = "n_a"

    @property
    def satisfies_gate(self) -> bool:
        """Done, waived and not-applicable items no longer hold a gate closed."""
        return self in SATISFYING_STATUSES


SATISFYING_STATUSES = frozenset({ItemStatus.DONE, ItemStatus.WAIVED, ItemStatus.NOT_APPLICABLE})


class GateKind(StrEnum):
    CHECKLIST = "checklist"
    APPROVAL = "approval"
    TIME = "time"
    BETA_EXIT = "beta_exit"


class GateStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    PASSED = "passed"


class Vote(StrEnum):
    GO = "go"
    CONDITIONAL_GO = "conditional_go"
    NO_GO = "no_go"


class Role(StrEnum):
    ADMIN = "admin"
    PRODOPS = "prodops"
    MEMBER = "member"
    LEADERSHIP = "leadership"
    APPROVER = "approver"


class Source(StrEnum):
    """Where a change came from, kept on every audit event."""

    API = "api"
    SLACK = "slack"
    FLOW = "flow"
    CLI = "cli"
    SYSTEM = "system"


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"


class InteractionStatus(StrEnum):
    """A recorded Slack interaction (``SlackInteraction``): waiting, taken by a processor under a
    lease, applied, or given up on after too many attempts."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    FAILED = "failed"


class InteractionKind(StrEnum):
    BLOCK_ACTION = "block_action"
    VIEW_SUBMISSION = "view_submission"
    SHORTCUT = "shortcut"
    COMMAND = "command"
    OTHER = "other"


class WaveMode(StrEnum):
    PARALLEL = "parallel"
    SEQUENTIAL = "sequential"


BETA_PHASES = (Phase.PRIVATE_BETA, Phase.PUBLIC_BETA)


class EnrollmentStatus(StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    OPTED_OUT = "opted_out"


class EnrollmentVia(StrEnum):
    """How an account came to a beta cohort (kept for the program's own reporting)."""

    INVITE = "invite"
    NOMINATION = "nomination"
    SELF = "self"


class FeedbackType(StrEnum):
    BUG = "bug"
    GAP = "gap"
    PRAISE = "praise"
    QUESTION = "question"


class FeedbackStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    MERGED = "merged"


class ExitMetric(StrEnum):
    """Measurable beta exit criteria, each compared with its threshold by a fixed comparator."""

    OPEN_SEVERITY_1 = "open_severity_1"  # open severity-1 feedback: value <= threshold
    ACTIVE_ACCOUNTS = "active_accounts"  # enrolled accounts that accepted the terms: value >= threshold
    FIX_WEEKS = "fix_weeks"  # trailing weeks in a row with fewer new bugs than fixes: value >= threshold
