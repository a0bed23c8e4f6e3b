"""Dependencies every route declares: a database session, the authenticated principal, and the
roles allowed. `app.dependency_overrides` swaps them in tests instead of patching modules."""

from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import Engine, orm
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlmodel import Session

from orchestrator.core.enums import Role
from orchestrator.core.errors import Unauthenticated
from orchestrator.core.policy import require_role
from orchestrator.directory.tokens import Principal, authenticate

WorkT = TypeVar("WorkT")

# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, and a hop there per dependency costs more than the dependency itself.


async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


async def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> AsyncIterator[Session]:
    """Opening a session touches no database. Closing one does only if it still holds a
    connection (a read, or a failed request); then the close (a ROLLBACK) runs in the thread
    pool, since it may wait on the network. A service that committed left nothing to close."""
    session = Session(engine, expire_on_commit=False)
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_async_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a route served on the event loop (the check-off): ``await
    session.run_sync(work, ...)`` hands ``work`` an ordinary ``Session`` on the async engine, so
    it calls the same services as every other route. Closing returns the connection (a ROLLBACK
    first only if a failure left a transaction open)."""
    engine: AsyncEngine = request.app.state.async_engine
    async with AsyncSession(engine, sync_session_class=Session, expire_on_commit=False) as session:
        yield session


AsyncSessionDep = Annotated[AsyncSession, Depends(get_async_session)]


async def run_work(session: AsyncSession, work: Callable[[Session], WorkT]) -> WorkT:
    """``work(sync_session)`` on the event loop, typed for the services' SQLModel ``Session``
    (what ``get_async_session`` makes its sync side), which ``AsyncSession.run_sync``'s
    signature cannot say."""

    def bridge(sync_session: orm.Session) -> WorkT:
        assert isinstance(sync_session, Session)
        return work(sync_session)

    return await session.run_sync(bridge)


def bearer_secret(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthenticated("send an API token as 'Authorization: Bearer <token>' (`launchdeck tokens create`)")
    return secret.strip()


def get_principal(request: Request, session: SessionDep) -> Principal:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = authenticate(session=session, secret=bearer_secret(request))
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _require_role(principal: Principal, roles: frozenset[Role]) -> Principal:
    require_role(principal.actor, roles)
    return principal


def allow(roles: frozenset[Role]) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets only ``roles`` through (403 names the roles that may)."""

    async def check(principal: PrincipalDep) -> Principal:
        return _require_role(principal, roles)

    check.allowed_roles = roles  # type: ignore[attr-defined]  # read by the route x role test
    return check


@dataclass(frozen=True)
class Credentials:
    """A bearer secret not yet looked up, and the roles the route lets in."""

    secret: str
    roles: frozenset[Role]

    def principal(self, session: Session) -> Principal:
        """The caller, if its token is known, unrevoked and of an allowed role (401, then 403).
        Call it first thing in the route's work, on the route's session."""
        return _require_role(authenticate(session=session, secret=self.secret), self.roles)


def credentials_for(roles: frozenset[Role]) -> Callable[[Request], Coroutine[Any, Any, Credentials]]:
    """`allow` for the routes people call all day (a check-off): the dependency only reads the
    header (a missing one is a 401 at once); the route looks the token up and checks the role in
    the same unit of work as its change, with ``Credentials.principal``. `get_principal` is a
    plain `def` (its lookup waits on the database), so `allow` costs a thread-pool hop of its own:
    about a tenth of a check-off's server CPU when it was served in the pool. The price: FastAPI's
    422 for a malformed path, header or body comes before the 401 of an unknown token and the 403
    of a role that may not call the route."""

    async def credentials(request: Request) -> Credentials:
        return Credentials(secret=bearer_secret(request), roles=roles)

    credentials.allowed_roles = roles  # type: ignore[attr-defined]  # read by the route x role test
    return credentials
