"""Who may do what: every access rule of launchdeck, in one place.

Every door (the HTTP API, Slack, the CLI, the web console) authenticates a person, turns them
into an ``Actor`` carrying their role and team, and passes it to the service; the service asks
this module under its own lock, so a rule is decided once, on the row it is about to change, and
means the same whichever door a change came through. Refusals are ``Forbidden`` with a sentence
that says who may do it instead.

Roles (see README "HTTP API"):

- ``admin``: everything, including the directory;
- ``prodops``: run launches (create, kick off, reschedule, halt, resume, roll back), change any
  item, grant waivers, vote, run beta cohorts;
- ``member``: read; change the items its own team owns; log beta feedback;
- ``approver``: read; vote (as themselves, on the gates that name them);
- ``leadership``: read.

Launchdeck's own processes (flows, the system, the server operator's CLI) act with no role and
are trusted; an actor from a people's door without a role is refused, so a door that forgot to
authenticate can never act as launchdeck itself.
"""

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Role, Source
from orchestrator.core.errors import Forbidden, InvalidInput

READERS = frozenset(Role)
LAUNCH_OPERATORS = frozenset({Role.ADMIN, Role.PRODOPS})
ITEM_EDITORS = frozenset({Role.ADMIN, Role.PRODOPS, Role.MEMBER})
VOTERS = frozenset({Role.ADMIN, Role.PRODOPS, Role.APPROVER})
FEEDBACK_AUTHORS = frozenset({Role.ADMIN, Role.PRODOPS, Role.MEMBER})
ADMINS = frozenset({Role.ADMIN})

_TRUSTED_SOURCES = frozenset({Source.FLOW, Source.SYSTEM, Source.CLI})

# The roles above in words, for the person signed in (the dashboard shows theirs on every page).
ROLE_ABILITIES = {
    Role.ADMIN: "everything, including the directory",
    Role.PRODOPS: "run launches (create, kick off, reschedule, halt, resume, roll back), change any item, "
    "grant waivers, vote, run beta cohorts",
    Role.MEMBER: "read; change the items your team owns; log beta feedback",
    Role.APPROVER: "read; vote on the gates that name you",
    Role.LEADERSHIP: "read",
}


def is_trusted(actor: Actor) -> bool:
    """Launchdeck itself, or the operator at the server's terminal: no role to check."""
    return actor.role is None and actor.source in _TRUSTED_SOURCES


def _role_of(actor: Actor) -> Role:
    if actor.role is None:
        raise Forbidden(f"{actor.name} came through {actor.source.value} without a role; sign in first")
    return actor.role


def allowed_roles_text(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(role.value for role in roles))


def require_role(actor: Actor, roles: frozenset[Role], *, doing: str = "do this") -> None:
    """The role gate of a whole operation (a route, a Slack command, a page's form, a service)."""
    if is_trusted(actor):
        return
    role = _role_of(actor)
    if role not in roles:
        raise Forbidden(f"role {role.value} may not {doing}; allowed roles: {allowed_roles_text(roles)}")


def authorize_feedback(actor: Actor) -> None:
    """Beta feedback is logged by the people who hear it: team members, product ops, admins."""
    require_role(actor, FEEDBACK_AUTHORS, doing="log beta feedback")


def authorize_enrollment(actor: Actor, *, invite: bool) -> None:
    """Members nominate an account or relay its own opt-in; inviting one is product ops' call."""
    require_role(actor, ITEM_EDITORS, doing="enroll beta accounts")
    if invite and not (is_trusted(actor) or actor.role in LAUNCH_OPERATORS):
        raise Forbidden(
            "only prodops invite; nominate instead (via: nomination); "
            f"allowed roles: {allowed_roles_text(LAUNCH_OPERATORS)}"
        )


def may_change_item(actor: Actor, *, owner_team_id: int) -> bool:
    """An item's own team (members of it) and product ops or admins may change it."""
    if is_trusted(actor):
        return True
    role = actor.role
    if role in LAUNCH_OPERATORS:
        return True
    return role is Role.MEMBER and actor.team_id is not None and actor.team_id == owner_team_id


def authorize_item_change(actor: Actor, *, item: str, owner_team_id: int, owner_team: str) -> None:
    """Refuse a change to an item of another team (``item`` names it in the refusal)."""
    if not may_change_item(actor, owner_team_id=owner_team_id):
        raise Forbidden(
            f"{item} belongs to the {owner_team} team; only its members, product ops and admins may change it"
        )


def may_grant_waiver(actor: Actor) -> bool:
    """A waiver can open a gate, so a team asks for one but only product ops or admins grant it."""
    return is_trusted(actor) or actor.role in LAUNCH_OPERATORS


def authorize_waiver(actor: Actor) -> None:
    if not may_grant_waiver(actor):
        raise Forbidden(
            "only product ops and admins grant waivers (a waiver can open a gate); ask them with a comment on the item"
        )


def voter_for(
    actor: Actor, *, own_email: str | None, on_behalf_of: str | None, reason: str | None, allow_on_behalf: bool
) -> str:
    """Whose vote this is. A person votes as themselves, whatever door they came through; a vote
    given elsewhere (a go/no-go meeting) is recorded by product ops *on behalf of* its approver,
    with a reason, and that can be switched off. A name in a request never makes a voter."""
    require_role(actor, VOTERS, doing="vote")
    if on_behalf_of is None or on_behalf_of == own_email:
        if own_email is None:
            raise Forbidden(
                f"{actor.name} is not a member of the directory, and a vote is cast by a person: "
                "vote with a member's sign-in, or record the vote on behalf of its approver with a reason"
            )
        return own_email
    if not allow_on_behalf:
        raise Forbidden(
            "recording votes on behalf of others is switched off (LAUNCHDECK_VOTES_ON_BEHALF); "
            f"{on_behalf_of} votes in person"
        )
    if not (is_trusted(actor) or actor.role in LAUNCH_OPERATORS):
        raise Forbidden(
            f"a vote counts for the person who casts it; only {allowed_roles_text(LAUNCH_OPERATORS)} "
            f"record a vote on behalf of {on_behalf_of}, with a reason"
        )
    if not (reason or "").strip():
        raise InvalidInput("on_behalf_reason", "say where the vote was given (e.g. 'go/no-go meeting of 2027-03-01')")
    return on_behalf_of


def authorize_approver(*, voter: str, approvers: list[str], launch_owner: str, forbid_self_approval: bool) -> None:
    """Only the gate's named approvers count, and (by default) never the launch's own owner: an
    approval is somebody else's judgement of the launch."""
    if not approvers:
        raise Forbidden("this gate names no approvers yet; product ops add them before anyone can vote")
    if voter not in approvers:
        raise Forbidden(f"only this gate's approvers vote ({', '.join(approvers)}); {voter} is not one of them")
    if forbid_self_approval and voter == launch_owner:
        raise Forbidden(
            f"{voter} owns this launch and may not approve it (LAUNCHDECK_FORBID_SELF_APPROVAL); "
            "ask product ops to name another approver"
        )
