"""Pure rules for exposure ramps (orchestrator/rollouts/ramp.py): no database, no clock."""

from datetime import timedelta

import pytest

from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.rollouts.ramp import DEFAULT_RAMPS, RampStep, hold_after, next_step, parse_ramp_plan, steps_for


def test_parse_ramp_plan_accepts_growing_steps_that_end_at_100_and_converts_minutes():
    plan = parse_ramp_plan(
        {
            "ga": [
                {"percent": 1, "hold_minutes": 30},
                {"percent": 20, "hold_minutes": 90.5},
                {"percent": 100},
            ],
            "internal": [{"percent": 100, "hold_minutes": 0}],
        }
    )

    assert plan == {
        Phase.GA: (
            RampStep(1, timedelta(minutes=30)),
            RampStep(20, timedelta(minutes=90, seconds=30)),
            RampStep(100, timedelta(0)),
        ),
        Phase.INTERNAL: (RampStep(100, timedelta(0)),),
    }


def test_parse_ramp_plan_accepts_an_empty_plan():
    assert parse_ramp_plan({}) == {}


GOOD_TAIL = {"percent": 100, "hold_minutes": 0}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        pytest.param({"beta": [GOOD_TAIL]}, "ramp_plan", id="unknown-phase"),
        pytest.param({"ga": []}, "ramp_plan.ga", id="empty-list"),
        pytest.param({"ga": {"percent": 100}}, "ramp_plan.ga", id="steps-not-a-list"),
        pytest.param(
            {"ga": [{"percent": 50}, {"percent": 50}, GOOD_TAIL]}, "ramp_plan.ga[1].percent", id="percent-repeats"
        ),
        pytest.param(
            {"ga": [{"percent": 50}, {"percent": 25}, GOOD_TAIL]}, "ramp_plan.ga[1].percent", id="percent-shrinks"
        ),
        pytest.param({"ga": [{"percent": 5}, {"percent": 50}]}, "ramp_plan.ga", id="last-step-not-100"),
        pytest.param({"ga": [{"percent": 0}, GOOD_TAIL]}, "ramp_plan.ga[0].percent", id="percent-0"),
        pytest.param({"ga": [{"percent": 101}]}, "ramp_plan.ga[0].percent", id="percent-101"),
        pytest.param({"ga": [{"percent": 5.0}, GOOD_TAIL]}, "ramp_plan.ga[0].percent", id="percent-float"),
        pytest.param({"ga": [{"percent": "5"}, GOOD_TAIL]}, "ramp_plan.ga[0].percent", id="percent-string"),
        pytest.param(
            {"ga": [{"percent": 5, "hold_minutes": -1}, GOOD_TAIL]},
            "ramp_plan.ga[0].hold_minutes",
            id="negative-hold",
        ),
        pytest.param(
            {"ga": [{"percent": 5, "hold_minutes": "60"}, GOOD_TAIL]},
            "ramp_plan.ga[0].hold_minutes",
            id="hold-string",
        ),
        pytest.param(
            {"ga": [{"percent": 5, "hold_minutes": 60, "hold_hours": 1}, GOOD_TAIL]},
            "ramp_plan.ga[0]",
            id="unknown-key-in-step",
        ),
        pytest.param({"ga": [{"hold_minutes": 60}, GOOD_TAIL]}, "ramp_plan.ga[0]", id="step-without-percent"),
        pytest.param({"ga": [GOOD_TAIL, 100]}, "ramp_plan.ga[1]", id="step-not-a-mapping"),
        pytest.param(
            {"internal": [GOOD_TAIL], "ga": [{"percent": 5}, {"percent": 200}]},
            "ramp_plan.ga[1].percent",
            id="bad-step-in-second-phase",
        ),
    ],
)
def test_parse_ramp_plan_refuses_a_bad_shape_naming_the_field(raw, field):
    with pytest.raises(InvalidInput) as caught:
        parse_ramp_plan(raw)

    assert caught.value.field == field
    assert caught.value.problem


@pytest.mark.parametrize("hold", [float("nan"), float("inf"), 10**12], ids=["nan", "inf", "centuries"])
def test_parse_ramp_plan_refuses_a_hold_that_is_not_a_finite_number(hold):
    with pytest.raises(InvalidInput) as caught:
        parse_ramp_plan({"ga": [{"percent": 5, "hold_minutes": hold}, GOOD_TAIL]})

    assert caught.value.field == "ramp_plan.ga[0].hold_minutes"


def test_steps_for_uses_the_launch_plan_for_its_phases_and_defaults_for_the_rest():
    raw = {"ga": [{"percent": 50, "hold_minutes": 15}, GOOD_TAIL]}

    assert steps_for(raw, Phase.GA) == (RampStep(50, timedelta(minutes=15)), RampStep(100, timedelta(0)))
    assert steps_for(raw, Phase.PUBLIC_BETA) == DEFAULT_RAMPS[Phase.PUBLIC_BETA]
    for phase in Phase.ordered():
        assert steps_for({}, phase) == DEFAULT_RAMPS[phase]


def test_steps_for_refuses_a_broken_stored_plan():
    with pytest.raises(InvalidInput) as caught:
        steps_for({"ga": [{"percent": 5}]}, Phase.INTERNAL)

    assert caught.value.field == "ramp_plan.ga"


def test_default_ramps_cover_every_phase_and_are_valid_plans():
    assert set(DEFAULT_RAMPS) == set(Phase.ordered())
    raw = {
        phase.value: [{"percent": s.percent, "hold_minutes": s.hold.total_seconds() / 60} for s in steps]
        for phase, steps in DEFAULT_RAMPS.items()
    }
    assert parse_ramp_plan(raw) == DEFAULT_RAMPS


GA_STEPS = DEFAULT_RAMPS[Phase.GA]  # 5% for 4 h, 25% for 24 h, 100%


@pytest.mark.parametrize(
    ("current", "expected"),
    [(0, 5), (5, 25), (7, 25), (25, 100), (99, 100), (100, None)],
)
def test_next_step_is_the_first_step_above_the_current_percent(current, expected):
    step = next_step(GA_STEPS, current)

    assert (step.percent if step else None) == expected


def test_hold_after_is_the_hold_of_the_step_just_reached_and_zero_elsewhere():
    assert hold_after(GA_STEPS, 5) == timedelta(hours=4)
    assert hold_after(GA_STEPS, 25) == timedelta(hours=24)
    assert hold_after(GA_STEPS, 100) == timedelta(0)
    assert hold_after(GA_STEPS, 30) == timedelta(0)  # a hand-set percent that is not a step
