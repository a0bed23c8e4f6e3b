"""The small words audit sentences share: phases as people say them, places ("EU GA"), quoted
titles, reasons after a colon, lists of names. Pure string helpers."""

from collections.abc import Sequence
from typing import Any

from orchestrator.core.enums import Phase
from orchestrator.reporting.audit_facts import AuditFacts, Place

PHASE_LABELS = {
    Phase.INTERNAL: "Internal",
    Phase.PRIVATE_BETA: "Private beta",
    Phase.PUBLIC_BETA: "Public beta",
    Phase.GA: "GA",
}


def phase_label(value: Any) -> str:
    """A phase as people say it; a value that is not a phase, in words."""
    try:
        return PHASE_LABELS[Phase(value)]
    except ValueError:
        return str(value).replace("_", " ")


def at(place: Place) -> str:
    """``EU GA``, ``EU``, ``GA``, or empty when neither is known."""
    parts = [place.region or "", phase_label(place.phase) if place.phase else ""]
    return " ".join(part for part in parts if part)


def quoted(text: str) -> str:
    return f"'{text}'"


def why(reason: str | None) -> str:
    """``: reason`` when there is one."""
    cleaned = (reason or "").strip()
    return f": {cleaned}" if cleaned else ""


def join_names(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def name_of(email: str, facts: AuditFacts) -> str:
    """A member's name (without team) for the people a sentence mentions; the email otherwise."""
    person = facts.people.get(email)
    return person.name if person else email


def count(number: int, thing: str) -> str:
    """``1 launch``, ``3 launches``."""
    plural = thing + ("es" if thing.endswith(("s", "sh", "ch")) else "s")
    return f"{number} {thing if number == 1 else plural}"
