"""A cross-site POST to any of the console's forms, sign-in and sign-out included, is refused (403)
and changes nothing. The forms are found by walking the app's routes (every POST route the
dashboard's ``SecureRoute`` serves), so a form added later is covered or this test says to add it.
Each is posted by a signed-in prod ops manager with the fields that would change something, three
ways a forged post arrives: without the form's CSRF field, from a foreign ``Origin``, and marked
``Sec-Fetch-Site: cross-site``."""

import httpx
import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select

from api.app import create_app
from api.web_security import SecureRoute
from orchestrator.core.clock import utcnow
from orchestrator.core.enums import GateKind
from orchestrator.core.models import AuditEvent, ChecklistItem, Decision, Gate, Launch, LoginLink, Member, Waiver
from orchestrator.directory.login_links import issue_login_link
from tests.support.api import _api_routes
from tests.support.factories import item, make_launch
from tests.support.web import csrf_of, member_signed_in

SLUG = "cross-site"
SESSION_COOKIE = "launchdeck_session"
FORGERIES = {
    "no CSRF field": {},
    "foreign Origin": {"Origin": "https://evil.example"},
    "cross-site fetch": {"Sec-Fetch-Site": "cross-site"},
}


def _forms(engine: Engine) -> list[str]:
    """Every console form: the POST routes the dashboard's SecureRoute serves (CSRF-checked)."""
    routes = _api_routes(create_app(engine=engine))
    return sorted(
        {route.path for route in routes if type(route.original_route) is SecureRoute and "POST" in route.methods}
    )


def _state(engine: Engine) -> dict[str, object]:
    with Session(engine) as session:

        def count(model: type) -> int:
            return int(session.exec(select(func.count()).select_from(model)).one())

        return {
            "audit": count(AuditEvent),
            "launches": count(Launch),
            "decisions": count(Decision),
            "waivers": count(Waiver),
            "status": session.exec(select(Launch.status).where(Launch.slug == SLUG)).one(),
            "links used": session.exec(select(func.count()).where(col(LoginLink.used_at).is_not(None))).one(),
        }


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # refused before any query: one database is enough
def test_a_cross_site_post_to_any_form_is_refused_and_changes_nothing(api_server, tokens, seeded, actor, engine):
    launch = make_launch(seeded, actor, slug=SLUG, items=[item("legal_review")], approvers=["approver@example.com"])
    seeded.commit()
    with Session(engine) as session:
        gate_id = session.exec(select(Gate.id).where(Gate.kind == GateKind.APPROVAL)).first()
        item_id = session.exec(select(ChecklistItem.id)).first()
        prodops = session.exec(select(Member).where(Member.email == "prodops@example.com")).one()
        link = issue_login_link(session=session, member=prodops, now=utcnow())
    fields = {
        "/dashboard/launches/new": {"do": "create", "slug": "forged", "name": "Forged", "tier": "3",
                                    "owner": "owner@example.com", "region.EU": "yes", "date.EU.ga": "2031-04-01"},
        "/login": {"token": tokens["leadership"]},
        "/logout": {},
        "/auth/link": {"link": link},
        "/dashboard/my-work/items/{item_id}/{action}": {"reason": "forged", "url": "https://evil.example"},
        "/dashboard/my-work/gates/{gate_id}/vote": {"vote": "go"},
        "/dashboard/launches/{slug}/kickoff": {"understand": "yes"},
        "/dashboard/launches/{slug}/regions/{region}/reschedule": {"phase": "ga", "date": "2031-04-01", "reason": "x"},
        "/dashboard/launches/{slug}/regions/{region}/{brake}": {"reason": "forged", "understand": "yes"},
        "/dashboard/launches/{slug}/items/{item_id}/waive": {"reason": "forged"},
        "/dashboard/launches/{slug}/approvers": {"phase": "ga", "approvers": "evil@example.com", "reason": "x"},
    }  # fmt: skip
    forms = _forms(engine)
    assert set(forms) == set(fields), f"a console form has no forged post here yet: {set(forms) ^ set(fields)}"
    params = {"slug": SLUG, "region": "EU", "brake": "halt", "item_id": item_id, "action": "check", "gate_id": gate_id}
    with member_signed_in(api_server, engine, "prodops@example.com") as client:
        csrf = csrf_of(client.get(f"/dashboard/launches/{SLUG}").text)
        before = _state(engine)
        assert before["status"] == launch.status
        for form in forms:
            path = form.format(**params)
            for how, headers in FORGERIES.items():
                body = fields[form] if how == "no CSRF field" else {**fields[form], "csrf": csrf}
                refused = client.post(path, data=body, headers=headers)
                assert refused.status_code == 403, f"{how} POST {path}: {refused.status_code}"
                assert "sent from another site" in refused.text, path
                assert SESSION_COOKIE not in refused.headers.get("set-cookie", ""), path  # nobody signed in
        assert client.get("/dashboard/").status_code == 200  # the forged sign-out signed nobody out
    assert _state(engine) == before
    with httpx.Client(base_url=api_server) as owner:  # the forged posts left the link unused: it still works
        confirm = owner.get(f"/auth/link/{link}")
        assert owner.post("/auth/link", data={"link": link, "csrf": csrf_of(confirm.text)}).status_code == 303
