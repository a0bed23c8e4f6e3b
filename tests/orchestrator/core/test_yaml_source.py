"""Parsing YAML for the seed and the checklist templates (core/yaml_source.py): a syntax error is
located where the broken construct starts, and a key given twice in a mapping is an error."""

import pytest

from orchestrator.core.errors import ConfigError
from orchestrator.core.yaml_source import parse_yaml


def problems(text):
    with pytest.raises(ConfigError) as refused:
        parse_yaml(text, source="s.yaml")
    return refused.value.problems


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('teams:\n  - key: product\n    name: "unclosed\n    team: x\nregions:\n  - EU\n', "s.yaml:3:11:"),
        ("teams:\n  - key: product\n    name: [unclosed\n", "s.yaml:3:11:"),
        ("key: 1\nname without colon\nteam: 2\n", "s.yaml:2:1:"),
        ("teams:\n  - key: a\n   name: A\n", "s.yaml:3:4:"),
    ],
    ids=["unclosed-quote", "unclosed-flow-sequence", "key-without-colon", "bad-indentation"],
)
def test_a_syntax_error_names_the_line_and_column_to_fix(text, where):
    (problem,) = problems(text)
    assert problem.startswith(where), problem
    assert "not valid YAML" in problem


def test_a_key_given_twice_is_an_error_naming_the_key_and_both_lines():
    text = "teams:\n  - key: a\n    name: A\n    key: b\nregions: []\nteams: []\n"
    assert problems(text) == [
        "s.yaml:6: key 'teams' is given twice in the same mapping (lines 1 and 6); only one would be kept, "
        "so remove the other",
        "s.yaml:4: key 'key' is given twice in the same mapping (lines 2 and 4); only one would be kept, "
        "so remove the other",
    ]


def test_the_same_key_in_different_mappings_is_fine():
    document = parse_yaml("teams:\n  - key: a\n  - key: b\nregions:\n  key: EU\n", source="s.yaml")
    assert document.data["teams"] == [{"key": "a"}, {"key": "b"}]
