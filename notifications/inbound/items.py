"""Checklist items from Slack: the Done button, the overflow's choices (each opens a modal) and
those modals' submissions, carried out by the same item services the API uses.

Who may change an item is the access policy's decision (``orchestrator.core.policy``): the
services apply it under their lock, and the overflow asks it before opening a modal so nobody
types a reason only to be refused. Double clicks arrive as two different payloads
(research/slack.md §2.7), so idempotency is the domain's: the services treat "already done" as a
no-op, and a click on a button rendered at an older version re-reads the item instead of failing.
"""

from sqlmodel import Session, col, select

from notifications.ids import ITEM_INPUTS, InputId, ItemChoice, ItemRef
from notifications.inbound.members import actor_for, member_for
from notifications.inbound.modals import item_modal, notice_view
from notifications.inbound.replies import PendingView, Reply
from notifications.inbound.requests import DoneClick, ItemSubmission, OverflowChoice
from notifications.mrkdwn import escape_mrkdwn as esc
from notifications.mrkdwn import mention, shorten
from orchestrator.core.clock import as_utc
from orchestrator.core.enums import SATISFYING_STATUSES, ItemStatus
from orchestrator.core.errors import IllegalTransition, NotFound
from orchestrator.core.models import ChecklistItem, Team
from orchestrator.core.policy import authorize_item_change, may_grant_waiver
from orchestrator.items import details as item_details
from orchestrator.items import service as item_services


def handle_done(session: Session, click: DoneClick) -> Reply:
    """Check the item off. A double click, or a button rendered before someone else closed the
    item, changes nothing and says who closed it."""
    actor = actor_for(member_for(session, click.user_id))
    try:
        change = item_services.check_item(session=session, item_id=click.ref.item_id, actor=actor)
    except IllegalTransition:
        item, _team = _item(session, click.ref.item_id)
        if item.status not in SATISFYING_STATUSES:
            raise
        return Reply(text=_closed_text(item), response_url=click.response_url)  # waived or n/a already
    if not change.changed:
        return Reply(text=_closed_text(change.item), response_url=click.response_url)
    return Reply()


def handle_overflow(session: Session, choice: OverflowChoice) -> Reply:
    """Open the modal the choice asks for, if the member may change the item at all (the service
    that the modal's submission calls decides again, under its lock)."""
    actor = actor_for(member_for(session, choice.user_id))
    item, team = _item(session, choice.ref.item_id)
    authorize_item_change(actor, item=f"'{esc(item.title)}'", owner_team_id=item.owner_team_id, owner_team=team)
    if choice.ref.choice is not ItemChoice.EVIDENCE and item.status in SATISFYING_STATUSES:
        return Reply(text=_closed_text(item), response_url=choice.response_url)
    ref = ItemRef(item_id=item.id, version=item.version)
    modal = item_modal(choice.ref.choice, ref=ref, title=item.title, grants_waiver=may_grant_waiver(actor))
    return Reply(view=PendingView(trigger_id=choice.trigger_id, view=modal))


def handle_submission(session: Session, submission: ItemSubmission) -> Reply:
    """A waive / evidence / blocked modal's value, through the item services."""
    actor = actor_for(member_for(session, submission.user_id))
    value = submission.value.strip()
    item_id = submission.ref.item_id
    if submission.choice is ItemChoice.EVIDENCE:
        item_details.attach_evidence(session=session, item_id=item_id, url=value, actor=actor)
        return Reply()
    if submission.choice is ItemChoice.BLOCK:
        item_services.block_item(session=session, item_id=item_id, actor=actor, reason=value)
        return Reply()
    if may_grant_waiver(actor):
        item_services.waive_item(session=session, item_id=item_id, actor=actor, reason=value)
        return Reply()
    # A team cannot grant its own waiver (a waiver can open a gate): it asks product ops, on the record.
    item_details.comment_on_item(session=session, item_id=item_id, text=f"Waiver requested: {value}", actor=actor)
    title, _team = _item(session, item_id)
    asked = f"Product ops has been asked to waive *{esc(shorten(title.title, 200))}*."
    return Reply(notice=notice_view("Waiver requested", asked))


def submission_input(submission: ItemSubmission) -> InputId:
    """The modal input a refused submission's error is shown under (its only one)."""
    return ITEM_INPUTS[submission.choice]


def _item(session: Session, item_id: int) -> tuple[ChecklistItem, str]:
    """The item read fresh (never a cached copy), with its owner team's key: for what a reply or a
    modal shows. Changes go through the services, which read it again under their lock."""
    row = session.exec(
        select(ChecklistItem, Team.key)
        .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
        .where(ChecklistItem.id == item_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise NotFound("checklist item", item_id)
    return row


def _closed_text(item: ChecklistItem) -> str:
    who = f" by {mention(item.checked_by)}" if item.checked_by else ""
    when = f" on {as_utc(item.checked_at):%Y-%m-%d %H:%M} UTC" if item.checked_at else ""
    label = {ItemStatus.DONE: "done", ItemStatus.WAIVED: "waived", ItemStatus.NOT_APPLICABLE: "not applicable"}
    return f"'{esc(item.title)}' is already {label.get(item.status, item.status.value)}{who}{when}; nothing changed."
