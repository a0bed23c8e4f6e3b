"""The portfolio's tabs, search and pages, and a launch's audit pages, over real HTTP on SQLite and
PostgreSQL: the same answers on both (``%`` and ``_`` in a search match literally, letters A-Z in
any case), bad input answered with a 422 page that says what to type, never a 500."""

import re

from sqlmodel import Session, col, update

from orchestrator.core.actors import Actor
from orchestrator.core.enums import LaunchStatus
from orchestrator.core.models import Launch
from orchestrator.launches.service import create_launch, kick_off_launch
from orchestrator.launches.spec import LaunchSpec
from orchestrator.reporting import audit_timeline, launch_page, portfolio_search
from tests.support.factories import phase_dates, region_plan
from tests.support.web import signed_in

# slug, name, owner, status
LAUNCHES = (
    ("alpha-one", "Alpha One", "ann@example.com", LaunchStatus.ACTIVE),
    ("beta-two", "Growth 100% Push", "bob_smith@example.com", LaunchStatus.ACTIVE),
    ("delta-x", "Delta 100 Percent", "dana@example.com", LaunchStatus.ACTIVE),
    ("epsilon", "Épée Launch", "bobxsmith@example.com", LaunchStatus.DRAFT),
    ("gamma", "Gamma Plan", "carl@example.com", LaunchStatus.COMPLETED),
)


def _add_launches(session: Session, actor: Actor) -> None:
    for slug, name, owner, status in LAUNCHES:
        spec = LaunchSpec(
            slug=slug,
            name=name,
            tier=2,
            owner=owner,
            regions=[region_plan("EU", phase_dates())],
            approvers=["vp@example.com"],
        )
        launch = create_launch(session=session, spec=spec, items=[], actor=actor)
        assert launch.id is not None
        if status != LaunchStatus.DRAFT:
            kick_off_launch(session=session, launch_id=launch.id, actor=actor)
    # Completing a launch takes every region live in GA; this page only reads the status.
    session.execute(update(Launch).where(col(Launch.slug) == "gamma").values(status=LaunchStatus.COMPLETED))
    session.commit()


def _slugs(page: str) -> list[str]:
    return re.findall(r'<tr data-slug="([^"]+)">', page)


def _counts(page: str) -> dict[str, int]:
    return {tab: int(n) for tab, n in re.findall(r'data-show="(\w+)"[^>]*>\w+ <span class="count">\((\d+)\)', page)}


def _showing(page: str) -> str:
    found = re.search(r'<p class="meta" id="showing">(.*?)\. As of', page, re.S)
    assert found is not None, page
    return re.sub(r"\s+", " ", found.group(1))


def test_portfolio_tabs_search_and_pages(api_server, tokens, seeded, actor, monkeypatch):
    _add_launches(seeded, actor)
    with signed_in(api_server, tokens["leadership"]) as client:

        def get(**params: str) -> str:
            answer = client.get("/dashboard/", params=params)
            assert answer.status_code == 200, answer.text
            text: str = answer.text
            return text

        default = get()
        assert sorted(_slugs(default)) == ["alpha-one", "beta-two", "delta-x"]
        assert _counts(default) == {"active": 3, "completed": 1, "all": 5}
        assert re.search(r'data-show="active" aria-current="page"', default)
        assert _showing(default) == "Active launches, red first: 1\u20133 of 3"

        completed = get(show="completed")
        assert _slugs(completed) == ["gamma"]
        assert '<span class="launch-status">completed</span>' in completed
        assert client.get("/dashboard/launches/gamma").status_code == 200  # a completed launch stays reachable
        everything = get(show="all")
        assert _slugs(everything)[3:] == ["epsilon", "gamma"]  # active first, then drafts, then completed
        assert sorted(_slugs(everything)[:3]) == ["alpha-one", "beta-two", "delta-x"]

        # Wildcards are literal, A-Z matches in either case, and the name, slug and owner are searched.
        assert _slugs(get(show="all", q="100%")) == ["beta-two"]
        assert _slugs(get(show="all", q="bob_")) == ["beta-two"]
        assert _slugs(get(show="all", q="%")) == ["beta-two"]
        assert _slugs(get(show="all", q="_")) == ["beta-two"]
        assert _slugs(get(q="  ALPHA ")) == ["alpha-one"]
        assert _slugs(get(show="all", q="Épée")) == ["epsilon"]
        assert _slugs(get(show="all", q="éPÉE")) == []  # beyond A-Z, letters match as typed on both databases
        assert _slugs(get(show="all", q="DELTA-X")) == ["delta-x"]
        assert _slugs(get(show="all", q="%' OR 1=1 --")) == []
        searched = get(q="gamma")
        assert _slugs(searched) == []
        assert _counts(searched) == {"active": 0, "completed": 1, "all": 1}
        assert 'value="gamma"' in searched
        assert "No active launch has “gamma” in its slug, name or owner." in searched
        assert 'href="/dashboard/?show=all&amp;q=gamma">Search all launches' in searched

        monkeypatch.setattr(portfolio_search, "PER_PAGE", 2)
        first = get()
        assert len(_slugs(first)) == 2
        assert _showing(first) == "Active launches, red first: 1\u20132 of 3"
        assert 'href="/dashboard/?page=2" rel="next"' in first
        second = get(page="2")
        assert len(_slugs(second)) == 1
        assert sorted(_slugs(first) + _slugs(second)) == ["alpha-one", "beta-two", "delta-x"]
        assert 'href="/dashboard/" rel="prev"' in second
        assert _slugs(get(page="99")) == _slugs(second)  # past the end: the last page
        last = get(show="all", q="a", page="3")
        assert _slugs(last) == ["gamma"]
        assert _showing(last) == "All launches matching “a”, active first: 5\u20135 of 5"
        assert 'href="/dashboard/?show=all&amp;q=a&amp;page=2" rel="prev"' in last


