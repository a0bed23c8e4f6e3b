"""Who is making a change, and through which door; stamped on every audit event."""

from dataclasses import dataclass

from orchestrator.core.enums import Source


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    source: Source
    member_id: int | None = None

    @classmethod
    def system(cls, name: str = "launchdeck") -> "Actor":
        return cls(name=name, source=Source.SYSTEM)
