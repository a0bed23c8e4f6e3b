"""The flagd target against the real OpenFeature SDK and flagd provider (in-process, file mode),
reading the file the target writes, the way an app using ``openfeature-provider-flagd`` would."""

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from openfeature import api
from openfeature.client import OpenFeatureClient
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.evaluation_context import EvaluationContext

from flows.flagd_target import SCHEMA, FlagdFileRejected, FlagdTarget
from orchestrator.core.enums import Phase
from orchestrator.rollouts.target import ExposureRequest, TargetUnavailable
from tests.support.flows import wait_for

USERS = 2000
FLAG = "new-checkout"


def change(region: str, percent: int, *, flag_key: str | None = FLAG, slug: str = "acme-checkout") -> ExposureRequest:
    return ExposureRequest(
        launch_id=7,
        launch_slug=slug,
        rollout_id=12,
        region=region,
        phase=Phase.GA,
        percent=percent,
        idempotency_key=f"exposure:12:ga:{percent}:v1",
        requested_at=datetime(2027, 3, 1, 9, 30, tzinfo=UTC),
        target="flagd",
        flag_key=flag_key,
    )


@pytest.fixture
def flag_file(tmp_path: Path) -> Path:
    return tmp_path / "flags" / "launchdeck.flagd.json"


@pytest.fixture
def app(flag_file: Path) -> Iterator[OpenFeatureClient]:
    """An app's OpenFeature client on the flagd provider watching the file (every 20 ms), once the
    provider has read the file. ``set_provider`` reads it on a thread of its own and notes the
    file's time after reading it: a test that wrote its first step meanwhile left the provider on
    the old flags with the new time, so it never reloaded (1 run in 12 on a busy machine)."""
    flag_file.parent.mkdir()
    FlagdTarget(flag_file).apply(change("EU", 0))  # the provider needs a file to start from
    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(flag_file), deadline_ms=20)
    api.set_provider_and_wait(provider, domain="flagd-target-test")
    try:
        yield api.get_client("flagd-target-test")
    finally:
        provider.shutdown()


def users_on(client: OpenFeatureClient, region: str) -> set[int]:
    return {
        n
        for n in range(USERS)
        if client.get_boolean_value(
            FLAG, False, EvaluationContext(targeting_key=f"user-{n}", attributes={"region": region})
        )
    }


def observed(client: OpenFeatureClient, expected: dict[str, int]) -> dict[str, set[int]]:
    """The users on per region once the provider has loaded the file showing ``expected``
    (polled with a deadline: the provider re-reads the file on its own thread)."""
    context = EvaluationContext(targeting_key="probe", attributes={"region": "EU"})
    wanted = {f"launchdeck.percent.{region}": percent for region, percent in expected.items()}

    def loaded() -> bool:
        metadata = client.get_boolean_details(FLAG, False, context).flag_metadata
        return all(metadata.get(key, 0) == value for key, value in wanted.items())

    wait_for(loaded, timeout=5, interval=0.01)
    return {region: users_on(client, region) for region in expected}


def test_an_app_on_the_flagd_provider_sees_each_step_of_a_two_region_ramp(flag_file, app):
    target = FlagdTarget(flag_file)
    steps = [("EU", 5), ("EU", 25), ("EU", 100), ("US", 5), ("US", 25), ("US", 25), ("EU", 0)]
    percents = {"EU": 0, "US": 0}
    earlier: dict[str, set[int]] = {"EU": set(), "US": set()}
    for region, percent in steps:
        target.apply(change(region, percent))
        percents[region] = percent
        seen = observed(app, percents)
        for name, users in seen.items():
            share = 100 * len(users) / USERS
            assert abs(share - percents[name]) <= 3, (region, percent, name, share)
            if percents[name] == 0:
                assert users == set(), name
            if percents[name] >= 25 and name == region:
                assert earlier[name] <= users  # sticky: who was in at 5% is still in at 25%
        earlier = seen
    # Users without a region, and regions never ramped, get "off".
    assert not app.get_boolean_value(FLAG, True, EvaluationContext(targeting_key="user-1", attributes={}))
    assert not app.get_boolean_value(
        FLAG, True, EvaluationContext(targeting_key="user-1", attributes={"region": "APAC"})
    )

    document = json.loads(flag_file.read_text())
    assert document["$schema"] == SCHEMA
    flag = document["flags"][FLAG]
    assert (flag["state"], flag["defaultVariant"], flag["variants"]) == ("ENABLED", "off", {"on": True, "off": False})
    assert flag["targeting"]["if"][:2] == [
        {"==": [{"var": "region"}, "EU"]},
        {"fractional": [{"cat": [{"var": "$flagd.flagKey"}, {"var": "targetingKey"}]}, ["on", 0], ["off", 100]]},
    ]
    assert flag["targeting"]["if"][-1] == "off"
    # A retry of the same change writes the same bytes.
    before = flag_file.read_bytes()
    target.apply(change("EU", 0))
    assert flag_file.read_bytes() == before
    assert sorted(path.name for path in flag_file.parent.iterdir()) == [flag_file.name, flag_file.name + ".lock"]


def test_concurrent_steps_of_two_regions_and_two_launches_lose_nothing(flag_file):
    flag_file.parent.mkdir()
    flag_file.write_text(
        json.dumps({"flags": {"their-own": {"state": "ENABLED", "variants": {"a": 1}, "defaultVariant": "a"}}})
    )
    start = threading.Barrier(4)

    def ramp(region: str, flag: str) -> None:
        target = FlagdTarget(flag_file)  # each its own file handles, as two workers would have
        start.wait()
        for percent in range(1, 26):
            target.apply(change(region, percent, flag_key=flag))

    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = [pool.submit(ramp, region, flag) for region in ("EU", "US") for flag in ("launch-a", "launch-b")]
        for job in jobs:
            job.result(timeout=30)

    flags = json.loads(flag_file.read_text())["flags"]
    assert set(flags) == {"their-own", "launch-a", "launch-b"}  # what others wrote stays
    for flag in ("launch-a", "launch-b"):
        metadata = flags[flag]["metadata"]
        assert (metadata["launchdeck.percent.EU"], metadata["launchdeck.percent.US"]) == (25, 25)


def test_files_launchdeck_must_not_overwrite_are_refused_and_an_unwritable_place_is_retried(flag_file, tmp_path):
    flag_file.parent.mkdir()
    flag_file.write_text('{"flags": {"new-checkout": {"state": "ENABLED"')
    with pytest.raises(FlagdFileRejected, match=r"not valid JSON \(line 1"):
        FlagdTarget(flag_file).apply(change("EU", 5))
    flag_file.write_text(json.dumps({"flags": {FLAG: {"state": "ENABLED", "variants": {"on": True}}}}))
    with pytest.raises(FlagdFileRejected, match="was not written by launchdeck"):
        FlagdTarget(flag_file).apply(change("EU", 5))
    assert json.loads(flag_file.read_text())["flags"][FLAG] == {"state": "ENABLED", "variants": {"on": True}}

    with pytest.raises(TargetUnavailable, match="LAUNCHDECK_FLAGD_FILE"):
        FlagdTarget(tmp_path / "missing-dir" / "flags.json").apply(change("EU", 5))
    # Without a flag key, the launch slug names the flag.
    other = tmp_path / "other.json"
    FlagdTarget(other).apply(change("EU", 5, flag_key=None))
    assert list(json.loads(other.read_text())["flags"]) == ["acme-checkout"]
