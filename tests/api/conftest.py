"""Fixtures for the API tests: an HTTP client on the served app (``api_server``)."""

from collections.abc import Iterator

import httpx
import pytest


@pytest.fixture
def client(api_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=api_server, timeout=30) as opened:
        yield opened
