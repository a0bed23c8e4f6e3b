"""All configuration in one validated class, read from ``LAUNCHDECK_*`` variables and ``.env``.

``get_settings()`` is cached so every layer sees the same values; tests call ``reset_settings()``
after changing the environment instead of patching modules.
"""

import base64
import binascii
from functools import lru_cache
from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from orchestrator.core.db import postgres_async_url
from orchestrator.core.errors import ConfigError

DEFAULT_DATABASE_FILE = "launchdeck.db"
# Per rollout target, the settings it cannot run without (checked when a launch names the target).
TARGET_SETTINGS: dict[str, tuple[str, ...]] = {
    "recording": (),
    "webhook": ("webhook_url", "webhook_secret"),
    "flagd": ("flagd_file",),
    "unleash": ("unleash_url", "unleash_admin_token", "unleash_client_token"),
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="LAUNCHDECK_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default=f"sqlite:///{DEFAULT_DATABASE_FILE}",
        description="SQLAlchemy URL. SQLite file in the working directory by default; "
        "postgresql+psycopg://user@host/db for production.",
    )
    database_echo: bool = Field(default=False, description="Log every SQL statement (debugging only).")
    seed_file: Path | None = Field(
        default=None, description="Teams, regions and members loaded by `launchdeck init` (YAML)."
    )
    checklists_dir: Path | None = Field(
        default=None, description="A company's own checklist templates; items override the defaults by key."
    )
    rollout_target: Literal["recording", "webhook", "flagd", "unleash"] = Field(
        default="recording",
        description="Where exposure changes go by default: the built-in recorder (a table), your webhook, "
        "a flagd flag file or Unleash; a launch may name its own.",
    )
    flagd_file: Path | None = Field(
        default=None, description="flagd target: the flag definition file (JSON) launchdeck writes."
    )
    webhook_url: str | None = Field(default=None, description="Rollout webhook: POST target for exposure changes.")
    webhook_secret: SecretStr | None = Field(
        default=None, description="Rollout webhook: Standard Webhooks signing secret, whsec_<base64>."
    )
    webhook_previous_secrets: SecretStr | None = Field(
        default=None,
        description="Rollout webhook: secrets being rotated out (whsec_..., comma-separated); each "
        "request is signed with the current secret and these, so receivers switch at their own pace.",
    )
    webhook_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=5, ge=1, le=20)
    unleash_url: str | None = Field(default=None, description="Unleash: base URL, e.g. https://unleash.example.com.")
    unleash_admin_token: SecretStr | None = Field(default=None, description="Unleash: admin API token.")
    unleash_client_token: SecretStr | None = Field(
        default=None, description="Unleash: backend (client) token of the environment, to read each change back."
    )
    unleash_project: str = Field(default="default", min_length=1, description="Unleash: project of the flags.")
    unleash_environment: str = Field(default="production", min_length=1, description="Unleash: environment to ramp.")
    unleash_context_field: str = Field(
        default="region", min_length=1, description="Unleash: context field that carries the launchdeck region code."
    )
    unleash_flag_prefix: str = Field(
        default="launchdeck.", description="Unleash: a launch's flag is this prefix followed by its slug."
    )
    exposure_check_users: int = Field(
        default=2000,
        ge=0,
        le=100_000,
        description="Synthetic users per region evaluated through OpenFeature after each exposure change "
        "(flagd and Unleash targets); 0 turns the check off.",
    )
    exposure_check_tolerance: float = Field(
        default=3.0,
        ge=0,
        le=100,
        description="Exposure check: how many percentage points the observed share may differ from the "
        "intended one before the region is halted.",
    )
    worker_poll_seconds: float = Field(default=0.5, gt=0, le=60, description="How often a worker looks for due work.")
    worker_lease_seconds: int = Field(default=120, ge=5, description="How long a worker's claim on a region lasts.")
    worker_listen: bool = Field(
        default=True,
        description="Wake a worker's loops the moment work is committed (PostgreSQL LISTEN/NOTIFY, SQLite "
        "PRAGMA data_version) instead of at the next poll; false: poll only (behind a PgBouncer in "
        "transaction mode, where LISTEN does not work).",
    )
    slack_applier: Literal["api", "process"] = Field(
        default="api",
        description="Who applies recorded Slack clicks: api = threads of each API process (one process "
        "to run); process = a separate `launchdeck slack-applier` process, so the API only verifies, "
        "records and acknowledges (its answers stay fast on a busy machine). `launchdeck up` runs "
        "the applier and sets process unless this is set.",
    )
    slack_interaction_lease_seconds: float = Field(
        default=30.0,
        ge=0.5,
        le=3600,
        description="How long an applier's claim (an API process's or a `launchdeck slack-applier`'s) on a "
        "recorded Slack interaction lasts: a crashed process's claims are taken over this long after it died.",
    )
    slack_interaction_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        le=60,
        description="How often an applier looks for recorded Slack interactions it was not woken for "
        "(another process's, or claims whose lease ran out).",
    )
    slack_leadership_channel: str = Field(
        default="#launch-leadership", description="Where the daily leadership digest is posted."
    )
    beta_severity_weights: dict[int, float] = Field(
        default_factory=lambda: {1: 8.0, 2: 4.0, 3: 2.0, 4: 1.0},
        description='Beta feedback scoring: weight per severity, JSON, e.g. {"1": 8, "2": 4, "3": 2, "4": 1}.',
    )
    beta_frequency_exponent: float = Field(
        default=0.5, ge=0, le=3, description="Beta feedback scoring: reports ** this (0.5 damps pile-ons)."
    )
    beta_reach_exponent: float = Field(
        default=1.0, ge=0, le=3, description="Beta feedback scoring: distinct accounts ** this."
    )
    slack_beta_digest_channel: str | None = Field(
        default=None, description="Where the weekly beta feedback digest goes (default: the leadership channel)."
    )
    rag_due_soon_days: float = Field(
        default=3,
        gt=0,
        le=60,
        description="RAG: a launch is amber when an open blocking item is due within this many days.",
    )
    rag_slip_amber_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description="RAG: a launch is amber when its current or a later phase slipped more days than this.",
    )
    collision_window_days: int = Field(
        default=7,
        ge=0,
        le=90,
        description="Collisions: two tier 1 or 2 launches entering the same phase in the same region at most "
        "this many days apart.",
    )
    team_capacity_per_week: int = Field(
        default=15,
        ge=1,
        le=10_000,
        description="GTM load: open items a team can take per week when the directory gives it no capacity.",
    )
    max_body_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        le=1_073_741_824,
        description="Largest request body the API reads; a larger one is refused with 413 before it is read.",
    )
    dashboard_cache_seconds: int = Field(
        default=60,
        ge=0,
        le=3600,
        description="Longest the API reuses a computed portfolio while no change was recorded (0: never).",
    )
    dashboard_session_secret: SecretStr | None = Field(
        default=None,
        description="Signs dashboard session cookies. Unset: a random key per API process "
        "(sessions end when the API restarts).",
    )
    votes_on_behalf: bool = Field(
        default=True,
        description="Product ops may record an approver's vote given elsewhere "
        "(with a reason, audited with both names).",
    )
    forbid_self_approval: bool = Field(
        default=True, description="The launch's owner may not vote on its approval gates."
    )
    public_url: str | None = Field(
        default=None,
        description="Where people reach launchdeck's web pages (e.g. https://launchdeck.example.com), "
        "for links in Slack messages. Unset: messages carry no links.",
    )
    approval_request_days: int = Field(
        default=3,
        ge=0,
        le=60,
        description="Approvers are asked for their vote this many days before the phase date, or as soon as the "
        "gate's other conditions are met, whichever is first.",
    )
    go_max_age_days: int = Field(
        default=14,
        ge=0,
        le=365,
        description="A Go older than this when the gate's other conditions are met must be confirmed again (0: never).",
    )
    slack_client_id: str | None = Field(
        default=None,
        description="Sign in with Slack (OpenID Connect): the Slack app's Client ID. With the secret set, "
        "/login offers the button (needs LAUNCHDECK_PUBLIC_URL for the redirect URL).",
    )
    slack_client_secret: SecretStr | None = Field(default=None, description="Sign in with Slack: the Client Secret.")
    slack_team_id: str | None = Field(
        default=None, description="Sign in with Slack: accept only people of this workspace (T...)."
    )
    trusted_proxies: str = Field(
        default="",
        description="Comma-separated IPs or networks of the reverse proxies whose X-Forwarded-Proto is believed "
        "(cookies are then marked Secure behind an https proxy). Empty: none.",
    )
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_api_url: str = "https://slack.com/api/"

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite://", "postgresql://", "postgresql+psycopg://")):
            raise ValueError(
                "must start with sqlite:// or postgresql+psycopg:// "
                "(e.g. sqlite:///launchdeck.db or postgresql+psycopg://user@localhost/launchdeck)"
            )
        if value.startswith("postgresql://"):
            value = "postgresql+psycopg://" + value.removeprefix("postgresql://")
        try:
            url = make_url(value)
        except (ArgumentError, ValueError) as exc:
            raise ValueError(f"is not a database URL ({exc})") from exc
        if url.get_backend_name() == "postgresql":
            postgres_async_url(url)  # both drivers must understand its parameters
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxy_networks(cls, value: str) -> str:
        for part in (part.strip() for part in value.split(",")):
            if part:
                try:
                    ip_network(part, strict=False)
                except ValueError:
                    raise ValueError(f"{part!r} is not an IP address or network (e.g. 10.0.0.5,10.1.0.0/16)") from None
        return value

    @field_validator("beta_severity_weights")
    @classmethod
    def _every_severity_weighed(cls, weights: dict[int, float]) -> dict[int, float]:
        missing = [severity for severity in (1, 2, 3, 4) if severity not in weights]
        if missing or set(weights) - {1, 2, 3, 4}:
            raise ValueError('give a weight for each severity 1-4 and no other, e.g. {"1": 8, "2": 4, "3": 2, "4": 1}')
        if any(weight < 0 for weight in weights.values()):
            raise ValueError("weights must be 0 or more")
        return weights

    @field_validator("webhook_secret", "webhook_previous_secrets")
    @classmethod
    def _whsec(cls, value: SecretStr | None) -> SecretStr | None:
        """Standard Webhooks secrets: ``whsec_`` then base64; refused at start-up, not on a delivery."""
        for secret in _split_secrets(value):
            try:
                key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if not secret.startswith("whsec_") or not key:
                raise ValueError(
                    "must be whsec_ followed by base64 (e.g. whsec_ + base64 of 32 random bytes: "
                    "python -c \"import base64,os; print('whsec_' + base64.b64encode(os.urandom(32)).decode())\")"
                )
        return value

    def target_problem(self, name: str) -> str | None:
        """What is missing before rollout target ``name`` can take changes (None: ready), so a
        launch naming a target nobody configured is refused when it is created, not mid-ramp."""
        needs = TARGET_SETTINGS.get(name)
        if needs is None:
            return f"unknown rollout target {name!r}; choose one of {', '.join(TARGET_SETTINGS)}"
        missing = [f"LAUNCHDECK_{field.upper()}" for field in needs if not getattr(self, field, None)]
        if missing:
            needed = " and ".join(missing)
            return f"the {name} target is not configured here: set {needed} (see README: Rollout targets)"
        return None

    def webhook_secrets(self) -> list[str]:
        """The signing secrets, current first, then those being rotated out."""
        return _split_secrets(self.webhook_secret) + _split_secrets(self.webhook_previous_secrets)

    @model_validator(mode="after")
    def _webhook_complete(self) -> "Settings":
        if self.rollout_target == "webhook" and not (self.webhook_url and self.webhook_secret):
            raise ValueError(
                "LAUNCHDECK_ROLLOUT_TARGET=webhook needs LAUNCHDECK_WEBHOOK_URL and LAUNCHDECK_WEBHOOK_SECRET"
            )
        if self.rollout_target == "flagd" and self.flagd_file is None:
            raise ValueError("LAUNCHDECK_ROLLOUT_TARGET=flagd needs LAUNCHDECK_FLAGD_FILE (the flag file to write)")
        if self.webhook_url is not None and not self.webhook_url.startswith(("https://", "http://")):
            raise ValueError("LAUNCHDECK_WEBHOOK_URL must be an http(s) URL")
        return self

    @model_validator(mode="after")
    def _unleash_complete(self) -> "Settings":
        if self.rollout_target == "unleash" and not (
            self.unleash_url and self.unleash_admin_token and self.unleash_client_token
        ):
            raise ValueError(
                "LAUNCHDECK_ROLLOUT_TARGET=unleash needs LAUNCHDECK_UNLEASH_URL, LAUNCHDECK_UNLEASH_ADMIN_TOKEN "
                "and LAUNCHDECK_UNLEASH_CLIENT_TOKEN"
            )
        if self.unleash_url is not None and not self.unleash_url.startswith(("https://", "http://")):
            raise ValueError("LAUNCHDECK_UNLEASH_URL must be an http(s) URL")
        return self


def _split_secrets(value: SecretStr | None) -> list[str]:
    if value is None:
        return []
    return [part.strip() for part in value.get_secret_value().split(",") if part.strip()]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Settings validated once; a bad variable stops start-up with its name and the fix."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if error["loc"]:
                message = f"LAUNCHDECK_{'_'.join(str(part) for part in error['loc']).upper()}: {message}"
            problems.append(message)
        raise ConfigError("environment", problems) from None


def reset_settings() -> None:
    """Forget cached settings so the next ``get_settings()`` re-reads the environment."""
    get_settings.cache_clear()
