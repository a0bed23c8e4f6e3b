"""My work and What is blocking, over real HTTP on SQLite and PostgreSQL, signed in as members the
supported way (a one-time link): a member checks off, blocks and adds evidence to their team's
items and is refused another team's (403, nothing written); an approver votes Go, Conditional Go
and No-Go as themselves; a cross-site POST is refused; the blocking page says exactly what the
read model says, and bad regions and phases are pages that list the real ones."""

import html
import re
from datetime import UTC, datetime

import httpx
import pytest
from sqlmodel import Session, col, select

from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import GateKind, ItemStatus, Phase, Role, Vote
from orchestrator.core.models import AuditEvent, ChecklistItem, Decision, Gate, Region, RegionRollout
from orchestrator.directory.seed import MemberSeed
from orchestrator.directory.service import upsert_member
from orchestrator.directory.tokens import create_token
from orchestrator.launches.service import kick_off_launch
from orchestrator.reporting.blockers import blockers
from tests.support.factories import item, make_launch
from tests.support.web import csrf_of, member_signed_in, signed_in

SLUG = "acme-work"
PAST = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)  # 14:00 in Berlin, 08:00 in New York: the same day
REGIONS = ("APAC", "EU", "NA")
GA = Phase.GA


@pytest.fixture
def work(seeded, actor):
    for email, role, team in (
        ("mia@example.com", Role.MEMBER, "marketing"),
        ("leo@example.com", Role.MEMBER, "legal"),
        ("vp@example.com", Role.APPROVER, None),
        ("cfo@example.com", Role.APPROVER, None),
    ):
        seed = MemberSeed(email=email, name=email.split("@")[0].title(), role=role, team=team)
        upsert_member(session=seeded, seed=seed, actor=actor)
    launch = make_launch(
        seeded,
        actor,
        slug=SLUG,
        regions=REGIONS,
        dates={Phase.GA: PAST},  # GA only: every region waits at GA's gates, its approval among them
        items=[
            item("press_release", phase=GA, offset=-7),
            item("press_release", region="NA", phase=GA, offset=-7),
            item("launch_blog", phase=GA, offset=-5, evidence=True),
            item("social_posts", phase=GA, offset=-3, blocking=False),
            item("dpa_signed", phase=GA, team="legal", offset=-2, depends_on=("press_release",)),
        ],
        approvers=["vp@example.com", "cfo@example.com"],
        quorum=2,  # one Go does not pass a gate: the approver may vote again
    )
    kick_off_launch(session=seeded, launch_id=launch.id, actor=actor)
    seeded.commit()
    return seeded


def _items(engine) -> dict[tuple[str, str], ChecklistItem]:
    with Session(engine) as session:
        rows = session.exec(
            select(ChecklistItem, Region.code)
            .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
        ).all()
        return {(code, found.key): found for found, code in rows}


def _events(engine, item_id: int) -> list[tuple[str, str]]:
    with Session(engine) as session:
        rows = session.exec(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.entity == "item", AuditEvent.entity_id == item_id)
            .order_by(col(AuditEvent.id))
        ).all()
        return [(action, who) for action, who in rows]


def _post(client: httpx.Client, path: str, **data: str) -> httpx.Response:
    page = client.get("/dashboard/my-work")
    return client.post(path, data={"csrf": csrf_of(page.text), **data})


def _problem(page: str) -> tuple[str, str]:
    found = re.search(
        r'<p class="error" role="alert" id="problem" data-form="[^"]*" data-field="(\w+)">(.*?)</p>', page
    )
    assert found, page
    return found.group(1), html.unescape(found.group(2))


