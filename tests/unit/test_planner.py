"""Planner rules of SPEC §3.4 on hand-made customers; every amount is bank_default's.

bank_default: horizon 30 days; monthly contact AUM ≥ 200,000 every 30 days by rm; birthday
visit 1,000,000 ≤ AUM < 3,000,000, 7 days before, rm_supervisor + rm; festival greetings 1
day before, rm for AUM ≥ 200,000 and personal_banking for AUM ≥ 3,000,000; maturity within
30 days, balance ≥ 10,000; large flow AUM ≥ 100,000, outflow ≥ 50,000, inflow ≥ 100,000,
lookback 7 days; upgrade referral on card_tiers within 10%, rising 2 periods, vip_teller →
rm; data collection teller ≥ 50,000, VIP counter [100,000, 200,000); birthday list ≥ 200,000.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest

from tierbook.planner import plan
from tierbook.rules import load_preset

RB = load_preset("bank_default")
M = RB.rulebook.maintenance
LADDERS = {lad.id: lad for lad in RB.rulebook.ladders}
AS_OF = date(2025, 6, 10)  # window of 30 days: 2025-06-11 … 2025-07-10


def cust(cid, aum, *, kind="individual", birth=None, branch="B1", missing=()):
    return {
        "customer_id": cid,
        "branch_id": branch,
        "kind": kind,
        "birth_date": birth,
        "aum": aum,
        "band": "",
        "missing_fields": tuple(missing),
    }


def run(as_of, customers, staff=(), *, maturities=(), flows=(), history=(), **kw):
    maintenance = kw.pop("maintenance", M)
    return plan(
        as_of,
        maintenance,
        customers=pd.DataFrame(customers),
        assignments=pd.DataFrame(list(staff), columns=["customer_id", "role", "staff_id"]),
        maturities=pd.DataFrame(
            list(maturities),
            columns=["account_id", "customer_id", "product_type", "maturity_date", "balance"],
        ),
        flows=pd.DataFrame(list(flows), columns=["customer_id", "date", "inflow", "outflow"]),
        history=pd.DataFrame(
            list(history), columns=["customer_id", "ladder_id", "period_end", "measure"]
        ),
        stamp=RB.stamp,
        ladders=LADDERS,
        **kw,
    )


def of_kind(p, kind):
    t = p.tasks
    return t.loc[t["kind"] == kind].reset_index(drop=True)


def rows(frame, *cols):
    return sorted(tuple(None if pd.isna(v) else v for v in r) for r in frame[list(cols)].values)


# ---------------------------------------------------------------- monthly contact


def test_exactly_200000_gets_a_monthly_contact_and_199999_99_does_not():
    p = run(
        AS_OF, [cust("A", 200_000), cust("B", 199_999.99)], [("A", "rm", "R1"), ("B", "rm", "R1")]
    )
    t = of_kind(p, "monthly_contact")
    assert rows(t, "customer_id", "staff_id", "role", "rule") == [
        ("A", "R1", "rm", "maintenance.monthly_contact")
    ]
    assert date(2025, 6, 11) <= t.loc[0, "due_date"] <= date(2025, 7, 10)
    assert "200,000.00" in t.loc[0, "reason"]


def test_monthly_contact_goes_to_each_assigned_rm_and_not_to_other_roles():
    staff = [("A", "rm", "R1"), ("A", "rm", "R2"), ("A", "lobby_manager", "L1")]
    t = of_kind(run(AS_OF, [cust("A", 400_000)], staff), "monthly_contact")
    assert rows(t, "staff_id") == [("R1",), ("R2",)]


def test_monthly_contact_without_an_assigned_rm_is_left_unassigned_for_the_branch():
    t = of_kind(run(AS_OF, [cust("A", 400_000)]), "monthly_contact")
    assert rows(t, "staff_id", "role", "branch_id") == [(None, "rm", "B1")]


def test_without_contact_log_a_daily_replan_keeps_the_due_date_and_id():
    customers = [cust(f"C{i}", 300_000) for i in range(40)]
    staff = [(f"C{i}", "rm", "R1") for i in range(40)]
    today = of_kind(run(AS_OF, customers, staff), "monthly_contact")
    tomorrow = of_kind(run(AS_OF + timedelta(days=1), customers, staff), "monthly_contact")
    assert len(today) == 40  # one per customer in a 30-day window
    still_ahead = today.loc[today["due_date"] > AS_OF + timedelta(days=1), "task_id"]
    assert set(still_ahead) <= set(tomorrow["task_id"])
    # spread over the cycle rather than all on one day
    assert today["due_date"].nunique() > 10


def test_next_contact_is_due_30_days_after_the_last_logged_one():
    contacts = pd.DataFrame({"customer_id": ["A"], "staff_id": ["R1"], "date": [date(2025, 6, 1)]})
    t = of_kind(
        run(AS_OF, [cust("A", 250_000)], [("A", "rm", "R1")], contacts=contacts), "monthly_contact"
    )
    assert list(t["due_date"]) == [date(2025, 7, 1)]


def test_overdue_contact_is_kept_and_the_next_cycle_follows():
    # last contact 2025-04-15: due 05-15 (overdue), then 06-14 (in window), 07-14 (beyond 07-10)
    contacts = pd.DataFrame({"customer_id": ["A"], "staff_id": ["R1"], "date": [date(2025, 4, 15)]})
    t = of_kind(
        run(AS_OF, [cust("A", 250_000)], [("A", "rm", "R1")], contacts=contacts), "monthly_contact"
    )
    assert sorted(t["due_date"]) == [date(2025, 5, 15), date(2025, 6, 14)]


def test_a_60_day_horizon_holds_two_monthly_contacts_30_days_apart():
    m = M.model_copy(update={"horizon_days": 60})
    t = of_kind(
        run(AS_OF, [cust("A", 250_000)], [("A", "rm", "R1")], maintenance=m), "monthly_contact"
    )
    d = sorted(t["due_date"])
    assert len(d) == 2
    assert (d[1] - d[0]).days == 30


# ---------------------------------------------------------------- birthday visit

BIRTH = date(1970, 6, 20)  # anniversary 2025-06-20, visit due 2025-06-13


@pytest.mark.parametrize(
    ("aum", "visited"),
    [
        (999_999.99, False),
        (1_000_000, True),
        (2_999_999.99, True),
        (3_000_000, False),  # 300万+ is the branch manager's and head office's, not a visit
    ],
)
def test_birthday_visit_band_is_1m_inclusive_to_3m_exclusive(aum, visited):
    staff = [("A", "rm", "R1"), ("A", "rm_supervisor", "S1")]
    t = of_kind(run(AS_OF, [cust("A", aum, birth=BIRTH)], staff), "birthday_visit")
    expected = [
        ("A", "R1", "rm", date(2025, 6, 13)),
        ("A", "S1", "rm_supervisor", date(2025, 6, 13)),
    ]
    assert rows(t, "customer_id", "staff_id", "role", "due_date") == (expected if visited else [])


def test_birthday_visit_has_a_task_for_each_role_even_if_one_is_unassigned():
    t = of_kind(
        run(AS_OF, [cust("A", 1_500_000, birth=BIRTH)], [("A", "rm", "R1")]), "birthday_visit"
    )
    assert rows(t, "role", "staff_id") == [("rm", "R1"), ("rm_supervisor", None)]


@pytest.mark.parametrize(
    ("birth", "visited"),
    [
        (date(1970, 6, 10), False),  # birthday on as_of: the window starts the day after
        (date(1970, 6, 11), True),
        (date(1970, 7, 10), True),  # as_of + 30
        (date(1970, 7, 11), False),
    ],
)
def test_birthday_visit_window_is_the_30_days_after_as_of(birth, visited):
    t = of_kind(run(AS_OF, [cust("A", 1_500_000, birth=birth)]), "birthday_visit")
    assert (len(t) > 0) is visited


def test_corporates_have_no_birthday():
    c = cust("A", 1_500_000, kind="corporate", birth=BIRTH)
    assert of_kind(run(AS_OF, [c]), "birthday_visit").empty


def test_feb_29_birthday_is_visited_on_feb_28_in_2027_and_feb_29_in_2028():
    c = [cust("A", 1_500_000, birth=date(1988, 2, 29))]
    t27 = of_kind(run(date(2027, 2, 10), c, [("A", "rm", "R1")]), "birthday_visit")
    assert set(t27["due_date"]) == {date(2027, 2, 21)}  # 2027-02-28 minus 7 days
    assert "2027-02-28" in t27.loc[0, "reason"]
    t28 = of_kind(run(date(2028, 2, 10), c, [("A", "rm", "R1")]), "birthday_visit")
    assert set(t28["due_date"]) == {date(2028, 2, 22)}  # 2028-02-29 minus 7 days


# ---------------------------------------------------------------- festival greetings

YEAR_END = date(2027, 12, 30)  # window 2027-12-31 … 2028-01-29: 元旦 01-01 and 春节 01-26


def test_horizon_crossing_year_end_greets_for_new_year_and_next_spring_festival():
    t = of_kind(run(YEAR_END, [cust("A", 200_000)], [("A", "rm", "R1")]), "festival_greeting")
    assert rows(t, "staff_id", "due_date") == [
        ("R1", date(2027, 12, 31)),  # 元旦 2028-01-01, one day before
        ("R1", date(2028, 1, 25)),  # 春节 2028-01-26
    ]
    assert any("春节 2028-01-26" in r for r in t["reason"])
    assert any("元旦 2028-01-01" in r for r in t["reason"])


def test_3000000_gets_the_head_office_greeting_as_well_as_the_rm_one():
    staff = [("A", "rm", "R1"), ("A", "personal_banking", "P1"), ("B", "rm", "R1")]
    customers = [cust("A", 3_000_000), cust("B", 2_999_999.99), cust("C", 199_999.99)]
    t = of_kind(run(YEAR_END, customers, staff), "festival_greeting")
    assert rows(t, "customer_id", "staff_id", "rule") == sorted(
        [("A", "R1", "maintenance.festival_greeting")] * 2
        + [("A", "P1", "maintenance.festival_greeting.head_office_min_aum")] * 2
        + [("B", "R1", "maintenance.festival_greeting")] * 2
    )


def test_two_festivals_on_one_day_make_one_greeting():
    # 2020: 中秋 (lunar 8/15) fell on 国庆 (Oct 1)
    t = of_kind(
        run(date(2020, 9, 20), [cust("A", 500_000)], [("A", "rm", "R1")]), "festival_greeting"
    )
    assert list(t["due_date"]) == [date(2020, 9, 30)]
    assert "中秋" in t.loc[0, "reason"]
    assert "国庆" in t.loc[0, "reason"]


def test_60_day_horizon_from_dec_20_2025_sees_new_year_and_spring_festival_2026_not_lantern():
    m = M.model_copy(update={"horizon_days": 60})  # window 2025-12-21 … 2026-02-18
    t = of_kind(
        run(date(2025, 12, 20), [cust("A", 300_000)], [("A", "rm", "R1")], maintenance=m),
        "festival_greeting",
    )
    assert sorted(t["due_date"]) == [date(2025, 12, 31), date(2026, 2, 16)]


# ---------------------------------------------------------------- maturity


def test_maturity_follow_up_within_30_days_and_balance_at_least_10000():
    mats = [
        ("X1", "A", "time_deposit", date(2025, 7, 10), 10_000),  # as_of + 30, at the minimum
        ("X2", "A", "fund", date(2025, 7, 10), 40_000),  # same day: same task
        ("X3", "A", "time_deposit", date(2025, 7, 1), 9_999.99),  # below the minimum
        ("X4", "A", "time_deposit", date(2025, 7, 11), 50_000),  # beyond 30 days
        ("X5", "A", "time_deposit", date(2025, 6, 10), 50_000),  # matured on as_of
    ]
    t = of_kind(
        run(AS_OF, [cust("A", 60_000)], [("A", "rm", "R1")], maturities=mats), "maturity_follow_up"
    )
    assert rows(t, "customer_id", "staff_id", "due_date", "rule") == [
        ("A", "R1", date(2025, 7, 10), "maintenance.maturity")
    ]
    assert "2 笔" in t.loc[0, "reason"]
    assert "50,000.00" in t.loc[0, "reason"]  # 10,000 + 40,000


# ---------------------------------------------------------------- large flows

FLOWS = [
    ("A", date(2025, 6, 4), 0, 50_000),  # first day of the 7-day window, at the minimum
    ("A", date(2025, 6, 3), 0, 80_000),  # before the window
    ("A", date(2025, 6, 5), 99_999.99, 49_999.99),  # both just below
    ("A", date(2025, 6, 10), 100_000, 0),  # inflow at the minimum on as_of
    ("B", date(2025, 6, 8), 0, 1_000_000),  # customer below 100,000 AUM
]


def test_large_outflow_and_inflow_alerts_with_follow_up_tasks():
    customers = [cust("A", 100_000), cust("B", 99_999.99)]
    p = run(AS_OF, customers, [("A", "rm", "R1"), ("B", "rm", "R1")], flows=FLOWS)
    assert rows(p.alerts, "customer_id", "staff_id", "kind", "date", "amount") == [
        ("A", "R1", "large_inflow", date(2025, 6, 10), 100_000),
        ("A", "R1", "large_outflow", date(2025, 6, 4), 50_000),
    ]
    assert set(p.alerts["rule"]) == {"maintenance.large_flow"}
    follow = p.tasks.loc[p.tasks["kind"].str.endswith("_follow_up")]
    assert rows(follow, "kind", "due_date") == [
        ("large_inflow_follow_up", date(2025, 6, 11)),
        ("large_outflow_follow_up", date(2025, 6, 5)),
    ]
    assert any("50,000.00" in r for r in p.alerts["reason"])


# ---------------------------------------------------------------- upgrade referral


def hist(cid, *values, start=(2025, 3)):
    ends = pd.date_range(pd.Timestamp(*start, 1), periods=len(values), freq="ME")
    return [(cid, "card_tiers", e.date(), v) for e, v in zip(ends, values, strict=True)]


def test_upgrade_referral_at_exactly_10_percent_below_the_next_level():
    h = hist("A", 80_000, 85_000, 90_000) + hist("B", 80_000, 85_000, 89_999.99)
    staff = [("A", "vip_teller", "V1"), ("B", "vip_teller", "V1")]
    t = of_kind(
        run(AS_OF, [cust("A", 90_000), cust("B", 89_999.99)], staff, history=h), "upgrade_referral"
    )
    assert rows(t, "customer_id", "staff_id", "role", "due_date") == [
        ("A", "V1", "vip_teller", date(2025, 6, 30))  # month after the 2025-05-31 period
    ]
    reason = t.loc[0, "reason"]
    assert "金卡" in reason
    assert "10,000.00" in reason
    assert "rm" in reason


def test_upgrade_referral_names_the_next_level_and_gap():
    h = hist("A", 250_000, 270_000, 285_000)
    t = of_kind(
        run(AS_OF, [cust("A", 285_000)], [("A", "vip_teller", "V1")], history=h), "upgrade_referral"
    )
    assert "白金" in t.loc[0, "reason"]
    assert "15,000.00" in t.loc[0, "reason"]
    assert "5.0%" in t.loc[0, "reason"]


@pytest.mark.parametrize(
    "values",
    [
        (96_000, 94_000, 95_000),  # fell once in the last two periods
        (95_000, 95_000, 96_000),  # flat is not rising
        (94_000, 95_000),  # only one period of rise
        (60_000, 98_000, 100_000),  # reached 金卡: the next level 白金 is far
    ],
)
def test_no_upgrade_referral_without_two_rising_periods_near_a_level(values):
    t = of_kind(
        run(
            AS_OF, [cust("A", values[-1])], [("A", "vip_teller", "V1")], history=hist("A", *values)
        ),
        "upgrade_referral",
    )
    assert t.empty


def test_upgrade_referral_needs_consecutive_months_and_the_latest_period():
    gap = [
        ("A", "card_tiers", date(2025, 3, 31), 80_000),
        ("A", "card_tiers", date(2025, 5, 31), 85_000),
        ("A", "card_tiers", date(2025, 6, 30), 95_000),
    ]  # April missing
    stale = hist("B", 80_000, 85_000, 95_000, start=(2025, 1))  # stops in March
    other = hist("C", 10_000, 20_000, 30_000, start=(2025, 4))  # sets the latest period: June
    staff = [(c, "vip_teller", "V1") for c in "ABC"]
    t = of_kind(
        run(date(2025, 7, 2), [cust(c, 95_000) for c in "ABC"], staff, history=gap + stale + other),
        "upgrade_referral",
    )
    assert t.empty


def test_upgrade_referral_is_a_duty_of_the_customers_own_teller_only():
    h = hist("A", 250_000, 270_000, 285_000)
    t = of_kind(
        run(AS_OF, [cust("A", 285_000)], [("A", "rm", "R1")], history=h), "upgrade_referral"
    )
    assert t.empty


# ---------------------------------------------------------------- data collection


@pytest.mark.parametrize(
    ("aum", "role"),
    [
        (49_999.99, None),
        (50_000, "teller"),
        (99_999.99, "teller"),
        (100_000, "vip_teller"),
        (199_999.99, "vip_teller"),
        (200_000, "teller"),
    ],
)
def test_data_collection_teller_from_50000_vip_counter_from_100000_to_200000(aum, role):
    t = of_kind(run(AS_OF, [cust("A", aum, missing=["phone"])]), "data_collection")
    assert rows(t, "role") == ([] if role is None else [(role,)])
    if role:
        assert t.loc[0, "due_date"] == date(2025, 6, 30)
        assert "phone" in t.loc[0, "reason"]


def test_data_collection_skips_complete_profiles_and_a_corporates_birth_date():
    customers = [
        cust("A", 80_000),
        cust("B", 80_000, kind="corporate", missing=["birth_date"]),
        cust("C", 80_000, kind="corporate", missing=["birth_date", "address"]),
    ]
    t = of_kind(run(AS_OF, customers), "data_collection")
    assert list(t["customer_id"]) == ["C"]
    assert "address" in t.loc[0, "reason"]
    assert "birth_date" not in t.loc[0, "reason"]


# ---------------------------------------------------------------- birthday list


def test_next_months_birthday_list_whatever_day_as_of_is():
    customers = [
        cust("A", 200_000, birth=date(1980, 7, 1)),
        cust("B", 199_999.99, birth=date(1980, 7, 5)),
        cust("C", 500_000, birth=date(1980, 8, 1)),
        cust("D", 500_000, birth=date(1980, 6, 30)),
        cust("E", 500_000, birth=date(1980, 7, 31), branch="B2"),
        cust("F", 500_000, kind="corporate", birth=date(1980, 7, 15)),
    ]
    staff = [("C", "branch_manager", "M1")]
    for as_of in (date(2025, 6, 1), date(2025, 6, 10), date(2025, 6, 30)):
        p = run(as_of, customers, staff)
        assert rows(p.birthday_list, "customer_id", "birthday", "list_month") == [
            ("A", date(2025, 7, 1), "2025-07"),
            ("E", date(2025, 7, 31), "2025-07"),
        ]
        t = of_kind(p, "birthday_list")
        assert rows(t, "branch_id", "staff_id", "role", "due_date") == [
            ("B1", "M1", "branch_manager", date(2025, 6, 30)),
            ("B2", None, "branch_manager", date(2025, 6, 30)),
        ]


def test_birthday_list_at_year_end_is_januarys_and_feb_29_lands_on_feb_28():
    customers = [
        cust("A", 300_000, birth=date(1990, 1, 3)),
        cust("B", 300_000, birth=date(1988, 2, 29)),
    ]
    assert rows(run(date(2025, 12, 31), customers).birthday_list, "customer_id", "birthday") == [
        ("A", date(2026, 1, 3))
    ]
    assert rows(run(date(2027, 1, 15), customers).birthday_list, "customer_id", "birthday") == [
        ("B", date(2027, 2, 28))
    ]


# ---------------------------------------------------------------- ids, stamp, privacy

EVERYTHING = [
    cust("A", 1_500_000, birth=date(1988, 2, 29), missing=["address"]),
    cust("B", 3_500_000, birth=date(1975, 1, 20)),
    cust("C", 150_000, missing=["phone"]),
]
EVERY_STAFF = [
    ("A", "rm", "R1"),
    ("A", "rm_supervisor", "S1"),
    ("B", "rm", "R1"),
    ("B", "personal_banking", "P1"),
    ("B", "branch_manager", "M1"),
]


def test_task_ids_are_unique_and_stable_across_two_calls():
    a = run(
        date(2027, 12, 30), EVERYTHING, EVERY_STAFF, flows=[("A", date(2027, 12, 29), 0, 90_000)]
    )
    b = run(
        date(2027, 12, 30), EVERYTHING, EVERY_STAFF, flows=[("A", date(2027, 12, 29), 0, 90_000)]
    )
    assert a.tasks["task_id"].is_unique
    assert a.alerts["alert_id"].is_unique
    assert list(a.tasks["task_id"]) == list(b.tasks["task_id"])
    assert list(a.alerts["alert_id"]) == list(b.alerts["alert_id"])
    kinds = set(a.tasks["kind"])
    assert {"monthly_contact", "festival_greeting", "birthday_list", "data_collection"} <= kinds


def test_every_output_carries_the_rulebook_stamp_and_columns():
    p = run(
        date(2027, 1, 15), EVERYTHING, EVERY_STAFF, flows=[("B", date(2027, 1, 14), 200_000, 0)]
    )
    for frame in (p.tasks, p.alerts, p.birthday_list):
        assert not frame.empty
        assert set(frame["rulebook_id"]) == {"bank-default"}
        assert set(frame["rulebook_version"]) == {"2025.1"}
        assert set(frame["rulebook_sha256"]) == {RB.sha256}
    assert list(p.tasks.columns[:9]) == [
        "task_id",
        "customer_id",
        "branch_id",
        "staff_id",
        "role",
        "kind",
        "due_date",
        "reason",
        "rule",
    ]
    assert set(p.tasks["rule"]) <= {f"maintenance.{k}" for k in type(M).model_fields} | {
        "maintenance.festival_greeting.head_office_min_aum"
    }


def test_reasons_hold_no_raw_personal_data():
    p = run(date(2027, 1, 15), EVERYTHING, EVERY_STAFF)
    text = " ".join(p.tasks["reason"])
    assert "1988" not in text  # birth year
    assert "1975" not in text


def test_empty_inputs_give_empty_frames_with_columns():
    p = run(AS_OF, [cust("A", 500)])
    assert p.tasks.empty
    assert p.alerts.empty
    assert p.birthday_list.empty
    assert "task_id" in p.tasks.columns
    assert "alert_id" in p.alerts.columns
    assert "list_month" in p.birthday_list.columns
