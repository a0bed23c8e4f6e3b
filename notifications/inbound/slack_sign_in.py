"""Sign in with Slack (OpenID Connect), Slack's side: the authorize URL a browser is sent to, and
turning the code Slack sends back into who signed in, through slack_sdk's ``WebClient``
(``openid.connect.token``, then ``openid.connect.userInfo`` with the person's access token).

The ID token comes straight from Slack's token endpoint over TLS, in exchange for the code and
the app's client secret, so its claims are read without checking its signature (OpenID Connect
Core 3.1.3.7); what is checked is that it was issued to this app (``aud``) for this browser's
sign-in (``nonce``), and that userInfo describes the same person (``sub``).
"""

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError
from urllib.parse import urlencode, urljoin

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from orchestrator.core.errors import LaunchdeckError
from orchestrator.core.settings import Settings
from orchestrator.directory.principals import SlackIdentity

AUTHORIZE_PATH = "/openid/connect/authorize"  # on Slack's site, beside (not under) its /api/
SCOPES = "openid email profile"
AGAIN = "sign in again from the sign-in page"


class SignInFailed(LaunchdeckError):
    """Slack's answer does not sign anyone in (refused code, wrong nonce, another workspace...)."""

    code = "slack_sign_in_failed"


@dataclass(frozen=True)
class SlackSignIn:
    client_id: str
    client_secret: str
    api_url: str
    team_id: str | None = None
    timeout: int = 10

    def authorize_url(self, *, redirect_uri: str, state: str, nonce: str) -> str:
        params = {
            "response_type": "code",
            "scope": SCOPES,
            "client_id": self.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "nonce": nonce,
        }
        if self.team_id:
            params["team"] = self.team_id
        return urljoin(self.api_url, AUTHORIZE_PATH) + "?" + urlencode(params)

    def identity(self, *, code: str, redirect_uri: str, nonce: str) -> SlackIdentity:
        """Who signed in, from the code Slack sent back; ``SignInFailed`` in plain words otherwise."""
        tokens = self._call(
            "openid.connect.token",
            lambda: WebClient(base_url=self.api_url, timeout=self.timeout).openid_connect_token(
                client_id=self.client_id,
                client_secret=self.client_secret,
                code=code,
                redirect_uri=redirect_uri,
                grant_type="authorization_code",
            ),
        )
        claims = id_token_claims(str(tokens.get("id_token") or ""))
        audience = claims.get("aud")
        if self.client_id not in (audience if isinstance(audience, list) else [audience]):
            raise SignInFailed(f"Slack's answer was meant for another app; {AGAIN}")
        if not nonce or claims.get("nonce") != nonce:
            raise SignInFailed(f"Slack's answer belongs to another sign-in than this browser's; {AGAIN}")
        access = str(tokens.get("access_token") or "")
        info = self._call(
            "openid.connect.userInfo",
            lambda: WebClient(token=access, base_url=self.api_url, timeout=self.timeout).openid_connect_userInfo(),
        )
        if not info.get("sub") or info.get("sub") != claims.get("sub"):
            raise SignInFailed(f"Slack described someone else than the person who signed in; {AGAIN}")
        team = info.get("https://slack.com/team_id")
        if self.team_id and team != self.team_id:
            raise SignInFailed(f"you signed in to another Slack workspace ({team}); choose the company's workspace")
        return SlackIdentity(
            slack_user_id=str(info.get("https://slack.com/user_id") or info["sub"]),
            team_id=str(team) if team else None,
            email=str(info["email"]) if info.get("email") else None,
            email_verified=info.get("email_verified") is True,
            name=str(info["name"]) if info.get("name") else None,
        )

    @staticmethod
    def _call(method: str, send: Any) -> dict[str, Any]:
        try:
            response = send()
        except SlackApiError as exc:
            raise SignInFailed(f"Slack refused the sign-in ({method}: {exc.response.get('error')}); {AGAIN}") from None
        except (URLError, OSError, SlackClientError) as exc:
            raise SignInFailed(f"Slack could not be reached ({method}: {type(exc).__name__}); try again") from None
        data = response.data
        return data if isinstance(data, dict) else {}


def sign_in_from_settings(settings: Settings) -> SlackSignIn | None:
    """Configured when the Slack app's client id and secret and launchdeck's public URL are set."""
    if not (settings.slack_client_id and settings.slack_client_secret and settings.public_url):
        return None
    return SlackSignIn(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        api_url=settings.slack_api_url,
        team_id=settings.slack_team_id,
    )


def id_token_claims(id_token: str) -> dict[str, Any]:
    """The claims (the JWT's middle part) of an ID token; {} for anything that is not one."""
    parts = id_token.split(".")
    if len(parts) != 3:
        return {}
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}
