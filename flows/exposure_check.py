"""Exposure verified: the observer the exposure delivery (and `launchdeck exposure check`) asks,
after a change reached its target, what share of a region's synthetic users the target serves.

Per target kind: flagd and Unleash are evaluated through the OpenFeature SDK with their own
providers (``flows.exposure_evaluators``); the recorder and a webhook have nothing an app could
evaluate, so their checks are recorded as "not verifiable" (and never halt). Settings:
``LAUNCHDECK_EXPOSURE_CHECK_USERS`` (synthetic users per region, 0 turns the check off) and
``LAUNCHDECK_EXPOSURE_CHECK_TOLERANCE`` (percentage points).
"""

from collections.abc import Callable

from flows.flagd_target import FlagdTarget
from flows.target_registry import TargetRegistry
from flows.unleash_target import UnleashTarget
from orchestrator.core.actors import Actor
from orchestrator.core.settings import Settings
from orchestrator.rollouts.exposure_checks import ExposureChecker
from orchestrator.rollouts.target import ExposureRequest, Observation, RolloutTarget


class TargetObserver:
    """Evaluates ``users`` synthetic users of the change's region against the target the change
    went to (the launch's own, through the worker's registry, else the one target given)."""

    def __init__(self, target: RolloutTarget, *, users: int) -> None:
        if users < 1:
            raise ValueError("an exposure check needs at least one synthetic user")
        self._target_for: Callable[[ExposureRequest], RolloutTarget] = (
            target.target_for if isinstance(target, TargetRegistry) else lambda _request: target
        )
        self.users = users

    def observe(self, request: ExposureRequest) -> Observation:
        # The OpenFeature SDK, its providers and the Unleash client load here, at the first check,
        # not when a worker starts: 0.3 s of every worker start (and of every `launchdeck worker`
        # a deployment restarts) for a check that only flagd and Unleash targets use.
        from flows.exposure_evaluators import flagd_share, unleash_share

        target = self._target_for(request)
        if isinstance(target, FlagdTarget):
            share = flagd_share(target.path, flag=request.flag, region=request.region, users=self.users)
            return Observation(target=target.name, flag=request.flag, users=self.users, observed=share)
        if isinstance(target, UnleashTarget):
            flag = request.flag_key or target.flag_name(request.launch_slug)
            share = unleash_share(
                target.config, flag=flag, region=request.region, users=self.users, percent=request.percent
            )
            return Observation(target=target.name, flag=flag, users=self.users, observed=share)
        return Observation(
            target=target.name,
            flag=request.flag,
            users=0,
            observed=None,
            note=f"not verifiable: the {target.name} target has no flag an OpenFeature provider can evaluate",
        )


def checker_from_settings(
    settings: Settings, target: RolloutTarget, *, actor: Actor, users: int | None = None
) -> ExposureChecker | None:
    """The check the settings ask for (None when LAUNCHDECK_EXPOSURE_CHECK_USERS is 0);
    ``users`` overrides the setting (the CLI's ``--users``)."""
    count = settings.exposure_check_users if users is None else users
    if count == 0:
        return None
    return ExposureChecker(
        observer=TargetObserver(target, users=count),
        tolerance=settings.exposure_check_tolerance,
        actor=actor,
    )
