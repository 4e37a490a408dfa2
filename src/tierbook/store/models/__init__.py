"""Every table of the store; importing this module registers them on ``Base.metadata``."""

from tierbook.store.models.audit import AppendOnlyError, AuditEntry
from tierbook.store.models.customers import AumHistory, Customer, Holding
from tierbook.store.models.org import USER_ROLES, Branch, Staff, User, UserSession
from tierbook.store.models.results import (
    TASK_STATES,
    Alert,
    BirthdayEntry,
    BookCount,
    CustomerSnapshot,
    Run,
    StaffAssignment,
    StaffBook,
    Task,
    TierChange,
    TierSnapshot,
)
from tierbook.store.models.work import (
    Complaint,
    ContactLog,
    Event,
    EventInvitation,
    Referral,
    SatisfactionSurvey,
)

__all__ = [
    "TASK_STATES",
    "USER_ROLES",
    "Alert",
    "AppendOnlyError",
    "AuditEntry",
    "AumHistory",
    "BirthdayEntry",
    "BookCount",
    "Branch",
    "Complaint",
    "ContactLog",
    "Customer",
    "CustomerSnapshot",
    "Event",
    "EventInvitation",
    "Holding",
    "Referral",
    "Run",
    "SatisfactionSurvey",
    "Staff",
    "StaffAssignment",
    "StaffBook",
    "Task",
    "TierChange",
    "TierSnapshot",
    "User",
    "UserSession",
]
