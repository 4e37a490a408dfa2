"""Who may do what, and whose customers they see (issue 3; SPEC §4). Pure rules.

Two tables decide every access question of the workbench:

- :data:`ROLE_SCOPE` — the reach of a role over customer records: ``own`` (the customers the
  person is assigned to), ``team`` (own and those of the staff they supervise), ``branch``
  (every customer of their branch), ``all`` (head office), ``none`` (system administration,
  no customer data).
- :data:`ROLE_PERMISSIONS` — the actions a role may take on records within its reach.

:func:`scope_of` turns a viewer into a :class:`ScopeFilter`: the one description the store
translates into a where-clause for every list, count, detail and export. :func:`in_scope` is
the same rule for a single record, in plain Python, as the reference the tests compare with.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from tierbook.rules.models import Role


class Scope(StrEnum):
    NONE = "none"
    OWN = "own"
    TEAM = "team"
    BRANCH = "branch"
    ALL = "all"


class Permission(StrEnum):
    VIEW_CUSTOMERS = "view_customers"  # book, customer 360, tasks, contact log, alerts
    UNMASK_PII = "unmask_pii"  # see one customer's full ID number and phone (audited)
    RECORD_CONTACT = "record_contact"  # complete a task with a contact record
    REFER = "refer"  # refer a customer to an RM (向客户经理输送客户资源)
    ANSWER_REFERRAL = "answer_referral"  # accept or decline a referral made to oneself
    ACK_ALERT = "ack_alert"
    RECORD_COMPLAINT = "record_complaint"  # complaints and satisfaction-survey scores
    REASSIGN = "reassign"  # move customers between staff of the branch
    RECORD_DEPARTURE = "record_departure"  # a staff member leaves; their book is moved
    CREATE_EVENT = "create_event"  # salons, seminars, VIP dinners; invitations, attendance
    SEE_COMPLIANCE = "see_compliance"  # due vs done per person (supervisors' inspection)
    EXPORT = "export"  # CSV export of a list (masked like the list)
    VIEW_AUDIT = "view_audit"


P = Permission
_FRONT_LINE = frozenset({P.VIEW_CUSTOMERS, P.RECORD_CONTACT, P.ACK_ALERT, P.RECORD_COMPLAINT})
_COUNTER = _FRONT_LINE | {P.REFER, P.EXPORT}
_RM = _FRONT_LINE | {P.UNMASK_PII, P.ANSWER_REFERRAL, P.EXPORT}
_SUPERVISOR = _RM | {P.SEE_COMPLIANCE}

ROLE_SCOPE: Mapping[Role, Scope] = {
    Role.TELLER: Scope.OWN,
    Role.VIP_TELLER: Scope.OWN,
    Role.LOBBY_MANAGER: Scope.OWN,
    Role.RM: Scope.OWN,
    Role.RM_SUPERVISOR: Scope.TEAM,
    Role.BRANCH_MANAGER: Scope.BRANCH,
    Role.PERSONAL_BANKING: Scope.ALL,
    Role.HEAD_OFFICE_ANALYST: Scope.ALL,
    Role.ADMIN: Scope.NONE,
}

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.TELLER: _COUNTER,
    Role.VIP_TELLER: _COUNTER,
    Role.LOBBY_MANAGER: _COUNTER,
    Role.RM: _RM,
    Role.RM_SUPERVISOR: _SUPERVISOR,
    Role.BRANCH_MANAGER: _SUPERVISOR | {P.REASSIGN, P.RECORD_DEPARTURE, P.CREATE_EVENT},
    Role.PERSONAL_BANKING: _SUPERVISOR | {P.CREATE_EVENT},
    Role.HEAD_OFFICE_ANALYST: frozenset({P.VIEW_CUSTOMERS, P.SEE_COMPLIANCE, P.EXPORT}),
    Role.ADMIN: frozenset({P.VIEW_AUDIT}),
}


def has_permission(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]


@dataclass(frozen=True)
class Viewer:
    """The person asking. ``team`` holds the staff ids a supervisor supervises (their own
    id need not be in it); ``staff_id`` is ``None`` for a login that is no staff member."""

    role: Role
    staff_id: str | None = None
    branch_id: str | None = None
    team: frozenset[str] = field(default_factory=frozenset)

    @property
    def scope(self) -> Scope:
        return ROLE_SCOPE[self.role]

    def can(self, permission: Permission) -> bool:
        return has_permission(self.role, permission)


@dataclass(frozen=True)
class ScopeFilter:
    """What a where-clause must express: every record, or those of ``branch_id``, or those
    currently assigned to one of ``staff_ids``. Nothing when all three are unset."""

    everything: bool = False
    branch_id: str | None = None
    staff_ids: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not self.everything and self.branch_id is None and not self.staff_ids


NOTHING = ScopeFilter()


def scope_of(viewer: Viewer) -> ScopeFilter:
    """The records ``viewer`` may see. A role scoped to its own book or branch but with no
    staff id or branch sees nothing (never everything)."""
    scope = viewer.scope
    if scope is Scope.ALL:
        return ScopeFilter(everything=True)
    if scope is Scope.BRANCH:
        return ScopeFilter(branch_id=viewer.branch_id) if viewer.branch_id else NOTHING
    if scope is Scope.NONE or viewer.staff_id is None:
        return NOTHING
    staff = {viewer.staff_id}
    if scope is Scope.TEAM:
        staff |= viewer.team
    return ScopeFilter(staff_ids=frozenset(staff))


def in_scope(viewer: Viewer, branch_id: str | None, assigned_staff: Collection[str]) -> bool:
    """May ``viewer`` see a record of ``branch_id`` currently assigned to ``assigned_staff``?"""
    f = scope_of(viewer)
    if f.everything:
        return True
    if f.branch_id is not None and f.branch_id == branch_id:
        return True
    return any(s in f.staff_ids for s in assigned_staff)
