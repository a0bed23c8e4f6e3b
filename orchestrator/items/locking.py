"""The one locked read every item change starts with, and the access rule applied to it.

A change locks the item's rollout and the item in one statement, learns the owning team and the
region's code with them, and asks the access policy whether the actor may change the item, all
before anything of the item is checked or written: so a 404 comes before a 403, the 403 before a
stale version's 409, and the rule is decided on the row the change is about to write.
"""

from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import select as select_rows
from sqlmodel import Session, col

from orchestrator.core.actors import Actor
from orchestrator.core.enums import Phase, RolloutState
from orchestrator.core.errors import NotFound
from orchestrator.core.models import ChecklistItem, Region, RegionRollout, Team
from orchestrator.core.policy import authorize_item_change
from orchestrator.items.queries import ItemOwner

ENTITY = "checklist item"


class LockedRollout(NamedTuple):
    """What a change needs of the locked item's rollout to know whether a gate may have completed.
    Two columns, not the row: the whole rollout is read (under the lock already held) only by the
    rare change that may have completed a gate."""

    id: int
    state: RolloutState
    phase: Phase | None


class ItemChange(NamedTuple):
    """An item as a change left it, the names an answer shows (its owning team and region, read
    with the lock), and whether anything changed: False for a repeat (a double click, a retry)."""

    item: ChecklistItem
    owner: ItemOwner
    changed: bool


class LockedItem(NamedTuple):
    item: ChecklistItem
    rollout: LockedRollout
    owner: ItemOwner


def lock_item(session: Session, *, item_id: int, actor: Actor) -> LockedItem:
    """Lock the item's rollout first: every change in one region is serialised, so two check-offs
    can never each see the other's item open and leave a finished gate unpassed. Then the
    policy: the actor must be allowed to change this item.

    One statement: PostgreSQL takes the row locks of ``FOR NO KEY UPDATE OF regionrollout,
    checklistitem`` in that order (the rollout before the item, as every other service does).
    The owning team's key and the region's code ride along unlocked (they never change with the
    item)."""
    row = session.execute(_LOCK_ITEM_WITH_ROLLOUT, {"item_id": item_id}).first()
    if row is None:
        raise NotFound(ENTITY, item_id)
    item, state, phase, team, region = row
    owner = ItemOwner(key=item.key, owner_team_id=item.owner_team_id, owner_team=team, region=region)
    authorize_item_change(
        actor, item=f"checklist item {item_id} ('{item.title}')", owner_team_id=item.owner_team_id, owner_team=team
    )
    return LockedItem(item=item, rollout=LockedRollout(id=item.rollout_id, state=state, phase=phase), owner=owner)


_LOCK_ITEM_WITH_ROLLOUT = (
    select_rows(ChecklistItem, col(RegionRollout.state), col(RegionRollout.phase), col(Team.key), col(Region.code))
    .join(RegionRollout, col(RegionRollout.id) == col(ChecklistItem.rollout_id))
    .join(Region, col(Region.id) == col(RegionRollout.region_id))
    .join(Team, col(Team.id) == col(ChecklistItem.owner_team_id))
    .where(col(ChecklistItem.id) == bindparam("item_id"))
    .with_for_update(of=[RegionRollout, ChecklistItem], key_share=True)
    .execution_options(populate_existing=True)
)
