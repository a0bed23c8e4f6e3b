"""The enums of the core as data: phases in order."""

from orchestrator.core.enums import Phase


def test_phases_are_ordered_and_next_stops_after_ga():
    assert Phase.ordered() == [Phase.INTERNAL, Phase.PRIVATE_BETA, Phase.PUBLIC_BETA, Phase.GA]
    assert [phase.next() for phase in Phase.ordered()] == [
        Phase.PRIVATE_BETA,
        Phase.PUBLIC_BETA,
        Phase.GA,
        None,
    ]
