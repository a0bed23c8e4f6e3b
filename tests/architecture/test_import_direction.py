"""The dependency direction of DESIGN.md, enforced: a package that reaches upward fails here
with the file, line and the rule it broke. Two levels: between the top-level packages, and
between the domain packages inside ``orchestrator/`` (the core imports none of them)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]  # the repository: this file is tests/<folder>/<name>.py
OURS = {"orchestrator", "checklists", "notifications", "flows", "api", "cli"}

# Which of our packages each package may import.
MAY_IMPORT: dict[str, set[str]] = {
    "orchestrator": set(),
    "checklists": {"orchestrator"},
    "notifications": {"orchestrator"},
    "flows": {"orchestrator", "checklists", "notifications"},
    "api": {"orchestrator", "checklists", "notifications"},
    "cli": {"orchestrator", "checklists", "notifications", "flows", "api"},
}
# Inside orchestrator/: which domain packages each may import. The core imports none; a domain
# imports the core and the domains below it. A new arrow here is an architecture decision.
DOMAIN_MAY_IMPORT: dict[str, set[str]] = {
    "core": set(),
    "migrations": {"core"},
    "directory": {"core"},
    "gates": {"core", "directory"},
    "rollouts": {"core", "directory", "gates"},
    "launches": {"core", "directory", "gates", "rollouts"},
    "items": {"core", "directory", "gates"},
    "beta": {"core", "directory", "gates", "rollouts"},
    "planning": {"core", "directory", "gates", "rollouts", "launches"},
    "reporting": {"core", "directory", "gates", "rollouts", "launches", "items", "beta", "planning"},
    # Forecasts build on the burndown and the blockers (reporting); retros on the recorded forecasts.
    "forecasts": {"core", "directory", "gates", "rollouts", "launches", "items", "beta", "planning", "reporting"},
    "retros": {
        "core",
        "directory",
        "gates",
        "rollouts",
        "launches",
        "items",
        "beta",
        "planning",
        "reporting",
        "forecasts",
    },
}
# Frameworks that belong to exactly one package.
OWNED_BY = {"prefect": "flows", "fastapi": "api", "starlette": "api", "slack_sdk": "notifications"}


def imported_roots(path: Path) -> list[tuple[int, str]]:
    """Top-level module names a file imports, anywhere in it (function-level imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def violations(root: Path) -> list[str]:
    problems = []
    for package, allowed in MAY_IMPORT.items():
        for path in sorted((root / package).rglob("*.py")):
            for line, module in imported_roots(path):
                where = f"{path.relative_to(root)}:{line}"
                if module in OURS and module != package and module not in allowed:
                    may = ", ".join(sorted(allowed)) or "no other launchdeck package"
                    problems.append(f"{where} imports {module}; {package} may import only: {may}")
                owner = OWNED_BY.get(module)
                if owner is not None and owner != package:
                    problems.append(f"{where} imports {module}; only {owner}/ may import it")
    return problems


def imported_domains(path: Path) -> list[tuple[int, str]]:
    """The orchestrator domain packages a file imports (``orchestrator.<domain>...``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "orchestrator" else [f"orchestrator.{a.name}" for a in node.names]
        else:
            continue
        found.extend((node.lineno, name.split(".")[1]) for name in names if name.startswith("orchestrator."))
    return found


def domain_violations(root: Path) -> list[str]:
    problems = []
    orchestrator = root / "orchestrator"
    for path in sorted(orchestrator.rglob("*.py")):
        inside = path.relative_to(orchestrator).parts
        if len(inside) == 1:
            continue  # orchestrator/__init__.py
        domain = inside[0]
        allowed = DOMAIN_MAY_IMPORT.get(domain)
        where = f"{path.relative_to(root)}"
        if allowed is None:
            problems.append(f"{where}: orchestrator/{domain}/ has no place in DOMAIN_MAY_IMPORT; add it there")
            continue
        for line, imported in imported_domains(path):
            if imported != domain and imported not in allowed:
                may = ", ".join(sorted(allowed)) or "no other orchestrator package"
                problems.append(f"{where}:{line} imports orchestrator.{imported}; {domain} may import only: {may}")
    return problems


def test_orchestrator_domains_respect_their_direction():
    problems = domain_violations(ROOT)
    assert not problems, "domain direction broken:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("domain", "source", "expected"),
    [
        (
            "core",
            "from orchestrator.items.service import check_item\n",
            "orchestrator/core/bad.py:1 imports orchestrator.items",
        ),
        (
            "gates",
            "def f():\n    import orchestrator.reporting.rag\n",
            "orchestrator/gates/bad.py:2 imports orchestrator.reporting",
        ),
        ("items", "from orchestrator import beta\n", "orchestrator/items/bad.py:1 imports orchestrator.beta"),
        ("newdomain", "x = 1\n", "orchestrator/newdomain/bad.py: orchestrator/newdomain/ has no place"),
    ],
)
def test_the_checker_catches_a_domain_importing_upward(tmp_path, domain, source, expected):
    (tmp_path / "orchestrator" / domain).mkdir(parents=True)
    (tmp_path / "orchestrator" / domain / "bad.py").write_text(source)
    problems = domain_violations(tmp_path)
    assert any(problem.startswith(expected) for problem in problems), problems


def test_packages_respect_the_dependency_direction():
    problems = violations(ROOT)
    assert not problems, "dependency direction broken:\n" + "\n".join(problems)


def test_every_layer_package_exists():
    missing = [package for package in MAY_IMPORT if not (ROOT / package / "__init__.py").exists()]
    assert not missing


@pytest.mark.parametrize(
    ("package", "source", "expected"),
    [
        ("orchestrator", "import flows.launch\n", "orchestrator/bad.py:1 imports flows"),
        ("orchestrator", "def f():\n    from api import app\n", "orchestrator/bad.py:2 imports api"),
        ("api", "from flows import deployments\n", "api/bad.py:1 imports flows"),
        ("api", "import prefect\n", "api/bad.py:1 imports prefect; only flows/"),
        ("checklists", "from slack_sdk import WebClient\n", "checklists/bad.py:1 imports slack_sdk"),
        ("notifications", "import fastapi\n", "notifications/bad.py:1 imports fastapi"),
    ],
)
def test_the_checker_catches_an_upward_import(tmp_path, package, source, expected):
    for name in MAY_IMPORT:
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / package / "bad.py").write_text(source)
    problems = violations(tmp_path)
    assert any(problem.startswith(expected) for problem in problems), problems
