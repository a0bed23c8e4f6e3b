"""The audit ledger in sentences a VP can read: "Ann Lee (Marketing) checked 'Press release
approved' for EU GA", "Pat (prodops) halted EU: incident 42", "the worker raised EU to 25%".

A pure function from an event and the facts it names (``audit_facts.AuditFacts``) to one
sentence: no query, no clock. Every action the services record has its sentence (the launch's
own here, the beta programme's and launchdeck's housekeeping in ``audit_sentences_other``); an
action added later still reads as words, never as a table name or an id.
"""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from orchestrator.core.enums import Phase, Source
from orchestrator.core.models import AuditEvent
from orchestrator.reporting.audit_facts import TOKEN_ACTOR_PREFIX, AuditFacts, Place
from orchestrator.reporting.audit_sentences_other import OTHER_SENTENCES, fallback
from orchestrator.reporting.audit_words import at, join_names, name_of, phase_label, quoted, why

Sentence = Callable[[str, AuditEvent, AuditFacts], str]

VOTES = {"go": "Go", "conditional_go": "Conditional Go", "no_go": "No-Go"}
GATE_KINDS = {"checklist": "checklist", "approval": "approval", "time": "date", "beta_exit": "beta exit"}


def actor_label(actor: str, source: Source, facts: AuditFacts) -> str:
    """Who acted, as people say it: a member's name and team, "the worker" for flows,
    "launchdeck" for the system itself."""
    if source == Source.FLOW:
        return "the worker"
    if source == Source.SYSTEM:
        return "launchdeck"
    person = facts.people.get(actor)
    if person is not None:
        return person.label
    if actor.startswith(TOKEN_ACTOR_PREFIX):
        return f"the API token {quoted(actor.removeprefix(TOKEN_ACTOR_PREFIX))}"
    if source == Source.CLI:
        return f"{actor} (command line)"
    return actor


def sentence(event: AuditEvent, facts: AuditFacts) -> str:
    """One event as one sentence, starting with who did it."""
    who = actor_label(event.actor, event.source, facts)
    build = SENTENCES.get(event.action) or OTHER_SENTENCES.get(event.action)
    if build is None:
        return fallback(who, event)
    try:
        return build(who, event, facts)
    except (KeyError, TypeError, ValueError, AttributeError):
        return fallback(who, event)  # an event written before its fields were what they are now


# ---- checklist items --------------------------------------------------------------------------


def _item(event: AuditEvent, facts: AuditFacts) -> str:
    thing = facts.items.get(event.entity_id or 0)
    if thing is None:
        return "a checklist item"
    where = at(thing.place)
    return f"{quoted(thing.name)} for {where}" if where else quoted(thing.name)


def _item_sentence(verb: str, suffix: str = "", *, reason: bool = False) -> Sentence:
    def build(who: str, event: AuditEvent, facts: AuditFacts) -> str:
        return f"{who} {verb} {_item(event, facts)}{suffix}{why(event.reason) if reason else ''}"

    return build


