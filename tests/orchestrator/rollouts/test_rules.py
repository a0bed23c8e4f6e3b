"""The region rollout state machine as data: pure tests of orchestrator/rollouts/rules.py, no
database.

The expected table below is written out from the design (DESIGN.md, "RegionRollout") rather than
copied from the code, so a change to the rules has to change it too."""

import itertools

import pytest

from orchestrator.core.enums import RolloutState
from orchestrator.core.errors import IllegalTransition
from orchestrator.rollouts.rules import ROLLOUT_TRANSITIONS, RolloutAction, resume_target, rollout_target

S = RolloutState
A = RolloutAction

# planned -> gated -> ready -> rolling_out -> live -> (next phase's) gated, plus halt and roll back
# from every active state. RESUME from halted is resolved by resume_target (the table keeps halted).
EXPECTED_ROLLOUT: dict[tuple[RolloutState, RolloutAction], RolloutState] = {
    (S.PLANNED, A.KICK_OFF): S.GATED,
    (S.GATED, A.PASS_GATES): S.READY,
    (S.GATED, A.HALT): S.HALTED,
    (S.GATED, A.ROLL_BACK): S.ROLLED_BACK,
    (S.READY, A.SET_EXPOSURE): S.ROLLING_OUT,
    (S.READY, A.HALT): S.HALTED,
    (S.READY, A.ROLL_BACK): S.ROLLED_BACK,
    (S.ROLLING_OUT, A.SET_EXPOSURE): S.ROLLING_OUT,
    (S.ROLLING_OUT, A.GO_LIVE): S.LIVE,
    (S.ROLLING_OUT, A.HALT): S.HALTED,
    (S.ROLLING_OUT, A.ROLL_BACK): S.ROLLED_BACK,
    (S.LIVE, A.ADVANCE): S.GATED,
    (S.LIVE, A.HALT): S.HALTED,
    (S.LIVE, A.ROLL_BACK): S.ROLLED_BACK,
    (S.HALTED, A.RESUME): S.HALTED,
    (S.HALTED, A.ROLL_BACK): S.ROLLED_BACK,
    (S.ROLLED_BACK, A.RESUME): S.READY,
}

ILLEGAL_ROLLOUT = [
    (state, action)
    for state, action in itertools.product(RolloutState, RolloutAction)
    if (state, action) not in EXPECTED_ROLLOUT
]

ACTIVE_STATES = [S.GATED, S.READY, S.ROLLING_OUT, S.LIVE]


def _allowed_from(state: RolloutState) -> list[str]:
    return sorted(action.value for (source, action) in EXPECTED_ROLLOUT if source is state)


def test_rollout_table_is_exactly_the_designed_state_machine():
    actual = {
        (state, action): target for state, exits in ROLLOUT_TRANSITIONS.items() for action, target in exits.items()
    }
    assert actual == EXPECTED_ROLLOUT


def test_every_rollout_state_has_a_row_and_a_way_out():
    assert set(ROLLOUT_TRANSITIONS) == set(RolloutState)
    for state, exits in ROLLOUT_TRANSITIONS.items():
        assert exits, f"{state} has no exit"


@pytest.mark.parametrize(
    ("state", "action", "target"),
    [(state, action, target) for (state, action), target in EXPECTED_ROLLOUT.items()],
    ids=[f"{state.value}-{action.name.lower()}" for state, action in EXPECTED_ROLLOUT],
)
def test_legal_rollout_transition_leads_to_its_target(state, action, target):
    assert rollout_target(state, action) is target


@pytest.mark.parametrize(
    ("state", "action"), ILLEGAL_ROLLOUT, ids=[f"{s.value}-{a.name.lower()}" for s, a in ILLEGAL_ROLLOUT]
)
def test_illegal_rollout_transition_raises_and_names_what_is_allowed(state, action):
    with pytest.raises(IllegalTransition) as caught:
        rollout_target(state, action)

    error = caught.value
    allowed = _allowed_from(state)
    assert error.allowed == allowed
    assert error.entity == "region rollout"
    assert error.current == state.value
    assert error.attempted == action.value
    assert error.code == "illegal_transition"
    assert error.message.startswith(f"cannot {action.value} region rollout while it is {state.value}")
    assert f"allowed from {state.value}: {', '.join(allowed)}" in error.message
    assert str(error) == error.message


def test_illegal_transition_message_for_a_final_state_says_so():
    error = IllegalTransition("gate", "passed", "vote on", [])
    assert error.allowed == []
    assert "none (this state is final)" in error.message


def test_illegal_transition_allowed_list_is_sorted_and_unique():
    error = IllegalTransition("thing", "x", "poke", ["b", "a", "b"])
    assert error.allowed == ["a", "b"]
    assert error.message.endswith("allowed from x: a, b")


def test_every_active_state_can_be_halted_and_rolled_back():
    for state in ACTIVE_STATES:
        assert rollout_target(state, A.HALT) is S.HALTED
        assert rollout_target(state, A.ROLL_BACK) is S.ROLLED_BACK


def test_a_planned_region_can_only_be_kicked_off():
    assert _allowed_from(S.PLANNED) == [A.KICK_OFF.value]
    for action in (A.HALT, A.ROLL_BACK, A.RESUME):
        with pytest.raises(IllegalTransition):
            rollout_target(S.PLANNED, action)


@pytest.mark.parametrize("interrupted", ACTIVE_STATES)
def test_resume_after_halt_returns_to_the_interrupted_state(interrupted):
    assert resume_target(S.HALTED, interrupted) is interrupted


def test_resume_after_halt_without_a_recorded_state_re_gates():
    assert resume_target(S.HALTED, None) is S.GATED


@pytest.mark.parametrize("interrupted", [S.READY, S.ROLLING_OUT, S.LIVE, None])
def test_resume_after_rollback_re_ramps_from_ready(interrupted):
    assert resume_target(S.ROLLED_BACK, interrupted) is S.READY


def test_resume_after_rollback_of_a_gated_region_re_gates():
    assert resume_target(S.ROLLED_BACK, S.GATED) is S.GATED


@pytest.mark.parametrize("state", [S.PLANNED, *ACTIVE_STATES])
def test_resume_from_a_state_that_was_not_interrupted_is_illegal(state):
    with pytest.raises(IllegalTransition) as caught:
        resume_target(state, None)
    assert caught.value.attempted == A.RESUME.value
    assert caught.value.allowed == _allowed_from(state)
