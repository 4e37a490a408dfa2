"""Who maintains whom (SPEC §3.3). Expected values are worked out by hand from the rules."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from tierbook.domain.assignment import (
    Assignment,
    AssignmentResult,
    CustomerBand,
    PreviousAssignment,
    Reason,
    StaffMember,
    assign_staff,
    band_roles,
)
from tierbook.rules.loader import load_preset
from tierbook.rules.models import STAFF_ROLES, Role

AS_OF = date(2025, 6, 30)
LONG_AGO = date(2020, 1, 1)


@pytest.fixture(scope="module")
def roles() -> dict[str, tuple[Role, ...]]:
    return band_roles(load_preset("bank_default").rulebook.ladder("branch_bands").levels)


def person(
    sid: str,
    role: Role,
    *,
    branch: str = "B1",
    capacity: int = 100,
    start: date | None = LONG_AGO,
    end: date | None = None,
) -> StaffMember:
    return StaffMember(sid, branch, role, capacity, start, end)


def cust(cid: str, band: str, aum: float = 300_000, branch: str = "B1") -> CustomerBand:
    return CustomerBand(cid, branch, band, aum)


BRANCH_STAFF = [
    person("T1", Role.TELLER),
    person("V1", Role.VIP_TELLER),
    person("L1", Role.LOBBY_MANAGER),
    person("R1", Role.RM),
    person("S1", Role.RM_SUPERVISOR),
    person("M1", Role.BRANCH_MANAGER),
    person("T2", Role.TELLER, branch="B2"),
    person("R2", Role.RM, branch="B2"),
    person("L2", Role.LOBBY_MANAGER, branch="B2"),
    person("P1", Role.PERSONAL_BANKING, branch=""),
]


def staff_of(result: AssignmentResult, cid: str) -> dict[Role, str | None]:
    return {a.role: a.staff_id for a in result.assignments if a.customer_id == cid}


def rows_of(result: AssignmentResult, cid: str) -> dict[Role, Assignment]:
    return {a.role: a for a in result.assignments if a.customer_id == cid}


def test_band_roles_add_personal_banking_to_the_top_band_only(roles):
    assert roles["未维护"] == ()
    assert roles["0.1-5万"] == (Role.TELLER,)
    assert roles["20-50万"] == (Role.RM, Role.LOBBY_MANAGER)
    assert roles["300万+"] == (Role.BRANCH_MANAGER, Role.RM_SUPERVISOR, Role.PERSONAL_BANKING)


@pytest.mark.parametrize(
    ("band", "branch", "expected"),
    [
        ("未维护", "B1", {}),
        ("0.1-5万", "B1", {Role.TELLER: "T1"}),
        ("5-20万", "B1", {Role.VIP_TELLER: "V1"}),
        ("20-50万", "B1", {Role.RM: "R1", Role.LOBBY_MANAGER: "L1"}),
        ("20-50万", "B2", {Role.RM: "R2", Role.LOBBY_MANAGER: "L2"}),
        ("50-300万", "B1", {Role.RM: "R1", Role.RM_SUPERVISOR: "S1"}),
        (
            "300万+",
            "B1",
            {Role.BRANCH_MANAGER: "M1", Role.RM_SUPERVISOR: "S1", Role.PERSONAL_BANKING: "P1"},
        ),
    ],
)
def test_each_band_gets_its_roles_from_its_own_branch(roles, band, branch, expected):
    result = assign_staff([cust("C1", band, branch=branch)], roles, BRANCH_STAFF, AS_OF)
    assert staff_of(result, "C1") == expected
    assert all(a.reason == Reason.NEW and not a.over_capacity for a in result.assignments)


def test_capacity_balancing_gives_loads_proportional_to_capacity(roles):
    # lowest load ÷ capacity first, ties by staff_id: A(1) B(2) C(3) -> A, B, C, C, B, C
    staff = [
        person("A", Role.TELLER, capacity=1),
        person("B", Role.TELLER, capacity=2),
        person("C", Role.TELLER, capacity=3),
    ]
    customers = [cust(f"C{i}", "0.1-5万") for i in range(6)]
    result = assign_staff(customers, roles, staff, AS_OF)
    assert result.loads() == {"A": 1, "B": 2, "C": 3}
    assert [a.staff_id for a in result.assignments] == ["A", "B", "C", "C", "B", "C"]
    assert not any(a.over_capacity for a in result.assignments)


def test_result_does_not_depend_on_input_order(roles):
    staff = [person(f"R{i}", Role.RM, capacity=3 + i) for i in range(4)]
    staff += [person(f"L{i}", Role.LOBBY_MANAGER, capacity=5) for i in range(2)]
    customers = [cust(f"C{i:02d}", "20-50万", aum=200_000 + i) for i in range(20)]
    a = assign_staff(customers, roles, staff, AS_OF)
    b = assign_staff(list(reversed(customers)), roles, list(reversed(staff)), AS_OF)
    assert a == b


def test_rerun_with_previous_and_same_inputs_changes_nothing(roles):
    customers = [cust(f"C{i:02d}", b) for i, b in enumerate(["20-50万", "50-300万", "300万+"] * 5)]
    staff = [*BRANCH_STAFF, person("R9", Role.RM), person("S9", Role.RM_SUPERVISOR)]
    first = assign_staff(customers, roles, staff, AS_OF)
    second = assign_staff(customers, roles, staff, AS_OF, previous=first.assignments)
    assert [(a.customer_id, a.role, a.staff_id) for a in second.assignments] == [
        (a.customer_id, a.role, a.staff_id) for a in first.assignments
    ]
    assert {a.reason for a in second.assignments} == {Reason.KEPT}
    assert second.moves == ()
    assert second.released == ()
    assert second.departures == ()


def test_departure_moves_exactly_that_persons_customers_and_lists_them(roles):
    staff = [person("R1", Role.RM), person("R2", Role.RM), person("L1", Role.LOBBY_MANAGER)]
    customers = [cust(f"C{i}", "20-50万") for i in range(6)]
    first = assign_staff(customers, roles, staff, AS_OF)
    r1_customers = sorted(a.customer_id for a in first.assignments if a.staff_id == "R1")
    assert r1_customers == ["C0", "C2", "C4"]

    gone = [person("R1", Role.RM, end=date(2025, 6, 29)), *staff[1:]]
    second = assign_staff(customers, roles, gone, AS_OF, previous=first.assignments)
    assert second.departed_customers == ("C0", "C2", "C4")
    assert [(m.customer_id, m.previous_staff_id, m.staff_id) for m in second.departures] == [
        ("C0", "R1", "R2"),
        ("C2", "R1", "R2"),
        ("C4", "R1", "R2"),
    ]
    for a in second.assignments:
        if a.role == Role.RM and a.customer_id in r1_customers:
            assert a.reason == Reason.STAFF_LEFT
        else:
            assert a.reason == Reason.KEPT


def test_staff_whose_last_day_is_as_of_is_still_there(roles):
    staff = [person("T1", Role.TELLER, end=AS_OF), person("T2", Role.TELLER)]
    first = assign_staff([cust("C1", "0.1-5万")], roles, staff, AS_OF)
    assert staff_of(first, "C1") == {Role.TELLER: "T1"}


def test_staff_not_yet_started_is_unavailable(roles):
    staff = [person("T1", Role.TELLER, start=date(2025, 7, 1)), person("T2", Role.TELLER)]
    result = assign_staff([cust("C1", "0.1-5万")], roles, staff, AS_OF)
    assert staff_of(result, "C1") == {Role.TELLER: "T2"}


def test_band_change_keeps_rm_and_replaces_lobby_manager_by_rm_supervisor(roles):
    previous = [
        PreviousAssignment("C1", Role.RM, "R1", "20-50万"),
        PreviousAssignment("C1", Role.LOBBY_MANAGER, "L1", "20-50万"),
    ]
    staff = [
        person("R0", Role.RM),
        person("R1", Role.RM),
        person("L1", Role.LOBBY_MANAGER),
        person("S1", Role.RM_SUPERVISOR),
    ]
    result = assign_staff([cust("C1", "50-300万", 600_000)], roles, staff, AS_OF, previous)
    rows = rows_of(result, "C1")
    assert set(rows) == {Role.RM, Role.RM_SUPERVISOR}
    assert (rows[Role.RM].staff_id, rows[Role.RM].reason) == ("R1", Reason.KEPT)
    assert (rows[Role.RM_SUPERVISOR].staff_id, rows[Role.RM_SUPERVISOR].reason) == (
        "S1",
        Reason.BAND_CHANGED,
    )
    assert [(m.role, m.previous_staff_id) for m in result.released] == [(Role.LOBBY_MANAGER, "L1")]


def test_drop_to_unmaintained_band_releases_everyone(roles):
    previous = [PreviousAssignment("C1", Role.TELLER, "T1", "0.1-5万")]
    result = assign_staff([cust("C1", "未维护", 500)], roles, BRANCH_STAFF, AS_OF, previous)
    assert result.assignments == ()
    assert [(m.customer_id, m.previous_staff_id) for m in result.released] == [("C1", "T1")]


def test_no_staff_of_a_role_flags_over_capacity_and_still_assigns(roles):
    staff = [person("R1", Role.RM, capacity=10), person("T1", Role.TELLER, capacity=10)]
    result = assign_staff([cust("C1", "20-50万")], roles, staff, AS_OF)
    rows = rows_of(result, "C1")
    assert (rows[Role.RM].staff_id, rows[Role.RM].over_capacity) == ("R1", False)
    lobby = rows[Role.LOBBY_MANAGER]
    # the stand-in is the branch's least-loaded person not already serving the customer
    assert (lobby.staff_id, lobby.over_capacity, lobby.substitute) == ("T1", True, True)


def test_branch_without_any_staff_keeps_the_row_unstaffed(roles):
    result = assign_staff([cust("C1", "0.1-5万", branch="B9")], roles, BRANCH_STAFF, AS_OF)
    (row,) = result.assignments
    assert (row.staff_id, row.over_capacity) == (None, True)


def test_all_full_assigns_the_least_loaded_and_flags_the_smallest_customers(roles):
    staff = [person("T1", Role.TELLER, capacity=1), person("T2", Role.TELLER, capacity=2)]
    customers = [cust(f"C{i}", "0.1-5万", aum=10_000 * (i + 1)) for i in range(5)]
    result = assign_staff(customers, roles, staff, AS_OF)
    # C0->T1, C1->T2, C2->T2 (1/2 < 1/1), C3->T1 (1/1 == 2/2, staff_id), C4->T2 (2/1 > 3/2)
    assert [a.staff_id for a in result.assignments] == ["T1", "T2", "T2", "T1", "T2"]
    assert len(result.assignments) == 5  # nobody dropped
    # T1 holds C0 (1万) and C3 (4万): the smaller, C0, lies past capacity 1.
    # T2 holds C1, C2, C4: the smallest, C1, lies past capacity 2.
    flagged = sorted(a.customer_id for a in result.assignments if a.over_capacity)
    assert flagged == ["C0", "C1"]


def test_capacity_cut_moves_the_smallest_customers_first(roles):
    previous = [PreviousAssignment(f"C{i}", Role.TELLER, "T1", "0.1-5万") for i in range(4)]
    staff = [person("T1", Role.TELLER, capacity=2), person("T2", Role.TELLER, capacity=5)]
    customers = [cust(f"C{i}", "0.1-5万", aum=a) for i, a in enumerate([40e3, 10e3, 30e3, 20e3])]
    result = assign_staff(customers, roles, staff, AS_OF, previous)
    assert {a.customer_id: a.staff_id for a in result.assignments} == {
        "C0": "T1",
        "C1": "T2",
        "C2": "T1",
        "C3": "T2",
    }
    moved = {m.customer_id: m.reason for m in result.moves}
    assert moved == {"C1": Reason.CAPACITY_OVERFLOW, "C3": Reason.CAPACITY_OVERFLOW}
    assert not any(a.over_capacity for a in result.assignments)


def test_over_capacity_person_keeps_customers_when_nobody_has_room(roles):
    previous = [PreviousAssignment(f"C{i}", Role.TELLER, "T1", "0.1-5万") for i in range(3)]
    staff = [person("T1", Role.TELLER, capacity=1), person("T2", Role.TELLER, capacity=0)]
    customers = [cust(f"C{i}", "0.1-5万", aum=1000 * (i + 1)) for i in range(3)]
    result = assign_staff(customers, roles, staff, AS_OF, previous)
    assert {a.staff_id for a in result.assignments} == {"T1"}
    assert {a.reason for a in result.assignments} == {Reason.KEPT}
    assert sorted(a.customer_id for a in result.assignments if a.over_capacity) == ["C0", "C1"]


def test_customer_who_moved_branch_gets_staff_of_the_new_branch(roles):
    previous = [PreviousAssignment("C1", Role.TELLER, "T1", "0.1-5万")]
    result = assign_staff(
        [cust("C1", "0.1-5万", branch="B2")], roles, BRANCH_STAFF, AS_OF, previous
    )
    row = rows_of(result, "C1")[Role.TELLER]
    assert (row.staff_id, row.reason) == ("T2", Reason.NEW)
    assert result.departures == ()


def test_personal_banking_comes_from_head_office_for_any_branch(roles):
    customers = [cust("C1", "300万+", 5e6), cust("C2", "300万+", 4e6, branch="B2")]
    result = assign_staff(customers, roles, BRANCH_STAFF, AS_OF)
    assert staff_of(result, "C1")[Role.PERSONAL_BANKING] == "P1"
    assert staff_of(result, "C2")[Role.PERSONAL_BANKING] == "P1"


def test_unknown_band_and_duplicate_customer_are_refused(roles):
    with pytest.raises(ValueError, match="bands not in the ladder: 钻石"):
        assign_staff([cust("C1", "钻石")], roles, BRANCH_STAFF, AS_OF)
    with pytest.raises(ValueError, match="more than once"):
        assign_staff([cust("C1", "0.1-5万"), cust("C1", "0.1-5万")], roles, BRANCH_STAFF, AS_OF)


@pytest.mark.slow
def test_a_second_run_over_200k_customers_keeps_every_assignment(roles):
    # Speed belongs in the benchmarks; here the rule at a bank's size: nothing moves needlessly.
    bands = ["未维护", "0.1-5万", "5-20万", "20-50万", "50-300万", "300万+"]
    branches = [f"B{b:03d}" for b in range(100)]
    customers = [
        cust(f"C{i:07d}", bands[i % 6], aum=float(i % 9973), branch=branches[i % 100])
        for i in range(200_000)
    ]
    staff = [
        person(f"{b}-{r.value}-{n}", r, branch=b, capacity=200)
        for b in branches
        for r in STAFF_ROLES
        if r != Role.PERSONAL_BANKING
        for n in range(4)
    ] + [person(f"HO-{n}", Role.PERSONAL_BANKING, branch="", capacity=5000) for n in range(10)]
    first = assign_staff(customers, roles, staff, AS_OF)
    second = assign_staff(customers, roles, staff, AS_OF, previous=first.assignments)
    assert len(first.assignments) == len(second.assignments)
    assert Counter(a.reason for a in second.assignments) == {Reason.KEPT: len(first.assignments)}


def test_pandas_adapter_reads_contract_frames_and_returns_columns():
    import pandas as pd

    from tierbook.planner.assign import ASSIGNMENT_COLUMNS, MOVE_COLUMNS, assign_frame

    ladder = load_preset("bank_default").rulebook.ladder("branch_bands")
    customers = pd.DataFrame(
        {
            "customer_id": ["C1", "C2"],
            "branch_id": ["B1", "B1"],
            "band": ["20-50万", "300万+"],
            "aum": [300_000.0, 5_000_000.0],
        }
    )
    staff = pd.DataFrame(
        {
            "staff_id": ["R1", "L1", "M1", "S1", "P1"],
            "branch_id": ["B1", "B1", "B1", "B1", None],
            "role": ["rm", "lobby_manager", "branch_manager", "rm_supervisor", "personal_banking"],
            "capacity": [10] * 5,
            "start_date": pd.to_datetime(["2020-01-01"] * 5),
            "end_date": pd.to_datetime([None, "2025-06-29", None, None, None]),
        }
    )
    out = assign_frame(customers, ladder, staff, AS_OF)
    assert tuple(out.assignments.columns) == ASSIGNMENT_COLUMNS
    assert tuple(out.departures.columns) == MOVE_COLUMNS
    got = {(r.customer_id, r.role): r.staff_id for r in out.assignments.itertuples()}
    assert got == {
        ("C1", "rm"): "R1",
        ("C1", "lobby_manager"): "M1",  # L1 left the day before: stand-in, flagged
        ("C2", "branch_manager"): "M1",
        ("C2", "rm_supervisor"): "S1",
        ("C2", "personal_banking"): "P1",
    }
    assert out.assignments["over_capacity"].tolist() == [False, True, False, False, False]
