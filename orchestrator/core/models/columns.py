"""Column helpers shared by the tables: timezone-aware timestamps, enums stored as their plain
string value, and JSON lists and objects."""

from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Dialect, String
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field

from orchestrator.core.clock import utcnow


def timestamp(*, nullable: bool = False, index: bool = False) -> Any:
    """A timezone-aware timestamp column."""
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable, index=index)


def created_now() -> Any:
    return Field(default_factory=utcnow, sa_type=DateTime(timezone=True), nullable=False)


class EnumText(TypeDecorator[StrEnum]):
    """A StrEnum stored as its plain string value and read back as the enum member."""

    impl = String(32)
    cache_ok = True

    def __init__(self, enum_type: type[StrEnum]) -> None:
        super().__init__()
        self.enum_type = enum_type
        # A dict lookup instead of calling the enum class on every row read: Enum.__call__ was a
        # sixth of the portfolio's time (thousands of phases and states per page).
        self._members: dict[str, StrEnum] = {member.value: member for member in enum_type}

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else self.enum_type(value).value

    def process_result_value(self, value: Any, dialect: Dialect) -> StrEnum | None:
        if value is None:
            return None
        member = self._members.get(value)
        return member if member is not None else self.enum_type(value)


def enum_field(enum_type: type[StrEnum], default: Any = None, *, index: bool = False, nullable: bool = False) -> Any:
    return Field(default=default, sa_type=EnumText(enum_type), nullable=nullable, index=index)


def text_limit(*columns: Any) -> int:
    """The most characters a text may have to fit every one of ``columns`` (the shortest of their
    VARCHAR lengths). Doors bound what they accept with it, read from the tables themselves, so an
    input limit cannot drift from its column: SQLite would store an over-long string that
    PostgreSQL refuses (a server error), and a door must refuse it first, naming the field."""
    return min(int(column.type.length) for column in columns)


def json_list() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


def json_dict(*, nullable: bool = False) -> Any:
    return Field(default_factory=dict, sa_column=Column(JSON, nullable=nullable))
