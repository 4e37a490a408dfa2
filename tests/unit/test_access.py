"""Access rules: who sees whose customers, and who may do what (issue 3)."""

from __future__ import annotations

import pytest

from tierbook.domain.access import (
    ROLE_PERMISSIONS,
    ROLE_SCOPE,
    Permission,
    Scope,
    ScopeFilter,
    Viewer,
    in_scope,
    scope_of,
)
from tierbook.rules.models import Role

P = Permission

# (role, record of: own / same-branch colleague's / team member's / other branch's) → visible?
# A supervisor's team member is in the same branch; the colleague is not in the team.
SCOPE_CASES = [
    (Role.TELLER, True, False, False, False),
    (Role.VIP_TELLER, True, False, False, False),
    (Role.LOBBY_MANAGER, True, False, False, False),
    (Role.RM, True, False, False, False),
    (Role.RM_SUPERVISOR, True, False, True, False),
    (Role.BRANCH_MANAGER, True, True, True, False),
    (Role.PERSONAL_BANKING, True, True, True, True),
    (Role.HEAD_OFFICE_ANALYST, True, True, True, True),
    (Role.ADMIN, False, False, False, False),
]


@pytest.mark.parametrize(("role", "own", "colleague", "team", "other"), SCOPE_CASES)
def test_each_role_sees_exactly_its_reach(role, own, colleague, team, other) -> None:
    me = Viewer(role=role, staff_id="S1", branch_id="B1", team=frozenset({"S2"}))
    assert in_scope(me, "B1", ["S1"]) is own
    assert in_scope(me, "B1", ["S3"]) is colleague
    assert in_scope(me, "B1", ["S2"]) is team
    assert in_scope(me, "B9", ["S9"]) is other


def test_every_role_has_a_scope_and_permissions() -> None:
    assert set(ROLE_SCOPE) == set(Role) == set(ROLE_PERMISSIONS)


def test_own_book_follows_the_assignment_not_the_branch() -> None:
    rm = Viewer(role=Role.RM, staff_id="S1", branch_id="B1")
    assert in_scope(rm, "B2", ["S1", "S7"])  # assigned across branches: still own book
    assert not in_scope(rm, "B1", [])  # unassigned customer of the branch


def test_a_staff_role_without_a_staff_id_sees_nothing_not_everything() -> None:
    assert scope_of(Viewer(role=Role.RM)).is_empty
    assert scope_of(Viewer(role=Role.BRANCH_MANAGER, staff_id="S1")).is_empty
    assert scope_of(Viewer(role=Role.RM_SUPERVISOR, team=frozenset({"S2"}))).is_empty


def test_supervisor_filter_is_own_id_and_team() -> None:
    f = scope_of(Viewer(role=Role.RM_SUPERVISOR, staff_id="S1", team=frozenset({"S2", "S3"})))
    assert f == ScopeFilter(staff_ids=frozenset({"S1", "S2", "S3"}))


def test_branch_manager_filter_is_the_branch() -> None:
    f = scope_of(Viewer(role=Role.BRANCH_MANAGER, staff_id="S1", branch_id="B1"))
    assert f == ScopeFilter(branch_id="B1")


@pytest.mark.parametrize(
    ("permission", "roles"),
    [
        (P.UNMASK_PII, {Role.RM, Role.RM_SUPERVISOR, Role.BRANCH_MANAGER, Role.PERSONAL_BANKING}),
        (P.REASSIGN, {Role.BRANCH_MANAGER}),
        (P.RECORD_DEPARTURE, {Role.BRANCH_MANAGER}),
        (P.CREATE_EVENT, {Role.BRANCH_MANAGER, Role.PERSONAL_BANKING}),
        (P.REFER, {Role.TELLER, Role.VIP_TELLER, Role.LOBBY_MANAGER}),
        (
            P.ANSWER_REFERRAL,
            {Role.RM, Role.RM_SUPERVISOR, Role.BRANCH_MANAGER, Role.PERSONAL_BANKING},
        ),
        (
            P.SEE_COMPLIANCE,
            {
                Role.RM_SUPERVISOR,
                Role.BRANCH_MANAGER,
                Role.PERSONAL_BANKING,
                Role.HEAD_OFFICE_ANALYST,
            },
        ),
        (P.VIEW_AUDIT, {Role.ADMIN}),
    ],
)
def test_permission_is_held_by_exactly_these_roles(permission, roles) -> None:
    assert {r for r in Role if Viewer(role=r).can(permission)} == roles


def test_tellers_and_analysts_never_unmask() -> None:
    for role in (Role.TELLER, Role.VIP_TELLER, Role.LOBBY_MANAGER, Role.HEAD_OFFICE_ANALYST):
        assert not Viewer(role=role).can(P.UNMASK_PII)


def test_admin_reads_no_customer_data() -> None:
    assert ROLE_SCOPE[Role.ADMIN] is Scope.NONE
    assert not Viewer(role=Role.ADMIN).can(P.VIEW_CUSTOMERS)
