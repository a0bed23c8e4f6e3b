"""Public holidays of the countries a region lists (``Region.holiday_countries``), from the
``holidays`` package: a code is a country (``DE``) or a country and one of its subdivisions
(``CA-QC``, Quebec, whose Saint-Jean-Baptiste Canada at large does not keep).

Calendars are built once per country and year and kept (a few hundred microseconds each after the
package's first import), so a page over every active launch asks the package only for the years
its dates touch."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import holidays as holiday_data

LANGUAGE = "en_US"  # holiday names in English where the package has them, else its own default


@dataclass(frozen=True)
class Holiday:
    day: date
    country: str  # as the region lists it: DE, CA-QC
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.country})"


@lru_cache(maxsize=1024)
def _calendar(code: str, year: int) -> dict[date, str]:
    country, _, subdivision = code.partition("-")
    calendar = holiday_data.country_holidays(country, subdiv=subdivision or None, years=year, language=LANGUAGE)
    return dict(calendar.items())


def holidays_on(day: date, countries: Sequence[str]) -> list[Holiday]:
    """The public holidays on ``day`` in each of ``countries`` (in their order). A code the
    package does not know names no holiday: the directory refuses such codes when they come in."""
    found = []
    for code in countries:
        try:
            name = _calendar(code, day.year).get(day)
        except NotImplementedError:
            continue
        if name is not None:
            found.append(Holiday(day=day, country=code, name=name))
    return found


def first_holidays(days: Iterable[date], countries: Sequence[str]) -> list[Holiday]:
    """The holidays on any of ``days`` (each day once, in order)."""
    return [holiday for day in sorted(set(days)) for holiday in holidays_on(day, countries)]
