"""Text search that answers alike on SQLite and PostgreSQL: a substring match, case-insensitive
for ASCII letters only, with ``%``, ``_`` and ``\\`` in the search text matched literally.

Why ASCII only: SQLite's ``lower()`` folds only A-Z, and PostgreSQL's follows the database's
locale (under ``C`` it folds only A-Z too, under ``en_US.UTF-8`` it folds É as well), so the same
search would find different launches on each. Folding A-Z alone, on both and in Python, gives one
answer everywhere; other letters match as typed.
"""

from typing import Any

from sqlalchemy import ColumnElement, String, literal
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

LIKE_ESCAPE = "\\"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"
_FOLD = str.maketrans(_UPPER, _LOWER)


class ascii_lower(FunctionElement[str]):  # noqa: N801 (a SQL function, named like one)
    """``text`` with A-Z lowered and every other character kept."""

    type = String()
    inherit_cache = True


@compiles(ascii_lower)
def _printed(element: ascii_lower, compiler: Any, **kw: Any) -> str:
    (text,) = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"ascii_lower({text})"


@compiles(ascii_lower, "sqlite")
def _sqlite(element: ascii_lower, compiler: Any, **kw: Any) -> str:
    (text,) = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"lower({text})"  # SQLite's lower() folds A-Z only (without the ICU extension)


@compiles(ascii_lower, "postgresql")
def _postgresql(element: ascii_lower, compiler: Any, **kw: Any) -> str:
    (text,) = (compiler.process(argument, **kw) for argument in element.clauses)
    return f"translate({text}, '{_UPPER}', '{_LOWER}')"


def fold_ascii(text: str) -> str:
    """What ``ascii_lower`` does, in Python."""
    return text.translate(_FOLD)


def escape_like(text: str) -> str:
    """``text`` for a LIKE pattern with ``LIKE_ESCAPE``: its wildcards and escapes made literal."""
    return text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` (A-Z in any case, wildcards literal), on both databases."""
    pattern = literal("%" + escape_like(fold_ascii(text)) + "%", String())
    return ascii_lower(column).like(pattern, escape=LIKE_ESCAPE)
