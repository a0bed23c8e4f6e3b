"""Unleash as the rollout target: each exposure change moves a real feature flag.

One flag per launch (``LAUNCHDECK_UNLEASH_FLAG_PREFIX`` + slug, e.g. ``launchdeck.acme-assistant``)
in ``LAUNCHDECK_UNLEASH_PROJECT``, and in ``LAUNCHDECK_UNLEASH_ENVIRONMENT`` one flexible-rollout
strategy per region, constrained on the context field ``LAUNCHDECK_UNLEASH_CONTEXT_FIELD`` (created
when missing) ``IN [<region code>]``. Stickiness is ``default`` and the group id is the flag name,
so a user hashed into the first 5% is still in at 25%: Unleash buckets a user by
``groupId:userId``, the same every step.

Each change PUTs the region's strategy with the *absolute* percentage and switches the flag on in
the environment (the strategy first: a flag switched on with no strategy would be on for everyone).
A retry, or a second worker delivering the same change, therefore sets the same value again and
changes nothing. The change then is read back through the client API (what SDKs see) with the
backend token, and what Unleash answered is stored beside the change (``exposurechange.answer``).
A rollback is an ordinary change to 0%: the strategy stays, so the region is visibly "at 0".

Failures: a network error, 429 or 5xx is ``TargetUnavailable`` (queued and retried with backoff);
a refused token, an unknown project or environment is ``UnleashRejected`` (parked with the setting
to fix and how to send it again). ``check`` asks the same questions once at worker start-up and
raises ``ConfigError`` naming the setting, so a wrong token stops the worker at once.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from orchestrator.core.errors import ConfigError
from orchestrator.core.settings import Settings
from orchestrator.rollouts.recording import record_exposure
from orchestrator.rollouts.target import ExposureRequest, TargetRejected, TargetUnavailable

log = logging.getLogger("launchdeck.unleash")

URL_SETTING = "LAUNCHDECK_UNLEASH_URL"
ADMIN_TOKEN_SETTING = "LAUNCHDECK_UNLEASH_ADMIN_TOKEN"
CLIENT_TOKEN_SETTING = "LAUNCHDECK_UNLEASH_CLIENT_TOKEN"
PROJECT_SETTING = "LAUNCHDECK_UNLEASH_PROJECT"
ENVIRONMENT_SETTING = "LAUNCHDECK_UNLEASH_ENVIRONMENT"
RETRY_ADVICE = "then send it again with `launchdeck outbox retry --all-dead`"
EXCERPT_CHARS = 200
_TRANSIENT = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class UnleashRejected(TargetRejected):
    """Unleash refused the change for a reason a person must fix (token, project, environment)."""

    code = "unleash_rejected"


@dataclass(frozen=True)
class UnleashConfig:
    """Where and as whom to talk to Unleash (from the ``LAUNCHDECK_UNLEASH_*`` settings)."""

    url: str
    admin_token: str
    client_token: str
    project: str = "default"
    environment: str = "production"
    context_field: str = "region"
    flag_prefix: str = "launchdeck."
    timeout_seconds: float = 5.0
    readback_seconds: float = 5.0

    def __repr__(self) -> str:  # never show the tokens
        return f"UnleashConfig(url={self.url!r}, project={self.project!r}, environment={self.environment!r})"


def _excerpt(response: httpx.Response) -> str:
    text = " ".join(response.text.split())
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


def _json(response: httpx.Response, kind: type[Any]) -> Any:
    """The response's JSON of the expected shape; anything else means we are not talking to the
    Unleash API (a login page, a proxy): refused, since retrying the same URL cannot help."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, kind):
        raise UnleashRejected(
            f"{response.request.method} {response.request.url.path} answered HTTP {response.status_code} but not "
            f"with Unleash's JSON ({_excerpt(response)!r}): check that {URL_SETTING} is Unleash's base URL, "
            f"{RETRY_ADVICE}"
        )
    return body


