"""New launch from the templates in the browser, over real HTTP on SQLite and PostgreSQL: the
preview shows counts per team x region x phase, due dates, what a flag adds and the templates'
default approvers, writing nothing; bad input is shown beside its field (422); Create makes the
launch (audited under the person's name) and redirects to its page; a member is refused (403)."""

import re

import httpx
from sqlalchemy import Engine, func
from sqlmodel import Session, col, select, update

from orchestrator.core.models import AuditEvent, Gate, Launch, Team
from tests.support.web import csrf_of, member_signed_in

NEW = "/dashboard/launches/new"
DATES = {"internal": "2030-01-07", "private_beta": "2030-02-04", "public_beta": "2030-03-04", "ga": "2030-04-01"}


def _form(client: httpx.Client, **extra: str) -> dict[str, str]:
    fields = {
        "csrf": csrf_of(client.get(NEW).text),
        "name": "Form Launch",
        "slug": "form-launch",
        "tier": "2",
        "owner": "owner@example.com",
        "region.EU": "yes",
        "flag.personal_data": "yes",
        "wave_mode": "parallel",
        **{f"date.EU.{phase}": day for phase, day in DATES.items()},
    }
    fields.update(extra)
    return {name: value for name, value in fields.items() if value != "-"}


def _error(page: str, field: str) -> str:
    found = re.search(rf'data-field="{re.escape(field)}">([^<]*)<', page)
    assert found, page
    return found.group(1)


def _launches(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Launch)).one())


def test_preview_then_create_a_launch_from_the_form(api_server, tokens, seeded, engine):
    seeded.exec(update(Team).where(col(Team.key) == "product").values(lead="leadership@example.com"))
    seeded.exec(update(Team).where(col(Team.key) == "support").values(lead="admin@example.com"))
    seeded.commit()
    with member_signed_in(api_server, engine, "prodops@example.com") as client:
        page = client.get(NEW)
        assert page.status_code == 200
        assert 'name="flag.personal_data"' in page.text

        preview = client.post(NEW, data=_form(client, do="preview"))
        assert preview.status_code == 200, preview.text
        counts = re.findall(
            r'<tr data-team="(\w+)" data-region="EU" data-phase="(\w+)">.*?class="count">(\d+)<', preview.text
        )
        assert counts
        assert all(int(n) > 0 for _team, _phase, n in counts)
        total = int(re.search(r"Preview: (\d+) items", preview.text).group(1))
        assert total == sum(int(n) for _team, _phase, n in counts)
        assert re.search(r'data-flag="personal_data"><code>personal_data</code> adds [1-9]\d* item', preview.text)
        assert re.search(r'id="preview-due">\s*<li>20\d\d-\d\d-\d\d \d\d:00 UTC', preview.text)
        approvers = re.search(r'<li data-phase="ga">ga \(EU\): ([^<]*)<', preview.text)
        assert approvers
        assert approvers.group(1).strip() == "leadership@example.com, admin@example.com"
        assert 'value="Form Launch"' in preview.text  # the form keeps what was typed
        assert _launches(engine) == 0

        bad_date = client.post(NEW, data=_form(client, **{"date.EU.ga": "2030-02-30", "do": "create"}))
        assert bad_date.status_code == 422
        assert "not" in _error(bad_date.text, "regions.0.dates.ga")
        missing = client.post(NEW, data=_form(client, **{"date.EU.internal": "-", "do": "create"}))
        assert missing.status_code == 422
        assert "tick skip" in _error(missing.text, "regions.0.dates.internal")
        out_of_order = client.post(NEW, data=_form(client, **{"date.EU.internal": "2031-01-01", "do": "create"}))
        assert out_of_order.status_code == 422
        assert "before internal" in _error(out_of_order.text, "regions.0.dates")
        stranger = client.post(NEW, data=_form(client, approvers="ghost@example.com", owner="Pat", do="create"))
        assert stranger.status_code == 422
        assert "ghost@example.com" in _error(stranger.text, "approvers")
        assert "not an email address" in _error(stranger.text, "owner")
        shrinking = client.post(NEW, data=_form(client, **{"ramp.ga": "50% 1h, 20%", "ramp.public_beta": "lots"}))
        assert shrinking.status_code == 422
        assert "steps must grow" in _error(shrinking.text, "ramp_plan.ga")
        assert "&#39;lots&#39; is not a step" in _error(shrinking.text, "ramp_plan.public_beta")
        assert _launches(engine) == 0

        skipped = {
            "date.EU.internal": "-",
            "skip.EU.internal": "yes",
            "ramp.ga": "10% 30m, 50% 2h, 100%",
            "do": "create",
        }
        created = client.post(NEW, data=_form(client, **skipped))
        assert created.status_code == 303, created.text
        assert created.headers["location"] == "/dashboard/launches/form-launch"
        shown = client.get(created.headers["location"]).text
        assert "Form Launch" in shown
        assert 'data-phase="internal" data-label="Internal" class="skipped"' in shown
        again = client.post(NEW, data=_form(client, do="create"))
        assert again.status_code == 422
        assert "already exists" in _error(again.text, "slug")
    with Session(engine) as session:
        launch = session.exec(select(Launch)).one()
        assert launch.flags == ["personal_data"]
        steps = [
            {"percent": 10, "hold_minutes": 30},
            {"percent": 50, "hold_minutes": 120},
            {"percent": 100, "hold_minutes": 0},
        ]
        assert launch.ramp_plan == {"ga": steps}  # the other phases keep their default steps
        created_by = session.exec(select(AuditEvent.actor).where(AuditEvent.action == "launch.created")).all()
        assert created_by == ["prodops@example.com"]
        gates = session.exec(select(Gate).where(Gate.phase == "ga")).all()
        assert [gate.approvers for gate in gates if gate.approvers] == [["leadership@example.com", "admin@example.com"]]

    with member_signed_in(api_server, engine, "member@example.com") as client:
        assert client.get(NEW).status_code == 403
        assert 'href="/dashboard/launches/new"' not in client.get("/dashboard/").text
        csrf = csrf_of(client.get("/dashboard/").text)
        refused = client.post(NEW, data={"csrf": csrf, "slug": "mine", "do": "create"})
        assert refused.status_code == 403
        assert "role member may not create launches" in refused.text
    assert _launches(engine) == 1
