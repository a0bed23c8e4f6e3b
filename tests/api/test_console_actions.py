"""Prod ops' forms on a launch page over real HTTP, on SQLite and PostgreSQL: each changes the
launch through its core service with an audit event naming the person; bad input re-renders the
page with the error beside the field (422) and writes nothing; a member sees no form and is
refused (403) when posting anyway; a cross-site post is refused (403)."""

import re
from datetime import timedelta

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from orchestrator.core.enums import ItemStatus, LaunchStatus, Phase, RolloutState
from orchestrator.core.models import AuditEvent, ChecklistItem, Gate, Launch, Region, RegionRollout
from tests.support.factories import item, make_launch, phase_dates
from tests.support.web import csrf_of, member_signed_in

SLUG = "ops-forms"
PAGE = f"/dashboard/launches/{SLUG}"


def _events(engine: Engine) -> int:
    with Session(engine) as session:
        # Signing in is recorded too (entity "member"); the forms' changes are everything else.
        return int(
            session.exec(select(func.count()).select_from(AuditEvent).where(AuditEvent.entity != "member")).one()
        )


def _actions_by(engine: Engine, who: str) -> list[str]:
    with Session(engine) as session:
        return list(session.exec(select(AuditEvent.action).where(AuditEvent.actor == who).order_by(col(AuditEvent.id))))


def _rollout(engine: Engine, code: str) -> RegionRollout:
    with Session(engine) as session:
        return session.exec(
            select(RegionRollout).join(Region, Region.id == RegionRollout.region_id).where(Region.code == code)  # type: ignore[arg-type]
        ).one()


def _post(client: httpx.Client, path: str, **fields: str) -> httpx.Response:
    csrf = csrf_of(client.get(PAGE).text)
    return client.post(PAGE + path, data={"csrf": csrf, **fields})


def _error(page: str, field: str) -> str:
    found = re.search(rf'data-field="{re.escape(field)}">([^<]*)<', page)
    assert found, page
    return found.group(1)


