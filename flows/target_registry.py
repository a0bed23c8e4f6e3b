"""Every rollout target this installation has configured, by name, so each launch's changes go to
the target it names (``rollout_target`` on the launch or one of its regions) and the rest to the
configured default (``LAUNCHDECK_ROLLOUT_TARGET``)."""

from collections.abc import Mapping

from sqlalchemy import Engine

from flows.targets import target_from_settings
from orchestrator.core.settings import TARGET_SETTINGS, Settings
from orchestrator.rollouts.target import ExposureRequest, RolloutTarget, TargetRejected


class TargetRegistry:
    """A ``RolloutTarget`` that hands each change to the target its launch names.

    Launch creation refuses a target that is not configured, so a change naming an unknown one
    means the configuration changed since (or this worker's differs from the API's): the change
    is parked with what to configure rather than sent to the default target instead.
    """

    def __init__(self, targets: Mapping[str, RolloutTarget], *, default: str, problems: Mapping[str, str]) -> None:
        if default not in targets:
            raise ValueError(f"the default rollout target {default!r} is not among {sorted(targets)}")
        self._targets = dict(targets)
        self._problems = dict(problems)
        self.default = default
        self.name = default  # what the delivery names in errors when a launch names no target

    @property
    def names(self) -> list[str]:
        return sorted(self._targets)

    def target_for(self, request: ExposureRequest) -> RolloutTarget:
        name = request.target or self.default
        target = self._targets.get(name)
        if target is None:
            problem = self._problems.get(name, f"unknown rollout target {name!r}")
            raise TargetRejected(
                f"launch {request.launch_slug} ({request.region}) sends its exposure to {name!r}: {problem}; "
                "then resume the region"
            )
        return target

    def apply(self, request: ExposureRequest) -> None:
        self.target_for(request).apply(request)


def targets_from_settings(settings: Settings, engine: Engine) -> TargetRegistry:
    """Every target the settings configure (the recorder always), the configured one the default."""
    targets: dict[str, RolloutTarget] = {}
    problems: dict[str, str] = {}
    for name in TARGET_SETTINGS:
        problem = settings.target_problem(name)
        if problem is None:
            targets[name] = target_from_settings(settings, engine, name=name)
        else:
            problems[name] = problem
    return TargetRegistry(targets, default=settings.rollout_target, problems=problems)
