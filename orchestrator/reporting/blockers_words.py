"""The blockers read model said in sentences, and when the worker next acts on the region.

Pure: it reads the facts ``orchestrator.reporting.blockers`` gathered and never the database, so
every door (CLI, API) says the same thing in the same words.
"""

import dataclasses
from datetime import datetime
from typing import TYPE_CHECKING

from orchestrator.core.enums import RolloutState

if TYPE_CHECKING:
    from orchestrator.reporting.blockers import ApprovalWait, Blockers, BlockingItem, TimeWait

AS_SOON = "as soon as the last condition is met"


def when(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def explained(facts: "Blockers", *, now: datetime) -> "Blockers":
    """``facts`` with its sentences and its next automatic step filled in."""
    next_at, next_step = _next_step(facts, now=now)
    reasons = _state_sentences(facts)
    if not facts.reached:
        waits = [_item_sentence(item) for item in facts.items] + _condition_sentences(facts)
        reasons += waits or [f"Nothing else holds {facts.region} back from {facts.phase.value}."]
    reasons.append(f"Next automatic step: {next_step}.")
    return dataclasses.replace(facts, next_step_at=next_at, next_step=next_step, reasons=reasons)


def _state_sentences(facts: "Blockers") -> list[str]:
    region, phase = facts.region, facts.phase.value
    if facts.halted:
        verb = "halted" if facts.state == RolloutState.HALTED else "rolled back"
        return [f"{region} is {verb} ({facts.halt_reason or 'no reason given'}): nothing moves until it is resumed."]
    if facts.state == RolloutState.PLANNED:
        return [f"The launch is not kicked off yet: {region} has not started."]
    assert facts.current_phase is not None
    if facts.reached and facts.current_phase != facts.phase:
        now_in = f"{facts.current_phase.value}, {facts.state.value}"
        return [f"{region} is past {phase} (now in {now_in}): nothing blocks it."]
    if facts.reached:
        return [f"{region} has reached {phase} ({facts.state.value}): nothing blocks it."]
    if facts.current_phase != facts.phase:
        return [f"{region} is in {facts.current_phase.value} ({facts.state.value}); {phase} comes after it."]
    return []


def _item_sentence(item: "BlockingItem") -> str:
    who = item.owner_team + (f", assigned to {_person(item)}" if item.assignee_email else ", unassigned")
    text = f"{item.key} ({item.title}) is {item.status.value.replace('_', ' ')}, owned by {who}"
    if item.due_at is not None:
        late = f"{item.days_late} day{'s' if item.days_late != 1 else ''} late" if item.overdue else "not late yet"
        text += f"; due {when(item.due_at)}, {late}"
    if item.blocked_reason:
        text += f"; blocked by: {item.blocked_reason}"
    waits = [f"{dep.key} ({dep.status.value if dep.status else 'no such item'})" for dep in item.depends_on]
    undone = [line for line, dep in zip(waits, item.depends_on, strict=True) if not dep.done]
    if undone:
        text += f"; waits for {', '.join(undone)}"
    elif item.depends_on:
        text += f"; its dependencies are done ({', '.join(dep.key for dep in item.depends_on)})"
    return text + "."


def _person(item: "BlockingItem") -> str:
    return f"{item.assignee_name} <{item.assignee_email}>" if item.assignee_name else f"{item.assignee_email}"


def _condition_sentences(facts: "Blockers") -> list[str]:
    sentences = []
    if facts.approval is not None and not facts.approval.holds:
        sentences += _approval_sentences(facts.approval)
    if facts.time is not None and not facts.time.reached:
        sentences.append(_time_sentence(facts.time))
    if facts.wave.waiting_for:
        regions = ", ".join(facts.wave.waiting_for)
        sentences.append(f"Sequential waves: {regions} must be live in {facts.phase.value} before {facts.region}.")
    if facts.beta_exit is not None and not facts.beta_exit.met:
        left = facts.beta_exit.exits.value if facts.beta_exit.exits else "the beta"
        unmet = [c for c in facts.beta_exit.criteria if not c.met]
        sentences += [
            f"Beta exit criterion for leaving {left} not met: {c.metric.value} is {c.value}, "
            f"needs {c.comparator} {c.threshold}."
            for c in unmet
        ]
    return sentences


def _approval_sentences(approval: "ApprovalWait") -> list[str]:
    if not approval.approvers:
        return ["The approval gate names no approvers yet; product ops add them."]
    scope = "Gos from distinct teams" if approval.distinct_teams else "Gos"
    said = {line.voter: line.vote for line in approval.votes if line.counts}
    votes = ", ".join(f"{voter} {said[voter].value}" for voter in approval.gos if voter in said) or "none yet"
    sentences = [f"Approval: {len(approval.gos)} of {approval.needed} {scope} needed (counting: {votes})."]
    if approval.no_gos:
        sentences.append(f"No-Go from {', '.join(approval.no_gos)} holds the gate until it is changed.")
    if approval.missing:
        sentences.append(f"Waiting for a vote from {', '.join(approval.missing)}.")
    if approval.stale:
        sentences.append(f"Go too old to count, to be confirmed by voting again: {', '.join(approval.stale)}.")
    voided = [line.voter for line in approval.votes if line.note and line.note.startswith("void")]
    if voided:
        sentences.append(f"Void votes (what they approved changed): {', '.join(voided)}.")
    sentences.append("The approval gate is judged once every other condition of the phase is met.")
    return sentences


def _time_sentence(time: "TimeWait") -> str:
    if time.phase_at is None:
        return "The phase has no date in this region."
    if time.opens_at is None:
        return f"The phase date is {when(time.phase_at)}, but no rollout window opens after it (check freezes)."
    if time.opens_at != time.phase_at:
        return f"The phase date is {when(time.phase_at)}; the region's rollout window opens at {when(time.opens_at)}."
    return f"The phase date is {when(time.phase_at)}, not reached yet."


def _next_step(facts: "Blockers", *, now: datetime) -> tuple[datetime | None, str]:
    """When the worker next acts on the region for this phase, in words."""
    if facts.halted:
        return None, "none until someone resumes the region"
    if facts.state == RolloutState.PLANNED:
        return None, "none until the launch is kicked off"
    if facts.reached:
        return None, "none needed for this phase"
    assert facts.current_phase is not None
    if facts.current_phase != facts.phase:
        return None, f"after {facts.region} goes live in {facts.current_phase.value}"
    time = facts.time
    if time is not None and not time.reached and time.opens_at is not None:
        others = bool(facts.items or facts.wave.waiting_for or _open_conditions(facts))
        tail = ", if every other condition is met by then" if others else ""
        return time.opens_at, f"at {when(time.opens_at)}, when the time gate opens{tail}"
    return None, AS_SOON


def _open_conditions(facts: "Blockers") -> bool:
    approval_waits = facts.approval is not None and not facts.approval.holds
    beta_waits = facts.beta_exit is not None and not facts.beta_exit.met
    return approval_waits or beta_waits
