"""Jinja2 for item titles and descriptions: strict, so a typo fails validation instead of
rendering an empty string into a launch."""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jinja2

from checklists.catalog import RegionInfo
from orchestrator.core.enums import Phase

PHASE_LABELS = {
    Phase.INTERNAL: "internal",
    Phase.PRIVATE_BETA: "private beta",
    Phase.PUBLIC_BETA: "public beta",
    Phase.GA: "general availability",
}

_environment = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=False)


@dataclass(frozen=True)
class LaunchFacts:
    """What a template may say about the launch."""

    name: str
    slug: str
    tier: int
    owner: str
    flags: tuple[str, ...] = ()


SAMPLE_LAUNCH = LaunchFacts(name="Sample Launch", slug="sample-launch", tier=1, owner="owner@example.com")
SAMPLE_REGION = RegionInfo(code="EU", name="Europe", timezone="Europe/Berlin")


def context(*, launch: LaunchFacts, region: RegionInfo, phase: Phase) -> dict[str, Any]:
    return {
        "launch": {
            "name": launch.name,
            "slug": launch.slug,
            "tier": launch.tier,
            "owner": launch.owner,
            "flags": list(launch.flags),
        },
        "region": {"code": region.code, "name": region.name, "timezone": region.timezone},
        "phase": {"key": phase.value, "label": PHASE_LABELS[phase]},
        "tier": launch.tier,
    }


@lru_cache(maxsize=2048)
def compile_text(text: str) -> jinja2.Template:
    """Compiled once per distinct text (a template is immutable and renders thread-safely):
    compiling every item's title and description was half of a launch creation's time."""
    return _environment.from_string(text)


def render_title(text: str, values: dict[str, Any]) -> str:
    """One line, whitespace collapsed: titles show in tables and Slack buttons."""
    return " ".join(compile_text(text).render(values).split())


def render_description(text: str, values: dict[str, Any]) -> str:
    return compile_text(text).render(values).strip()


def check_text(text: str, *, phase: Phase) -> str | None:
    """The problem with a template string, or None: syntax first, then a strict trial render."""
    try:
        template = compile_text(text)
    except jinja2.TemplateSyntaxError as exc:
        return f"Jinja syntax error on template line {exc.lineno}: {exc.message}"
    try:
        template.render(context(launch=SAMPLE_LAUNCH, region=SAMPLE_REGION, phase=phase))
    except jinja2.UndefinedError as exc:
        return (
            f"{exc.message}; templates may use launch.name, launch.slug, launch.tier, launch.owner, "
            "launch.flags, region.code, region.name, region.timezone, phase.key, phase.label, tier"
        )
    except jinja2.TemplateError as exc:
        return f"Jinja error: {exc}"
    return None
