"""Message templates are compiled once per process, then only rendered."""

from typing import Any

import pytest
from jinja2 import Environment

from notifications.messages.templating import render


def header() -> str:
    return render("gate_opened_header", team="marketing", region_code="EU", phase="ga", launch_name="Pricing v2")


def test_a_template_rendered_before_is_not_compiled_again(monkeypatch: pytest.MonkeyPatch) -> None:
    first = header()
    compiled: list[str | None] = []
    real_compile = Environment.compile

    def counting_compile(self: Environment, source: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(name)
        return real_compile(self, source, name, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", counting_compile)
    assert [header() for _ in range(3)] == [first] * 3
    assert compiled == []
