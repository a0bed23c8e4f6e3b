"""One TLS context per test process for httpx's default settings, instead of one per client.

Why: every ``httpx.Client()`` (and every ``httpx.get``) builds an ``ssl.SSLContext`` and parses
certifi's whole CA bundle into it, 20-25 ms on this machine kind, even for the plain-HTTP loopback
URLs the tests use. The suite makes thousands of clients (each served app is polled on /healthz
until it answers, each sign-in opens one), which was about 8 % of an API test module's CPU. A
context built from the same arguments is the same context, and an ``SSLContext`` may serve many
connections, so the process keeps one per combination of arguments. Contexts passed in by the
caller, and client certificates, go through untouched.
"""

import functools
import ssl
from typing import Any

import httpx._transports.default as httpx_transports

_build = httpx_transports.create_ssl_context  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=8)
def _shared(verify: str | bool, trust_env: bool) -> ssl.SSLContext:
    return _build(verify=verify, trust_env=trust_env)


def _create_ssl_context(
    verify: ssl.SSLContext | str | bool = True, cert: Any = None, trust_env: bool = True
) -> ssl.SSLContext:
    if isinstance(verify, ssl.SSLContext) or cert is not None:
        return _build(verify=verify, cert=cert, trust_env=trust_env)
    return _shared(verify, trust_env)


def install() -> None:
    """Used by every client httpx makes in this process from now on (tests/conftest.py calls it)."""
    httpx_transports.create_ssl_context = _create_ssl_context  # type: ignore[attr-defined]
