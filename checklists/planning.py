"""Which template items a launch gets, in which region and phase, rendered and with offsets:
the pure step between a library and the ItemSpecs the orchestrator stores."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TypeVar

from checklists.catalog import RegionInfo
from checklists.item_text import LaunchFacts, context, render_description, render_title
from checklists.loader import Library
from checklists.schema import TemplateItem
from orchestrator.core.enums import Phase
from orchestrator.core.errors import InvalidInput
from orchestrator.launches.spec import ItemSpec, LaunchSpec


@dataclass(frozen=True)
class RolloutPlan:
    """A launch region and the phases it goes through."""

    region: RegionInfo
    phases: frozenset[Phase]


def target_regions(item: TemplateItem, rollouts: Mapping[str, RolloutPlan]) -> list[str]:
    """Launch regions an item is created in (see docs/checklist-templates.md, `regions`)."""
    if "all" in item.regions:
        return list(rollouts)
    targets: list[str] = []
    for code in item.regions:
        for launch_code, plan in rollouts.items():
            own = launch_code == code or plan.region.parent == code
            inherited = code.startswith(f"{launch_code}:") and code not in rollouts
            if (own or inherited) and launch_code not in targets:
                targets.append(launch_code)
    return targets


def plan_items(
    library: Library,
    *,
    launch: LaunchFacts,
    rollouts: Mapping[str, RolloutPlan],
) -> list[ItemSpec]:
    flags = set(launch.flags)
    chosen: dict[str, list[TemplateItem]] = {code: [] for code in rollouts}
    for item in library.items.values():
        if launch.tier not in item.tiers or not set(item.applies_if) <= flags:
            continue
        for code in target_regions(item, rollouts):
            if item.phase in rollouts[code].phases:
                chosen[code].append(item)
    specs: list[ItemSpec] = []
    for code, items in chosen.items():
        present = {item.key for item in items}
        region = rollouts[code].region
        for item in items:
            values = context(launch=launch, region=region, phase=item.phase)
            specs.append(
                ItemSpec(
                    region=code,
                    phase=item.phase,
                    key=item.key,
                    title=render_title(item.title, values)[:300],
                    description=render_description(item.description, values),
                    owner_team=item.owner,
                    due_offset_days=item.due_for(launch.tier),
                    blocking=item.blocking_for(launch.tier),
                    evidence_required=item.evidence,
                    # A dependency that this launch does not get (tier, flag, region) cannot hold it up.
                    depends_on=tuple(key for key in item.depends_on if key in present),
                )
            )
    return specs


def plan_for_spec(library: Library, *, spec: LaunchSpec, regions: Mapping[str, RegionInfo]) -> list[ItemSpec]:
    """Items for a launch about to be created."""
    missing = [plan.region for plan in spec.regions if plan.region not in regions]
    if missing:
        known = ", ".join(sorted(regions)) or "none"
        raise InvalidInput("regions", f"unknown region(s) {', '.join(missing)}; known regions: {known}")
    rollouts = {
        plan.region: RolloutPlan(region=regions[plan.region], phases=frozenset(plan.dates)) for plan in spec.regions
    }
    facts = LaunchFacts(name=spec.name, slug=spec.slug, tier=spec.tier, owner=spec.owner, flags=tuple(spec.flags))
    return plan_items(library, launch=facts, rollouts=rollouts)


def unknown_flags(library: Library, flags: Iterable[str]) -> list[str]:
    return sorted(set(flags) - set(library.flags))


DEFAULT_SPACING_DAYS = {1: 28, 2: 14, 3: 7}
Day = TypeVar("Day", bound=date)  # a plain day or a moment (a datetime is a date)


def fill_phase_dates(*, tier: int, given: Mapping[Phase, Day]) -> tuple[dict[Phase, Day], list[str]]:
    """Complete a partial phase plan for previews: each missing phase goes before the next dated one
    at the tier's default spacing. Returns the dates and a note per assumed date. Days (plain dates)
    stay days, so each region can read them in its own timezone afterwards."""
    if not given:
        raise InvalidInput("dates", "give at least one phase date, e.g. --ga-date 2027-04-01")
    spacing = DEFAULT_SPACING_DAYS[tier]
    order = Phase.ordered()
    dates = dict(given)
    notes: list[str] = []
    last_dated = max(order.index(phase) for phase in given)
    for index in range(last_dated - 1, -1, -1):
        phase = order[index]
        if phase not in dates:
            dates[phase] = dates[order[index + 1]] - timedelta(days=spacing)
            notes.append(
                f"{phase.value} date assumed {dates[phase]:%Y-%m-%d} "
                f"({spacing} days before {order[index + 1].value}; tier {tier} spacing)"
            )
    return {phase: dates[phase] for phase in order if phase in dates}, sorted(notes)
