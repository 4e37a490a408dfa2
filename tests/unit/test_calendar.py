"""Festival calendar: lunar festivals are computed, checked against published dates."""

from __future__ import annotations

from datetime import date

import pytest

from tierbook.domain.calendar import (
    FESTIVALS,
    birthday_in_year,
    birthdays_between,
    festival_dates,
    festival_name,
    festivals_between,
    month_end,
    next_month,
)

# Published dates (Chinese State Council holiday notices for 2025/2026; the 2027–2030 Spring
# and Mid-Autumn festivals are the dates of every published Chinese almanac / HKO table).
KNOWN = [
    (2025, "spring_festival", date(2025, 1, 29)),
    (2025, "lantern", date(2025, 2, 12)),
    (2025, "dragon_boat", date(2025, 5, 31)),
    (2025, "mid_autumn", date(2025, 10, 6)),
    (2026, "spring_festival", date(2026, 2, 17)),
    (2026, "dragon_boat", date(2026, 6, 19)),
    (2026, "mid_autumn", date(2026, 9, 25)),
    (2027, "spring_festival", date(2027, 2, 6)),
    (2027, "mid_autumn", date(2027, 9, 15)),
    (2028, "spring_festival", date(2028, 1, 26)),
    (2030, "spring_festival", date(2030, 2, 3)),
    (2020, "mid_autumn", date(2020, 10, 1)),  # the year 中秋 fell on 国庆
]


@pytest.mark.parametrize(("year", "key", "expected"), KNOWN)
def test_lunar_festival_matches_published_date(year, key, expected):
    assert festival_dates(year)[key] == expected


def test_lantern_is_fourteen_days_after_spring_festival_every_year():
    for year in range(1900, 2100):
        d = festival_dates(year)
        assert (d["lantern"] - d["spring_festival"]).days == 14


def test_spring_festival_lies_between_jan_21_and_feb_20_for_the_whole_range():
    for year in range(1900, 2100):
        sf = festival_dates(year)["spring_festival"]
        assert date(year, 1, 21) <= sf <= date(year, 2, 20)


def test_solar_festivals_are_fixed():
    d = festival_dates(2031)
    assert d["new_year"] == date(2031, 1, 1)
    assert d["national_day"] == date(2031, 10, 1)


def test_every_year_has_all_six_festivals_in_that_year():
    d = festival_dates(2099)
    assert tuple(d) == FESTIVALS
    assert all(day.year == 2099 for day in d.values())


@pytest.mark.parametrize("year", [1899, 2100])
def test_years_outside_1900_2099_are_refused(year):
    with pytest.raises(ValueError, match="1900"):
        festival_dates(year)


def test_festivals_between_crosses_a_year_end():
    found = festivals_between(date(2027, 12, 31), date(2028, 1, 29))
    assert found == [
        (date(2028, 1, 1), "new_year"),
        (date(2028, 1, 26), "spring_festival"),
    ]


def test_festivals_between_is_inclusive_and_can_be_restricted():
    assert festivals_between(date(2025, 10, 1), date(2025, 10, 6), ("mid_autumn",)) == [
        (date(2025, 10, 6), "mid_autumn")
    ]
    assert festivals_between(date(2025, 10, 1), date(2025, 10, 1)) == [
        (date(2025, 10, 1), "national_day")
    ]


def test_unknown_festival_key_is_refused():
    with pytest.raises(ValueError, match="qingming"):
        festivals_between(date(2025, 1, 1), date(2025, 12, 31), ("qingming",))


def test_chinese_and_english_names():
    assert [festival_name(k) for k in FESTIVALS] == ["元旦", "春节", "元宵", "端午", "中秋", "国庆"]
    assert festival_name("mid_autumn", "en") == "Mid-Autumn Festival"


def test_feb_29_birthday_falls_on_feb_28_in_a_non_leap_year():
    born = date(1988, 2, 29)
    assert birthday_in_year(born, 2027) == date(2027, 2, 28)
    assert birthday_in_year(born, 2028) == date(2028, 2, 29)


def test_birthdays_between_skips_dates_before_birth():
    assert birthdays_between(date(2025, 3, 1), date(2025, 1, 1), date(2026, 12, 31)) == [
        date(2026, 3, 1)
    ]


def test_month_end_and_next_month():
    assert month_end(date(2028, 2, 3)) == date(2028, 2, 29)
    assert next_month(date(2027, 12, 31)) == (2028, 1)
