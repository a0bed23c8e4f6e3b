"""Free text a person typed, cleaned the same way at every door: trimmed, required where the
domain needs it (with a hint of what to write), within its column's length, and links that are
http(s). Errors name the field, so the API, Slack, the CLI and the web console show them beside it.
"""

from orchestrator.core.errors import InvalidInput


def required(value: str | None, *, field: str, hint: str, max_length: int | None = None) -> str:
    """``value`` trimmed; refused when empty (``hint`` says what to write) or too long."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise InvalidInput(field, hint)
    return within(cleaned, field=field, max_length=max_length)


def within(value: str, *, field: str, max_length: int | None) -> str:
    if max_length is not None and len(value) > max_length:
        raise InvalidInput(field, f"must be at most {max_length} characters, got {len(value)}")
    return value


def http_link(value: str, *, field: str, max_length: int = 2000) -> str:
    """An http(s) link without spaces, trimmed, at most ``max_length`` characters."""
    cleaned = value.strip()
    if not cleaned.startswith(("https://", "http://")) or any(char.isspace() for char in cleaned):
        raise InvalidInput(field, f"must be an http(s) link, got {value!r}")
    return within(cleaned, field=field, max_length=max_length)
