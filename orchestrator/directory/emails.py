"""Which of some emails name no member: what a form checks before it names approvers, so a typo
is refused beside its field instead of making a gate nobody can pass."""

from collections.abc import Iterable

from sqlmodel import Session, col, select

from orchestrator.core.models import Member


def unknown_emails(*, session: Session, emails: Iterable[str]) -> list[str]:
    """The emails (trimmed, each once, in the order given) that no member of the directory has."""
    wanted = list(dict.fromkeys(email.strip() for email in emails if email.strip()))
    if not wanted:
        return []
    known = set(session.exec(select(Member.email).where(col(Member.email).in_(wanted))))
    return [email for email in wanted if email not in known]
