"""Process-wide resources for flow code (built once per process): one engine, one rollout target,
the exposure check, one Slack transport, the flows' actor."""

import os
import socket
from functools import lru_cache

from sqlalchemy import Engine

from flows.exposure_check import checker_from_settings
from flows.target_registry import targets_from_settings
from notifications.delivery.factory import transport_from_settings
from notifications.delivery.transport import Transport
from orchestrator.core.actors import Actor
from orchestrator.core.db import make_engine
from orchestrator.core.enums import Source
from orchestrator.core.settings import get_settings
from orchestrator.rollouts.exposure_checks import ExposureChecker
from orchestrator.rollouts.target import RolloutTarget

# The audit ledger names the process that took each step, so scale-out and restarts can be traced.
FLOW_ACTOR = Actor(name=f"flow@{socket.gethostname()}-{os.getpid()}", source=Source.FLOW)


@lru_cache(maxsize=1)
def engine() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.database_echo)


@lru_cache(maxsize=1)
def target() -> RolloutTarget:
    """Every configured target; each change goes to the one its launch names (else the default)."""
    return targets_from_settings(get_settings(), engine())


@lru_cache(maxsize=1)
def checker() -> ExposureChecker | None:
    """The check of each change the target took (None: LAUNCHDECK_EXPOSURE_CHECK_USERS is 0); a
    mismatch halts the region as the flows' actor."""
    return checker_from_settings(get_settings(), target(), actor=FLOW_ACTOR)


@lru_cache(maxsize=1)
def transport() -> Transport:
    """Slack when LAUNCHDECK_SLACK_BOT_TOKEN and _SIGNING_SECRET are set, else the console (which
    also keeps its messages in this database, for the dashboard)."""
    return transport_from_settings(get_settings(), engine=engine())


def reset() -> None:
    """Forget the cached engine and target (tests, or after settings change)."""
    if engine.cache_info().currsize:
        engine().dispose()
    engine.cache_clear()
    target.cache_clear()
    checker.cache_clear()
    transport.cache_clear()
