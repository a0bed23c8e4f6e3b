"""Sign in with Slack, faked: the authorize page (``GET /openid/connect/authorize``, which signs
in whoever the test says is at the browser and redirects back with a code), and the Web API
methods ``openid.connect.token`` (client id and secret as HTTP Basic, the code once, for the
redirect URI it was issued for) and ``openid.connect.userInfo`` (the access token it issued).

Served by the ``fake_slack`` fixture's server (``fake_slack.oidc``); only codes and tokens it
issued work, each code once."""

import base64
import json
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode

CLIENT_ID = "1234.5678"
CLIENT_SECRET = "fake-client-secret"
TEAM_ID = "T0FAKE"


@dataclass
class SlackPerson:
    user_id: str
    email: str
    name: str
    email_verified: bool = True
    team_id: str = TEAM_ID


@dataclass
class FakeOidc:
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET
    at_browser: SlackPerson | None = None  # who the authorize page signs in
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_calls: int = 0
    _codes: dict[str, tuple[SlackPerson, str, str]] = field(default_factory=dict)  # code -> person, nonce, uri
    _tokens: dict[str, SlackPerson] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authorize(self, query: str) -> tuple[int, str]:
        """(status, Location) of the authorize page: back to redirect_uri with a code and the state."""
        params = {key: values[-1] for key, values in parse_qs(query).items()}
        with self._lock:
            self.authorize_requests.append(params)
            person = self.at_browser
            if params.get("client_id") != self.client_id or params.get("response_type") != "code" or person is None:
                return 400, ""
            if "openid" not in params.get("scope", "").split():
                return 400, ""
            code = "code-" + secrets.token_urlsafe(8)
            self._codes[code] = (person, params.get("nonce", ""), params.get("redirect_uri", ""))
        return 302, params["redirect_uri"] + "?" + urlencode({"code": code, "state": params.get("state", "")})

    def token(self, body: dict[str, Any], authorization: str) -> dict[str, Any]:
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        with self._lock:
            self.token_calls += 1
            if authorization != f"Basic {expected}":
                return {"ok": False, "error": "invalid_client_id"}
            issued = self._codes.pop(str(body.get("code") or ""), None)
            if issued is None:
                return {"ok": False, "error": "invalid_code"}
            person, nonce, redirect_uri = issued
            if body.get("redirect_uri") != redirect_uri:
                return {"ok": False, "error": "bad_redirect_uri"}
            access = "xoxp-" + secrets.token_urlsafe(8)
            self._tokens[access] = person
        claims = {"iss": "https://slack.com", "sub": person.user_id, "aud": self.client_id, "nonce": nonce}
        return {"ok": True, "access_token": access, "token_type": "Bearer", "id_token": _jwt(claims)}

    def user_info(self, authorization: str) -> dict[str, Any]:
        with self._lock:
            person = self._tokens.get(authorization.removeprefix("Bearer "))
        if person is None:
            return {"ok": False, "error": "invalid_auth"}
        return {
            "ok": True,
            "sub": person.user_id,
            "https://slack.com/user_id": person.user_id,
            "https://slack.com/team_id": person.team_id,
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
        }


def _jwt(claims: dict[str, Any]) -> str:
    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.fake-signature"
