"""Festival calendar and birthday anniversaries. Pure functions, no I/O.

The six festivals of seed 004 (逢年过节): two on fixed solar dates and four on lunar dates,
which are converted with ``lunardate`` (Chinese lunisolar calendar tables for 1900–2099), so
no festival date is ever typed in:

- new_year 元旦: January 1
- spring_festival 春节: lunar month 1, day 1
- lantern 元宵: lunar month 1, day 15
- dragon_boat 端午: lunar month 5, day 5
- mid_autumn 中秋: lunar month 8, day 15
- national_day 国庆: October 1

Every lunar festival of lunar year *Y* falls in solar year *Y* (春节 lies between Jan 21 and
Feb 20), so ``festival_dates(year)`` is exactly the festivals of one solar year.
"""

from __future__ import annotations

import calendar as _stdcal
from datetime import date, timedelta
from typing import get_args

from lunardate import LunarDate

from tierbook.rules.models import Festival

MIN_YEAR = 1900
MAX_YEAR = 2099

FESTIVALS: tuple[str, ...] = get_args(Festival)  # in calendar order
FESTIVAL_NAMES_ZH: dict[str, str] = {
    "new_year": "元旦",
    "spring_festival": "春节",
    "lantern": "元宵",
    "dragon_boat": "端午",
    "mid_autumn": "中秋",
    "national_day": "国庆",
}
FESTIVAL_NAMES_EN: dict[str, str] = {
    "new_year": "New Year's Day",
    "spring_festival": "Spring Festival",
    "lantern": "Lantern Festival",
    "dragon_boat": "Dragon Boat Festival",
    "mid_autumn": "Mid-Autumn Festival",
    "national_day": "National Day",
}
_SOLAR: dict[str, tuple[int, int]] = {"new_year": (1, 1), "national_day": (10, 1)}
_LUNAR: dict[str, tuple[int, int]] = {
    "spring_festival": (1, 1),
    "lantern": (1, 15),
    "dragon_boat": (5, 5),
    "mid_autumn": (8, 15),
}


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueError(f"festival calendar covers {MIN_YEAR}–{MAX_YEAR}; got year {year}")


def _lunar_to_solar(year: int, month: int, day: int) -> date:
    solar = LunarDate(year, month, day).to_solar_date()
    return date(solar.year, solar.month, solar.day)


def festival_dates(year: int) -> dict[str, date]:
    """The solar date of each festival in ``year``, in calendar order of ``FESTIVALS``."""
    _check_year(year)
    out: dict[str, date] = {}
    for key in FESTIVALS:
        if key in _SOLAR:
            out[key] = date(year, *_SOLAR[key])
        else:
            out[key] = _lunar_to_solar(year, *_LUNAR[key])
    return out


def festivals_between(
    start: date, end: date, festivals: tuple[str, ...] | None = None
) -> list[tuple[date, str]]:
    """``(date, key)`` of each festival with ``start <= date <= end``, sorted by date.

    ``festivals`` restricts the keys (default: all six); an unknown key is an error.
    """
    wanted = FESTIVALS if festivals is None else festivals
    unknown = sorted(set(wanted) - set(FESTIVALS))
    if unknown:
        raise ValueError(f"unknown festival(s) {', '.join(unknown)}; known: {', '.join(FESTIVALS)}")
    found = [
        (day, key)
        for year in range(start.year, end.year + 1)
        for key, day in festival_dates(year).items()
        if key in wanted and start <= day <= end
    ]
    return sorted(found)


def festival_name(key: str, lang: str = "zh") -> str:
    """Display name of a festival key: ``"zh"`` (default) or ``"en"``."""
    names = FESTIVAL_NAMES_ZH if lang == "zh" else FESTIVAL_NAMES_EN
    return names[key]


def birthday_in_year(birth: date, year: int) -> date:
    """The anniversary of ``birth`` in ``year``; Feb 29 falls on Feb 28 in a non-leap year."""
    if birth.month == 2 and birth.day == 29 and not _stdcal.isleap(year):
        return date(year, 2, 28)
    return date(year, birth.month, birth.day)


def birthdays_between(birth: date, start: date, end: date) -> list[date]:
    """Every anniversary of ``birth`` with ``start <= day <= end`` (none before the birth)."""
    days = (birthday_in_year(birth, y) for y in range(start.year, end.year + 1))
    return [d for d in days if start <= d <= end and d > birth]


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return date(day.year, day.month, _stdcal.monthrange(day.year, day.month)[1])


def next_month(day: date) -> tuple[int, int]:
    """``(year, month)`` of the month after ``day``'s month."""
    first_next = month_end(day) + timedelta(days=1)
    return first_next.year, first_next.month
