"""What every request and response body shares: bounds of ids and versions, times with an
offset, links, clean text, the strict request base, the page of a listing, and how an answer is
validated from a read view."""

import dataclasses
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

from pydantic import (
    AfterValidator,
    AliasGenerator,
    AliasPath,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from orchestrator.core.clock import PLAIN_DATE_MEANING, as_utc, plain_day
from orchestrator.core.errors import InvalidInput
from orchestrator.core.models import BetaFeedback, ChecklistItem, text_limit

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")


# ---- shared input rules -------------------------------------------------------------------------
# Numbers are JSON numbers: integer fields are strict, so "1" (a string) or true is refused rather
# than quietly read as 1; FastAPI validates the parsed body in Python mode, where lax ints would
# take both.
# Ids and versions are INTEGER columns: anything past 2^31-1 cannot exist, and binding it would
# overflow the driver (SQLite) instead of answering "not found".
MAX_DB_INT = 2_147_483_647
DbId = Annotated[int, Field(strict=True, ge=1, le=MAX_DB_INT)]
Version = Annotated[
    int | None, Field(strict=True, ge=1, le=MAX_DB_INT, description="The version you read; a newer one answers 409.")
]
EARLIEST_YEAR, LATEST_YEAR = 2000, 2999
# Query filters: PostgreSQL refuses NUL in text, so one would be a server error, not "no match".
NO_NUL = r"^[^\x00]+$"


def _utc(value: datetime) -> datetime:
    """Refuse naive times (a database would guess their zone) and ones no calendar here holds."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("needs a timezone offset, e.g. 2027-03-01T09:00:00+00:00")
    try:
        converted = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}") from None
    if not EARLIEST_YEAR <= converted.year <= LATEST_YEAR:
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return converted


_TIMESTAMP = TypeAdapter(datetime)
_DAY_OR_MOMENT = (
    "must be a plain date (YYYY-MM-DD: that day's start in the region's local time) or an ISO 8601 "
    "date-time with an offset, e.g. 2027-03-01T09:00:00+00:00"
)


def _day_or_moment(value: Any) -> date | datetime:
    """A date for a region as ISO 8601 text: a plain date stays a ``date``, which the region's
    service reads as the start of that day in the region's timezone (``clock.region_moment``, the
    meaning in every door); a timestamp needs its offset and is kept, as UTC. A bare number
    (1767225600) would be read as seconds since 1970, which nobody writing a launch date means,
    so it is refused with the forms to use."""
    if isinstance(value, date) and not isinstance(value, datetime):
        day: date | None = value
    elif isinstance(value, str):
        try:
            day = plain_day(value)
        except InvalidInput as exc:
            raise ValueError(exc.problem) from None
    elif isinstance(value, datetime):
        day = None
    else:
        raise ValueError(_DAY_OR_MOMENT)
    if day is not None:
        if not EARLIEST_YEAR <= day.year <= LATEST_YEAR:
            raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
        return day
    try:
        moment = _TIMESTAMP.validate_python(value)
    except ValidationError:
        raise ValueError(_DAY_OR_MOMENT) from None
    return _utc(moment)


# A date for a region (a phase date, a waiver's expiry, a No-Go's re-evaluation): a day or a moment.
RegionDate = Annotated[
    date | datetime,
    PlainValidator(_day_or_moment),
    WithJsonSchema(
        {
            "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}],
            "description": f"ISO 8601 with an offset; {PLAIN_DATE_MEANING}.",
            "examples": ["2027-03-01", "2027-03-01T09:00:00+00:00"],
        }
    ),
]


def _link(value: str) -> str:
    cleaned = value.strip()
    if not cleaned.startswith(("https://", "http://")) or len(cleaned) <= len("https://") or " " in cleaned:
        raise ValueError("must be an http(s) link, e.g. https://wiki.example.com/launch/review")
    return cleaned


# The pattern is documented for clients (and fuzzers) but checked by ``_link``, whose message says more.
Link = Annotated[
    str,
    Field(
        max_length=text_limit(ChecklistItem.evidence_url, BetaFeedback.link),
        json_schema_extra={"pattern": r"^https?://\S+$", "format": "uri"},
    ),
    AfterValidator(_link),
]


class CleanText(BaseModel):
    """Text fields of a request are never blank and never carry NUL bytes: PostgreSQL refuses
    NUL in text (a server error otherwise), and a blank reason says nothing to the ledger."""

    @field_validator("*", mode="after")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        if isinstance(value, str):
            if "\x00" in value:
                raise ValueError("must not contain NUL characters")
            if not value.strip():
                raise ValueError("must not be blank")
        return value


class Body(CleanText):
    """Base of every request body: unknown fields are refused, so a typo is a 422, not ignored."""

    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    data: list[T]
    count: int
    limit: int
    offset: int


# ---- answers read from views ----------------------------------------------------------------------
# A time read back from a table row, answered as aware UTC: SQLite drops the offset on the way in,
# and every time launchdeck writes is UTC.
StoredUtc = Annotated[datetime, AfterValidator(as_utc)]


def view_of(view: "type[DataclassInstance]", row: str) -> ConfigDict:
    """The config of an answer validated (``from_attributes``) from a read view, a dataclass that
    holds a table row as its field ``row`` beside the names the API shows instead of ids (an
    ``ItemView``'s ``item`` with its region code and team key): a field the view declares is read
    from the view, any other from its row. The answer also validates from its own dump (by name)."""
    beside = {field.name for field in dataclasses.fields(view)} - {row}
    return ConfigDict(
        alias_generator=AliasGenerator(validation_alias=lambda name: name if name in beside else AliasPath(row, name)),
        validate_by_name=True,
    )
