"""Typed domain errors. Each carries enough to tell the user what to do instead.

Outer layers map them: the API to problem+json (404/409/422), Slack to an ephemeral reply, the CLI
to a red one-line message and a non-zero exit.
"""

from collections.abc import Iterable


class LaunchdeckError(Exception):
    """Base of every error launchdeck raises on purpose."""

    code: str = "launchdeck_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(LaunchdeckError):
    code = "not_found"

    def __init__(self, entity: str, key: object, *, hint: str | None = None) -> None:
        super().__init__(f"{entity} {key!r} does not exist" + (f"; {hint}" if hint else ""))
        self.entity = entity
        self.key = key


class AlreadyExists(LaunchdeckError):
    code = "already_exists"

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} already exists")
        self.entity = entity
        self.key = key


class InvalidInput(LaunchdeckError):
    """Input that is well-formed but breaks a domain rule (names the field)."""

    code = "invalid_input"

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class IllegalTransition(LaunchdeckError):
    """A state change that the state machine does not allow from the current state."""

    code = "illegal_transition"

    def __init__(self, entity: str, current: str, attempted: str, allowed: Iterable[str]) -> None:
        allowed_list = sorted(set(allowed))
        hint = ", ".join(allowed_list) if allowed_list else "none (this state is final)"
        super().__init__(f"cannot {attempted} {entity} while it is {current}; allowed from {current}: {hint}")
        self.entity = entity
        self.current = current
        self.attempted = attempted
        self.allowed = allowed_list


class AlreadyInState(IllegalTransition):
    """A halt, roll back or resume repeated: the region is already where it would take it.

    Every repeat is refused the same way (a 409 where a 200 would hide that nothing happened), so
    a second halt's reason is never silently dropped and a second resume reads like a second halt.
    Nothing of the repeat is recorded. Retries of one request stay harmless through the
    Idempotency-Key, which replays the first answer."""

    def __init__(self, entity: str, current: str, attempted: str, allowed: Iterable[str], *, standing: str) -> None:
        super().__init__(entity, current, attempted, allowed)
        hint = ", ".join(self.allowed) if self.allowed else "none"
        self.message = (
            f"{entity} is already {standing}: this {attempted} changed nothing and was not recorded; "
            f"allowed from {current}: {hint}"
        )
        self.args = (self.message,)


class StaleVersion(LaunchdeckError):
    """Someone else changed the row since the caller read it (compare-and-set lost)."""

    code = "stale_version"

    def __init__(self, entity: str, key: object, expected: int, actual: int) -> None:
        super().__init__(
            f"{entity} {key!r} changed since you read it (you had version {expected}, it is now {actual}); "
            "reload it and try again"
        )
        self.entity = entity
        self.key = key
        self.expected = expected
        self.actual = actual


class PreconditionFailed(LaunchdeckError):
    """The change is legal in general but a rule of this item blocks it (evidence, dependencies)."""

    code = "precondition_failed"


class ClaimLost(LaunchdeckError):
    """A processor's lease on a recorded Slack interaction ran out and another processor took it
    over: the change this one was about to commit is rolled back, so it is applied once, there."""

    code = "claim_lost"


class ConfigError(LaunchdeckError):
    """A configuration or seed file is wrong; the message lists every problem with its location."""

    code = "config_error"

    def __init__(self, source: str, problems: list[str]) -> None:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(f"{source} has {len(problems)} problem(s):\n{lines}")
        self.source = source
        self.problems = problems


class SchemaOutOfDate(LaunchdeckError):
    """The database schema is older than this code (or missing): run the upgrade command."""

    code = "schema_out_of_date"


class SchemaTooNew(LaunchdeckError):
    """The database was migrated by a newer launchdeck than this one."""

    code = "schema_too_new"


class Unauthenticated(LaunchdeckError):
    """No credentials, or credentials that do not name a live token."""

    code = "unauthenticated"


class Forbidden(LaunchdeckError):
    """The caller is known but its role (or team) may not do this."""

    code = "forbidden"
