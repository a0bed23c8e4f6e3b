"""Default approvers from the templates: who votes on a go/no-go gate when a launch names nobody.

The library says, per tier and phase, which teams approve (Tier 1 GA: product, support, legal);
the directory says who leads each team. A launch that names approvers for a phase (its own
``phase_approvers``, or ``approvers`` for every phase) keeps them; a team without a lead adds
nobody, and kickoff then refuses the launch saying what to add.
"""

from sqlmodel import Session, col, select

from checklists.loader import Library
from orchestrator.core.enums import GateKind, Phase
from orchestrator.core.models import Team
from orchestrator.launches.spec import LaunchSpec, gate_kinds_for


def default_approvers(session: Session, *, spec: LaunchSpec, library: Library) -> dict[Phase, list[str]]:
    """The template defaults for each planned go/no-go phase of ``spec`` that names nobody: the
    leads of the teams listed, each once (a team without a lead adds nobody)."""
    wanted = {
        phase: teams
        for phase, teams in library.approvers.get(spec.tier, {}).items()
        if _gated(spec, phase) and not spec.approvers_of(phase)
    }
    keys = sorted({team for teams in wanted.values() for team in teams})
    leads = dict(session.exec(select(Team.key, Team.lead).where(col(Team.key).in_(keys))).all()) if keys else {}
    found = {team: lead for team, lead in leads.items() if lead}
    return {phase: list(dict.fromkeys(found[t] for t in teams if t in found)) for phase, teams in wanted.items()}


def with_default_approvers(session: Session, *, spec: LaunchSpec, library: Library) -> LaunchSpec:
    """``spec`` with the template defaults filled in for the phases that name nobody."""
    defaults = default_approvers(session, spec=spec, library=library)
    filled = {phase: approvers for phase, approvers in defaults.items() if approvers}
    if not filled:
        return spec
    return spec.model_copy(update={"phase_approvers": {**spec.phase_approvers, **filled}})


def _gated(spec: LaunchSpec, phase: Phase) -> bool:
    """Whether some region of ``spec`` goes through ``phase`` and the tier votes on it."""
    planned = any(phase in plan.dates for plan in spec.regions)
    return planned and GateKind.APPROVAL in gate_kinds_for(tier=spec.tier, phase=phase)
