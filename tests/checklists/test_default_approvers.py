"""Go/no-go approvers from the templates: per tier and phase the library names teams, the
directory names each team's lead, and a launch that names nobody gets them; one that names its
own keeps them; a team without a lead adds nobody and kickoff says what to add."""

from datetime import UTC, datetime

import pytest
from sqlmodel import select

from checklists.instantiate import create_launch_from_templates
from checklists.loader import load_library
from orchestrator.core.enums import GateKind, Phase
from orchestrator.core.errors import ConfigError, InvalidInput
from orchestrator.core.models import Gate, Team
from orchestrator.directory.seed import SeedConfig, TeamSeed
from orchestrator.directory.service import apply_seed, upsert_team
from orchestrator.launches.service import kick_off_launch
from orchestrator.launches.spec import LaunchSpec
from tests.support.checklists import seed_directory, write_templates
from tests.support.factories import make_approvers, region_plan

DATES = {
    Phase.INTERNAL: datetime(2027, 1, 4, tzinfo=UTC),
    Phase.PRIVATE_BETA: datetime(2027, 2, 1, tzinfo=UTC),
    Phase.PUBLIC_BETA: datetime(2027, 3, 1, tzinfo=UTC),
    Phase.GA: datetime(2027, 4, 1, tzinfo=UTC),
}
LEADS = {"product": "prod.lead@example.com", "support": "support.lead@example.com", "legal": "legal.lead@example.com"}


def library_with_defaults():
    """The built-in templates (their library.yaml names Tier 1 GA: product, support, legal)."""
    return load_library(directory=seed_directory())


def give_leads(session, actor, leads):
    make_approvers(session, actor, *leads.values())
    for key, email in leads.items():
        name = session.exec(select(Team.name).where(Team.key == key)).one()
        upsert_team(session=session, seed=TeamSeed(key=key, name=name, lead=email), actor=actor)


def spec(**overrides):
    values = {
        "slug": "acme-ai",
        "name": "Acme AI",
        "tier": 1,
        "owner": "pat@example.com",
        "regions": [region_plan("EU", DATES), region_plan("NA", DATES)],
        **overrides,
    }
    return LaunchSpec(**values)


def approvers_by_phase(session, launch):
    gates = session.exec(select(Gate).where(Gate.kind == GateKind.APPROVAL)).all()
    found = {}
    for gate in gates:
        found.setdefault(gate.phase, set()).add(tuple(gate.approvers))
    return found


def test_a_tier_1_launch_naming_nobody_gets_the_team_leads_the_templates_name(seeded, actor):
    give_leads(seeded, actor, LEADS)
    launch = create_launch_from_templates(session=seeded, spec=spec(), library=library_with_defaults(), actor=actor)
    found = approvers_by_phase(seeded, launch)
    assert found == {
        Phase.GA: {("prod.lead@example.com", "support.lead@example.com", "legal.lead@example.com")},
        Phase.PUBLIC_BETA: {("prod.lead@example.com", "support.lead@example.com")},
    }
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)  # everyone who could vote is named


def test_approvers_a_launch_names_win_over_the_defaults_phase_by_phase(seeded, actor):
    give_leads(seeded, actor, LEADS)
    make_approvers(seeded, actor, "cfo@example.com")
    named = spec(phase_approvers={Phase.GA: ["cfo@example.com"]})
    launch = create_launch_from_templates(session=seeded, spec=named, library=library_with_defaults(), actor=actor)
    assert approvers_by_phase(seeded, launch) == {
        Phase.GA: {("cfo@example.com",)},
        Phase.PUBLIC_BETA: {("prod.lead@example.com", "support.lead@example.com")},
    }
    everywhere = spec(slug="acme-two", approvers=["cfo@example.com"])
    create_launch_from_templates(session=seeded, spec=everywhere, library=library_with_defaults(), actor=actor)
    gates = seeded.exec(select(Gate.approvers).where(Gate.kind == GateKind.APPROVAL)).all()
    assert sum(1 for approvers in gates if approvers == ["cfo@example.com"]) == 2 + 4  # acme-ai GA x2, acme-two x4


def test_a_team_without_a_lead_adds_nobody_and_kickoff_says_what_to_add(seeded, actor):
    give_leads(seeded, actor, {"support": LEADS["support"]})
    tier_3 = spec(tier=3)  # Tier 3 GA: the product lead only, and product has none
    launch = create_launch_from_templates(session=seeded, spec=tier_3, library=library_with_defaults(), actor=actor)
    assert approvers_by_phase(seeded, launch) == {Phase.GA: {()}}
    with pytest.raises(InvalidInput) as refused:
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    assert refused.value.field == "approvers"
    assert "EU ga, NA ga" in refused.value.message
    assert "teams[].lead" in refused.value.message
    assert "launchdeck launch approvers" in refused.value.message


def test_template_defaults_are_checked_with_file_and_line(tmp_path):
    bad = write_templates(
        tmp_path / "company",
        {"library.yaml": "approvers:\n  1:\n    ga: [product, lawyers]\n", "items.yaml": "items: []\n"},
    )
    with pytest.raises(ConfigError) as caught:
        load_library(directory=seed_directory(), extra_dirs=[bad])
    assert any(
        problem.startswith(f"{bad / 'library.yaml'}:3: approvers: tier 1 ga: unknown team 'lawyers'")
        for problem in caught.value.problems
    ), caught.value.problems
    no_vote = write_templates(tmp_path / "other", {"library.yaml": "approvers:\n  2: {internal: [product]}\n"})
    with pytest.raises(ConfigError) as caught:
        load_library(directory=seed_directory(), extra_dirs=[no_vote])
    assert any("tier 2 internal has no go/no-go gate" in problem for problem in caught.value.problems)


def test_a_team_lead_must_be_a_member_of_the_directory(seeded, actor):
    with pytest.raises(InvalidInput) as refused:
        upsert_team(session=seeded, seed=TeamSeed(key="legal", name="Legal", lead="nobody@example.com"), actor=actor)
    assert refused.value.field == "lead"
    assert "not a member" in refused.value.message
    config = SeedConfig(teams=[TeamSeed(key="legal", name="Legal", lead="ghost@example.com")])
    with pytest.raises(InvalidInput) as refused:
        apply_seed(session=seeded, config=config, actor=actor)
    assert refused.value.field == "teams.0.lead"
    assert seeded.exec(select(Team.lead).where(Team.key == "legal")).one() is None  # nothing half written
