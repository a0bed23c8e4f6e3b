"""Checklist items: list a launch's items with filters, read one, and every change an owner or
product ops makes to one (check, uncheck, start, block, n/a, waive, assign, evidence, comment).

Routes stay thin: each calls one orchestrator service (which locks, compare-and-sets, audits and
queues the notice in one transaction) and answers the item as it is now. A member token may change
only its own team's items; the 403 names the owning team so the caller knows whom to ask. The rule
is checked on the service's locked read (`_TeamRule`), so a change costs no read of its own first.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlmodel import Session

from api.deps import (
    ITEM_EDITORS,
    READERS,
    WRITERS,
    AsyncSessionDep,
    Credentials,
    PrincipalDep,
    SessionDep,
    allow,
    credentials_for,
    run_work,
)
from api.problems import ERROR_RESPONSES
from api.routes.audit import audit_out
from api.routes.launches import IfMatch, expected_version
from api.schemas import (
    MAX_DB_INT,
    AssignIn,
    AuditOut,
    CheckIn,
    CommentIn,
    EvidenceIn,
    ItemOut,
    ItemReasonIn,
    Page,
    UncheckIn,
    VersionIn,
    WaiveIn,
)
from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import ItemStatus, Phase, Role
from orchestrator.core.errors import Forbidden
from orchestrator.core.models import ChecklistItem
from orchestrator.directory.seed import KEY_PATTERN, REGION_PATTERN
from orchestrator.directory.tokens import Principal
from orchestrator.items import service as item_services
from orchestrator.items.queries import ItemFilters, ItemOwner, ItemView, item_owner, item_view, list_items
from orchestrator.launches.queries import launch_id_for

router = APIRouter(responses=ERROR_RESPONSES, tags=["items"])
ItemId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="A checklist item id.")]


def item_out(view: ItemView) -> ItemOut:
    item = view.item
    assert item.id is not None
    return ItemOut(
        id=item.id,
        launch_id=item.launch_id,
        region=view.region,
        phase=item.phase,
        key=item.key,
        title=item.title,
        description=item.description,
        owner_team=view.owner_team,
        assignee_id=item.assignee_id,
        due_at=as_utc(item.due_at) if item.due_at is not None else None,
        blocking=item.blocking,
        evidence_required=item.evidence_required,
        depends_on=item.depends_on,
        status=item.status,
        evidence_url=item.evidence_url,
        blocked_reason=item.blocked_reason,
        checked_by=item.checked_by,
        checked_at=as_utc(item.checked_at) if item.checked_at is not None else None,
        overdue=view.overdue,
        version=item.version,
    )


def _forbidden_unless_own_team(principal: Principal, item_id: int, owner: ItemOwner) -> None:
    """A member token may change only its own team's items."""
    if principal.role == Role.MEMBER and owner.owner_team_id != principal.team_id:
        raise Forbidden(
            f"checklist item {item_id} ({owner.key}) is owned by team {owner.owner_team}; "
            "a member token may change only its own team's items"
        )


def _editable(session: SessionDep, principal: Principal, item_id: int) -> ItemOwner:
    """The item's owner and names, if this caller may change it (for a service that takes no
    ``authorize``)."""
    owner = item_owner(session=session, item_id=item_id)
    _forbidden_unless_own_team(principal, item_id, owner)
    return owner


class _TeamRule:
    """The team rule as a service's ``authorize``: the service calls it with the item's owner
    under its row lock, before it checks anything of the item (so a 404 still comes before the
    403, and the 403 before a stale version's 409); it keeps the names the answer shows."""

    def __init__(self, principal: Principal, item_id: int) -> None:
        self._principal = principal
        self._item_id = item_id
        self._owner: ItemOwner | None = None

    def __call__(self, owner: ItemOwner) -> None:
        _forbidden_unless_own_team(self._principal, self._item_id, owner)
        self._owner = owner

    @property
    def owner(self) -> ItemOwner:
        assert self._owner is not None, "the service returned without locking the item"
        return self._owner


