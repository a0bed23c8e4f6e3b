"""Jinja2 rendering of the human-readable parts of messages (section texts, headers, fallbacks).

Wording lives in ``templates/*.j2`` (next to this module) so it can be changed without touching
Block Kit structure. The environment is strict (a missing variable is an error, not an empty
string, so a renamed snapshot field fails the tests instead of posting a blank) and does not
autoescape: Slack's mrkdwn is not HTML. Every user-provided value in a mrkdwn template goes through
the ``mrkdwn`` filter (``notifications.mrkdwn.escape_mrkdwn``).
"""

from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from notifications.mrkdwn import escape_mrkdwn, exit_criteria_mrkdwn, link, mention, phase_label, shorten, when


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The one environment of the process: it keeps each compiled template, so a message costs a
    render, not a parse and compile of its templates (0.7-3 ms each here) every time."""
    env = Environment(
        loader=PackageLoader("notifications.messages", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        mrkdwn=escape_mrkdwn,
        shorten=shorten,
        mention=mention,
        link=link,
        when=when,
        phase=phase_label,
        exit_criteria=exit_criteria_mrkdwn,
    )
    return env


def render(name: str, **context: Any) -> str:
    """Render ``templates/<name>.j2`` and strip surrounding whitespace."""
    return environment().get_template(f"{name}.j2").render(**context).strip()
