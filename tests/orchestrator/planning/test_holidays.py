"""Regions' holiday countries: the built-in directory's choices, and a seed file naming a country
or subdivision the `holidays` package has no calendar for refused with its line."""

import pytest

from orchestrator.core.errors import ConfigError
from orchestrator.directory.seed import holiday_country_problem, load_seed


def test_the_built_in_regions_list_their_main_countries():
    regions = {region.code: region.holiday_countries for region in load_seed(None).regions}
    assert regions == {
        "APAC": ["JP", "AU", "SG"],
        "APAC:JP": ["JP"],
        "APAC:CN": ["CN"],
        "APAC:IN": ["IN"],
        "EU": ["DE", "FR", "GB"],
        "LATAM": ["BR", "MX"],
        "LATAM:BR": ["BR"],
        "NA": ["US", "CA"],
        "NA:CA-QC": ["CA-QC"],
    }


def test_a_country_without_a_holiday_calendar_is_refused_with_its_line(tmp_path):
    assert holiday_country_problem("CA-QC") is None
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        "regions:\n"
        "  - {code: EU, name: Europe, timezone: Europe/Berlin, holiday_countries: [DE, XX]}\n"
        "  - {code: NA, name: North America, timezone: America/New_York, holiday_countries: [CA-ZZ]}\n"
    )
    with pytest.raises(ConfigError) as refused:
        load_seed(seed)
    text = str(refused.value)
    assert "seed.yaml:2" in text
    assert "'XX' is not a country with a holiday calendar; use ISO 3166-1 alpha-2 codes such as DE, US, JP" in text
    assert "seed.yaml:3" in text
    assert "CA has no subdivision 'ZZ' in the holiday calendars" in text
