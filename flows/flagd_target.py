"""The flagd target: exposure changes written into an OpenFeature flagd flag definition file.

Any app reading the file with ``openfeature-provider-flagd`` (in-process/file mode) or a flagd
daemon watching it sees the ramp without launchdeck knowing about the app. One boolean flag per
launch (its flag key, else its slug); its ``targeting`` gives each region its own ``fractional``
split, bucketed on ``flagKey + targetingKey`` so a user in the 5% stays in at 25%::

    {"if": [{"==": [{"var": "region"}, "EU"]},
            {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "targetingKey"}]},
                            ["on", 25], ["off", 75]]},
            ...one pair per region...,
            "off"]}

Regions not yet ramped (and users without a ``region``) get ``off``. Each region's absolute
percentage is kept in the flag's ``metadata`` (``launchdeck.percent.<REGION>``), from which the
targeting is rebuilt, so applying the same change twice writes the same file.

Writes are read-modify-write under an exclusive ``flock`` on ``<file>.lock`` (two regions' steps
at once do not lose each other's) and atomic: a temporary file in the same directory, fsynced,
then ``os.replace``, so a reader sees the old file or the new one, never half of one.
"""

import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orchestrator.rollouts.target import ExposureRequest, TargetRejected, TargetUnavailable

SCHEMA = "https://flagd.dev/schema/v0/flags.json"
CONTEXT_FIELD = "region"
MANAGED_BY = "launchdeck"
PERCENT_PREFIX = "launchdeck.percent."


class FlagdFileRejected(TargetRejected):
    """The flag file holds something launchdeck must not overwrite; a person fixes it."""

    code = "flagd_file_rejected"


def region_targeting(percents: dict[str, int]) -> dict[str, Any]:
    """The flag's JSON Logic targeting: one fractional split per region (sorted), else ``off``."""
    branches: list[Any] = []
    for region in sorted(percents):
        percent = percents[region]
        branches.append({"==": [{"var": CONTEXT_FIELD}, region]})
        branches.append(
            {
                "fractional": [
                    {"cat": [{"var": "$flagd.flagKey"}, {"var": "targetingKey"}]},
                    ["on", percent],
                    ["off", 100 - percent],
                ]
            }
        )
    return {"if": [*branches, "off"]}


def flag_definition(*, launch: str, percents: dict[str, int]) -> dict[str, Any]:
    """A boolean flag whose exposure per region is ``percents``."""
    metadata: dict[str, Any] = {"managedBy": MANAGED_BY, "launch": launch}
    metadata.update({f"{PERCENT_PREFIX}{region}": percent for region, percent in sorted(percents.items())})
    return {
        "state": "ENABLED",
        "variants": {"on": True, "off": False},
        "defaultVariant": "off",
        "targeting": region_targeting(percents),
        "metadata": metadata,
    }


def region_percents(flag: dict[str, Any]) -> dict[str, int]:
    """The per-region percentages launchdeck recorded on ``flag``."""
    metadata = flag.get("metadata") or {}
    return {
        key.removeprefix(PERCENT_PREFIX): int(value)
        for key, value in metadata.items()
        if key.startswith(PERCENT_PREFIX)
    }


class FlagdTarget:
    """Writes each exposure change into a flagd flag definition file (``LAUNCHDECK_FLAGD_FILE``)."""

    name = "flagd"

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"FlagdTarget(path={str(self.path)!r})"

    def apply(self, request: ExposureRequest) -> None:
        """Set ``request.region`` of the launch's flag to ``request.percent`` (absolute)."""
        try:
            with self._locked():
                document = self._read()
                flags = document.setdefault("flags", {})
                existing = flags.get(request.flag)
                if existing is not None and (existing.get("metadata") or {}).get("managedBy") != MANAGED_BY:
                    raise FlagdFileRejected(
                        f"flag {request.flag!r} in {self.path} was not written by launchdeck; "
                        "rename one of them (the launch's flag key, or the flag in the file) and resume the region"
                    )
                percents = region_percents(existing or {})
                percents[request.region] = request.percent
                flags[request.flag] = flag_definition(launch=request.launch_slug, percents=percents)
                document["$schema"] = SCHEMA
                self._write(document)
        except OSError as exc:
            raise TargetUnavailable(
                f"cannot write flag file {self.path}: {exc.strerror or exc}; "
                "check LAUNCHDECK_FLAGD_FILE (its directory must exist and be writable)"
            ) from exc

    @contextmanager
    def _locked(self) -> Iterator[None]:
        lock_path = self.path.with_name(self.path.name + ".lock")
        with open(lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _read(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"$schema": SCHEMA, "flags": {}}
        try:
            document = json.loads(text) if text.strip() else {}
        except json.JSONDecodeError as exc:
            raise FlagdFileRejected(
                f"{self.path} is not valid JSON (line {exc.lineno}: {exc.msg}); "
                "fix or remove it, then resume the region"
            ) from None
        if not isinstance(document, dict) or not isinstance(document.get("flags", {}), dict):
            raise FlagdFileRejected(f'{self.path} is not a flagd flag file (an object with "flags"); fix or remove it')
        return document

    def _write(self, document: dict[str, Any]) -> None:
        data = json.dumps(document, indent=2, sort_keys=True).encode() + b"\n"
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o644)
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a crash
        finally:
            os.close(directory)