def _assigned(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    assignee = (event.after or {}).get("assignee_id")
    if assignee is None:
        return f"{who} unassigned {_item(event, facts)}"
    person = facts.members.get(int(assignee))
    return f"{who} assigned {_item(event, facts)} to {person.name if person else 'a member'}"


def _commented(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    return f"{who} commented on {_item(event, facts)}{why(event.reason)}"


# ---- regions ----------------------------------------------------------------------------------


def _region(event: AuditEvent, facts: AuditFacts) -> str:
    return facts.rollouts.get(event.entity_id or 0) or "a region"


def _phase_after(event: AuditEvent) -> str:
    return phase_label((event.after or {}).get("phase"))


def _gated(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    return f"{who} moved {_region(event, facts)} to {_phase_after(event)}, where it waits at its gates"


def _ready(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    return f"{who} marked {_region(event, facts)} ready for {_phase_after(event)}: every gate passed"


def _exposure(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    old, new = int((event.before or {}).get("percent") or 0), int((event.after or {})["percent"])
    verb = "raised" if new >= old else "lowered"
    return f"{who} {verb} {_region(event, facts)} to {new}%"


def _live(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    return f"{who} took {_region(event, facts)} live in {_phase_after(event)}"


def _region_sentence(verb: str) -> Sentence:
    def build(who: str, event: AuditEvent, facts: AuditFacts) -> str:
        return f"{who} {verb} {_region(event, facts)}{why(event.reason)}"

    return build


# ---- votes and gates --------------------------------------------------------------------------


def _vote_place(event: AuditEvent, facts: AuditFacts) -> str:
    place = facts.decisions.get(event.entity_id or 0)
    if place is None:
        phase = (event.after or {}).get("phase")
        place = Place(phase=Phase(phase) if phase else None)
    return at(place) or "a gate"


def _cast(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    after = event.after or {}
    vote = VOTES[after["vote"]]
    earlier = (event.before or {}).get("vote")
    changed = f" (was {VOTES[earlier]})" if earlier and earlier != after["vote"] else ""
    where = _vote_place(event, facts)
    if after.get("recorded_by"):
        voter = name_of(after["voter"], facts)
        return f"{who} recorded {voter}'s {vote} on {where}{changed}{why(event.reason)}"
    return f"{who} voted {vote} on {where}{changed}{why(event.reason)}"


def _voided(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    before = event.before or {}
    vote = VOTES.get(str(before.get("vote")), "vote")
    voter = name_of(str(before.get("voter")), facts)
    return f"{who} voided {voter}'s {vote} on {_vote_place(event, facts)}{why(event.reason)}"


def _gate_place(event: AuditEvent, facts: AuditFacts) -> str:
    place = facts.gates.get(event.entity_id or 0)
    return at(place) if place else "a region"


def _passed(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    kind = GATE_KINDS.get(str((event.after or {}).get("kind")), "")
    return f"{who} passed the {kind + ' ' if kind else ''}gate for {_gate_place(event, facts)}"


def _approvers(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    after = event.after or {}
    emails = [str(email) for email in after.get("approvers") or []]
    names = join_names([name_of(email, facts) for email in emails]) or "nobody"
    quorum = after.get("quorum")
    needed = "all must say Go" if quorum is None or quorum >= len(emails) else f"{quorum} of {len(emails)} must say Go"
    teams = ", from different teams" if after.get("distinct_teams") else ""
    return (
        f"{who} changed the approvers for {_gate_place(event, facts)} to {names} ({needed}{teams}){why(event.reason)}"
    )


# ---- the launch and its dates -----------------------------------------------------------------


def _day(value: Any) -> datetime:
    return datetime.fromisoformat(str(value))


def _rescheduled(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    before, after = event.before or {}, event.after or {}
    old, new = _day(before["at"]), _day(after["at"])
    days = (new.date() - old.date()).days
    slip = f"{days:+d} day{'s' if abs(days) != 1 else ''}" if days else "same day"
    region = facts.phase_dates.get(event.entity_id or 0)
    where = at(Place(region, Phase(after["phase"])))
    return f"{who} moved {where} from {old:%Y-%m-%d} to {new:%Y-%m-%d} ({slip}){why(event.reason)}"


def _created(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    regions = join_names([str(code) for code in after.get("regions") or []]) or "no region yet"
    items = int(after.get("items") or 0)
    return (
        f"{who} created the launch {quoted(str(after['name']))} (tier {after['tier']}) in {regions} "
        f"with {items} checklist item{'s' if items != 1 else ''}"
    )


def _template(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    counts = ", ".join(f"{len(after.get(key) or [])} {key}" for key in ("added", "updated", "retired"))
    return f"{who} applied checklist template {after['template_version']}: items {counts}"


def _launch_sentence(words: str) -> Sentence:
    def build(who: str, _event: AuditEvent, _facts: AuditFacts) -> str:
        return f"{who} {words}"

    return build


SENTENCES: Mapping[str, Sentence] = {
    "item.checked": _item_sentence("checked"),
    "item.reopened": _item_sentence("reopened", reason=True),
    "item.started": _item_sentence("started work on"),
    "item.blocked": _item_sentence("marked", " blocked", reason=True),
    "item.not_applicable": _item_sentence("marked", " not applicable", reason=True),
    "item.waived": _item_sentence("waived", reason=True),
    "item.assigned": _assigned,
    "item.evidence_attached": _item_sentence("attached evidence to"),
    "item.commented": _commented,
    "rollout.gated": _gated,
    "rollout.ready": _ready,
    "rollout.exposure_changed": _exposure,
    "rollout.live": _live,
    "rollout.halted": _region_sentence("halted"),
    "rollout.resumed": _region_sentence("resumed"),
    "rollout.rolled_back": _region_sentence("rolled back"),
    "decision.cast": _cast,
    "decision.voided": _voided,
    "gate.passed": _passed,
    "gate.approvers_changed": _approvers,
    "phase.rescheduled": _rescheduled,
    "launch.created": _created,
    "launch.kicked_off": _launch_sentence("kicked off the launch"),
    "launch.completed": _launch_sentence("completed the launch: every region is live in GA"),
    "launch.template_applied": _template,
}
