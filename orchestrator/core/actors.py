"""Who is making a change, and through which door; stamped on every audit event.

An actor that came through a door people use (the API, Slack, the web console) carries the role
and team of the authenticated principal, so the access policy (``orchestrator.core.policy``) can
decide under the service's own lock. Launchdeck's own processes (flows, the system, the CLI run on
the server by its operator) carry no role: they are trusted, and the policy says so explicitly.
"""

from dataclasses import dataclass

from orchestrator.core.enums import Role, Source


@dataclass(frozen=True, slots=True)
class Actor:
    name: str
    source: Source
    member_id: int | None = None
    role: Role | None = None
    team_id: int | None = None

    @classmethod
    def system(cls, name: str = "launchdeck") -> "Actor":
        return cls(name=name, source=Source.SYSTEM)
