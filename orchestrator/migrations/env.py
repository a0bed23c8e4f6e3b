"""Alembic environment: the connection comes from ``orchestrator.migrate`` (never from an ini)."""

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel

from orchestrator.core.models import EnumText

target_metadata = SQLModel.metadata
connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `launchdeck db upgrade`, which supplies the connection")


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Render launchdeck's EnumText as the plain String it is stored as."""
    if type_ == "type" and isinstance(obj, EnumText):
        return "sa.String(length=32)"
    return False


context.configure(
    connection=connection,
    render_item=render_item,
    target_metadata=target_metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
