"""API tokens: created from the CLI, shown once, stored as a SHA-256, revocable.

A token carries a role (and, for team members, a team): the API decides what each route allows
from that, so access can be read off the token list.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Role, Source
from orchestrator.core.errors import InvalidInput, NotFound, Unauthenticated
from orchestrator.core.ledger import record
from orchestrator.core.models import ApiToken, Member, Team
from orchestrator.core.unit import transaction

TOKEN_PREFIX = "ldk_"


@dataclass(frozen=True)
class Principal:
    """Who is calling the API or reading the dashboard, as the routes need to know it: a token
    (``token_id``, perhaps belonging to a member), or a member signed in to the dashboard as
    themselves (``token_id`` None; see ``orchestrator.directory.principals``)."""

    token_id: int | None
    name: str
    role: Role
    team_id: int | None
    member_id: int | None

    @property
    def actor(self) -> Actor:
        return Actor(name=self.name, source=Source.API, member_id=self.member_id, role=self.role, team_id=self.team_id)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    *,
    session: Session,
    name: str,
    role: Role,
    actor: Actor,
    team_key: str | None = None,
    member_email: str | None = None,
) -> tuple[ApiToken, str]:
    """Returns the stored token and its secret, which is not kept anywhere."""
    name = name.strip()
    if not name:
        raise InvalidInput("name", "give the token a name that says who or what uses it")
    if role == Role.MEMBER and team_key is None:
        raise InvalidInput("team", "a member token belongs to a team: pass --team (e.g. --team marketing)")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction(session):
        team_id = None
        if team_key is not None:
            team_id = session.exec(select(Team.id).where(Team.key == team_key)).first()
            if team_id is None:
                known = ", ".join(session.exec(select(Team.key).order_by(col(Team.key))).all())
                raise InvalidInput("team", f"unknown team {team_key!r}; known teams: {known}")
        member_id = None
        if member_email is not None:
            member_id = session.exec(select(Member.id).where(Member.email == member_email)).first()
            if member_id is None:
                raise NotFound("member", member_email)
        token = ApiToken(
            name=name,
            prefix=secret[: len(TOKEN_PREFIX) + 6],
            token_hash=_digest(secret),
            role=role,
            team_id=team_id,
            member_id=member_id,
        )
        session.add(token)
        session.flush()
        record(
            session,
            actor=actor,
            entity="token",
            entity_id=token.id,
            action="token.created",
            launch_id=None,
            after={"name": name, "role": role.value, "team": team_key, "prefix": token.prefix},
        )
    return token, secret


# The columns a principal needs, not the ORM row: nothing to track, nothing to refresh.
_BY_HASH = select_columns(
    col(ApiToken.id),
    col(ApiToken.name),
    col(ApiToken.role),
    col(ApiToken.team_id),
    col(ApiToken.member_id),
    col(ApiToken.revoked_at),
).where(col(ApiToken.token_hash) == bindparam("token_hash"))


def authenticate(*, session: Session, secret: str) -> Principal:
    """Every request looks its token up afresh (one indexed statement, nothing cached), so a
    revoked token stops working at once. The read is left open for the request's own statements:
    a service continues or ends it (see `_unit.transaction`) and the session's close ends it."""
    # Core, on the session's connection: a columns-only read needs no ORM execution context.
    token = session.connection().execute(_BY_HASH, {"token_hash": _digest(secret)}).first()
    if token is None or token.revoked_at is not None:
        raise Unauthenticated("the bearer token is unknown or revoked; create one with `launchdeck tokens create`")
    return Principal(
        token_id=token.id, name=f"token:{token.name}", role=token.role, team_id=token.team_id, member_id=token.member_id
    )


def principal_for_token(*, session: Session, token_id: int) -> Principal:
    """The principal of a token already proven once (the dashboard's signed session cookie names
    it by id); a revoked or deleted token is Unauthenticated, so revoking ends those sessions."""
    token = session.get(ApiToken, token_id, populate_existing=True)
    session.commit()
    if token is None or token.revoked_at is not None:
        raise Unauthenticated("the session's token is unknown or revoked; sign in again with a current token")
    assert token.id is not None
    return Principal(
        token_id=token.id, name=f"token:{token.name}", role=token.role, team_id=token.team_id, member_id=token.member_id
    )


def revoke_token(*, session: Session, token_id: int, actor: Actor, now: datetime) -> ApiToken:
    with transaction(session):
        token = session.get(ApiToken, token_id, with_for_update=True)
        if token is None:
            raise NotFound("token", token_id)
        if token.revoked_at is None:
            token.revoked_at = now
            record(
                session,
                actor=actor,
                entity="token",
                entity_id=token_id,
                action="token.revoked",
                launch_id=None,
                before={"revoked": False},
                after={"revoked": True},
            )
    return token


def list_tokens(*, session: Session) -> list[ApiToken]:
    tokens = list(session.exec(select(ApiToken).order_by(col(ApiToken.id))).all())
    session.commit()
    return tokens
