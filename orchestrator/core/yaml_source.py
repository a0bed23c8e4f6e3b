"""YAML loading that remembers where every value came from, so config errors can say
"file:line: field: problem: fix" instead of a traceback. Shared by the seed and checklist loaders.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from orchestrator.core.errors import ConfigError

ModelT = TypeVar("ModelT", bound=BaseModel)

# libyaml's loader, when PyYAML was built with it (its wheels are): the same documents and node
# marks 30-40x faster than the pure-Python one (the built-in seed: 3 ms against 110 ms, paid by
# every CLI start, worker start and test that seeds). A document it refuses is parsed again by the
# pure-Python loader, so error messages read exactly as before.
_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class YamlDocument:
    source: str
    data: Any
    root: yaml.Node | None

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """1-based line of the deepest node on ``path`` that exists."""
        node = self.root
        line = node.start_mark.line + 1 if node is not None else None
        for part in path:
            if isinstance(node, yaml.MappingNode):
                match = next((value for key, value in node.value if key.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                match = node.value[part]
            else:
                match = None
            if match is None:
                break
            node = match
            line = node.start_mark.line + 1
        return line

    def where(self, path: Sequence[str | int]) -> str:
        line = self.line_of(path)
        return f"{self.source}:{line}" if line else self.source


def parse_yaml(text: str, *, source: str) -> YamlDocument:
    """Parse ``text``, refusing what PyYAML would take silently or report astray: a syntax error
    is located where the broken construct starts (line and column), and a key repeated in one
    mapping (PyYAML keeps the last) is an error naming the key and both lines."""
    try:
        root = yaml.compose(text, Loader=_FAST_LOADER)
        data = yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        pass  # worded below by the pure-Python parser, whose marks and messages the errors cite
    else:
        return _checked_document(root, data, source=source)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        raise ConfigError(source, [_syntax_problem(source, exc)]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(source, [f"{source}: not valid YAML: {exc}"]) from None
    return _checked_document(root, data, source=source)


def _checked_document(root: yaml.Node | None, data: Any, *, source: str) -> YamlDocument:
    duplicates = _duplicate_keys(root, source=source) if root is not None else []
    if duplicates:
        raise ConfigError(source, duplicates)
    return YamlDocument(source=source, data=data, root=root)


def _syntax_problem(source: str, exc: yaml.MarkedYAMLError) -> str:
    """Where to look: an unterminated construct (a quoted scalar, a key without its colon, a flow
    ``[`` or ``{``) is only noticed where the parser gives up, often lines later, so the line to fix
    is where that construct began (``context_mark``); otherwise where the parser stopped."""
    problem, context = exc.problem_mark, exc.context_mark
    unterminated = context is not None and (isinstance(exc, yaml.scanner.ScannerError) or "flow" in (exc.context or ""))
    mark = context if unterminated else problem
    if mark is None:
        return f"{source}: not valid YAML: {exc.problem} (check indentation and quoting)"
    what = f"{exc.context} that starts here: {exc.problem}" if unterminated else str(exc.problem)
    noticed = ""
    if unterminated and problem is not None and problem.line != mark.line:
        noticed = f", noticed at line {problem.line + 1}"
    return (
        f"{source}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {what}{noticed} (check indentation and quoting)"
    )


def _duplicate_keys(node: yaml.Node, *, source: str) -> list[str]:
    """Every key given twice in one mapping, anywhere in the document, with both lines."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[str, int] = {}
        for key, _value in node.value:
            if not isinstance(key, yaml.ScalarNode) or key.value == "<<":
                continue
            line = key.start_mark.line + 1
            if key.value in first_seen:
                problems.append(
                    f"{source}:{line}: key {key.value!r} is given twice in the same mapping (lines "
                    f"{first_seen[key.value]} and {line}); only one would be kept, so remove the other"
                )
            else:
                first_seen[key.value] = line
    children = [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    for child in children:
        problems.extend(_duplicate_keys(child, source=source))
    return problems


def read_yaml(path: Path) -> YamlDocument:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), [f"{path}: no such file"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [f"{path}: cannot be read ({exc})"]) from None
    return parse_yaml(text, source=str(path))


def validation_problems(document: YamlDocument, error: ValidationError) -> list[str]:
    """One line per pydantic error, located in the file."""
    problems = []
    for item in error.errors():
        path = [part for part in item["loc"] if isinstance(part, str | int)]
        field = ".".join(str(part) for part in path) or "(top level)"
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown key; remove it or check its spelling"
        problems.append(f"{document.where(path)}: {field}: {message}")
    return problems


def load_model(document: YamlDocument, model: type[ModelT]) -> ModelT:
    try:
        return model.model_validate(document.data if document.data is not None else {})
    except ValidationError as exc:
        raise ConfigError(document.source, validation_problems(document, exc)) from None
