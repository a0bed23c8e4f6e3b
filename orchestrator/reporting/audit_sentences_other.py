"""Audit sentences for the beta programme and launchdeck's housekeeping (digests, reminders,
tokens, the directory), and the fallback that keeps an unknown action readable. Pure, like
``audit_sentences``, which dispatches here."""

from collections.abc import Callable, Mapping

from orchestrator.core.enums import Phase
from orchestrator.core.models import AuditEvent
from orchestrator.reporting.audit_facts import AuditFacts, Place, Thing
from orchestrator.reporting.audit_words import at, count, phase_label, quoted, why

Sentence = Callable[[str, AuditEvent, AuditFacts], str]


def fallback(who: str, event: AuditEvent) -> str:
    """An action without a sentence of its own, in words: "launchdeck recorded 'gate opened'"."""
    words = event.action.replace(".", " ").replace("_", " ").strip() or "a change"
    return f"{who} recorded {quoted(words)}{why(event.reason)}"


# ---- beta -------------------------------------------------------------------------------------


def _place_of(after: Mapping[str, object]) -> str:
    phase = after.get("phase")
    return at(Place(str(after["region"]) if after.get("region") else None, Phase(str(phase)) if phase else None))


def _account(thing: Thing | None, after: Mapping[str, object]) -> str:
    account = after.get("account") or (thing.name if thing else None)
    return f"account {quoted(str(account))}" if account else "an account"


def _beta_where(thing: Thing | Place | None) -> str:
    place = thing.place if isinstance(thing, Thing) else thing
    where = at(place) if place else ""
    return f" for {where}" if where else ""


def _cohort_created(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    return f"{who} opened a beta cohort of {count(int(after['cap']), 'seat')} for {_place_of(after)}"


def _cap_changed(who: str, event: AuditEvent, facts: AuditFacts) -> str:
    old, new = (event.before or {}).get("cap"), (event.after or {})["cap"]
    where = _beta_where(facts.cohorts.get(event.entity_id or 0))
    return f"{who} changed the beta cohort{where} from {old} to {count(int(new), 'seat')}"


def _enrollment(template: str) -> Sentence:
    def build(who: str, event: AuditEvent, facts: AuditFacts) -> str:
        thing = facts.enrollments.get(event.entity_id or 0)
        account = _account(thing, event.after or {})
        return template.format(who=who, account=account, where=_beta_where(thing)) + why(event.reason)

    return build


def _feedback_submitted(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    kind = str(after.get("type") or "").replace("_", " ")
    return (
        f"{who} logged severity {after['severity']} {kind} feedback from {_account(None, after)} for {_place_of(after)}"
    )


def _feedback(template: str) -> Sentence:
    def build(who: str, event: AuditEvent, facts: AuditFacts) -> str:
        thing = facts.feedback.get(event.entity_id or 0)
        return template.format(who=who, account=_account(thing, {}), where=_beta_where(thing)) + why(event.reason)

    return build


def _exit_criteria(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    criteria = after.get("criteria") or {}
    what = (
        ", ".join(f"{str(metric).replace('_', ' ')} {threshold}" for metric, threshold in criteria.items())
        if isinstance(criteria, dict) and criteria
        else "none"
    )
    return f"{who} set the exit criteria for leaving {phase_label(after['phase'])}: {what}"


# ---- housekeeping -----------------------------------------------------------------------------


def _digest(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    return f"{who} queued the daily leadership digest of {count(int((event.after or {})['launches']), 'launch')}"


def _beta_digest(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    return f"{who} queued the weekly beta digest for {after['week']} ({count(int(after['launches']), 'launch')})"


def _snapshot(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    return f"{who} recorded the status of {count(int(after['launches']), 'launch')} for {after['day']}"


def _forecasts(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    made = count(int(after.get("forecasts", 0)), "readiness forecast")
    return f"{who} recorded {made} across {count(int(after.get('launches', 0)), 'launch')} ({after.get('new', 0)} new)"


def _reminders(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    reminded, escalated = (
        count(int(after["reminded"]), "overdue reminder"),
        count(int(after["escalated"]), "escalation"),
    )
    return f"{who} queued {reminded} and {escalated}"


def _approval_reminders(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    """Reminders to approvers whose vote a gate waits for, and notes to product ops about them."""
    after = event.after or {}
    reminded, told = count(int(after["reminded"]), "approval reminder"), count(int(after["told"]), "note")
    return f"{who} queued {reminded} and {told} to product ops"


def _token_created(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    after = event.after or {}
    return f"{who} created the API token {quoted(str(after['name']))} with the {after['role']} role"


def _retried(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
    retried = count(len((event.after or {}).get("ids") or []), "failed notification")
    return f"{who} queued {retried} to be sent again"


def _directory(kind: str, verb: str) -> Sentence:
    def build(who: str, event: AuditEvent, _facts: AuditFacts) -> str:
        after, before = event.after or {}, event.before or {}
        name = after.get("name") or after.get("code") or after.get("email") or ""
        label = f"the {kind} {quoted(str(name))}" if name else f"a {kind}"
        if verb == "added":
            return f"{who} added {label} to the directory"
        changed = [key.replace("_", " ") for key in after if before.get(key) != after[key]]
        return f"{who} updated {label} in the directory" + (f" ({', '.join(changed)})" if changed else "")

    return build


OTHER_SENTENCES: Mapping[str, Sentence] = {
    "beta.cohort_created": _cohort_created,
    "beta.cap_changed": _cap_changed,
    "beta.enrolled": _enrollment("{who} enrolled {account} in the beta{where}"),
    "beta.waitlisted": _enrollment("{who} put {account} on the beta waiting list{where}"),
    "beta.terms_accepted": _enrollment("{who} accepted the beta terms for {account}{where}"),
    "beta.opted_out": _enrollment("{who} took {account} out of the beta{where}"),
    "beta.promoted": _enrollment("{who} gave {account} a beta seat{where}"),
    "beta.exit_criteria_set": _exit_criteria,
    "beta.feedback_submitted": _feedback_submitted,
    "beta.feedback_merged": _feedback("{who} merged a duplicate into the beta feedback from {account}{where}"),
    "beta.feedback_resolved": _feedback("{who} resolved the beta feedback from {account}{where}"),
    "digest.queued": _digest,
    "digest.beta_queued": _beta_digest,
    "rag.snapshotted": _snapshot,
    "forecast.recorded": _forecasts,
    "reminders.queued": _reminders,
    "approval_reminders.queued": _approval_reminders,
    "token.created": _token_created,
    "token.revoked": lambda who, _event, _facts: f"{who} revoked an API token",
    "outbox.retried": _retried,
    "member.login_link_sent": lambda who, _event, _facts: f"{who} asked for a one-time dashboard sign-in link in Slack",
    "member.signed_in_by_link": lambda who, _event, _facts: f"{who} signed in to the dashboard with a one-time link",
    **{f"{kind}.created": _directory(kind, "added") for kind in ("team", "member", "region")},
    **{f"{kind}.updated": _directory(kind, "updated") for kind in ("team", "member", "region")},
}
