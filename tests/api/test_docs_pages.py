"""/docs and /redoc work without internet: over real HTTP every URL the pages reference is this
server's own and answers with the file; in Debian's chromium, with every request to another host
aborted, Swagger UI lists the operations and ReDoc draws its menu (screenshots in test-artifacts/)."""

import re
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from api.docs_pages import content_security_policy
from tests.api.test_dashboard_browser import ARTIFACTS, browser  # noqa: F401 - the fixture

# Every src= and href= in the page (scripts, stylesheets, favicon) and ReDoc's spec-url=.
_REFERENCE = re.compile(r'\b(?:src|href|spec-url)="([^"]+)"')
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
_SIZES = {".js": 100_000, ".css": 50_000, ".png": 100}
_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)  # no database work on these pages
def test_docs_and_redoc_reference_only_this_server_and_it_serves_every_file(api_server, engine):
    origin = urlsplit(api_server).netloc
    with httpx.Client(base_url=api_server) as client:
        for path, expected in (("/docs", {".js", ".css", ".png"}), ("/redoc", {".js", ".png"})):
            page = client.get(path)
            assert page.status_code == 200, (path, page.text)
            assert page.headers["content-type"].startswith("text/html")
            assert "fonts.googleapis" not in page.text, path
            assert "cdn." not in page.text, path
            policy = page.headers["content-security-policy"]
            assert policy == content_security_policy(page.text)
            assert "script-src 'self'" in policy
            assert not re.search(r"https?:|\*", policy), policy
            assert page.headers["x-content-type-options"] == "nosniff"
            references = _REFERENCE.findall(page.text)
            assert re.search(r"""(url: '|spec-url=")/openapi.json['"]""", page.text), path  # the document, same origin
            assert not re.search(r"https?://", page.text.replace(api_server, "")), page.text
            assets = [url for url in references if url != "/openapi.json"]
            assert {"." + url.rsplit(".", 1)[1] for url in assets} == expected, assets
            for url in assets:
                absolute = urljoin(api_server + path, url)
                assert urlsplit(absolute).netloc == origin, url
                answer = client.get(absolute)
                suffix = "." + url.rsplit(".", 1)[1]
                assert answer.status_code == 200, url
                assert _TYPES[suffix] in answer.headers["content-type"], (url, answer.headers["content-type"])
                assert len(answer.content) >= _SIZES[suffix], (url, len(answer.content))
        assert '"validatorUrl": null' in client.get("/docs").text  # no badge image from the public validator
        assert client.get("/openapi.json").json()["info"]["title"] == "launchdeck"
        assert client.get("/static/docs/nope.js").status_code == 404
        assert client.get("/docs/oauth2-redirect").status_code == 404  # no OAuth2 flow: bearer tokens


def _offline(page, api_server: str) -> list[str]:
    """Abort every request to another host (this server's own go through untouched); return the
    list the aborted URLs go to."""
    origin = urlsplit(api_server).netloc
    blocked: list[str] = []

    def elsewhere(url: str) -> bool:
        return not url.startswith(("data:", "blob:")) and urlsplit(url).netloc != origin

    def abort(request_route):
        blocked.append(request_route.request.url)
        request_route.abort()

    page.route(elsewhere, abort)
    return blocked


@pytest.mark.slow
@pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
def test_docs_and_redoc_render_in_a_browser_with_no_internet(browser, api_server, engine):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    blocked = _offline(page, api_server)

    page.goto(f"{api_server}/docs")
    page.locator(".opblock").first.wait_for(state="visible", timeout=20_000)
    assert page.locator(".opblock").count() > 20  # every operation of the API, not an error box
    assert page.get_by_text("/api/v1/launches", exact=True).count() >= 1
    page.screenshot(path=str(ARTIFACTS / "docs-swagger-ui.png"))

    page.goto(f"{api_server}/redoc")
    menu = page.locator('[role="menu"] li')
    menu.first.wait_for(state="visible", timeout=20_000)
    assert menu.count() > 5
    page.get_by_text("launchdeck", exact=False).first.wait_for(state="visible")
    page.screenshot(path=str(ARTIFACTS / "docs-redoc.png"))

    assert blocked == [], blocked  # nothing even tried to leave the machine
    # ReDoc's footer asks for its vendor's logo from a CDN; the page's policy stops it in the browser.
    refused = [error for error in errors if "Content Security Policy" in error]
    assert all(REDOC_LOGO in error for error in refused), refused
    assert [error for error in errors if error not in refused] == [], errors
