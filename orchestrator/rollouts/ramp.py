"""Exposure ramps: the steps a region takes inside a phase, and how long each is held.

Pure rules; the launch stores its own plan (``Launch.ramp_plan``) so a company or a demo can use
minutes where the defaults use hours.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput

MAX_HOLD_MINUTES = 90 * 24 * 60  # also rules out NaN and infinity, which compare false


@dataclass(frozen=True)
class RampStep:
    percent: int
    hold: timedelta


# Internal and private beta reach everyone they are meant for at once (dogfooders, an allowlist);
# public beta and GA grow in steps so a regression shows up at 5% rather than 100%.
DEFAULT_RAMPS: dict[Phase, tuple[RampStep, ...]] = {
    Phase.INTERNAL: (RampStep(100, timedelta(0)),),
    Phase.PRIVATE_BETA: (RampStep(100, timedelta(0)),),
    Phase.PUBLIC_BETA: (
        RampStep(10, timedelta(hours=4)),
        RampStep(50, timedelta(hours=24)),
        RampStep(100, timedelta(0)),
    ),
    Phase.GA: (
        RampStep(5, timedelta(hours=4)),
        RampStep(25, timedelta(hours=24)),
        RampStep(100, timedelta(0)),
    ),
}


def parse_ramp_plan(raw: Mapping[str, Any]) -> dict[Phase, tuple[RampStep, ...]]:
    """Validate a stored or submitted plan: steps strictly grow and end at 100%."""
    plan: dict[Phase, tuple[RampStep, ...]] = {}
    for phase_key, steps in raw.items():
        try:
            phase = Phase(phase_key)
        except ValueError:
            raise InvalidInput("ramp_plan", f"unknown phase {phase_key!r}") from None
        if not isinstance(steps, list) or not steps:
            raise InvalidInput(f"ramp_plan.{phase_key}", "give a non-empty list of {percent, hold_minutes} steps")
        parsed: list[RampStep] = []
        for index, step in enumerate(steps):
            where = f"ramp_plan.{phase_key}[{index}]"
            if not isinstance(step, Mapping) or set(step) - {"percent", "hold_minutes"} or "percent" not in step:
                raise InvalidInput(where, "each step is {percent: 1..100, hold_minutes: >= 0}")
            percent, hold = step["percent"], step.get("hold_minutes", 0)
            if not isinstance(percent, int) or not 1 <= percent <= 100:
                raise InvalidInput(f"{where}.percent", "must be a whole number from 1 to 100")
            if not isinstance(hold, int | float) or not 0 <= hold <= MAX_HOLD_MINUTES:
                raise InvalidInput(f"{where}.hold_minutes", f"must be from 0 to {MAX_HOLD_MINUTES} minutes (90 days)")
            if parsed and percent <= parsed[-1].percent:
                raise InvalidInput(f"{where}.percent", "steps must grow; lowering exposure is a rollback")
            parsed.append(RampStep(percent, timedelta(minutes=hold)))
        if parsed[-1].percent != 100:
            raise InvalidInput(f"ramp_plan.{phase_key}", "the last step must reach 100%")
        plan[phase] = tuple(parsed)
    return plan


def steps_for(raw_plan: Mapping[str, Any], phase: Phase) -> tuple[RampStep, ...]:
    return parse_ramp_plan(raw_plan).get(phase, DEFAULT_RAMPS[phase])


def next_step(steps: tuple[RampStep, ...], current_percent: int) -> RampStep | None:
    """The step after ``current_percent`` (the first step from 0), or None at 100%."""
    return next((step for step in steps if step.percent > current_percent), None)


def hold_after(steps: tuple[RampStep, ...], percent: int) -> timedelta:
    return next((step.hold for step in steps if step.percent == percent), timedelta(0))
