"""Evaluating synthetic users against a rollout target the way an application does: through the
OpenFeature SDK with the target's own provider (flagd's in-process file resolver; Unleash's
provider on the client API with the backend token).

The users are the same every time: ``launchdeck-check-<region>-<n>`` with the region in the
context field the target's targeting reads, so two checks of the same state count the same users
and a region's share moves only when the target does.
"""

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from openfeature import api
from openfeature.contrib.provider.flagd import FlagdProvider
from openfeature.contrib.provider.flagd.config import ResolverType
from openfeature.contrib.provider.unleash import UnleashProvider
from openfeature.evaluation_context import EvaluationContext
from openfeature.provider import FeatureProvider
from openfeature.provider.no_op_provider import NoOpProvider
from UnleashClient.cache import FileCache

from flows.flagd_target import CONTEXT_FIELD as FLAGD_CONTEXT_FIELD
from flows.unleash_target import UnleashConfig, region_rollouts

APP_NAME = "launchdeck-exposure-check"
# Bound to a check's domain once the check is done, so the SDK shuts the check's provider down
# (one shared instance: rebinding to it initialises nothing).
_IDLE = NoOpProvider()


def synthetic_user(region: str, n: int) -> str:
    return f"launchdeck-check-{region}-{n}"


class FlagNotServed(LookupError):
    """The provider came up without the flag launchdeck just set: the check cannot say anything."""


def share_on(
    provider: FeatureProvider,
    *,
    flag: str,
    region: str,
    users: int,
    context_field: str,
    has_flag: Callable[[], bool] | None = None,
) -> float:
    """The percentage of ``users`` synthetic users of ``region`` for whom ``flag`` is on.

    The provider is bound to a domain of this thread's own (checks on one thread run one after
    the other), initialised and waited for, and released afterwards. ``has_flag`` asks a provider
    that would quietly answer "off" for a flag it failed to fetch; otherwise a flag the target
    does not have evaluates to off, as it does in an app."""
    domain = f"{APP_NAME}-{threading.get_ident()}"
    api.set_provider_and_wait(provider, domain=domain)
    try:
        if has_flag is not None and not has_flag():
            raise FlagNotServed(f"the provider does not show flag {flag!r}")
        client = api.get_client(domain=domain)
        on = sum(
            client.get_boolean_value(
                flag,
                False,
                EvaluationContext(targeting_key=synthetic_user(region, n), attributes={context_field: region}),
            )
            for n in range(users)
        )
    finally:
        api.set_provider(_IDLE, domain=domain)  # shuts the check's provider down
    return 100 * on / users if users else 0.0


def flagd_share(path: Path, *, flag: str, region: str, users: int) -> float:
    """What an app on ``openfeature-provider-flagd`` reading ``path`` serves ``region``."""
    provider = FlagdProvider(resolver_type=ResolverType.FILE, offline_flag_source_path=str(path), deadline_ms=100)
    return share_on(provider, flag=flag, region=region, users=users, context_field=FLAGD_CONTEXT_FIELD)


def unleash_share(config: UnleashConfig, *, flag: str, region: str, users: int, percent: int) -> float:
    """What an app on ``openfeature-provider-unleash`` (backend token) serves ``region``: a fresh
    fetch of the flags each check, its cache in a temporary directory removed afterwards.

    A production Unleash serves the flag list SDKs fetch from a cache refreshed about every
    second, so the check first waits (up to ``readback_seconds``) for that list to show the
    region at ``percent``; one that never does is evaluated anyway, since that is what apps get."""
    _wait_for_sdk_view(config, flag=flag, region=region, percent=percent)
    with tempfile.TemporaryDirectory(prefix="launchdeck-check-", ignore_cleanup_errors=True) as cache_dir:
        provider = UnleashProvider(
            url=config.url.rstrip("/") + "/api",
            app_name=APP_NAME,
            api_token=config.client_token,
            cache=FileCache(APP_NAME, directory=cache_dir),
        )
        try:
            return share_on(
                provider,
                flag=flag,
                region=region,
                users=users,
                context_field=config.context_field,
                has_flag=lambda: flag in provider.client.feature_definitions(),
            )
        finally:
            provider.shutdown()  # before its cache directory goes (shutting down twice is harmless)


def _wait_for_sdk_view(config: UnleashConfig, *, flag: str, region: str, percent: int) -> None:
    deadline = time.monotonic() + config.readback_seconds
    headers = {"Authorization": config.client_token, "Accept": "application/json"}
    with httpx.Client(timeout=config.timeout_seconds) as client:
        while time.monotonic() < deadline:
            response = client.get(config.url.rstrip("/") + "/api/client/features", headers=headers)
            features = response.json().get("features", []) if response.is_success else []
            feature = next((f for f in features if isinstance(f, dict) and f.get("name") == flag), {})
            if region_rollouts(feature, config.context_field).get(region, 0) == percent:
                return
            time.sleep(0.1)
