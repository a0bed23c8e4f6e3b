"""Which items a launch gets: filtered by tier, region (with sub-regions) and flags, with per-tier
offsets and gates, rendered titles, and dependencies that exist in the launch."""

from datetime import UTC, datetime

import pytest

from checklists.item_text import LaunchFacts
from checklists.planning import RolloutPlan, fill_phase_dates, plan_items, target_regions
from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput
from tests.support.checklists import make_library, seed_directory

ALL_PHASES = frozenset(Phase)


def plan(tmp_path, *, tier=1, regions=("EU",), flags=(), phases=ALL_PHASES, extra=None):
    library = make_library(tmp_path, extra=extra)
    directory = seed_directory()
    rollouts = {code: RolloutPlan(region=directory.regions[code], phases=phases) for code in regions}
    facts = LaunchFacts(name="Acme AI", slug="acme-ai", tier=tier, owner="pat@example.com", flags=tuple(flags))
    return plan_items(library, launch=facts, rollouts=rollouts)


def keys(specs, region=None):
    return {spec.key for spec in specs if region is None or spec.region == region}


def test_tier_filter_and_per_tier_offsets(tmp_path):
    tier1 = plan(tmp_path / "1", tier=1)
    tier3 = plan(tmp_path / "3", tier=3)
    assert {"pb.charter", "ga.battlecard"} <= keys(tier1)
    assert not {"pb.charter", "ga.battlecard"} & keys(tier3)
    brief1 = next(spec for spec in tier1 if spec.key == "int.brief")
    brief3 = next(spec for spec in tier3 if spec.key == "int.brief")
    assert (brief1.due_offset_days, brief3.due_offset_days) == (-30, -7)


def test_gate_by_tier_makes_an_item_advisory_for_small_launches(tmp_path):
    tier1 = {spec.key: spec for spec in plan(tmp_path / "1", tier=1)}
    tier3 = {spec.key: spec for spec in plan(tmp_path / "3", tier=3)}
    assert tier1["ga.legal_review"].blocking is True
    assert tier3["ga.legal_review"].blocking is False
    assert tier1["ga.legal_review"].evidence_required is True


def test_flags_select_items_only_when_all_are_set(tmp_path):
    without = plan(tmp_path / "a", flags=())
    with_flag = plan(tmp_path / "b", flags=("personal_data",))
    assert "ga.privacy_notice" not in keys(without)
    assert {"ga.privacy_notice", "reg.eu.dpa"} <= keys(with_flag)


def test_region_items_go_only_to_their_region(tmp_path):
    specs = plan(tmp_path, regions=("NA", "EU"), flags=("personal_data",))
    assert "reg.eu.dpa" in keys(specs, "EU")
    assert "reg.eu.dpa" not in keys(specs, "NA")
    assert "ga.legal_review" in keys(specs, "NA")
    assert "ga.legal_review" in keys(specs, "EU")


def test_sub_region_items_land_in_the_parent_rollout_when_the_launch_has_no_own_rollout(tmp_path):
    specs = plan(tmp_path, regions=("NA", "EU"), flags=("sells_to_quebec_consumers",))
    assert "reg.qc.french" in keys(specs, "NA")
    assert "reg.qc.french" not in keys(specs, "EU")


def test_sub_region_items_prefer_the_sub_region_rollout(tmp_path):
    specs = plan(tmp_path, regions=("NA", "NA:CA-QC"), flags=("sells_to_quebec_consumers",))
    assert "reg.qc.french" in keys(specs, "NA:CA-QC")
    assert "reg.qc.french" not in keys(specs, "NA")


def test_target_regions_for_a_parent_region_item_include_its_sub_region_rollouts(tmp_path):
    library = make_library(tmp_path)
    directory = seed_directory()
    rollouts = {code: RolloutPlan(directory.regions[code], ALL_PHASES) for code in ("NA", "NA:CA-QC", "EU")}
    legal = library.items["ga.legal_review"].model_copy(update={"regions": ["NA"]})
    assert target_regions(legal, rollouts) == ["NA", "NA:CA-QC"]


def test_phases_a_region_skips_get_no_items(tmp_path):
    specs = plan(tmp_path, phases=frozenset({Phase.GA}))
    assert {spec.phase for spec in specs} == {Phase.GA}


def test_titles_render_with_launch_region_and_phase(tmp_path):
    specs = {spec.key: spec for spec in plan(tmp_path, regions=("EU",), flags=("personal_data",))}
    assert specs["int.brief"].title == "Launch brief for Acme AI"
    assert specs["int.flag"].title == "Kill switch ready in EU"
    assert specs["reg.eu.dpa"].title == "DPA signed with processors for Europe"
    assert specs["ga.privacy_notice"].title == "Privacy notice updated (general availability)"


def test_dependencies_a_launch_does_not_get_are_dropped(tmp_path):
    tier1 = {spec.key: spec for spec in plan(tmp_path / "1", tier=1)}
    tier2 = {spec.key: spec for spec in plan(tmp_path / "2", tier=2)}
    assert tier1["ga.sales_training"].depends_on == ("ga.battlecard",)
    assert tier2["ga.sales_training"].depends_on == ()
    assert tier1["int.flag"].depends_on == ("int.brief",)


def test_missing_phase_dates_are_filled_before_the_next_dated_phase():
    ga = datetime(2027, 4, 1, tzinfo=UTC)
    dates, notes = fill_phase_dates(tier=2, given={Phase.GA: ga})
    assert dates[Phase.PUBLIC_BETA] == datetime(2027, 3, 18, tzinfo=UTC)
    assert dates[Phase.INTERNAL] == datetime(2027, 2, 18, tzinfo=UTC)
    assert len(notes) == 3
    assert "14 days before" in notes[0]


def test_filling_needs_at_least_one_date():
    with pytest.raises(InvalidInput, match="give at least one phase date"):
        fill_phase_dates(tier=1, given={})
