"""Dependencies every route declares: a database session, the authenticated principal, and the
roles allowed. `app.dependency_overrides` swaps them in tests instead of patching modules."""

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine
from sqlmodel import Session

from orchestrator.enums import Role
from orchestrator.errors import Forbidden, Unauthenticated
from orchestrator.services.tokens import Principal, authenticate


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_session(engine: Annotated[Engine, Depends(get_engine)]) -> Iterator[Session]:
    with Session(engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


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

READERS = frozenset(Role)  # every role may read
WRITERS = frozenset({Role.ADMIN, Role.PRODOPS})
ITEM_EDITORS = frozenset({Role.ADMIN, Role.PRODOPS, Role.MEMBER})
VOTERS = frozenset({Role.ADMIN, Role.PRODOPS, Role.APPROVER})
ADMINS = frozenset({Role.ADMIN})


def allow(roles: frozenset[Role]) -> Callable[[Principal], Principal]:
    """A dependency that lets only ``roles`` through (403 names the roles that may)."""

    def check(principal: PrincipalDep) -> Principal:
        if principal.role not in roles:
            names = ", ".join(sorted(role.value for role in roles))
            raise Forbidden(f"role {principal.role.value} may not do this; allowed roles: {names}")
        return principal

    check.allowed_roles = roles  # type: ignore[attr-defined]  # read by the route x role test
    return check