def test_a_member_works_their_teams_items_and_no_one_elses(api_server, engine, work):
    items = _items(engine)
    eu_press, na_press = items[("EU", "press_release")], items[("NA", "press_release")]
    blog, social, dpa = items[("EU", "launch_blog")], items[("EU", "social_posts")], items[("EU", "dpa_signed")]
    with member_signed_in(api_server, engine, "mia@example.com") as mia:
        page = mia.get("/dashboard/my-work")
        assert page.status_code == 200
        assert '<a href="/dashboard/my-work">My work</a>' in page.text
        shown = [int(found) for found in re.findall(r'data-item="(\d+)"', page.text)]
        assert shown == [eu_press.id, na_press.id, blog.id, social.id]  # soonest due first; legal's not shown
        assert "Dpa signed" not in page.text
        assert "Votes waiting for you" not in page.text  # a member does not vote

        checked = _post(mia, f"/dashboard/my-work/items/{eu_press.id}/check", version=str(eu_press.version))
        assert checked.status_code == 303
        assert checked.headers["location"] == f"/dashboard/my-work?changed={eu_press.id}"
        after = mia.get(checked.headers["location"]).text
        assert "“Press release” (acme-work · EU · ga) is now <strong>done</strong>" in after
        assert f'data-item="{eu_press.id}"' not in after
        assert _events(engine, eu_press.id)[-1] == ("item.checked", "mia@example.com")

        needs_link = _post(mia, f"/dashboard/my-work/items/{blog.id}/check", version=str(blog.version))
        assert needs_link.status_code == 409
        assert _problem(needs_link.text) == (
            "evidence_url",
            "'launch_blog' needs an evidence link (evidence_url) to be checked",
        )
        no_reason = _post(mia, f"/dashboard/my-work/items/{social.id}/block", reason="  ", version=str(social.version))
        assert no_reason.status_code == 422
        assert _problem(no_reason.text)[0] == "reason"
        assert 'class="field-error" data-field="reason"' in no_reason.text
        bad_link = _post(
            mia, f"/dashboard/my-work/items/{blog.id}/evidence", url="wiki page", version=str(blog.version)
        )
        assert bad_link.status_code == 422
        assert 'value="wiki page"' in bad_link.text  # what was typed is kept beside the error
        blocked = _post(
            mia, f"/dashboard/my-work/items/{social.id}/block", reason="brand review", version=str(social.version)
        )
        assert blocked.status_code == 303
        evidence = _post(
            mia,
            f"/dashboard/my-work/items/{blog.id}/evidence",
            url="https://wiki.example.com/blog",
            version=str(blog.version),
        )
        assert evidence.status_code == 303
        assert "evidence: https://wiki.example.com/blog" in mia.get(evidence.headers["location"]).text

        refused = _post(mia, f"/dashboard/my-work/items/{dpa.id}/check", version=str(dpa.version))
        assert refused.status_code == 403
        assert (
            "belongs to the legal team; only its members, product ops and admins may change it"
            in _problem(refused.text)[1]
        )
        stale = _post(mia, f"/dashboard/my-work/items/{na_press.id}/check", version=str(na_press.version + 7))
        assert stale.status_code == 409  # the page was older than the item: nothing done, the page says so
        assert "changed since you read it" in _problem(stale.text)[1]
        csrf = csrf_of(mia.get("/dashboard/my-work").text)
        cross_site = mia.post(
            f"/dashboard/my-work/items/{na_press.id}/check",
            data={"csrf": csrf},
            headers={"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        )
        assert cross_site.status_code == 403
        assert "sent from another site" in cross_site.text
        assert mia.post(f"/dashboard/my-work/items/{na_press.id}/check", data={}).status_code == 403  # no CSRF field

    now = _items(engine)
    assert now[("EU", "social_posts")].status == ItemStatus.BLOCKED
    assert now[("EU", "social_posts")].blocked_reason == "brand review"
    assert (now[("EU", "launch_blog")].status, now[("EU", "launch_blog")].evidence_url) == (
        ItemStatus.TODO, "https://wiki.example.com/blog",
    )  # fmt: skip
    assert _events(engine, blog.id)[-1] == ("item.evidence_attached", "mia@example.com")
    assert now[("EU", "dpa_signed")].status == ItemStatus.TODO  # refused: nothing written
    assert now[("NA", "press_release")].status == ItemStatus.TODO  # cross-site: nothing written
    assert [
        event for event in _events(engine, dpa.id) + _events(engine, na_press.id) if event[1] == "mia@example.com"
    ] == []


def _gates(engine) -> dict[str, int]:
    with Session(engine) as session:
        rows = session.exec(
            select(Region.code, Gate.id)
            .join(RegionRollout, col(RegionRollout.id) == col(Gate.rollout_id))
            .join(Region, col(Region.id) == col(RegionRollout.region_id))
            .where(Gate.kind == GateKind.APPROVAL, Gate.phase == GA)
        ).all()
        return {code: gate_id for code, gate_id in rows if gate_id is not None}


def _vote(client: httpx.Client, gate_id: int, **data: str) -> httpx.Response:
    return _post(client, f"/dashboard/my-work/gates/{gate_id}/vote", **data)


def test_an_approver_votes_as_themselves_and_the_blocking_page(api_server, engine, work, actor):
    gates = _gates(engine)
    assert sorted(gates) == list(REGIONS)
    with member_signed_in(api_server, engine, "vp@example.com") as vp:
        page = vp.get("/dashboard/my-work").text
        assert sorted(int(g) for g in re.findall(r'data-gate="(\d+)"', page)) == sorted(gates.values())
        assert "Nothing open for you or your team." in page

        go = _vote(vp, gates["EU"], vote="go", on_behalf_of="cfo@example.com", voter="cfo@example.com")
        assert go.status_code == 303
        assert go.headers["location"] == f"/dashboard/launches/{SLUG}/blockers?region=EU&phase=ga#approval"
        shown = vp.get(go.headers["location"])
        assert '<li data-voter="vp@example.com">vp@example.com: go' in shown.text
        assert "Votes missing from: cfo@example.com" in shown.text

        unsure = _vote(vp, gates["NA"], vote="conditional_go", conditions="support staffed")
        assert unsure.status_code == 422
        assert _problem(unsure.text)[0] == "conditions"
        assert "support staffed</textarea>" in unsure.text
        not_email = _vote(vp, gates["NA"], vote="conditional_go", conditions="support staffed", risk_accepted_by="bob")
        assert _problem(not_email.text)[0] == "risk_accepted_by"
        conditional = _vote(
            vp, gates["NA"], vote="conditional_go", conditions="support staffed", risk_accepted_by="cfo@example.com"
        )
        assert conditional.status_code == 303
        no_date = _vote(vp, gates["APAC"], vote="no_go", comment="no local support yet")
        assert (no_date.status_code, _problem(no_date.text)[0]) == (422, "reevaluate_at")
        no_go = _vote(vp, gates["APAC"], vote="no_go", comment="no local support yet", reevaluate_on="2027-01-15")
        assert no_go.status_code == 303
        assert 'id="no-votes"' in vp.get("/dashboard/my-work").text  # each gate has their vote now
        changed = _vote(vp, gates["EU"], vote="no_go", comment="press embargo", reevaluate_on="2027-01-20")
        assert changed.status_code == 303  # a vote changed in sequence replaces the earlier one

    with Session(engine) as session:
        votes = {(d.gate_id, d.voter): d for d in session.exec(select(Decision)).all()}
    assert set(votes) == {(gates[code], "vp@example.com") for code in REGIONS}  # never cfo: no name from a form
    assert votes[(gates["EU"], "vp@example.com")].vote == Vote.NO_GO
    assert votes[(gates["EU"], "vp@example.com")].recorded_by is None
    assert (votes[(gates["NA"], "vp@example.com")].vote, votes[(gates["NA"], "vp@example.com")].risk_accepted_by) == (
        Vote.CONDITIONAL_GO, "cfo@example.com",
    )  # fmt: skip
    apac = votes[(gates["APAC"], "vp@example.com")]
    assert (apac.vote, apac.comment) == (Vote.NO_GO, "no local support yet")
    assert apac.reevaluate_at is not None
    assert as_utc(apac.reevaluate_at) == datetime(2027, 1, 14, 16, tzinfo=UTC)  # 2027-01-15 00:00 in Singapore

    with member_signed_in(api_server, engine, "mia@example.com") as mia:
        launch_page = mia.get(f"/dashboard/launches/{SLUG}").text
        assert (
            f'href="/dashboard/launches/{SLUG}/blockers?region=EU&amp;phase=ga">What is blocking EU ga' in launch_page
        )
        page = mia.get(f"/dashboard/launches/{SLUG}/blockers", params={"region": "EU", "phase": "ga"})
        assert page.status_code == 200
        with Session(engine) as session:
            found = blockers(session=session, slug=SLUG, region="EU", phase="ga", now=utcnow())
        assert re.findall(r'<tr data-item="\d+" data-key="(\w+)">', page.text) == [i.key for i in found.items]
        assert [i.key for i in found.items] == ["press_release", "launch_blog", "dpa_signed"]
        reasons = re.search(r'<ul id="reasons"[^>]*>(.*?)</ul>', page.text, re.S)
        assert reasons is not None
        assert [html.unescape(r) for r in re.findall(r"<li>(.*?)</li>", reasons.group(1))] == found.reasons
        assert "dpa_signed (Dpa signed) is todo, owned by Legal and compliance, unassigned" in html.unescape(page.text)
        assert "press_release (todo)" in page.text  # what dpa_signed waits for
        assert "vp@example.com: no go" in page.text

        for params, status, words in (
            (
                {"region": "XX", "phase": "ga"},
                404,
                "region of launch acme-work (its regions: APAC, EU, NA) 'XX' does not exist",
            ),
            (
                {"region": "EU", "phase": "beta"},
                422,
                "'beta' is not a phase; use one of internal, private_beta, public_beta, ga",
            ),
            ({"region": "EU"}, 422, "choose a region and a phase below"),
        ):
            bad = mia.get(f"/dashboard/launches/{SLUG}/blockers", params=params)
            assert bad.status_code == status, bad.text
            assert words in html.unescape(bad.text)
            assert f'href="/dashboard/launches/{SLUG}/blockers?region=NA&amp;phase=ga">ga</a>' in bad.text
        assert mia.get("/dashboard/launches/nope/blockers", params={"region": "EU", "phase": "ga"}).status_code == 404

    _secret_token, secret = create_token(session=work, name="report-bot", role=Role.LEADERSHIP, actor=actor)
    with signed_in(api_server, secret) as bot:
        page = bot.get("/dashboard/my-work")
        assert page.status_code == 200
        assert "belongs to no member of the directory" in page.text
        assert "Sign in with Slack" in page.text