def _answer(owner: ItemOwner, item: ChecklistItem) -> Response:
    """The changed item as the service left it (no re-read), with the names its locked read brought.

    Answered as JSON bytes, ready: an `ItemOut` is valid once built, and a route's return value
    would be validated again (for a plain `def` route, in one more thread-pool hop) before being
    serialised."""
    due = as_utc(item.due_at) if item.due_at is not None else None
    overdue = due is not None and due < utcnow() and not item.status.satisfies_gate
    out = item_out(ItemView(item=item, region=owner.region, owner_team=owner.owner_team, overdue=overdue))
    return Response(out.model_dump_json(), media_type="application/json")


@router.get("/launches/{slug}/items", response_model=Page[ItemOut], dependencies=[Depends(allow(READERS))])
def list_launch_items(
    slug: str,
    session: SessionDep,
    region: Annotated[str | None, Query(max_length=40, pattern=REGION_PATTERN, examples=["EU"])] = None,
    phase: Phase | None = None,
    team: Annotated[str | None, Query(max_length=40, pattern=KEY_PATTERN, description="A team key.")] = None,
    status_filter: Annotated[ItemStatus | None, Query(alias="status")] = None,
    overdue: Annotated[bool | None, Query(description="Past due and not done, waived or n/a.")] = None,
    blocking: bool | None = None,
    assignee_id: Annotated[int | None, Query(ge=1, le=MAX_DB_INT)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=MAX_DB_INT)] = 0,
) -> Page[ItemOut]:
    """A launch's checklist items by region, phase and due date; every filter narrows further."""
    filters = ItemFilters(
        region=region,
        phase=phase,
        team=team,
        status=status_filter,
        overdue=overdue,
        blocking=blocking,
        assignee_id=assignee_id,
    )
    views, total = list_items(
        session=session,
        launch_id=launch_id_for(session=session, slug=slug),
        filters=filters,
        limit=limit,
        offset=offset,
    )
    return Page(data=[item_out(view) for view in views], count=total, limit=limit, offset=offset)


@router.get("/items/{item_id}", response_model=ItemOut, dependencies=[Depends(allow(READERS))])
def read_item(item_id: ItemId, session: SessionDep) -> ItemOut:
    """One checklist item, with its version (send it back as If-Match to change it safely)."""
    return item_out(item_view(session=session, item_id=item_id))


@router.post("/items/{item_id}/check", response_model=ItemOut)
async def check(
    item_id: ItemId,
    body: CheckIn,
    session: AsyncSessionDep,
    credentials: Annotated[Credentials, Depends(credentials_for(ITEM_EDITORS))],
    if_match: IfMatch = None,
) -> Response:
    """Mark the item done. Items that need evidence refuse (409) without a link, and an item
    waits for those it depends on; the check-off that completes a gate passes it."""
    return await run_work(
        session,
        lambda sync: _check_off(sync, item_id=item_id, body=body, credentials=credentials, if_match=if_match),
    )