def region_rollouts(feature: dict[str, Any], context_field: str) -> dict[str, int]:
    """Region code -> rollout percent of every single-region flexible-rollout strategy in a flag
    as the client API (or the admin API's strategy list) shows it."""
    rollouts: dict[str, int] = {}
    for strategy in feature.get("strategies", []):
        region = _region_of(strategy, context_field)
        if region is not None and strategy.get("name") == "flexibleRollout":
            rollouts[region] = int(strategy.get("parameters", {}).get("rollout", 0))
    return rollouts


def _region_of(strategy: dict[str, Any], context_field: str) -> str | None:
    constraints = strategy.get("constraints") or []
    if len(constraints) != 1:
        return None
    (constraint,) = constraints
    values = constraint.get("values") or []
    if constraint.get("contextName") != context_field or constraint.get("operator") != "IN" or len(values) != 1:
        return None
    return str(values[0])


class UnleashTarget:
    """Moves one Unleash flag per launch, one region strategy per region; see the module doc."""

    name = "unleash"

    def __init__(
        self,
        config: UnleashConfig,
        *,
        engine: Engine,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self._engine = engine
        self._sleep = sleep
        self._owns_client = client is None
        self._client = client if client is not None else httpx.Client(follow_redirects=False)
        self._context_field_ready = False

    def __repr__(self) -> str:
        return f"UnleashTarget({self.config!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    def flag_name(self, launch_slug: str) -> str:
        return f"{self.config.flag_prefix}{launch_slug}"

    # ---- start-up check ------------------------------------------------------------------------

    def check(self) -> None:
        """Ask Unleash whether the settings work; raise ``ConfigError`` naming each wrong one."""
        problems = self._project_problems() or self._client_token_problems()
        if problems:
            raise ConfigError("Unleash settings", problems)

    def _project_problems(self) -> list[str]:
        overview = self._probe(f"/api/admin/projects/{self._project}/overview", self.config.admin_token)
        if isinstance(overview, str):
            return [overview]
        status = overview.status_code
        if status in (401, 403):
            return [f"{ADMIN_TOKEN_SETTING}: Unleash refused it (HTTP {status}); use an admin token"]
        if status == 404:
            return [f"{PROJECT_SETTING}: Unleash has no project {self.config.project!r}"]
        if not overview.is_success:
            return [f"{URL_SETTING}: Unleash answered HTTP {status}: {_excerpt(overview)}"]
        try:
            environments = overview.json().get("environments", [])
        except (ValueError, AttributeError):
            return [f"{URL_SETTING}: {self.config.url} answered, but not as Unleash does (is it the base URL?)"]
        names = [str(env.get("environment", env.get("name"))) for env in environments]
        if self.config.environment not in names:
            return [
                f"{ENVIRONMENT_SETTING}: project {self.config.project!r} has no environment "
                f"{self.config.environment!r} (it has: {', '.join(names) or 'none'})"
            ]
        return []

    def _client_token_problems(self) -> list[str]:
        client = self._probe("/api/client/features", self.config.client_token)
        if isinstance(client, str):
            return [client]
        if client.status_code in (401, 403):
            return [
                f"{CLIENT_TOKEN_SETTING}: Unleash refused it (HTTP {client.status_code}); use a backend token "
                f"of project {self.config.project!r} and environment {self.config.environment!r}"
            ]
        return []

    def _probe(self, path: str, token: str) -> httpx.Response | str:
        try:
            return self._client.get(self._url(path), headers=self._headers(token), timeout=self.config.timeout_seconds)
        except httpx.HTTPError as exc:
            return f"{URL_SETTING}: no Unleash answers at {self.config.url} ({type(exc).__name__}: {exc})"

    # ---- applying a change ---------------------------------------------------------------------

    def apply(self, request: ExposureRequest) -> None:
        """Set the region's strategy to the absolute percent, switch the flag on, read it back,
        record the answer. Safe to repeat: every call writes the same end state. The flag is the
        launch's own flag key when it names one, else the prefix and the slug."""
        flag = request.flag_key or self.flag_name(request.launch_slug)
        self._ensure_context_field()
        self._ensure_flag(flag, request.launch_slug)
        strategy_id = self._put_strategy(flag, request.region, request.percent)
        self._admin("POST", f"{self._env_path(flag)}/on")
        answer = self._read_back(flag, request.region, request.percent)
        answer["strategy_id"] = strategy_id
        if request.percent == 0:
            answer["rolled_back"] = True
            log.warning("Unleash flag %s: region %s rolled back to 0%%", flag, request.region)
        else:
            log.info("Unleash flag %s: region %s at %s%%", flag, request.region, request.percent)
        self._record(request, answer)

    def _ensure_context_field(self) -> None:
        if self._context_field_ready:
            return
        field = self.config.context_field
        found = self._admin("GET", f"/api/admin/context/{quote(field, safe='')}", allow=(404,))
        if found.status_code == 404:
            body = {"name": field, "description": "launchdeck region code (set by launchdeck)", "stickiness": False}
            self._admin("POST", "/api/admin/context", json=body, allow=(409,))  # 409: created meanwhile
        self._context_field_ready = True

    def _ensure_flag(self, flag: str, slug: str) -> None:
        path = f"/api/admin/projects/{self._project}/features/{quote(flag, safe='')}"
        if self._admin("GET", path, allow=(404,)).status_code != 404:
            return
        body = {"name": flag, "type": "release", "description": f"launchdeck launch {slug}: exposure per region"}
        created = self._admin("POST", f"/api/admin/projects/{self._project}/features", json=body, allow=(409,))
        if created.status_code == 409 and self._admin("GET", path, allow=(404,)).status_code == 404:
            raise UnleashRejected(
                f"Unleash already has a flag {flag!r} outside project {self.config.project!r} (or archived); "
                f"revive or rename it, or change LAUNCHDECK_UNLEASH_FLAG_PREFIX, {RETRY_ADVICE}"
            )

    def _put_strategy(self, flag: str, region: str, percent: int) -> str:
        path = f"{self._env_path(flag)}/strategies"
        existing = _json(self._admin("GET", path), list)
        body = {
            "name": "flexibleRollout",
            "title": f"launchdeck {self.config.context_field}={region}",
            "constraints": [{"contextName": self.config.context_field, "operator": "IN", "values": [region]}],
            "parameters": {"rollout": str(percent), "stickiness": "default", "groupId": flag},
        }
        ids = [str(s["id"]) for s in existing if _region_of(s, self.config.context_field) == region]
        if not ids:
            return str(_json(self._admin("POST", path, json=body), dict).get("id"))
        for strategy_id in ids:  # more than one only if two workers raced to create it: keep them equal
            self._admin("PUT", f"{path}/{strategy_id}", json=body)
        return ids[0]

    def _read_back(self, flag: str, region: str, percent: int) -> dict[str, Any]:
        """What SDKs now get for ``flag``; waits up to ``readback_seconds`` for the change to show."""
        deadline = time.monotonic() + self.config.readback_seconds
        while True:
            response = self._call("GET", f"/api/client/features/{quote(flag, safe='')}", self.config.client_token)
            feature = _json(response, dict)
            rollouts = region_rollouts(feature, self.config.context_field)
            answer = {
                "flag": flag,
                "project": self.config.project,
                "environment": self.config.environment,
                "enabled": bool(feature.get("enabled")),
                "rollouts": rollouts,
            }
            if answer["enabled"] and rollouts.get(region) == percent:
                return answer
            if time.monotonic() > deadline:
                raise TargetUnavailable(
                    f"Unleash took {region} {percent}% for flag {flag!r} but its client API still shows "
                    f"enabled={answer['enabled']}, rollouts={rollouts} after {self.config.readback_seconds:g} s; "
                    "will set it again"
                )
            self._sleep(0.1)

    def _record(self, request: ExposureRequest, answer: dict[str, Any]) -> None:
        try:
            self._record_once(request, answer)
        except IntegrityError:
            # A concurrent delivery of the same change stored it first (the unique key refused
            # ours); looking again finds its row. Any other integrity problem fails again.
            self._record_once(request, answer)

    def _record_once(self, request: ExposureRequest, answer: dict[str, Any]) -> None:
        with Session(self._engine) as session:
            record_exposure(session=session, request=request, target=self.name, answer=answer)

    # ---- HTTP ----------------------------------------------------------------------------------

    @property
    def _project(self) -> str:
        return quote(self.config.project, safe="")

    def _env_path(self, flag: str) -> str:
        env = quote(self.config.environment, safe="")
        return f"/api/admin/projects/{self._project}/features/{quote(flag, safe='')}/environments/{env}"

    def _url(self, path: str) -> str:
        return self.config.url.rstrip("/") + path

    @staticmethod
    def _headers(token: str) -> dict[str, str]:
        return {"Authorization": token, "Accept": "application/json"}

    def _admin(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, allow: Iterable[int] = ()
    ) -> httpx.Response:
        return self._call(method, path, self.config.admin_token, json=json, allow=allow)

    def _call(
        self, method: str, path: str, token: str, *, json: dict[str, Any] | None = None, allow: Iterable[int] = ()
    ) -> httpx.Response:
        """One request; 2xx and ``allow``-ed statuses come back, the rest become typed errors."""
        try:
            response = self._client.request(
                method, self._url(path), json=json, headers=self._headers(token), timeout=self.config.timeout_seconds
            )
        except _TRANSIENT as exc:
            raise TargetUnavailable(
                f"no Unleash answers at {self.config.url} ({type(exc).__name__}: {exc}); the change stays queued "
                f"and is retried with backoff: check {URL_SETTING} and that Unleash is running"
            ) from exc
        status = response.status_code
        if response.is_success or status in allow:
            return response
        if status == 429 or status >= 500:
            raise TargetUnavailable(f"Unleash answered {method} {path} with HTTP {status}: {_excerpt(response)}")
        raise UnleashRejected(self._advice(method, path, token, response))

    def _advice(self, method: str, path: str, token: str, response: httpx.Response) -> str:
        status = response.status_code
        admin = token == self.config.admin_token
        if status in (401, 403):
            setting = ADMIN_TOKEN_SETTING if admin else CLIENT_TOKEN_SETTING
            kind = "an admin token" if admin else f"a backend token of environment {self.config.environment!r}"
            return f"Unleash refused {setting} (HTTP {status}); set it to {kind}, {RETRY_ADVICE}"
        if status == 404 and not admin:
            return (
                f"the client API does not show the flag (HTTP 404): {CLIENT_TOKEN_SETTING} must be a backend token "
                f"of project {self.config.project!r} and environment {self.config.environment!r}, {RETRY_ADVICE}"
            )
        if status == 404:
            return (
                f"Unleash answered {method} {path} with HTTP 404 ({_excerpt(response)}): check {PROJECT_SETTING} "
                f"({self.config.project!r}) and {ENVIRONMENT_SETTING} ({self.config.environment!r}), {RETRY_ADVICE}"
            )
        return f"Unleash refused {method} {path} with HTTP {status}: {_excerpt(response)}; {RETRY_ADVICE}"


def unleash_target_from_settings(settings: Settings, engine: Engine, *, check: bool = True) -> UnleashTarget:
    """The Unleash target the settings describe, checked against the server unless ``check`` is off."""
    if settings.unleash_url is None or settings.unleash_admin_token is None or settings.unleash_client_token is None:
        raise ConfigError(
            "settings",
            [f"LAUNCHDECK_ROLLOUT_TARGET=unleash needs {URL_SETTING}, {ADMIN_TOKEN_SETTING}, {CLIENT_TOKEN_SETTING}"],
        )
    config = UnleashConfig(
        url=settings.unleash_url,
        admin_token=settings.unleash_admin_token.get_secret_value(),
        client_token=settings.unleash_client_token.get_secret_value(),
        project=settings.unleash_project,
        environment=settings.unleash_environment,
        context_field=settings.unleash_context_field,
        flag_prefix=settings.unleash_flag_prefix,
    )
    target = UnleashTarget(config, engine=engine)
    if check:
        try:
            target.check()
        except ConfigError:
            target.close()
            raise
    return target
