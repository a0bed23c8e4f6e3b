"""The template loader: a valid library loads; every kind of mistake is reported with its file,
line and the fix, all at once."""

import os

import pytest

from checklists.loader import default_templates_dir, load_library
from orchestrator.core.enums import Phase
from orchestrator.core.errors import ConfigError
from tests.support.checklists import ITEMS, LIBRARY, make_library, seed_directory, write_templates


def problems_for(tmp_path, items_text, *, library_text=LIBRARY, extra=None):
    files = {"library.yaml": library_text, "items.yaml": items_text}
    defaults = write_templates(tmp_path / "defaults", files)
    extra_dirs = [write_templates(tmp_path / "company", extra)] if extra else []
    with pytest.raises(ConfigError) as caught:
        load_library(directory=seed_directory(), extra_dirs=extra_dirs, defaults_dir=defaults)
    return caught.value.problems


def item(**fields):
    base = {"key": "x.one", "title": "One", "owner": "support", "phase": "ga"}
    base.update(fields)
    lines = ["items:", "  - " + "\n    ".join(f"{name}: {value}" for name, value in base.items())]
    return "\n".join(lines) + "\n"


def test_a_valid_library_loads_with_version_and_content_hash(tmp_path):
    library = make_library(tmp_path)
    assert len(library.items) == 10
    assert library.version.startswith("test-1#")
    assert library.items["ga.legal_review"].blocking_for(3) is False
    assert library.items["ga.legal_review"].blocking_for(1) is True
    assert library.items["int.brief"].due_for(2) == -21


def test_any_edit_changes_the_version(tmp_path):
    first = make_library(tmp_path / "a")
    second = make_library(tmp_path / "b", extra={"more.yaml": item(title="'Changed'")})
    assert first.version != second.version
    assert second.version.startswith("test-1#")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (item(colour="red"), "items.yaml:6: x.one: colour: unknown field"),
        (
            item(phase="launch"),
            "items.yaml:5: x.one: phase: Input should be 'internal', 'private_beta', 'public_beta' or 'ga'",
        ),
        (item(owner="catering"), "items.yaml:4: x.one: owner: unknown team 'catering'; known teams:"),
        (item(regions="[EU, MARS]"), "items.yaml:6: x.one: regions: unknown region 'MARS'; use all or one of:"),
        (item(regions="[all, EU]"), "x.one: regions: 'all' already covers every region"),
        (
            item(applies_if="[has_ai]"),
            "items.yaml:6: x.one: applies_if: unknown flag 'has_ai'; declare it under flags:",
        ),
        (item(tiers="[1, 4]"), "x.one: tiers.1: Input should be less than or equal to 3"),
        (item(tiers="[1, 2]", due="{1: -3}"), "items.yaml:7: x.one: due: due gives no offset for tier(s) 2"),
        (
            item(tiers="[1]", gate_by_tier="{3: advisory}"),
            "x.one: gate_by_tier: gate_by_tier names tier(s) 3 that are not in tiers",
        ),
        (item(due="-400"), "x.one: due: offsets are days from the phase date and must lie within a year"),
        (item(gate="maybe"), "x.one: gate: Input should be 'blocking' or 'advisory'"),
        (item(depends_on="[x.missing]"), "items.yaml:6: x.one: depends_on: unknown item 'x.missing'"),
        (item(depends_on="[x.one]"), "x.one: depends_on: an item cannot depend on itself"),
        (item(key="'Bad Key'"), "Bad Key: key: String should match pattern"),
        (
            item(title="'Ready in {{ regoin.name }}'"),
            "items.yaml:3: x.one: title: 'regoin' is undefined; templates may use launch.name",
        ),
        (item(title="'Ready {% if %}'"), "items.yaml:3: x.one: title: Jinja syntax error on template line 1"),
        (item(description="'{{ launch.nmae }}'"), "x.one: description: 'dict object' has no attribute 'nmae'"),
        ("items:\n  - {key: x.one, owner: support, phase: ga}\n", "items.yaml:2: x.one: title: required; add it"),
        ("itemz: []\n", "items.yaml:1: itemz: unknown key"),
        ("items:\n  - key: a\n    title: [unclosed\n", "items.yaml:3:12: not valid YAML"),
        (
            "items:\n  - key: x.one\n    title: One\n    title: Two\n    owner: support\n    phase: ga\n",
            "items.yaml:4: key 'title' is given twice in the same mapping (lines 3 and 4)",
        ),
    ],
)
def test_each_mistake_is_reported_with_file_line_and_fix(tmp_path, text, expected):
    problems = problems_for(tmp_path, text)
    assert any(expected in problem for problem in problems), problems


