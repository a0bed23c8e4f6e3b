"""The region rollout state machine as data: which action is legal from which state, and where
it leads. Pure, so the rules can be read (and tested) in one place; the services apply them
inside a transaction."""

from enum import StrEnum

from orchestrator.core.enums import RolloutState
from orchestrator.core.errors import IllegalTransition


class RolloutAction(StrEnum):
    KICK_OFF = "kick off"
    PASS_GATES = "pass the gates of"
    SET_EXPOSURE = "change exposure of"
    GO_LIVE = "mark live"
    ADVANCE = "advance"
    HALT = "halt"
    RESUME = "resume"
    ROLL_BACK = "roll back"


_ACTIVE_EXITS = {RolloutAction.HALT: RolloutState.HALTED, RolloutAction.ROLL_BACK: RolloutState.ROLLED_BACK}


# RESUME's target is decided by what a halt or rollback interrupted (see ``resume_target``).
ROLLOUT_TRANSITIONS: dict[RolloutState, dict[RolloutAction, RolloutState]] = {
    RolloutState.PLANNED: {RolloutAction.KICK_OFF: RolloutState.GATED},
    RolloutState.GATED: {RolloutAction.PASS_GATES: RolloutState.READY, **_ACTIVE_EXITS},
    RolloutState.READY: {RolloutAction.SET_EXPOSURE: RolloutState.ROLLING_OUT, **_ACTIVE_EXITS},
    RolloutState.ROLLING_OUT: {
        RolloutAction.SET_EXPOSURE: RolloutState.ROLLING_OUT,
        RolloutAction.GO_LIVE: RolloutState.LIVE,
        **_ACTIVE_EXITS,
    },
    RolloutState.LIVE: {RolloutAction.ADVANCE: RolloutState.GATED, **_ACTIVE_EXITS},
    RolloutState.HALTED: {
        RolloutAction.RESUME: RolloutState.HALTED,
        RolloutAction.ROLL_BACK: RolloutState.ROLLED_BACK,
    },
    RolloutState.ROLLED_BACK: {RolloutAction.RESUME: RolloutState.READY},
}


def rollout_target(state: RolloutState, action: RolloutAction) -> RolloutState:
    """Where ``action`` leads from ``state``, or IllegalTransition naming what is allowed."""
    exits = ROLLOUT_TRANSITIONS[state]
    if action not in exits:
        raise IllegalTransition("region rollout", state.value, action.value, (a.value for a in exits))
    return exits[action]


def resume_target(state: RolloutState, interrupted: RolloutState | None) -> RolloutState:
    """A halt resumes where it stopped; a rollback re-ramps from ready, or re-gates if the gates
    had not passed when it was rolled back."""
    rollout_target(state, RolloutAction.RESUME)
    if state is RolloutState.HALTED:
        return interrupted or RolloutState.GATED
    if interrupted is RolloutState.GATED:
        return RolloutState.GATED
    return RolloutState.READY
