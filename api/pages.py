"""The Jinja2 environment of the dashboard pages: autoescaped, loaded from the package, with the
few filters the templates share (times in UTC, a region's days in its timezone, RAG words), and
what every page's navigation needs (whether messages go to the console, so the page that shows
them is linked)."""

from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from api.block_html import blocks_html
from api.charts import burndown_chart
from notifications.delivery.factory import uses_console
from orchestrator.core.clock import as_utc, zone
from orchestrator.core.models import AuditEvent
from orchestrator.core.policy import LAUNCH_OPERATORS, ROLE_ABILITIES
from orchestrator.core.settings import get_settings


def _when(value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
    return "—" if value is None else f"{value:{pattern}}"


def _day(value: datetime | None, timezone: str | None = None) -> str:
    """The day of ``value``; with a region's ``timezone``, its local day (a phase date typed as a
    plain date is that day's start there, so it reads back as the day typed)."""
    if value is not None and timezone is not None:
        value = as_utc(value).astimezone(zone(timezone))
    return _when(value, "%Y-%m-%d")


def _signed(value: int) -> str:
    return f"{value:+d}" if value else "0"


def _changes(event: AuditEvent) -> str:
    """An audit event's before -> after as one line: only the fields that changed."""
    before = event.before or {}
    after = event.after or {}
    parts = []
    for key in after:
        old, new = before.get(key), after[key]
        if key in before and old != new:
            parts.append(f"{key}: {old} → {new}")
        elif key not in before and new not in (None, "", [], {}):
            parts.append(f"{key}: {new}")
    return "; ".join(parts[:6])


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("api", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,  # a misspelt name fails the page test instead of rendering blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["day"] = _day
    env.filters["signed"] = _signed
    env.filters["changes"] = _changes
    env.globals["burndown_chart"] = burndown_chart
    env.globals["blocks_html"] = blocks_html
    env.globals["role_abilities"] = ROLE_ABILITIES
    env.globals["operators"] = LAUNCH_OPERATORS  # who sees prod ops' forms (the services decide who may use them)
    return env


def render(template: str, **context: Any) -> str:
    context.setdefault("console_messages", uses_console(get_settings()))
    return environment().get_template(template).render(**context)
