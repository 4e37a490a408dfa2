"""A small hand-made bank for the API tests: two branches, staff of every role, a login per
role, one published run; ``add_case`` files a customer with one of each record for a staff
member (task, alert, complaint, two referrals, a contact, an event invitation)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from tierbook.domain.identity import resident_id_check_char
from tierbook.domain.masking import mask_id_number, mask_phone
from tierbook.rules import load_preset
from tierbook.store.crypto import FieldCipher
from tierbook.store.models import (
    Alert,
    AumHistory,
    Branch,
    Complaint,
    ContactLog,
    Customer,
    CustomerSnapshot,
    Event,
    EventInvitation,
    Holding,
    Referral,
    Run,
    Staff,
    StaffAssignment,
    Task,
    TierSnapshot,
    User,
)
from tierbook.store.passwords import hash_password
from tierbook.store.repositories import RunRepository

SECRET = "test-secret-key-for-the-api-tests-0123456789"
RUN_ID = "run-test-1"
RUN_NO = 1
AS_OF = date(2025, 12, 31)
NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TODAY = NOW.date()

# staff_id: (role, branch, supervisor)
STAFF = {
    "T1": ("teller", "B1", None),
    "T2": ("teller", "B1", None),
    "V1": ("vip_teller", "B1", None),
    "V2": ("vip_teller", "B1", None),
    "L1": ("lobby_manager", "B1", None),
    "L2": ("lobby_manager", "B1", None),
    "S1": ("rm_supervisor", "B1", None),
    "S2": ("rm_supervisor", "B1", None),
    "R1": ("rm", "B1", "S1"),
    "R4": ("rm", "B1", "S1"),
    "R2": ("rm", "B1", None),
    "R3": ("rm", "B1", None),
    "M1": ("branch_manager", "B1", None),
    "M2": ("branch_manager", "B1", None),
    "P1": ("personal_banking", None, None),
    "P2": ("personal_banking", None, None),
    "R9": ("rm", "B2", None),
    "R8": ("rm", "B2", None),
    "T9": ("teller", "B2", None),
    "M9": ("branch_manager", "B2", None),
}
# the login of each role and the staff member behind it
USERS = {
    "teller": "T1",
    "vip_teller": "V1",
    "lobby_manager": "L1",
    "rm": "R1",
    "rm_supervisor": "S1",
    "branch_manager": "M1",
    "personal_banking": "P1",
    "head_office_analyst": None,
    "admin": None,
}
ROLES = tuple(USERS)
# a colleague of the same role and branch, to hand a book over to
COLLEAGUE = {
    "T1": "T2",
    "V1": "V2",
    "L1": "L2",
    "R1": "R3",
    "R2": "R3",
    "R4": "R3",
    "S1": "S2",
    "M1": "M2",
    "P1": "P2",
    "R9": "R8",
}


def password(role: str) -> str:
    return f"pw-{role}-secret"


def id_number(n: int) -> str:
    body = f"11010519491231{n:03d}"
    return body + resident_id_check_char(body)


def seed_base(db: Session) -> None:
    rb = load_preset("bank_default")
    db.add_all([Branch(branch_id="B1", name="一支行"), Branch(branch_id="B2", name="二支行")])
    db.flush()
    for sid, (role, branch, _sup) in STAFF.items():
        db.add(
            Staff(
                staff_id=sid,
                name=f"员工{sid}",
                branch_id=branch,
                role=role,
                capacity=100,
                start_date=date(2020, 1, 1),
            )
        )
    db.flush()
    for sid, (_role, _branch, sup) in STAFF.items():
        if sup:
            db.get(Staff, sid).supervisor_id = sup
    for role, sid in USERS.items():
        db.add(
            User(
                login=role,
                password_hash=hash_password(password(role)),
                role=role,
                staff_id=sid,
                active=True,
            )
        )
    db.add(
        Run(
            no=RUN_NO,
            run_id=RUN_ID,
            as_of=AS_OF,
            rulebook_id=rb.rulebook.id,
            rulebook_version=rb.rulebook.version,
            rulebook_sha256=rb.sha256,
            rulebook=rb.rulebook.model_dump(mode="json"),
            manifest={},
            published_at=NOW,
            is_current=True,
        )
    )
    db.flush()


@dataclass(frozen=True)
class Case:
    customer_id: str
    branch_id: str
    owner: str
    owner_role: str
    task_id: int
    alert_id: int
    complaint_id: int
    referral_ids: tuple[int, int]
    event_id: int


def assign(db: Session, customer_id: str, staff_id: str, role: str) -> None:
    """An open assignment of ``customer_id`` to ``staff_id`` in ``role`` from the run."""
    db.add(
        StaffAssignment(
            customer_id=customer_id,
            role=role,
            staff_id=staff_id,
            band="50-300万",
            reason="test",
            over_capacity=False,
            substitute=False,
            valid_from=AS_OF,
            from_run_no=RUN_NO,
        )
    )


def add_customer(
    db: Session,
    cipher: FieldCipher,
    n: int,
    owner: str,
    aum: float = 600_000,
    *,
    write_book: bool = True,
) -> Customer:
    """A customer of the run held by ``owner``; ``write_book=False`` leaves the derived book
    tables alone (a store migrated to an older revision has none)."""
    role, branch, _ = STAFF[owner]
    branch = branch or "B1"
    ident, phone = id_number(n), f"1380000{n:04d}"
    c = Customer(
        customer_id=f"C{n:04d}",
        kind="individual",
        name=f"客户{n}",
        branch_id=branch,
        open_date=date(2015, 3, 1),
        birth_date=date(1949, 12, 31),
        id_number_enc=cipher.encrypt(ident),
        id_number_masked=mask_id_number(ident),
        id_number_hash=cipher.lookup_hash(ident),
        phone_enc=cipher.encrypt(phone),
        phone_masked=mask_phone(phone),
        phone_hash=cipher.lookup_hash(phone),
        address="北京市海淀区中关村大街1号",
        hobbies="茶艺、高尔夫",
        archive_hash="x",
        updated_run_no=RUN_NO,
    )
    db.add(c)
    db.flush()
    assign(db, c.customer_id, owner, role)
    card = "黑金" if aum >= 500_000 else "金卡"
    for ladder, level, idx, lo in (
        ("card_tiers", card, 3, 500_000),
        ("branch_bands", "50-300万", 4, 500_000),
    ):
        db.add(
            TierSnapshot(
                run_no=RUN_NO,
                customer_id=c.customer_id,
                ladder_id=ladder,
                level=level,
                level_index=idx,
                measure=Decimal(aum),
                period="month",
                level_min=Decimal(lo),
                next_level=None,
                gap_to_next=None,
                step="keep",
                below_run=0,
                class_averages={"demand_deposit": aum},
            )
        )
        db.add(
            AumHistory(
                run_no=RUN_NO,
                customer_id=c.customer_id,
                ladder_id=ladder,
                periods={
                    "period_end": ["2025-11-30", AS_OF.isoformat()],
                    "measure": [aum - 1000, aum],
                    "level": [level, level],
                    "level_index": [idx, idx],
                    "step": ["keep", "keep"],
                },
            )
        )
    db.add(
        CustomerSnapshot(
            run_no=RUN_NO,
            customer_id=c.customer_id,
            branch_id=branch,
            ytd_avg=Decimal(aum),
            year_avg=Decimal(aum),
            rolling_365_avg=Decimal(aum),
            month_avg=Decimal(aum),
            loan_ytd_avg=Decimal(0),
            # the book's columns: the card_tiers and branch_bands rows above
            tier_level=card,
            tier_level_index=3,
            tier_measure=Decimal(aum),
            tier_step="keep",
            band_level="50-300万",
            band_step="keep",
        )
    )
    db.add(
        Holding(
            run_no=RUN_NO,
            account_id=f"A{n:04d}",
            customer_id=c.customer_id,
            product_type="demand_deposit",
            open_date=date(2015, 3, 1),
            balance=Decimal(aum),
        )
    )
    db.flush()
    if write_book:
        RunRepository(db).write_book(RUN_NO)  # as a publish derives the run's book tables
    return c


def add_case(db: Session, cipher: FieldCipher, n: int, owner: str) -> Case:
    c = add_customer(db, cipher, n, owner)
    cid, branch, role = c.customer_id, c.branch_id, STAFF[owner][0]
    task = Task(
        task_key=f"t{n}",
        customer_id=cid,
        branch_id=branch,
        staff_id=owner,
        role=role,
        kind="monthly_contact",
        due_date=TODAY,
        reason="monthly contact",
        rule="r",
        state="open",
        first_run_no=RUN_NO,
        last_run_no=RUN_NO,
    )
    alert = Alert(
        alert_key=f"a{n}",
        customer_id=cid,
        branch_id=branch,
        staff_id=owner,
        role=role,
        kind="large_outflow",
        date=AS_OF,
        amount=Decimal(80_000),
        reason="outflow",
        rule="r",
        first_run_no=RUN_NO,
        last_run_no=RUN_NO,
    )
    complaint = Complaint(
        customer_id=cid,
        severity="C",
        summary="queue",
        received_at=NOW,
        response_due_at=NOW,
        state="open",
        staff_id=owner,
    )
    teller = "T2" if branch == "B1" else "T9"  # not a caller: the referral is nobody's own
    refs = [
        Referral(
            customer_id=cid,
            from_staff_id=teller,
            to_staff_id=owner,
            state="offered",
            created_at=NOW,
        )
        for _ in range(2)
    ]
    event = Event(
        kind="salon",
        title=f"salon {n}",
        branch_id=branch,
        starts_at=datetime(2026, 1, 3, 2, tzinfo=UTC),
        capacity=15,
    )
    db.add_all([task, alert, complaint, *refs, event])
    db.flush()
    db.add(
        ContactLog(
            staff_id=owner,
            customer_id=cid,
            contacted_at=NOW,
            channel="phone",
            purpose="review",
            outcome="ok",
            task_id=None,
        )
    )
    db.add(
        EventInvitation(
            event_id=event.id,
            customer_id=cid,
            staff_id=owner,
            rsvp="pending",
            attended=True,
            invited_at=NOW,
        )
    )
    db.flush()
    return Case(
        cid,
        branch,
        owner,
        role,
        task.id,
        alert.id,
        complaint.id,
        (refs[0].id, refs[1].id),
        event.id,
    )
