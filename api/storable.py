"""Only text a database can store gets past the door: one check, on every route, of the path
parameters, the query and the body (a JSON body's keys and values at any depth, or a form's
fields), refusing with a 422 that names each field.

PostgreSQL refuses NUL (U+0000) in text, and no driver encodes a lone UTF-16 surrogate (JSON's
"\\ud800") as UTF-8; SQLite stores the first. Without this check the two backends would disagree,
and on PostgreSQL the refusal would come from the driver deep inside a service: a server error
instead of the caller's mistake. Lengths are the schemas' job (bounded by their columns, see
``orchestrator.core.models.text_limit``).
"""

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request
from fastapi.exceptions import RequestValidationError

UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
MESSAGE = "must not contain NUL characters (U+0000) or unpaired surrogates (U+D800-U+DFFF): no database stores them"
_WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def _unstorable(text: str) -> bool:
    return UNSTORABLE.search(text) is not None


def _places_in(value: Any, location: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """Where in ``value`` (a parsed JSON document) a string, or an object's key, cannot be stored."""
    if isinstance(value, str):
        if _unstorable(value):
            yield location
    elif isinstance(value, dict):
        for key, item in value.items():
            if _unstorable(key):
                yield (*location, key)
            yield from _places_in(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _places_in(item, (*location, index))


async def _body_places(request: Request) -> list[tuple[Any, ...]]:
    """A JSON or form body's unstorable places. The body is read once and kept by the request (the
    route reads the same bytes); a body that does not parse is left to the route to refuse."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if request.method not in _WITH_BODY:
        return []
    body = await request.body()
    if not body:
        return []
    if content_type == "application/x-www-form-urlencoded":
        fields = parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        return [("body", name) for name, value in fields if _unstorable(name) or _unstorable(value)]
    if content_type and not (content_type == "application/json" or content_type.endswith("+json")):
        return []
    try:
        document = await request.json()  # parsed once: the route's own parse is kept and shared
    except ValueError:
        return []
    return list(_places_in(document, ("body",)))


async def refuse_unstorable_text(request: Request) -> None:
    """The app-wide dependency: a 422 naming every parameter or body field holding text that no
    database can store."""
    places = [
        ("path", name) for name, value in request.path_params.items() if isinstance(value, str) and _unstorable(value)
    ]
    places += [("query", name) for name, value in request.query_params.multi_items() if _unstorable(name + value)]
    places += await _body_places(request)
    if places:
        raise RequestValidationError(
            [{"type": "string_unstorable", "loc": place, "msg": MESSAGE, "input": None} for place in places]
        )
