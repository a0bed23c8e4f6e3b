"""/docs (Swagger UI) and /redoc (ReDoc) with every file they load served by this app.

FastAPI's own pages load their JavaScript, CSS, favicon and (ReDoc) Google fonts from CDNs, so
on a machine without internet /docs was blank. The files come instead from the installed
``fastapi-offline`` package (a pinned dependency: nothing is vendored here, nothing downloads at
run time), mounted under ``/static/docs``. A Content-Security-Policy keeps the pages to this
origin: scripts from 'self' plus the one inline script that starts Swagger UI, allowed by its
hash; styles from 'self' plus inline ones (both UIs style their elements from JavaScript); no
fetches elsewhere (which also stops ReDoc's footer from loading its vendor's logo from a CDN).
"""

import base64
import hashlib
import re
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_URL = "/static/docs"
SWAGGER_JS = f"{ASSETS_URL}/swagger-ui-bundle.js"
SWAGGER_CSS = f"{ASSETS_URL}/swagger-ui.css"
REDOC_JS = f"{ASSETS_URL}/redoc.standalone.js"
FAVICON = f"{ASSETS_URL}/favicon.png"
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def assets_directory() -> Path:
    """Where the installed package keeps the files (swagger-ui-bundle.js, swagger-ui.css,
    redoc.standalone.js, favicon.png)."""
    return Path(str(files("fastapi_offline") / "static"))


def content_security_policy(page: str) -> str:
    """The policy for one rendered page: its inline scripts are allowed by their sha256, no others."""
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}".rstrip()
        + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; worker-src 'self' blob:; frame-ancestors 'none'; base-uri 'none'; "
        "form-action 'none'"
    )


def _secured(response: HTMLResponse) -> HTMLResponse:
    page = bytes(response.body).decode()
    response.headers["Content-Security-Policy"] = content_security_policy(page)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def install(app: FastAPI) -> None:
    """Serve the assets and the two pages; the app must be made with ``docs_url=None`` and
    ``redoc_url=None`` (so FastAPI does not add its CDN pages) and an ``openapi_url``."""
    assert app.docs_url is None, "make the app with docs_url=None"
    assert app.redoc_url is None, "make the app with redoc_url=None"
    assert app.openapi_url is not None, "the pages need the OpenAPI document"
    openapi_url = app.openapi_url
    app.mount(ASSETS_URL, StaticFiles(directory=assets_directory()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _secured(
            get_swagger_ui_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - Swagger UI",
                swagger_js_url=root + SWAGGER_JS,
                swagger_css_url=root + SWAGGER_CSS,
                swagger_favicon_url=root + FAVICON,
                oauth2_redirect_url=None,  # the API takes bearer tokens; no OAuth2 flow to return from
                # No badge from the public validator (Swagger UI shows it for specs not on localhost).
                swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
            )
        )

    @app.get("/redoc", include_in_schema=False)
    def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return _secured(
            get_redoc_html(
                openapi_url=root + openapi_url,
                title=f"{app.title} - ReDoc",
                redoc_js_url=root + REDOC_JS,
                redoc_favicon_url=root + FAVICON,
                with_google_fonts=False,
            )
        )
