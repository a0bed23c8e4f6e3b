"""The launch page's region x phase matrix: what each cell says for the phase it shows."""

from sqlmodel import select

from orchestrator.core.enums import Phase, RolloutState
from orchestrator.core.models import RegionRollout
from orchestrator.reporting.launch_matrix import read_layout, region_rows
from orchestrator.reporting.rag import Rag, RagRules
from tests.support.factories import BASE, make_launch


def test_a_phase_the_region_skipped_reads_skipped_without_a_colour_not_done_and_green(seeded, actor):
    launch = make_launch(seeded, actor, dates={Phase.INTERNAL: BASE, Phase.GA: BASE})
    rollout = seeded.exec(select(RegionRollout).where(RegionRollout.launch_id == launch.id)).one()
    rollout.state, rollout.phase = RolloutState.GATED, Phase.GA  # past internal and both betas
    seeded.add(rollout)
    seeded.commit()

    layout = read_layout(seeded, launch_id=launch.id)
    (row,) = region_rows(layout, by_cell={}, criteria={}, now=BASE, rules=RagRules())
    seeded.commit()

    cells = {cell.phase: cell for cell in row.cells}
    for phase in (Phase.PRIVATE_BETA, Phase.PUBLIC_BETA):
        assert (cells[phase].status, cells[phase].rag, cells[phase].skipped) == ("skipped", None, True)
        assert (cells[phase].current_at, cells[phase].gates) == (None, "no gate")
    assert (cells[Phase.INTERNAL].status, cells[Phase.INTERNAL].skipped) == ("done", False)
    assert cells[Phase.INTERNAL].rag is not None
    assert cells[Phase.INTERNAL].rag.rag == Rag.GREEN
    assert cells[Phase.GA].status == "gated"
