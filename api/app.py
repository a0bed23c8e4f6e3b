"""The FastAPI application: versioned routes under /api/v1, OpenAPI at /docs and /redoc (offline), health at /healthz
and /readyz, every error as problem+json.

The request path only commits (change + audit + outbox) and returns; workers react afterwards.
Routes run in the thread pool on the sync engine, except the check-off, which people call all
day: it runs on the event loop through an async twin of the engine (`make_async_engine`), made
here per serving loop because async connections belong to the loop that opened them.
Slack clicks are only recorded (one INSERT) before they are acknowledged: the app's ``SlackWork``
processors (started here, in the lifespan, and drained when it ends) apply them from the database
after the answer, including those a previous process acknowledged and did not apply
(api/slack_work.py); with ``LAUNCHDECK_SLACK_APPLIER=process`` none start here, and the
`launchdeck slack-applier` process applies them instead.
"""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from anyio import to_thread
from fastapi import Depends, FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, text
from starlette.datastructures import State

from api import docs_pages, gc_tuning, openapi, problems, slack
from api.body_limit import BodyLimitMiddleware
from api.idempotency import IdempotencyMiddleware
from api.planning_cache import PlanningCache
from api.portfolio_cache import PortfolioCache
from api.routes import (
    admin,
    audit,
    beta,
    console,
    console_actions,
    console_new_launch,
    console_work,
    dashboard,
    decisions,
    forecasts,
    items,
    launches,
    outbox,
    planning,
    planning_pages,
    retros,
    rollup,
)
from api.slack_recording import ClickRecorder
from api.slack_work import SlackWork
from api.storable import refuse_unstorable_text
from api.web_session import NeedsLogin
from orchestrator.core.db import make_async_engine, make_engine
from orchestrator.core.migrate import ensure_schema_current
from orchestrator.core.settings import get_settings

API_PREFIX = "/api/v1"
_API_ROUTERS = (
    launches.router,
    items.router,
    decisions.router,
    audit.router,
    rollup.router,
    admin.router,
    outbox.router,
    beta.router,
    forecasts.router,
    retros.router,
    planning.router,
)


def _engine_from_settings() -> Engine:
    settings = get_settings()
    return make_engine(settings.database_url, echo=settings.database_echo)  # LAUNCHDECK_DATABASE_ECHO logs SQL


def _select_one(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def create_app(*, engine: Engine | None = None, tune_gc: bool = False) -> FastAPI:
    """Build the app; without an engine it makes one from settings (and checks the schema).
    ``tune_gc`` is for the serving process only (see api/gc_tuning.py)."""
    app = FastAPI(
        title="launchdeck",
        version="1",
        summary="Launch readiness and regional beta rollouts, gated and audited.",
        lifespan=_lifespan(tune_gc=tune_gc),
        dependencies=[Depends(refuse_unstorable_text)],  # NUL and lone surrogates: a 422, on every route
        docs_url=None,  # FastAPI's pages load from CDNs; api/docs_pages.py serves /docs and /redoc offline
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    start_afresh(app, engine=engine)
    problems.install(app)
    app.add_middleware(IdempotencyMiddleware)
    app.add_middleware(BodyLimitMiddleware, max_bytes=get_settings().max_body_bytes)  # outermost: counts first
    _add_health_routes(app)
    for router in _API_ROUTERS:
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(slack.router)  # Slack's own protocol, at the URLs the app manifest names
    app.include_router(console_new_launch.router)  # before dashboard's: /dashboard/launches/new is no slug
    app.include_router(dashboard.router)  # HTML pages for leadership: /login, /dashboard/...
    app.include_router(console.router)  # the portfolio's tabs and search, a launch's audit pages
    app.include_router(console_work.router)  # My work, and What is blocking a region and phase
    app.include_router(console_actions.router)  # prod ops' forms on a launch page
    app.include_router(retros.pages)  # a launch's retro page and its Markdown download
    app.include_router(planning_pages.router)  # the rollout timeline, GTM load and collisions pages
    app.add_exception_handler(NeedsLogin, dashboard.needs_login_redirect)
    openapi.install(app)
    docs_pages.install(app)
    return app


def start_afresh(app: FastAPI, *, engine: Engine | None) -> None:
    """Give ``app`` the state of one serving from scratch: on ``engine`` (else one made from
    settings when it starts), with empty page caches, no Slack work and no Slack clients made yet.

    Why it is separate from ``create_app``: FastAPI builds an app's included routes on its first
    request (60-190 ms for launchdeck's 92 on this machine kind), and the test suite serves an app
    per test; with this it builds one app per test process and serves it again on each test's
    database. Settings read when the app is built (the body limit) stay as they were then."""
    app.state = State()
    if engine is not None:
        app.state.engine = engine
    app.state.portfolio_cache = PortfolioCache()
    app.state.planning_cache = PlanningCache()
    app.state.slack_work = SlackWork()


def _lifespan(*, tune_gc: bool) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """What the app opens when it starts serving and closes when it stops: the engine (made from
    settings, with the schema checked, unless one was given), its async twin on the serving loop,
    and the Slack work threads. What it closes are the ones it opened, held here, whatever
    ``start_afresh`` gives the app meanwhile."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        given: Engine | None = getattr(app.state, "engine", None)
        engine = app.state.engine = given or _engine_from_settings()
        ensure_schema_current(engine)
        async_engine = app.state.async_engine = make_async_engine(engine)
        app.state.slack_recorder = ClickRecorder(async_engine)
        work: SlackWork = app.state.slack_work
        if get_settings().slack_applier == "api":  # else `launchdeck slack-applier` applies the clicks
            work.start(engine=engine, follow_ups=slack.follow_ups_for(app))
        if tune_gc:
            gc_tuning.settle_for_serving()
        try:
            yield
        finally:
            work.stop()  # apply pending clicks before the engine goes
            await async_engine.dispose()
            if given is None:
                engine.dispose()
                if getattr(app.state, "engine", None) is engine:  # not one ``start_afresh`` gave since
                    del app.state.engine  # served again, it makes a new one from settings, as the first time

    return lifespan


def _add_health_routes(app: FastAPI) -> None:
    """/healthz and /readyz, outside /api/v1 and without a token."""

    @app.get("/healthz", tags=["health"])
    def healthz() -> dict[str, str]:
        """The process is up (no database check: use /readyz for that)."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], responses={503: {"description": "The database is unreachable."}})
    async def readyz() -> JSONResponse:
        """Ready to serve: the database answers on both of the app's connection pools, the
        check-off's (async) and the other routes' (each can fail alone: a driver setting, a pool
        that cannot open a connection while the other still holds one)."""
        pool = "the routes' pool"
        try:
            await to_thread.run_sync(_select_one, app.state.engine)
            pool = "the check-off's pool"
            async with app.state.async_engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:  # noqa: BLE001 - any failure here means "not ready", which is the answer
            return problems.problem(503, f"database unreachable from {pool}: {type(exc).__name__}", code="not_ready")
        return JSONResponse({"status": "ready"})


def serving_app() -> FastAPI:
    """The app as `launchdeck serve` runs it (uvicorn's factory, in every worker process)."""
    return create_app(tune_gc=True)