def test_bad_input_is_a_422_page_saying_what_to_type_and_audit_pages(api_server, tokens, seeded, actor, monkeypatch):
    _add_launches(seeded, actor)
    with signed_in(api_server, tokens["leadership"]) as client:
        for params, field, words in (
            ({"q": "x" * 101}, "q", "the search is 101 characters long; use at most 100"),
            ({"q": "a\x07b"}, "q", "control characters; type plain text"),
            ({"show": "archived"}, "show", "is not a list; use active, completed or all"),
            ({"page": "abc"}, "page", "is not a page number; use a whole number from 1"),
            ({"page": "0"}, "page", "is not a page number"),
            ({"page": "-1", "show": "completed"}, "page", "is not a page number"),
        ):
            answer = client.get("/dashboard/", params=params)
            assert answer.status_code == 422, (params, answer.text)
            assert answer.headers["content-type"].startswith("text/html")
            problem = re.search(
                r'<p class="error" id="search-problem" role="alert" data-field="(\w+)">(.*?)</p>', answer.text
            )
            assert problem is not None, answer.text
            assert problem.group(1) == field
            assert words in problem.group(2)
            assert "Traceback" not in answer.text
            assert _slugs(answer.text) == []

        nul = client.get("/dashboard/", params={"q": "a\x00b"})  # the app-wide check of storable text
        assert nul.status_code == 422
        assert "NUL" in nul.text

        monkeypatch.setattr(launch_page, "AUDIT_SHOWN", 2)
        monkeypatch.setattr(audit_timeline, "PER_PAGE", 2)
        page = client.get("/dashboard/launches/alpha-one").text
        sentences = re.findall(r'<span class="sentence">([^<]*)</span>', page)
        assert sentences == [
            "pat@example.com (command line) passed the checklist gate for EU Internal",  # no items: at once
            "pat@example.com (command line) moved EU to Internal, where it waits at its gates",
        ]
        assert '<a id="audit-all" href="/dashboard/launches/alpha-one/audit">See all 4</a>' in page
        audit = client.get("/dashboard/launches/alpha-one/audit")
        assert audit.status_code == 200
        assert re.findall(r'<span class="sentence">([^<]*)</span>', audit.text) == sentences
        assert 'href="/dashboard/launches/alpha-one/audit?page=2" rel="next">Older' in audit.text
        older = client.get("/dashboard/launches/alpha-one/audit", params={"page": "2"}).text
        assert re.findall(r'<span class="sentence">([^<]*)</span>', older) == [
            "pat@example.com (command line) kicked off the launch",
            "pat@example.com (command line) created the launch &#39;Alpha One&#39; (tier 2) in EU with 0 checklist items",
        ]
        bad_page = client.get("/dashboard/launches/alpha-one/audit", params={"page": "two"})
        assert bad_page.status_code == 422
        assert "Showing the first page" in bad_page.text
        assert client.get("/dashboard/launches/nope/audit").status_code == 404
