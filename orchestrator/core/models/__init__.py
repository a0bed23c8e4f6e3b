"""SQLModel tables: the single source of truth for launches, gates, items and their history.

One module per domain (``directory``, ``launches``, ``items``, ``gates``, ``beta``, ``ledger``, ``inbox``,
``forecasts``); this package re-exports every table, so ``from orchestrator.core.models import Gate`` works and
importing the package registers the whole schema with SQLModel's metadata (Alembic needs it whole).

Conventions: every timestamp is timezone-aware UTC; enums are stored as their string values (no
native database enums, so adding a value never needs a type migration); rows that several writers
race on carry a ``version`` column that services compare-and-set.
"""

from orchestrator.core.models.beta import BetaCohort, BetaEnrollment, BetaExitCriterion, BetaFeedback
from orchestrator.core.models.columns import EnumText, text_limit
from orchestrator.core.models.directory import ApiToken, LoginLink, Member, Region, Team
from orchestrator.core.models.forecasts import Forecast
from orchestrator.core.models.gates import Decision, Gate
from orchestrator.core.models.inbox import HomeView, SlackInteraction
from orchestrator.core.models.items import OPEN_BLOCKING_ITEM, OPEN_ITEM, ChecklistItem, Waiver
from orchestrator.core.models.launches import (
    ExposureChange,
    ExposureCheck,
    Launch,
    PhaseDate,
    PhaseDateChange,
    RegionRollout,
)
from orchestrator.core.models.ledger import (
    AuditEvent,
    ConsoleMessage,
    DeliveryCursor,
    IdempotencyRecord,
    Outbox,
    RagSnapshot,
    SlackMessage,
)

__all__ = [
    "OPEN_BLOCKING_ITEM",
    "OPEN_ITEM",
    "ApiToken",
    "AuditEvent",
    "BetaCohort",
    "BetaEnrollment",
    "BetaExitCriterion",
    "BetaFeedback",
    "ChecklistItem",
    "ConsoleMessage",
    "Decision",
    "DeliveryCursor",
    "EnumText",
    "ExposureChange",
    "ExposureCheck",
    "Forecast",
    "Gate",
    "HomeView",
    "IdempotencyRecord",
    "Launch",
    "LoginLink",
    "Member",
    "Outbox",
    "PhaseDate",
    "PhaseDateChange",
    "RagSnapshot",
    "Region",
    "RegionRollout",
    "SlackInteraction",
    "SlackMessage",
    "Team",
    "Waiver",
    "text_limit",
]
