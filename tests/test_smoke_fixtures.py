from sqlmodel import select

from orchestrator.core.models import Region


def test_seeded_database_has_builtin_regions(seeded):
    codes = set(seeded.exec(select(Region.code)))
    assert {"NA", "EU", "APAC", "LATAM", "NA:CA-QC"} <= codes
