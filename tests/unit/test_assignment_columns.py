"""The column-wise staff assignment (``planner.assign_columns``, what the batch runs) gives
exactly the frames of the domain's per-object rule (``domain.assignment``), on random banks:
first runs, second runs with departures, band changes, branch moves, capacity cuts, staff
not yet started, branches lacking a role or any staff, previous rows duplicated or unstaffed."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.planner.assign import assign_frame
from tierbook.rules.loader import load_preset
from tierbook.rules.models import STAFF_ROLES, Role

AS_OF = date(2025, 6, 30)
LADDER = load_preset("bank_default").rulebook.ladder("branch_bands")
BANDS = LADDER.level_names()
BRANCHES = ("B1", "B1", "B1", "B2", "B10", "B3")  # B3 has no staff


@st.composite
def banks(draw):
    n = draw(st.integers(0, 80))
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{draw(st.integers(0, 999)):03d}-{i}" for i in range(n)],
            "branch_id": [draw(st.sampled_from(BRANCHES)) for _ in range(n)],
            "band": [draw(st.sampled_from(BANDS)) for _ in range(n)],
            # few distinct values: AUM ties are common and break by customer_id
            "aum": [float(draw(st.sampled_from([0, 5e4, 2e5, 2e5, 3e6]))) for _ in range(n)],
        }
    )
    rows, pools = [], [(b, r) for b in ("B1", "B2", "B10") for r in STAFF_ROLES]
    for branch, role in [*pools, ("", Role.PERSONAL_BANKING)]:
        if branch and role == Role.PERSONAL_BANKING:
            continue
        for _ in range(draw(st.sampled_from([0, 1, 1, 2, 3]))):
            start = AS_OF + timedelta(days=draw(st.sampled_from([-400, -400, -1, 0, 1])))
            end = draw(st.sampled_from([None, None, None, AS_OF - timedelta(days=1), AS_OF]))
            cap = draw(st.integers(-1, 30))
            rows.append((f"S{len(rows):02d}", branch, role.value, cap, start, end))
    staff = pd.DataFrame(
        rows, columns=["staff_id", "branch_id", "role", "capacity", "start_date", "end_date"]
    )
    staff["start_date"] = pd.to_datetime(staff["start_date"])
    staff["end_date"] = pd.to_datetime(staff["end_date"])
    return customers, staff


def same(customers, staff, as_of, previous):
    got = assign_frame(customers, LADDER, staff, as_of, previous)
    ref = assign_frame(customers, LADDER, staff, as_of, previous, reference=True)
    for name in ("assignments", "moves", "departures", "released"):
        pd.testing.assert_frame_equal(
            getattr(got, name), getattr(ref, name), check_exact=True, obj=name
        )
    return ref


def perturb(draw, customers, staff, previous):
    """The next day: bands and branches change, people leave or cut capacity, rows doubled."""
    band, branch = customers["band"].tolist(), customers["branch_id"].tolist()
    for i in range(len(band)):
        if draw(st.integers(0, 4)) == 0:
            band[i] = draw(st.sampled_from(BANDS))
        if draw(st.integers(0, 9)) == 0:
            branch[i] = draw(st.sampled_from(BRANCHES))
    aum = [float(draw(st.sampled_from([0, 5e4, 2e5, 3e6]))) for _ in band]
    c = customers.assign(band=band, branch_id=branch, aum=aum)
    if len(c) and draw(st.booleans()):
        c = c.drop(index=draw(st.integers(0, len(c) - 1))).reset_index(drop=True)
    s = staff.copy()
    for j in range(len(s)):
        if draw(st.integers(0, 5)) == 0:
            s.loc[j, "end_date"] = pd.Timestamp(AS_OF)
        if draw(st.integers(0, 2)) == 0:
            s.loc[j, "capacity"] = draw(st.integers(0, 8))
    p = previous.copy()
    if len(p) and draw(st.booleans()):
        extra = p.sample(min(3, len(p)), random_state=draw(st.integers(0, 99)))
        extra = extra.assign(staff_id=draw(st.sampled_from(["S00", "S05", None, "gone"])))
        p = pd.concat([p, extra], ignore_index=True)
    return c, s, p


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(bank=banks(), data=st.data())
def test_columns_equal_the_domain_rule_on_random_banks(bank, data):
    customers, staff = bank
    first = same(customers, staff, AS_OF, None)
    day = AS_OF + timedelta(days=1)
    c, s, p = perturb(data.draw, customers, staff, first.assignments)
    second = same(c, s, day, p)
    same(c, s, day + timedelta(days=1), second.assignments)  # an unchanged day after


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("customer", "customer_id 'C1' appears more than once"),
        ("band", "bands not in the ladder: 金卡"),
        ("staff", "staff_id 'S1' appears more than once"),
    ],
)
def test_columns_refuse_what_the_rule_refuses(bad, message):
    customers = pd.DataFrame(
        {"customer_id": ["C1", "C2"], "branch_id": ["B1"] * 2, "band": [BANDS[2]] * 2, "aum": 1.0}
    )
    staff = pd.DataFrame(
        {"staff_id": ["S1", "S2"], "branch_id": ["B1"] * 2, "role": ["teller"] * 2, "capacity": 9}
    )
    if bad == "customer":
        customers.loc[1, "customer_id"] = "C1"
    elif bad == "band":
        customers.loc[1, "band"] = "金卡"
    else:
        staff.loc[1, "staff_id"] = "S1"
    with pytest.raises(ValueError, match=message):
        assign_frame(customers, LADDER, staff, AS_OF, reference=True)
    with pytest.raises(ValueError, match=message):
        assign_frame(customers, LADDER, staff, AS_OF)
