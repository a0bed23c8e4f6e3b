"""The audit ledger as sentences a VP can read: a launch with a known history, told through the
real services and read back through ``audit_timeline`` on SQLite and PostgreSQL, and every family
of actions the services record, built from events as data (``sentence`` is a pure function)."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from freezegun import freeze_time
from sqlmodel import select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import GateKind, Phase, Role, Source, Vote
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Member, RegionRollout
from orchestrator.core.topics import Topic
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.gates.approvals import cast_vote
from orchestrator.gates.approvers import change_approvers
from orchestrator.items.service import check_item, waive_item
from orchestrator.launches.schedule import reschedule_phase
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.audit_facts import AuditFacts, Person, Place, Thing
from orchestrator.reporting.audit_sentences import SENTENCES, sentence
from orchestrator.reporting.audit_sentences_other import OTHER_SENTENCES
from orchestrator.reporting.audit_timeline import audit_timeline, launch_audit
from orchestrator.rollouts.service import halt_region
from tests.support.factories import item, make_launch

ANN, PAT, VIC, KIM = "ann@example.com", "pat.ops@example.com", "vic@example.com", "kim@example.com"
GA_AT = datetime(2027, 4, 1, 9, tzinfo=UTC)


def _member(session, actor, email, name, *, team=None, role=Role.MEMBER) -> Actor:
    upsert_member(session=session, seed=MemberSeed(email=email, name=name, team=team, role=role), actor=actor)
    member = session.exec(select(Member).where(Member.email == email)).one()
    return Actor(name=email, source=Source.SLACK, role=role, member_id=member.id, team_id=member.team_id)


def test_a_launch_history_reads_as_sentences_newest_first(seeded, actor):
    ann = _member(seeded, actor, ANN, "Ann Lee", team="marketing")
    pat = _member(seeded, actor, PAT, "Pat", role=Role.PRODOPS)
    vic = _member(seeded, actor, VIC, "Vic", role=Role.APPROVER)
    _member(seeded, actor, KIM, "Kim", role=Role.APPROVER)
    with freeze_time("2027-03-01 09:00:00", tick=False) as frozen:

        def later() -> None:
            frozen.tick(timedelta(minutes=5))

        launch = make_launch(
            seeded,
            actor,
            slug="atlas",
            dates={Phase.GA: GA_AT},
            items=[
                item("press_release_approved", phase=Phase.GA),
                item("security_review", phase=Phase.GA, team="security", blocking=False),
            ],
            approvers=[VIC],
        )
        later()
        kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
        press, security = seeded.exec(select(ChecklistItem).order_by(ChecklistItem.key)).all()
        rollout_id = seeded.exec(select(RegionRollout.id)).one()
        later()
        check_item(session=seeded, item_id=press.id, actor=ann)
        later()
        change_approvers(
            session=seeded, launch_id=launch.id, phase=Phase.GA, approvers=[VIC, KIM], actor=pat, reason="Legal joins"
        )
        gate_id = seeded.exec(select(Gate.id).where(Gate.kind == GateKind.APPROVAL)).one()
        later()
        cast_vote(session=seeded, gate_id=gate_id, vote=Vote.GO, actor=vic)
        later()
        reschedule_phase(
            session=seeded,
            rollout_id=rollout_id,
            phase=Phase.GA,
            new_at=GA_AT + timedelta(days=14),
            actor=pat,
            reason="Legal review",
        )
        later()
        cast_vote(
            session=seeded,
            gate_id=gate_id,
            vote=Vote.GO,
            actor=pat,
            on_behalf_of=VIC,
            on_behalf_reason="go/no-go meeting",
        )
        later()
        waive_item(session=seeded, item_id=security.id, actor=pat, reason="covered by the SOC 2 report")
        later()
        halt_region(session=seeded, rollout_id=rollout_id, actor=pat, reason="incident 42")

    timeline = audit_timeline(session=seeded, launch_id=launch.id)
    told = [(f"{entry.at:%H:%M}", entry.sentence) for entry in timeline.entries]
    assert told == [
        ("09:40", "Pat (prodops) halted EU: incident 42"),
        ("09:35", "Pat (prodops) waived 'Security review' for EU GA: covered by the SOC 2 report"),
        ("09:30", "Pat (prodops) recorded Vic's Go on EU GA: go/no-go meeting"),
        ("09:25", "Pat (prodops) moved EU GA from 2027-04-01 to 2027-04-15 (+14 days): Legal review"),
        ("09:25", "Pat (prodops) voided Vic's Go on EU GA: the ga date moved from 2027-04-01 to 2027-04-15"),
        ("09:20", "Vic voted Go on EU GA"),
        ("09:15", "Pat (prodops) changed the approvers for EU GA to Vic and Kim (all must say Go): Legal joins"),
        ("09:10", "Ann Lee (Product marketing) passed the checklist gate for EU GA"),
        ("09:10", "Ann Lee (Product marketing) checked 'Press release approved' for EU GA"),
        ("09:05", "pat@example.com (command line) moved EU to GA, where it waits at its gates"),
        ("09:05", "pat@example.com (command line) kicked off the launch"),
        ("09:00", "pat@example.com (command line) created the launch 'Atlas' (tier 2) in EU with 2 checklist items"),
    ]
    assert (timeline.total, timeline.page, timeline.pages) == (12, 1, 1)
    sentences = [text for _at, text in told]
    second = launch_audit(session=seeded, slug="atlas", page=2, per_page=5)
    assert (second.name, second.timeline.total, second.timeline.pages) == ("Atlas", 12, 3)
    assert [entry.sentence for entry in second.timeline.entries] == sentences[5:10]
    past_the_end = launch_audit(session=seeded, slug="atlas", page=99, per_page=5).timeline
    assert past_the_end.page == 3
    assert [entry.sentence for entry in past_the_end.entries] == sentences[10:]


# ---- every family of actions, from events as data -----------------------------------------------

FACTS = AuditFacts(
    people={
        ANN: Person("Ann Lee", "Marketing"),
        PAT: Person("Pat", "prodops"),
        VIC: Person("Vic"),
        KIM: Person("Kim"),
        "token:ann-bot": Person("Ann Lee", "Marketing"),
    },
    members={7: Person("Kim")},
    items={1: Thing("Press release approved", Place("EU", Phase.GA))},
    rollouts={2: "EU"},
    gates={3: Place("EU", Phase.GA)},
    decisions={4: Place("EU", Phase.GA)},
    phase_dates={5: "EU"},
    cohorts={6: Place("EU", Phase.PRIVATE_BETA)},
    enrollments={8: Thing("acme", Place("EU", Phase.PRIVATE_BETA))},
    feedback={9: Thing("globex", Place("NA", Phase.PUBLIC_BETA))},
)


def _told(action, *, actor=PAT, source=Source.SLACK, entity_id=None, before=None, after=None, reason=None) -> str:
    event = AuditEvent(
        launch_id=1,
        entity="x",
        entity_id=entity_id,
        action=action,
        actor=actor,
        source=source,
        before=before,
        after=after,
        reason=reason,
    )
    return sentence(event, FACTS)


def test_who_acted_reads_as_a_person_the_worker_or_launchdeck():
    checked = {"entity_id": 1, "after": {"status": "done"}}
    assert (
        _told("item.checked", actor=ANN, **checked) == "Ann Lee (Marketing) checked 'Press release approved' for EU GA"
    )
    assert _told("item.checked", actor="flow@host-12", source=Source.FLOW, **checked).startswith("the worker checked")
    assert _told("item.checked", actor="launchdeck", source=Source.SYSTEM, **checked).startswith("launchdeck checked")
    assert _told("item.checked", actor="token:ann-bot", source=Source.API, **checked).startswith("Ann Lee (Marketing)")
    assert _told("item.checked", actor="token:ci", source=Source.API, **checked).startswith(
        "the API token 'ci' checked"
    )
    assert _told("item.checked", actor="jo", source=Source.CLI, **checked).startswith("jo (command line) checked")
    assert _told("item.checked", actor=VIC, entity_id=404).startswith("Vic checked a checklist item")


def test_checklist_item_sentences():
    def item_told(action, **kwargs):
        return _told(action, entity_id=1, **kwargs)

    assert item_told("item.reopened", reason="proof was wrong") == (
        "Pat (prodops) reopened 'Press release approved' for EU GA: proof was wrong"
    )
    assert item_told("item.started") == "Pat (prodops) started work on 'Press release approved' for EU GA"
    assert item_told("item.blocked", reason="waiting on legal") == (
        "Pat (prodops) marked 'Press release approved' for EU GA blocked: waiting on legal"
    )
    assert item_told("item.not_applicable", reason="no press in EU") == (
        "Pat (prodops) marked 'Press release approved' for EU GA not applicable: no press in EU"
    )
    assert item_told("item.waived", reason="risk accepted by the VP") == (
        "Pat (prodops) waived 'Press release approved' for EU GA: risk accepted by the VP"
    )
    assert item_told("item.assigned", after={"assignee_id": 7}) == (
        "Pat (prodops) assigned 'Press release approved' for EU GA to Kim"
    )
    assert item_told("item.assigned", after={"assignee_id": None}) == (
        "Pat (prodops) unassigned 'Press release approved' for EU GA"
    )
    assert item_told("item.evidence_attached", after={"evidence_url": "https://x"}) == (
        "Pat (prodops) attached evidence to 'Press release approved' for EU GA"
    )
    assert item_told("item.commented", reason="Draft is in the doc") == (
        "Pat (prodops) commented on 'Press release approved' for EU GA: Draft is in the doc"
    )


def test_region_sentences():
    def region_told(action, **kwargs):
        return _told(action, entity_id=2, **kwargs)

    assert (
        region_told(
            "rollout.exposure_changed",
            actor="flow@host-1",
            source=Source.FLOW,
            before={"state": "rolling_out", "phase": "ga", "percent": 5},
            after={"state": "rolling_out", "phase": "ga", "percent": 25},
        )
        == "the worker raised EU to 25%"
    )
    assert region_told("rollout.exposure_changed", before={"percent": 25}, after={"percent": 10}) == (
        "Pat (prodops) lowered EU to 10%"
    )
    assert region_told("rollout.gated", after={"state": "gated", "phase": "private_beta"}) == (
        "Pat (prodops) moved EU to Private beta, where it waits at its gates"
    )
    assert region_told("rollout.ready", after={"state": "ready", "phase": "ga"}) == (
        "Pat (prodops) marked EU ready for GA: every gate passed"
    )
    assert region_told("rollout.live", after={"state": "live", "phase": "ga", "percent": 100}) == (
        "Pat (prodops) took EU live in GA"
    )
    assert region_told("rollout.halted", reason="incident 42") == "Pat (prodops) halted EU: incident 42"
    assert region_told("rollout.resumed") == "Pat (prodops) resumed EU"
    assert region_told("rollout.rolled_back", reason="data loss") == "Pat (prodops) rolled back EU: data loss"


def test_vote_and_gate_sentences():
    assert _told("decision.cast", actor=VIC, entity_id=4, after={"vote": "go", "voter": VIC, "phase": "ga"}) == (
        "Vic voted Go on EU GA"
    )
    on_behalf = {"vote": "go", "voter": VIC, "phase": "ga", "recorded_by": PAT}
    assert _told("decision.cast", entity_id=4, after=on_behalf, reason="go/no-go meeting") == (
        "Pat (prodops) recorded Vic's Go on EU GA: go/no-go meeting"
    )
    changed = {"vote": "conditional_go", "voter": KIM, "phase": "ga"}
    assert _told(
        "decision.cast", actor=KIM, entity_id=4, before={"vote": "no_go"}, after=changed, reason="after the fix ships"
    ) == ("Kim voted Conditional Go on EU GA (was No-Go): after the fix ships")
    assert (
        _told(
            "decision.voided",
            actor=ANN,
            entity_id=4,
            before={"vote": "go", "voter": VIC},
            after={"voided": True, "phase": "ga"},
            reason="'Press release approved' was reopened",
        )
        == "Ann Lee (Marketing) voided Vic's Go on EU GA: 'Press release approved' was reopened"
    )
    assert _told("gate.passed", source=Source.FLOW, entity_id=3, after={"kind": "approval", "phase": "ga"}) == (
        "the worker passed the approval gate for EU GA"
    )
    approvers = {"approvers": [VIC, KIM, "lee@example.com"], "quorum": 2, "distinct_teams": True}
    assert _told("gate.approvers_changed", entity_id=3, after=approvers, reason="Legal joins") == (
        "Pat (prodops) changed the approvers for EU GA to Vic, Kim and lee@example.com "
        "(2 of 3 must say Go, from different teams): Legal joins"
    )


def test_launch_and_schedule_sentences():
    assert (
        _told(
            "phase.rescheduled",
            entity_id=5,
            before={"phase": "ga", "at": "2027-04-01T09:00:00+00:00"},
            after={"phase": "ga", "at": "2027-04-15T09:00:00+00:00", "items_moved": 3},
            reason="Legal review",
        )
        == "Pat (prodops) moved EU GA from 2027-04-01 to 2027-04-15 (+14 days): Legal review"
    )
    assert (
        _told(
            "phase.rescheduled",
            entity_id=5,
            before={"phase": "internal", "at": "2027-04-02T09:00:00+00:00"},
            after={"phase": "internal", "at": "2027-04-01T09:00:00+00:00"},
            reason="ready early",
        )
        == "Pat (prodops) moved EU Internal from 2027-04-02 to 2027-04-01 (-1 day): ready early"
    )
    created = {"slug": "atlas", "name": "Atlas", "tier": 1, "regions": ["EU", "NA", "APAC"], "items": 1}
    assert _told("launch.created", after=created) == (
        "Pat (prodops) created the launch 'Atlas' (tier 1) in EU, NA and APAC with 1 checklist item"
    )
    assert _told("launch.kicked_off") == "Pat (prodops) kicked off the launch"
    assert (
        _told("launch.completed", source=Source.FLOW) == "the worker completed the launch: every region is live in GA"
    )
    applied = {"template_version": "v3", "added": ["EU/ga/a", "NA/ga/a"], "updated": [], "retired": ["EU/ga/b"]}
    assert _told("launch.template_applied", after=applied) == (
        "Pat (prodops) applied checklist template v3: items 2 added, 0 updated, 1 retired"
    )


def test_beta_sentences():
    cohort = {"region": "EU", "phase": "private_beta", "cap": 50, "eligibility": {}}
    assert _told("beta.cohort_created", after=cohort) == (
        "Pat (prodops) opened a beta cohort of 50 seats for EU Private beta"
    )
    assert _told("beta.cap_changed", entity_id=6, before={"cap": 50}, after={"cap": 80}) == (
        "Pat (prodops) changed the beta cohort for EU Private beta from 50 to 80 seats"
    )
    assert _told("beta.enrolled", entity_id=8, after={"account": "acme"}) == (
        "Pat (prodops) enrolled account 'acme' in the beta for EU Private beta"
    )
    assert _told("beta.waitlisted", entity_id=8, after={"account": "acme"}) == (
        "Pat (prodops) put account 'acme' on the beta waiting list for EU Private beta"
    )
    assert _told("beta.terms_accepted", entity_id=8, after={"status": "enrolled"}) == (
        "Pat (prodops) accepted the beta terms for account 'acme' for EU Private beta"
    )
    assert _told("beta.opted_out", entity_id=8, after={"account": "acme"}, reason="too busy") == (
        "Pat (prodops) took account 'acme' out of the beta for EU Private beta: too busy"
    )
    assert _told("beta.promoted", entity_id=8, after={"account": "acme"}, reason="a seat came free") == (
        "Pat (prodops) gave account 'acme' a beta seat for EU Private beta: a seat came free"
    )
    criteria = {"phase": "private_beta", "criteria": {"open_severity_1": 0, "active_accounts": 5}}
    assert _told("beta.exit_criteria_set", after=criteria) == (
        "Pat (prodops) set the exit criteria for leaving Private beta: open severity 1 0, active accounts 5"
    )
    feedback = {"region": "NA", "phase": "public_beta", "account": "globex", "type": "bug", "severity": 1}
    assert _told("beta.feedback_submitted", entity_id=9, after=feedback) == (
        "Pat (prodops) logged severity 1 bug feedback from account 'globex' for NA Public beta"
    )
    assert _told("beta.feedback_merged", entity_id=9, after={"merged": 12}) == (
        "Pat (prodops) merged a duplicate into the beta feedback from account 'globex' for NA Public beta"
    )
    assert _told("beta.feedback_resolved", entity_id=9, reason="fixed in 2.1") == (
        "Pat (prodops) resolved the beta feedback from account 'globex' for NA Public beta: fixed in 2.1"
    )


def test_housekeeping_and_directory_sentences():
    system = {"actor": "launchdeck", "source": Source.SYSTEM}
    assert _told("digest.queued", after={"key": "k", "launches": 1, "red": 1}, **system) == (
        "launchdeck queued the daily leadership digest of 1 launch"
    )
    assert _told("digest.beta_queued", after={"week": "2027-W10", "launches": 2}, **system) == (
        "launchdeck queued the weekly beta digest for 2027-W10 (2 launches)"
    )
    assert _told("rag.snapshotted", after={"day": "2027-03-01", "launches": 3}, **system) == (
        "launchdeck recorded the status of 3 launches for 2027-03-01"
    )
    assert _told("reminders.queued", after={"reminded": 4, "escalated": 1, "skipped": 0}, **system) == (
        "launchdeck queued 4 overdue reminders and 1 escalation"
    )
    assert _told("approval_reminders.queued", after={"reminded": 2, "told": 1}, **system) == (
        "launchdeck queued 2 approval reminders and 1 note to product ops"
    )
    token = {"name": "ci-bot", "role": "member", "team": None, "prefix": "ldk_ab"}
    assert _told("token.created", after=token) == "Pat (prodops) created the API token 'ci-bot' with the member role"
    assert _told("token.revoked", before={"revoked": False}) == "Pat (prodops) revoked an API token"
    assert (
        _told("outbox.retried", after={"ids": [3, 4]}) == "Pat (prodops) queued 2 failed notifications to be sent again"
    )
    assert _told("team.created", after={"key": "legal", "name": "Legal"}) == (
        "Pat (prodops) added the team 'Legal' to the directory"
    )
    assert _told(
        "member.updated", before={"name": "Kim", "role": "member"}, after={"name": "Kim", "role": "approver"}
    ) == ("Pat (prodops) updated the member 'Kim' in the directory (role)")
    assert _told("region.created", after={"code": "APAC", "timezone": "Asia/Tokyo"}) == (
        "Pat (prodops) added the region 'APAC' to the directory"
    )


def test_an_unknown_or_odd_event_still_reads_as_words_never_ids_or_tables():
    assert _told("gate.item_reopened_after_pass", entity_id=77, reason="proof was wrong") == (
        "Pat (prodops) recorded 'gate item reopened after pass': proof was wrong"
    )
    # Fields missing (an event written by an older release): the fallback, not an error.
    assert _told("decision.cast", entity_id=4, after={}) == "Pat (prodops) recorded 'decision cast'"
    assert _told("rollout.exposure_changed", entity_id=2, after={"percent": "lots"}) == (
        "Pat (prodops) recorded 'rollout exposure changed'"
    )


def test_every_action_the_services_record_has_its_own_sentence():
    """Grep the services for what they record (a literal, a Topic, the directory's f-string), so
    an action added later without a sentence fails here rather than reading as the fallback."""
    root = Path(__file__).resolve().parents[3]
    recorded: set[str] = set()
    for path in (root / "orchestrator").rglob("*.py"):
        text = path.read_text()
        for expression in re.findall(r"\baction=([^,\n]+)", text):
            recorded.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', expression))
            recorded.update(Topic[name].value for name in re.findall(r"Topic\.([A-Z_]+)", expression))
        # Item details pass their topic on as the action (orchestrator/items/details.py).
        recorded.update(Topic[name].value for name in re.findall(r"\btopic=Topic\.(ITEM_[A-Z_]+)", text))
    recorded.update(f"{kind}.{verb}" for kind in ("team", "member", "region") for verb in ("created", "updated"))
    assert {"item.checked", "item.assigned", "rollout.halted", "decision.cast", "beta.waitlisted"} <= recorded
    assert {"phase.rescheduled", "gate.approvers_changed", "token.revoked", "outbox.retried"} <= recorded
    assert sorted(recorded - set(SENTENCES) - set(OTHER_SENTENCES)) == []