def test_duplicate_keys_in_one_directory_name_both_places(tmp_path):
    text = item() + "  - {key: x.one, title: Again, owner: sales, phase: ga}\n"
    problems = problems_for(tmp_path, text)
    assert any("items.yaml:6: x.one: key already used at" in p and "items.yaml:2" in p for p in problems), problems


def test_dependency_cycles_are_reported_as_a_path(tmp_path):
    text = (
        "items:\n"
        "  - {key: a, title: A, owner: sales, phase: ga, depends_on: [b]}\n"
        "  - {key: b, title: B, owner: sales, phase: ga, depends_on: [c]}\n"
        "  - {key: c, title: C, owner: sales, phase: ga, depends_on: [a]}\n"
    )
    problems = problems_for(tmp_path, text)
    assert any("depends_on: cycle a -> b -> c -> a" in p for p in problems), problems
    assert sum("cycle" in p for p in problems) == 1


def test_all_problems_in_all_files_come_at_once(tmp_path):
    text = (
        "items:\n"
        "  - {key: a, title: '{{ lauch.name }}', owner: nobody, phase: gaa, colour: red}\n"
        "  - {key: b, title: B, owner: sales, phase: ga, applies_if: [nope], depends_on: [zzz]}\n"
    )
    problems = problems_for(tmp_path, text, library_text='version: "1"\nflags: {Bad-Flag: x}\n')
    joined = "\n".join(problems)
    for expected in (
        "phase:",
        "colour: unknown field",
        "'lauch' is undefined",
        "unknown team 'nobody'",
        "unknown flag 'nope'",
        "unknown item 'zzz'",
        "flag names are lowercase",
    ):
        assert expected in joined, joined


def test_company_directory_overrides_adds_and_disables_by_key(tmp_path):
    company = {
        "library.yaml": 'version: "acme-2"\nflags: {hipaa: Health data.}\n',
        "ours.yaml": (
            "items:\n"
            "  - {key: ga.retro, title: Retro with the exec sponsor, owner: product, phase: ga, due: 14}\n"
            "  - {key: ga.hipaa, title: HIPAA review, owner: legal, phase: ga, applies_if: [hipaa]}\n"
            "  - {key: ga.battlecard, enabled: false}\n"
        ),
    }
    library = make_library(tmp_path, extra=company)
    assert library.items["ga.retro"].title == "Retro with the exec sponsor"
    assert library.items["ga.retro"].gate == "blocking"  # the override replaces the whole item
    assert "ga.hipaa" in library.items
    assert "ga.battlecard" not in library.items
    assert library.version.startswith("test-1+acme-2#")
    assert "hipaa" in library.flags


def test_disabling_a_key_that_does_not_exist_is_an_error(tmp_path):
    problems = problems_for(tmp_path, ITEMS, extra={"ours.yaml": "items:\n  - {key: ga.nothing, enabled: false}\n"})
    assert any("ga.nothing: enabled: false disables nothing" in p for p in problems), problems


def test_a_company_dir_that_does_not_exist_is_named(tmp_path):
    defaults = write_templates(tmp_path / "defaults", {"library.yaml": LIBRARY, "items.yaml": ITEMS})
    with pytest.raises(ConfigError) as caught:
        load_library(directory=seed_directory(), extra_dirs=[tmp_path / "nope"], defaults_dir=defaults)
    assert any("nope: not a directory of template files" in p for p in caught.value.problems)


def test_the_shipped_library_is_valid_and_covers_every_team_and_phase():
    library = load_library(directory=seed_directory(), defaults_dir=default_templates_dir())
    assert len(library.items) >= 60
    assert {item.phase for item in library.items.values()} == set(Phase)
    owners = {item.owner for item in library.items.values()}
    assert {"product", "marketing", "sales", "support", "legal", "docs", "security", "enablement"} <= owners
    regional = {code for item in library.items.values() for code in item.regions if code != "all"}
    assert {"EU", "NA:CA-QC", "LATAM:BR"} <= regional


def test_an_edited_file_is_read_again_even_at_the_same_size_and_time(tmp_path):
    """Parsed templates are reused while their files are unchanged; an edit that keeps the file's
    size and modification time (a quick save) still reaches the next load."""
    defaults = write_templates(tmp_path / "defaults", {"library.yaml": LIBRARY, "items.yaml": item(title="Alpha")})
    first = load_library(directory=seed_directory(), defaults_dir=defaults)
    items_file = defaults / "items.yaml"
    stamp = items_file.stat()
    items_file.write_text(item(title="Omega"))
    os.utime(items_file, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))
    assert items_file.stat().st_size == stamp.st_size
    second = load_library(directory=seed_directory(), defaults_dir=defaults)
    assert first.items["x.one"].title == "Alpha"
    assert second.items["x.one"].title == "Omega"
    assert load_library(directory=seed_directory(), defaults_dir=defaults) is not second  # a fresh library each load