def test_prodops_forms_change_the_launch_and_are_audited(api_server, tokens, seeded, actor, engine):
    launch = make_launch(
        seeded, actor, slug=SLUG, regions=("EU", "NA"), items=[item("legal_review"), item("press_kit", region="NA")]
    )
    seeded.commit()
    who = "prodops@example.com"
    with member_signed_in(api_server, engine, who) as client:
        page = client.get(PAGE).text
        assert 'id="ops"' in page
        assert 'id="kickoff"' in page
        assert 'id="halt-EU"' in page
        ok = _post(client, "/kickoff", understand="yes")
        assert ok.status_code == 303
        assert ok.headers["location"] == PAGE + "#kickoff"

        before = _events(engine)
        unconfirmed = _post(client, "/regions/EU/halt", reason="bad numbers")
        assert unconfirmed.status_code == 422
        assert "tick the box" in _error(unconfirmed.text, "understand")
        no_reason = _post(client, "/regions/EU/halt", reason="  ", understand="yes")
        assert no_reason.status_code == 422
        assert "say why" in _error(no_reason.text, "reason")
        assert 'id="halt-EU-reason"' in no_reason.text
        assert 'aria-invalid="true"' in no_reason.text
        bad_date = _post(client, "/regions/EU/reschedule", phase="ga", date="2027-02-30", reason="slip")
        assert bad_date.status_code == 422
        assert "is not a date" in _error(bad_date.text, "date")
        unknown = _post(client, "/approvers", phase="ga", approvers="nobody@example.com", reason="r")
        assert unknown.status_code == 422
        assert "nobody@example.com" in _error(unknown.text, "approvers")
        no_waive_reason = _post(client, f"/items/{_item_id(engine, 'legal_review')}/waive", reason="")
        assert no_waive_reason.status_code == 422
        assert _events(engine) == before  # refused input writes nothing
        assert (
            _post(client, "/regions/EU/resume", understand="yes").status_code == 409
        )  # EU is not halted: said above the forms

        assert _post(client, "/regions/EU/halt", reason="error rate 4%", understand="yes").status_code == 303
        assert _rollout(engine, "EU").state == RolloutState.HALTED
        assert _rollout(engine, "EU").halt_reason == "error rate 4%"
        assert _post(client, "/regions/EU/resume", reason="fixed", understand="yes").status_code == 303
        assert _rollout(engine, "EU").state != RolloutState.HALTED
        assert _post(client, "/regions/NA/rollback", reason="bad data", understand="yes").status_code == 303
        assert _rollout(engine, "NA").state == RolloutState.ROLLED_BACK

        new_ga = (phase_dates()[Phase.GA] + timedelta(days=10)).date()
        moved = _post(client, "/regions/EU/reschedule", phase="ga", date=new_ga.isoformat(), reason="legal review")
        assert moved.status_code == 303
        shown = client.get(PAGE).text
        assert re.search(r'data-phase="ga"[^>]*>.*?planned ' + new_ga.isoformat() + r" \(baseline", shown, re.S)

        item_id = _item_id(engine, "legal_review")
        assert _post(client, f"/items/{item_id}/waive", reason="legal signed off by mail").status_code == 303
        changed = _post(
            client,
            "/approvers",
            phase="ga",
            approvers="leadership@example.com, admin@example.com",
            quorum="1",
            reason="VP away",
        )
        assert changed.status_code == 303, changed.text

    with Session(engine) as session:
        assert session.get(Launch, launch.id).status == LaunchStatus.ACTIVE
        assert session.get(ChecklistItem, item_id).status == ItemStatus.WAIVED
        gates = session.exec(select(Gate).where(Gate.phase == Phase.GA)).all()
        approvers = {tuple(gate.approvers) for gate in gates if gate.approvers}
        assert approvers == {("leadership@example.com", "admin@example.com")}
    actions = _actions_by(engine, who)
    for action in (
        "launch.kicked_off",
        "rollout.halted",
        "rollout.resumed",
        "rollout.rolled_back",
        "phase.rescheduled",
        "item.waived",
        "gate.approvers_changed",
    ):
        assert action in actions, actions


def _item_id(engine: Engine, key: str) -> int:
    with Session(engine) as session:
        found = session.exec(select(ChecklistItem.id).where(ChecklistItem.key == key)).one()
        assert found is not None
        return found


def test_a_member_sees_no_actions_and_is_refused_and_cross_site_posts_are_refused(
    api_server, tokens, seeded, actor, engine
):
    make_launch(seeded, actor, slug=SLUG, items=[item("legal_review")])
    seeded.commit()
    before = _events(engine)
    with member_signed_in(api_server, engine, "member@example.com") as client:
        page = client.get(PAGE).text
        assert 'id="ops"' not in page
        assert "/kickoff" not in page
        assert "/waive" not in page
        for path, fields in (
            ("/kickoff", {"understand": "yes"}),
            ("/regions/EU/halt", {"reason": "mine", "understand": "yes"}),
            (f"/items/{_item_id(engine, 'legal_review')}/waive", {"reason": "mine"}),
        ):
            refused = _post(client, path, **fields)
            assert refused.status_code == 403
            assert "role member may not" in refused.text
    with member_signed_in(api_server, engine, "prodops@example.com") as client:
        client.get(PAGE)
        forged = client.post(PAGE + "/kickoff", data={"understand": "yes"})  # no csrf field
        assert forged.status_code == 403
        cross = client.post(
            PAGE + "/kickoff",
            data={"understand": "yes", "csrf": csrf_of(client.get(PAGE).text)},
            headers={"Sec-Fetch-Site": "cross-site"},
        )
        assert cross.status_code == 403
    assert _events(engine) == before
    with Session(engine) as session:
        assert session.exec(select(Launch.status)).one() == LaunchStatus.DRAFT
