"""What the domain core needs from the outside world, as Protocols the outer packages implement."""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from orchestrator.core.enums import Phase
from orchestrator.core.errors import LaunchdeckError

# The rollout targets a launch (or one of its regions) may name; the configured one is the default.
TargetName = Literal["recording", "webhook", "flagd", "unleash"]
TARGET_NAMES: tuple[str, ...] = ("recording", "webhook", "flagd", "unleash")
FLAG_KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"


def effective(region_value: str | None, launch_value: str | None, default: str | None) -> str | None:
    """A region's own choice, else its launch's, else the default."""
    return region_value or launch_value or default


@dataclass(frozen=True)
class ExposureRequest:
    """ "Set region R of launch L to P%", with a key that is the same every time this step is sent."""

    launch_id: int
    launch_slug: str
    rollout_id: int
    region: str
    phase: Phase
    percent: int
    idempotency_key: str
    requested_at: datetime
    # The launch's (or this region's) own choice: which target takes the change ("recording",
    # "webhook", "flagd", "unleash"; None: the configured default) and the flag it moves (None:
    # the launch slug).
    target: str | None = None
    flag_key: str | None = None

    @property
    def flag(self) -> str:
        """The feature flag this change moves: the launch's flag key, else its slug."""
        return self.flag_key or self.launch_slug


class RolloutTarget(Protocol):
    """Where exposure changes go: a feature-flag system, a webhook, or the built-in recorder.

    ``apply`` may be called more than once for the same request (a retry after a crash between the
    call and its bookkeeping); a target must treat a repeated ``idempotency_key`` as one change.
    Raise ``TargetUnavailable`` for failures worth retrying and ``TargetRejected`` when the target
    says the request itself is wrong (it is parked for a person); anything else is a bug.
    """

    name: str

    def apply(self, request: ExposureRequest) -> None: ...


@dataclass(frozen=True)
class Observation:
    """What ``users`` synthetic users of one region got from a target: the share (percent) for
    whom the flag was on, or None when the target cannot be evaluated (``note`` says why)."""

    target: str
    flag: str
    users: int
    observed: float | None
    note: str | None = None


class ExposureObserver(Protocol):
    """Evaluates synthetic users against the target a change went to, the way an app would
    (the OpenFeature SDK with the target's provider); implemented in ``flows.exposure_check``."""

    def observe(self, request: ExposureRequest) -> Observation: ...


class TargetUnavailable(Exception):
    """The rollout target could not take the change now (timeout, 5xx, refused connection)."""


class TargetRejected(LaunchdeckError):
    """The rollout target refused the change for good (e.g. HTTP 400); retrying cannot help."""

    code = "target_rejected"