def _check_off(
    session: Session, *, item_id: int, body: CheckIn, credentials: Credentials, if_match: str | None
) -> Response:
    """The check-off's one unit of work, on the event loop (`run_work`): the token,
    then the service, on one session. It is served there, not in the thread pool like the other
    routes, because it is the request people make all day and costs about half as much this way."""
    principal = credentials.principal(session)
    rule = _TeamRule(principal, item_id)
    item = item_services.check_item(
        session=session,
        item_id=item_id,
        actor=principal.actor,
        evidence_url=body.evidence_url,
        expected_version=expected_version(if_match, body.version),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post("/items/{item_id}/uncheck", response_model=ItemOut, dependencies=[Depends(allow(ITEM_EDITORS))])
def uncheck(
    item_id: ItemId, body: UncheckIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> Response:
    """Reopen a done, waived or n/a item (its waivers are revoked). A gate it already passed
    stays passed; the reopening is raised as an alert instead."""
    rule = _TeamRule(principal, item_id)
    item = item_services.reopen_item(
        session=session,
        item_id=item_id,
        actor=principal.actor,
        reason=body.reason,
        expected_version=expected_version(if_match, body.version),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post("/items/{item_id}/start", response_model=ItemOut, dependencies=[Depends(allow(ITEM_EDITORS))])
def start(
    item_id: ItemId,
    session: SessionDep,
    principal: PrincipalDep,
    body: VersionIn | None = None,
    if_match: IfMatch = None,
) -> Response:
    """Mark the item in progress (the body is optional: only a version)."""
    rule = _TeamRule(principal, item_id)
    item = item_services.start_item(
        session=session,
        item_id=item_id,
        actor=principal.actor,
        expected_version=expected_version(if_match, body.version if body else None),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post("/items/{item_id}/block", response_model=ItemOut, dependencies=[Depends(allow(ITEM_EDITORS))])
def block(
    item_id: ItemId, body: ItemReasonIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> Response:
    """Mark the item blocked and say by what; a blocked blocking item turns the launch red."""
    rule = _TeamRule(principal, item_id)
    item = item_services.block_item(
        session=session,
        item_id=item_id,
        actor=principal.actor,
        reason=body.reason,
        expected_version=expected_version(if_match, body.version),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post("/items/{item_id}/not-applicable", response_model=ItemOut, dependencies=[Depends(allow(ITEM_EDITORS))])
def not_applicable(
    item_id: ItemId, body: ItemReasonIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> Response:
    """Mark the item as not applying to this launch, with the reason."""
    rule = _TeamRule(principal, item_id)
    item = item_services.mark_not_applicable(
        session=session,
        item_id=item_id,
        actor=principal.actor,
        reason=body.reason,
        expected_version=expected_version(if_match, body.version),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post("/items/{item_id}/waive", response_model=ItemOut, dependencies=[Depends(allow(WRITERS))])
def waive(
    item_id: ItemId, body: WaiveIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> Response:
    """Accept the risk of not doing the item. Product ops and admins only: a team asks for a
    waiver (comment) but does not grant its own, since a waiver can open a gate."""
    rule = _TeamRule(principal, item_id)
    item = item_services.waive_item(
        session=session,
        item_id=item_id,
        actor=principal.actor,
        reason=body.reason,
        expires_at=body.expires_at,
        expected_version=expected_version(if_match, body.version),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post("/items/{item_id}/assign", response_model=ItemOut, dependencies=[Depends(allow(ITEM_EDITORS))])
def assign(
    item_id: ItemId, body: AssignIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> Response:
    """Give the item to a member (by id), or take it back with null."""
    rule = _TeamRule(principal, item_id)
    item = item_services.assign_item(
        session=session,
        item_id=item_id,
        assignee_id=body.assignee_id,
        actor=principal.actor,
        expected_version=expected_version(if_match, body.version),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post("/items/{item_id}/evidence", response_model=ItemOut, dependencies=[Depends(allow(ITEM_EDITORS))])
def evidence(
    item_id: ItemId, body: EvidenceIn, session: SessionDep, principal: PrincipalDep, if_match: IfMatch = None
) -> Response:
    """Attach or replace the evidence link without changing the status (same link again: no-op)."""
    rule = _TeamRule(principal, item_id)
    item = item_services.attach_evidence(
        session=session,
        item_id=item_id,
        url=body.url,
        actor=principal.actor,
        expected_version=expected_version(if_match, body.version),
        authorize=rule,
    )
    return _answer(rule.owner, item)


@router.post(
    "/items/{item_id}/comment",
    response_model=AuditOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(allow(ITEM_EDITORS))],
)
def comment(item_id: ItemId, body: CommentIn, session: SessionDep, principal: PrincipalDep) -> AuditOut:
    """Leave a note on the item; it is kept in the launch's audit trail (answered as that entry)
    and the owning team is notified. The item itself, and its version, do not change."""
    _editable(session, principal, item_id)
    event = item_services.comment_on_item(session=session, item_id=item_id, text=body.text, actor=principal.actor)
    return audit_out(event)
