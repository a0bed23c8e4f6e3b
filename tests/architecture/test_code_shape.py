"""The house rules on size, enforced so they cannot rot: no module over 400 lines (300 in
notifications/), no function over 60 lines, no block nested more than 4 deep. Migrations, tests
and benchmarks are outside the rule."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("orchestrator", "checklists", "notifications", "flows", "api", "cli")
MODULE_LINES = {"notifications": 300}
DEFAULT_MODULE_LINES = 400
FUNCTION_LINES = 60
NESTING = 4
_BLOCKS = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try, ast.Match)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


def nesting(node: ast.AST, depth: int = 0) -> int:
    """How deep blocks nest inside ``node``, not counting the bodies of nested functions."""
    deepest = depth
    for child in ast.iter_child_nodes(node):
        if isinstance(child, _SCOPES):
            continue
        deepest = max(deepest, nesting(child, depth + 1 if isinstance(child, _BLOCKS) else depth))
    return deepest


def shape_problems(root: Path) -> list[str]:
    problems = []
    for package in PACKAGES:
        limit = MODULE_LINES.get(package, DEFAULT_MODULE_LINES)
        for path in sorted((root / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            where = path.relative_to(root)
            source = path.read_text(encoding="utf-8")
            lines = len(source.splitlines())
            if lines > limit:
                problems.append(f"{where}: {lines} lines (at most {limit}): give each job its own module")
            for node in ast.walk(ast.parse(source)):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > FUNCTION_LINES:
                    problems.append(f"{where}:{node.lineno} {node.name}: {length} lines (at most {FUNCTION_LINES})")
                depth = nesting(node)
                if depth > NESTING:
                    problems.append(f"{where}:{node.lineno} {node.name}: nested {depth} deep (at most {NESTING})")
    return problems


def test_modules_and_functions_stay_small():
    problems = shape_problems(ROOT)
    assert not problems, "too big:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("x = 1\n" * 401, "api/bad.py: 401 lines"),
        ("def f():\n" + "    x = 1\n" * 60, "api/bad.py:1 f: 61 lines"),
        (
            "def f(a):\n    if a:\n        for b in a:\n            while b:\n                with b:\n"
            "                    try:\n                        pass\n                    finally:\n"
            "                        pass\n",
            "api/bad.py:1 f: nested 5 deep",
        ),
    ],
)
def test_the_checker_catches_what_is_too_big(tmp_path, source, expected):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "api" / "bad.py").write_text(source)
    problems = shape_problems(tmp_path)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_notifications_modules_have_the_stricter_limit(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
    (tmp_path / "notifications" / "bad.py").write_text("x = 1\n" * 301)
    assert shape_problems(tmp_path) == ["notifications/bad.py: 301 lines (at most 300): give each job its own module"]
