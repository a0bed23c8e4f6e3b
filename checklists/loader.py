"""Reading template directories into one validated library.

Every problem in every file is collected and reported together, each with its file and line and
what to do, so a template author fixes a directory in one pass.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import ValidationError

from checklists.catalog import Directory
from checklists.item_text import check_text
from checklists.schema import DisabledItem, ItemFile, Manifest, TemplateItem
from orchestrator.core.enums import Phase
from orchestrator.core.errors import ConfigError
from orchestrator.core.yaml_source import YamlDocument, read_yaml, validation_problems

MANIFEST_NAME = "library.yaml"


def default_templates_dir() -> Path:
    return Path(str(resources.files("checklists") / "templates"))


@dataclass(frozen=True)
class Library:
    version: str
    items: dict[str, TemplateItem]
    flags: dict[str, str]
    origins: dict[str, str] = field(default_factory=dict)  # key -> "file:line"
    # tier -> phase -> the teams whose leads approve its go/no-go gates by default
    approvers: dict[int, dict[Phase, tuple[str, ...]]] = field(default_factory=dict)


@dataclass
class _Layer:
    directory: Path
    manifest: Manifest | None = None
    manifest_document: YamlDocument | None = None
    items: dict[str, TemplateItem] = field(default_factory=dict)
    disabled: dict[str, str] = field(default_factory=dict)  # key -> where
    origins: dict[str, str] = field(default_factory=dict)
    invalid: dict[str, tuple[YamlDocument, int, dict[str, object]]] = field(default_factory=dict)
    locators: dict[str, tuple[YamlDocument, int]] = field(default_factory=dict)


def load_library(*, directory: Directory, extra_dirs: Sequence[Path] = (), defaults_dir: Path | None = None) -> Library:
    """The default templates, overridden item by item by each extra directory in order."""
    problems: list[str] = []
    layers = [_read_layer(defaults_dir or default_templates_dir(), problems)]
    for extra in extra_dirs:
        if not extra.is_dir():
            problems.append(f"{extra}: not a directory of template files; check LAUNCHDECK_CHECKLISTS_DIR")
            continue
        layers.append(_read_layer(extra, problems))
    flags: dict[str, str] = {}
    versions: list[str] = []
    items: dict[str, TemplateItem] = {}
    origins: dict[str, str] = {}
    invalid: dict[str, tuple[YamlDocument, int, dict[str, object]]] = {}
    locators: dict[str, tuple[YamlDocument, int]] = {}
    removed: set[str] = set()  # disabled keys: depending on one is allowed, like on an item a launch skips
    approvers: dict[int, dict[Phase, tuple[str, ...]]] = {}
    for layer in layers:
        invalid.update(layer.invalid)
        locators.update(layer.locators)
        if layer.manifest is not None:
            flags.update(layer.manifest.flags)
            versions.append(layer.manifest.version)
            for tier, phases in layer.manifest.approvers.items():
                approvers.setdefault(tier, {}).update({phase: tuple(teams) for phase, teams in phases.items()})
            problems.extend(_approver_team_problems(layer, directory))
        for key, where in layer.disabled.items():
            removed.add(key)
            if key not in items:
                problems.append(f"{where}: {key}: enabled: false disables nothing; no earlier template has this key")
            items.pop(key, None)
            origins.pop(key, None)
        items.update(layer.items)
        origins.update(layer.origins)
    problems.extend(_reference_problems(items, locators, flags, directory, invalid, removed))
    problems.extend(_cycle_problems(items, origins))
    if problems:
        raise ConfigError("checklist templates", problems)
    return Library(version=_version(versions, items), items=items, flags=flags, origins=origins, approvers=approvers)


def _read_layer(path: Path, problems: list[str]) -> _Layer:
    """One directory's templates, parsed once per version of its files: PyYAML's pure-Python
    parser took 350-600 ms for the default library, which every launch creation paid (hashing the
    files takes about a millisecond). The layer is only read afterwards, and a changed, added or
    removed file parses it again."""
    files = _template_files(path)
    layer, found = _parsed_layer(path, tuple((file.name, _digest(file)) for file in files))
    problems.extend(found)
    return layer


def _template_files(path: Path) -> list[Path]:
    return sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml"))


def _digest(file: Path) -> str:
    return hashlib.blake2b(file.read_bytes(), digest_size=16).hexdigest()


@lru_cache(maxsize=16)
def _parsed_layer(path: Path, fingerprint: tuple[tuple[str, str], ...]) -> tuple[_Layer, tuple[str, ...]]:
    """``fingerprint`` (each file's name and a digest of its bytes) is only the cache key."""
    problems: list[str] = []
    layer = _parse_layer(path, problems)
    return layer, tuple(problems)


def _parse_layer(path: Path, problems: list[str]) -> _Layer:
    layer = _Layer(directory=path)
    files = _template_files(path)
    if not files:
        problems.append(f"{path}: holds no .yaml template files")
    for file in files:
        try:
            document = read_yaml(file)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        if file.name == MANIFEST_NAME:
            layer.manifest = _read_manifest(document, problems)
            layer.manifest_document = document
        else:
            _read_items(document, layer, problems)
    return layer


def _read_manifest(document: YamlDocument, problems: list[str]) -> Manifest | None:
    try:
        return Manifest.model_validate(document.data or {})
    except ValidationError as exc:
        problems.extend(validation_problems(document, exc))
        return None


def _approver_team_problems(layer: _Layer, directory: Directory) -> list[str]:
    """Default approvers name teams of the directory (whose leads are asked)."""
    if layer.manifest is None or layer.manifest_document is None:
        return []
    document, known = layer.manifest_document, ", ".join(sorted(directory.teams))
    return [
        f"{document.where(['approvers', str(tier), phase.value, index])}: approvers: tier {tier} {phase.value}: "
        f"unknown team {team!r}; known teams: {known}"
        for tier, phases in layer.manifest.approvers.items()
        for phase, teams in phases.items()
        for index, team in enumerate(teams)
        if team not in directory.teams
    ]


def _read_items(document: YamlDocument, layer: _Layer, problems: list[str]) -> None:
    try:
        parsed = ItemFile.model_validate(document.data or {})
    except ValidationError as exc:
        problems.extend(validation_problems(document, exc))
        return
    for index, raw in enumerate(parsed.items):
        where = document.where(["items", index])
        label = str(raw.get("key", f"items[{index}]"))
        model: type[TemplateItem] | type[DisabledItem] = TemplateItem
        if raw.get("enabled") is False:
            model = DisabledItem
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            problems.extend(_item_problems(document, index, label, exc))
            problems.extend(_text_problems(document, index, label, raw))
            layer.invalid[label] = (document, index, raw)
            continue
        earlier = layer.origins.get(item.key) or layer.disabled.get(item.key)
        if earlier is not None:
            problems.append(f"{where}: {item.key}: key already used at {earlier}; keys must be unique, rename one")
            continue
        if isinstance(item, DisabledItem):
            layer.disabled[item.key] = where
            continue
        problems.extend(_text_problems(document, index, item.key, raw))
        layer.items[item.key] = item
        layer.origins[item.key] = where
        layer.locators[item.key] = (document, index)


def _item_problems(document: YamlDocument, index: int, label: str, error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors():
        loc = [part for part in detail["loc"] if isinstance(part, str | int)]
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field; see docs/checklist-templates.md for the fields an item may have"
        elif detail["type"] == "missing":
            message = "required; add it"
        if not loc and message.startswith(("due ", "gate_by_tier ")):
            loc = [message.split(" ", 1)[0]]  # a rule across fields names the field it is about
        field_name = ".".join(str(part) for part in loc) or "item"
        problems.append(f"{document.where(['items', index, *loc])}: {label}: {field_name}: {message}")
    return problems


def _text_problems(document: YamlDocument, index: int, label: str, raw: dict[str, object]) -> list[str]:
    """Jinja problems in title and description, checked even when other fields are wrong."""
    try:
        phase = Phase(str(raw.get("phase")))
    except ValueError:
        phase = Phase.INTERNAL
    problems = []
    for field_name in ("title", "description"):
        text = raw.get(field_name)
        if isinstance(text, str):
            problem = check_text(text, phase=phase)
            if problem is not None:
                problems.append(f"{document.where(['items', index, field_name])}: {label}: {field_name}: {problem}")
    return problems


def _reference_problems(
    items: dict[str, TemplateItem],
    locators: dict[str, tuple[YamlDocument, int]],
    flags: dict[str, str],
    directory: Directory,
    invalid: dict[str, tuple[YamlDocument, int, dict[str, object]]],
    removed: set[str],
) -> list[str]:
    """Names that must exist elsewhere: teams, regions, flags, dependency keys."""
    problems: list[str] = []
    teams = ", ".join(sorted(directory.teams))
    regions = ", ".join(sorted(directory.regions))
    known_flags = ", ".join(sorted(flags)) or "none"

    def report(document: YamlDocument, index: int, key: str, field_name: str, message: str) -> None:
        problems.append(f"{document.where(['items', index, field_name])}: {key}: {field_name}: {message}")

    def check_owner_and_regions(document: YamlDocument, index: int, key: str, owner: object, codes: object) -> None:
        if isinstance(owner, str) and owner not in directory.teams:
            report(document, index, key, "owner", f"unknown team {owner!r}; known teams: {teams}")
        for code in codes if isinstance(codes, list) else []:
            if isinstance(code, str) and code != "all" and code not in directory.regions:
                report(document, index, key, "regions", f"unknown region {code!r}; use all or one of: {regions}")

    # Items that failed validation still get these checks, so one pass shows every problem.
    for key, (document, index, raw) in invalid.items():
        check_owner_and_regions(document, index, key, raw.get("owner"), raw.get("regions"))
    for key, item in items.items():
        document, index = locators[key]
        check_owner_and_regions(document, index, key, item.owner, item.regions)
        if "all" in item.regions and len(item.regions) > 1:
            report(document, index, key, "regions", "'all' already covers every region; list either all or codes")
        for flag in item.applies_if:
            if flag not in flags:
                message = f"unknown flag {flag!r}; declare it under flags: in a library.yaml (known: {known_flags})"
                report(document, index, key, "applies_if", message)
        for dependency in item.depends_on:
            if dependency == key:
                report(document, index, key, "depends_on", "an item cannot depend on itself")
            elif dependency not in items and dependency not in invalid and dependency not in removed:
                report(document, index, key, "depends_on", f"unknown item {dependency!r}; check the key's spelling")
    return problems


def _cycle_problems(items: dict[str, TemplateItem], origins: dict[str, str]) -> list[str]:
    """Each dependency cycle once, as a path, at the file and line of its first item."""
    problems: list[str] = []
    state: dict[str, str] = {}  # key -> "visiting" | "done"
    reported: set[frozenset[str]] = set()

    def visit(key: str, trail: list[str]) -> None:
        state[key] = "visiting"
        trail.append(key)
        for dependency in items[key].depends_on:
            if dependency not in items or dependency == key:
                continue
            if state.get(dependency) == "visiting":
                cycle = trail[trail.index(dependency) :]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    path = " -> ".join([*cycle, dependency])
                    problems.append(
                        f"{origins[cycle[0]]}: {cycle[0]}: depends_on: cycle {path}; remove one of these links"
                    )
            elif dependency not in state:
                visit(dependency, trail)
        trail.pop()
        state[key] = "done"

    for key in items:
        if key not in state:
            visit(key, [])
    return problems


def _version(versions: list[str], items: dict[str, TemplateItem]) -> str:
    canonical = json.dumps([item.model_dump(mode="json") for item in items.values()], sort_keys=True)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:8]
    return f"{'+'.join(versions) or 'unversioned'}#{digest}"
