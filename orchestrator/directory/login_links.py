"""One-time dashboard sign-in links: ``/launch login`` in Slack makes one for the member who typed
it and sends it to them in a DM; following it signs them in once, within minutes.

Only a SHA-256 of the link's secret is stored, so the table cannot sign anyone in. A link is used
up in the transaction that signs in with it (its row locked, ``used_at`` set), so two clicks at
once sign in once; a used, expired or unknown link is refused with a sentence that says what to do.
"""

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlmodel import Session, select

from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import Source
from orchestrator.core.errors import Unauthenticated
from orchestrator.core.ledger import record
from orchestrator.core.models import LoginLink, Member
from orchestrator.core.unit import transaction
from orchestrator.directory.principals import member_principal
from orchestrator.directory.tokens import Principal

LINK_LIFETIME = timedelta(minutes=10)
ASK_AGAIN = "type `/launch login` in Slack for a new one"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_login_link(*, session: Session, member: Member, now: datetime) -> str:
    """A new link's secret for this member (shown to them once, in Slack; never stored)."""
    assert member.id is not None
    secret = secrets.token_urlsafe(32)
    with transaction(session):
        link = LoginLink(
            member_id=member.id, token_hash=_digest(secret), created_at=now, expires_at=now + LINK_LIFETIME
        )
        session.add(link)
        session.flush()
        record(
            session,
            actor=Actor(name=member.email, source=Source.SLACK, member_id=member.id, role=member.role),
            entity="member",
            entity_id=member.id,
            action="member.login_link_sent",
            launch_id=None,
            after={"login_link": link.id, "expires_at": link.expires_at.isoformat()},
        )
    return secret


def redeem_login_link(*, session: Session, secret: str, now: datetime) -> Principal:
    """Use a link up and sign its member in; Unauthenticated, in plain words, when it cannot be."""
    with transaction(session):
        link = session.exec(
            select(LoginLink).where(LoginLink.token_hash == _digest(secret.strip())).with_for_update()
        ).first()
        if link is None:
            raise Unauthenticated(f"this sign-in link is not one launchdeck sent; {ASK_AGAIN}")
        if link.used_at is not None:
            raise Unauthenticated(f"this sign-in link was already used (each link works once); {ASK_AGAIN}")
        if as_utc(link.expires_at) <= now:
            minutes = int(LINK_LIFETIME.total_seconds() // 60)
            raise Unauthenticated(f"this sign-in link expired (links work for {minutes} minutes); {ASK_AGAIN}")
        member = session.get(Member, link.member_id, populate_existing=True)
        if member is None:
            raise Unauthenticated("you are no longer in launchdeck's directory; ask product ops to add you again")
        link.used_at = now
        principal = member_principal(member)
        record(
            session,
            actor=principal.actor,
            entity="member",
            entity_id=member.id,
            action="member.signed_in_by_link",
            launch_id=None,
            after={"login_link": link.id},
        )
    return principal
