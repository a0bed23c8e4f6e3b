"""Small template directories written per test, so loader and planning tests do not depend on the
default library's content."""

from pathlib import Path
from textwrap import dedent

from checklists.catalog import Directory
from checklists.loader import Library, load_library
from orchestrator.directory.seed import load_seed

LIBRARY = """\
version: "test-1"
flags:
  personal_data: The launch processes personal data.
  pricing_change: Prices change.
  sells_to_quebec_consumers: Sold to consumers in Quebec.
"""

ITEMS = """\
items:
  - key: int.brief
    title: Launch brief for {{ launch.name }}
    owner: product
    phase: internal
    due: {1: -30, 2: -21, 3: -7}
  - key: int.flag
    title: Kill switch ready in {{ region.code }}
    owner: engineering
    phase: internal
    due: -3
    depends_on: [int.brief]
  - key: pb.charter
    title: Beta charter
    owner: product
    phase: private_beta
    tiers: [1, 2]
    due: -14
  - key: ga.legal_review
    title: Legal review of public copy
    owner: legal
    phase: ga
    due: -14
    gate_by_tier: {3: advisory}
    evidence: true
  - key: ga.privacy_notice
    title: Privacy notice updated ({{ phase.label }})
    owner: legal
    phase: ga
    applies_if: [personal_data]
    due: -10
  - key: ga.battlecard
    title: Battlecard
    owner: sales
    phase: ga
    tiers: [1]
    due: -21
  - key: ga.sales_training
    title: Sales trained
    owner: enablement
    phase: ga
    due: -7
    depends_on: [ga.battlecard]
  - key: ga.retro
    title: Week-one retro
    owner: product
    phase: ga
    due: 7
    gate: advisory
  - key: reg.eu.dpa
    title: DPA signed with processors for {{ region.name }}
    owner: legal
    phase: ga
    regions: [EU]
    applies_if: [personal_data]
    due: -21
    evidence: true
  - key: reg.qc.french
    title: French-language experience for Quebec
    owner: marketing
    phase: ga
    regions: ["NA:CA-QC"]
    applies_if: [sells_to_quebec_consumers]
    due: -14
"""


def write_templates(root: Path, files: dict[str, str]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (root / name).write_text(dedent(text))
    return root


def seed_directory() -> Directory:
    return Directory.from_seed(load_seed(None))


def make_library(root: Path, *, extra: dict[str, str] | None = None) -> Library:
    defaults = write_templates(root / "defaults", {"library.yaml": LIBRARY, "items.yaml": ITEMS})
    extra_dirs = [write_templates(root / "company", extra)] if extra else []
    return load_library(directory=seed_directory(), extra_dirs=extra_dirs, defaults_dir=defaults)
