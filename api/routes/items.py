"""Checklist items: list a launch's items with filters, read one, and every change an owner or
product ops makes to one (check, uncheck, start, block, n/a, waive, assign, evidence, comment).

Routes stay thin: each calls one orchestrator service (which locks, applies the access policy,
compare-and-sets, audits and queues the notice in one transaction) and answers the item as that
service left it. Who may change which item is decided by ``orchestrator.core.policy`` on the
service's locked read, as for every other door; the 403 names the owning team so the caller knows
whom to ask. The changes that share a shape (uncheck, start, block, n/a, waive, assign, evidence)
are one table, ``_ITEM_ROUTES``; the check-off has its own route because it runs on the event loop.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from sqlmodel import Session

from api.deps import (
    AsyncSessionDep,
    Credentials,
    PrincipalDep,
    SessionDep,
    allow,
    credentials_for,
    run_work,
)
from api.problems import ERROR_RESPONSES
from api.routes.launches import IfMatch, expected_version
from api.schemas.common import MAX_DB_INT, Body, Page
from api.schemas.items import (
    AssignIn,
    CheckIn,
    CommentIn,
    EvidenceIn,
    ItemOut,
    ItemReasonIn,
    UncheckIn,
    VersionIn,
    WaiveIn,
)
from api.schemas.reporting import AuditOut
from orchestrator.core.actors import Actor
from orchestrator.core.clock import as_utc, utcnow
from orchestrator.core.enums import ItemStatus, Phase, Role
from orchestrator.core.policy import ITEM_EDITORS, LAUNCH_OPERATORS, READERS
from orchestrator.directory.seed import KEY_PATTERN, REGION_PATTERN
from orchestrator.items import details as item_details
from orchestrator.items import service as item_services
from orchestrator.items.locking import ItemChange
from orchestrator.items.queries import ItemFilters, ItemView, item_view, list_items
from orchestrator.launches.queries import launch_id_for

router = APIRouter(responses=ERROR_RESPONSES, tags=["items"])
ItemId = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="A checklist item id.")]


def _answer(change: ItemChange) -> Response:
    """The changed item as the service left it (no re-read), with the names its locked read brought.

    Answered as JSON bytes, ready: an `ItemOut` is valid once built, and a route's return value
    would be validated again (for a plain `def` route, in one more thread-pool hop) before being
    serialised."""
    item, owner = change.item, change.owner
    due = as_utc(item.due_at) if item.due_at is not None else None
    overdue = due is not None and due < utcnow() and not item.status.satisfies_gate
    view = ItemView(item=item, region=owner.region, owner_team=owner.owner_team, overdue=overdue)
    out = ItemOut.model_validate(view, from_attributes=True)
    return Response(out.model_dump_json(), media_type="application/json")


@router.get("/launches/{slug}/items", response_model=Page[ItemOut], dependencies=[Depends(allow(READERS))])
def list_launch_items(
    slug: str,
    session: SessionDep,
    region: Annotated[str | None, Query(max_length=40, pattern=REGION_PATTERN, examples=["EU"])] = None,
    phase: Phase | None = None,
    team: Annotated[str | None, Query(max_length=40, pattern=KEY_PATTERN, description="A team key.")] = None,
    status_filter: Annotated[ItemStatus | None, Query(alias="status")] = None,
    open_filter: Annotated[
        bool | None,
        Query(
            alias="open",
            description="true: items still to do (not done, waived or n/a: todo, in_progress or blocked); "
            "false: done, waived or n/a.",
        ),
    ] = None,
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
        open=open_filter,
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
    data = [ItemOut.model_validate(view, from_attributes=True) for view in views]
    return Page(data=data, count=total, limit=limit, offset=offset)


@router.get("/items/{item_id}", response_model=ItemOut, dependencies=[Depends(allow(READERS))])
def read_item(item_id: ItemId, session: SessionDep) -> ItemOut:
    """One checklist item, with its version (send it back as If-Match to change it safely)."""
    return ItemOut.model_validate(item_view(session=session, item_id=item_id), from_attributes=True)


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
    change = item_services.check_item(
        session=session,
        item_id=item_id,
        actor=principal.actor,
        evidence_url=body.evidence_url,
        expected_version=expected_version(if_match, body.version),
    )
    return _answer(change)


@dataclass(frozen=True)
class _ItemRoute:
    """One change to an item, as a route: its path, body, who may call it, and the service call."""

    path: str
    body: type[Body]
    roles: frozenset[Role]
    change: Callable[[Session, int, Actor, Any, int | None], ItemChange]
    doc: str
    body_optional: bool = False


_ITEM_ROUTES = (
    _ItemRoute(
        "uncheck",
        UncheckIn,
        ITEM_EDITORS,
        lambda session, item_id, actor, body, version: item_services.reopen_item(
            session=session, item_id=item_id, actor=actor, reason=body.reason, expected_version=version
        ),
        "Reopen a done, waived or n/a item (its waivers are revoked). A gate it already passed stays "
        "passed; the reopening is raised as an alert instead.",
    ),
    _ItemRoute(
        "start",
        VersionIn,
        ITEM_EDITORS,
        lambda session, item_id, actor, body, version: item_services.start_item(
            session=session, item_id=item_id, actor=actor, expected_version=version
        ),
        "Mark the item in progress (the body is optional: only a version).",
        body_optional=True,
    ),
    _ItemRoute(
        "block",
        ItemReasonIn,
        ITEM_EDITORS,
        lambda session, item_id, actor, body, version: item_services.block_item(
            session=session, item_id=item_id, actor=actor, reason=body.reason, expected_version=version
        ),
        "Mark the item blocked and say by what; a blocked blocking item turns the launch red.",
    ),
    _ItemRoute(
        "not-applicable",
        ItemReasonIn,
        ITEM_EDITORS,
        lambda session, item_id, actor, body, version: item_services.mark_not_applicable(
            session=session, item_id=item_id, actor=actor, reason=body.reason, expected_version=version
        ),
        "Mark the item as not applying to this launch, with the reason.",
    ),
    _ItemRoute(
        "waive",
        WaiveIn,
        LAUNCH_OPERATORS,
        lambda session, item_id, actor, body, version: item_services.waive_item(
            session=session,
            item_id=item_id,
            actor=actor,
            reason=body.reason,
            expires_at=body.expires_at,
            expected_version=version,
        ),
        "Accept the risk of not doing the item. Product ops and admins only: a team asks for a waiver "
        "(comment) but does not grant its own, since a waiver can open a gate.",
    ),
    _ItemRoute(
        "assign",
        AssignIn,
        ITEM_EDITORS,
        lambda session, item_id, actor, body, version: item_details.assign_item(
            session=session, item_id=item_id, assignee_id=body.assignee_id, actor=actor, expected_version=version
        ),
        "Give the item to a member (by id), or take it back with null.",
    ),
    _ItemRoute(
        "evidence",
        EvidenceIn,
        ITEM_EDITORS,
        lambda session, item_id, actor, body, version: item_details.attach_evidence(
            session=session, item_id=item_id, url=body.url, actor=actor, expected_version=version
        ),
        "Attach or replace the evidence link without changing the status (same link again: no-op).",
    ),
)


def _register(route: _ItemRoute) -> None:
    """Add ``route`` to the router as ``POST /items/{item_id}/<path>``: the body is validated as
    the route's model (documented in OpenAPI), the caller's role gated, then one service call,
    which applies the item's access rule under its lock."""

    def endpoint(
        item_id: ItemId, session: SessionDep, principal: PrincipalDep, body: Any, if_match: IfMatch = None
    ) -> Response:
        version = body.version if body is not None else None
        change = route.change(session, item_id, principal.actor, body, expected_version(if_match, version))
        return _answer(change)

    endpoint.__annotations__["body"] = route.body | None if route.body_optional else route.body
    if route.body_optional:
        endpoint.__defaults__ = (None, None)
    endpoint.__name__ = route.path.replace("-", "_")
    endpoint.__doc__ = route.doc
    router.post(f"/items/{{item_id}}/{route.path}", response_model=ItemOut, dependencies=[Depends(allow(route.roles))])(
        endpoint
    )


for _route in _ITEM_ROUTES:
    _register(_route)


@router.post(
    "/items/{item_id}/comment",
    response_model=AuditOut,
    status_code=status.HTTP_201_CREATED,
    dependencies=[Depends(allow(ITEM_EDITORS))],
)
def comment(item_id: ItemId, body: CommentIn, session: SessionDep, principal: PrincipalDep) -> AuditOut:
    """Leave a note on the item; it is kept in the launch's audit trail (answered as that entry)
    and the owning team is notified. The item itself, and its version, do not change."""
    event = item_details.comment_on_item(session=session, item_id=item_id, text=body.text, actor=principal.actor)
    return AuditOut.model_validate(event, from_attributes=True)
