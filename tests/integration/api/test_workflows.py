"""The workbench's rules seen through the API: masking and audited unmasking, bad input,
tasks and the work log, complaints, referrals, departures, compliance, events, query counts."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import event, select

from tests.integration.api import bank
from tierbook.store.models import (
    AuditEntry,
    CustomerSnapshot,
    StaffAssignment,
    Task,
    TierSnapshot,
)
from tierbook.store.repositories import RunRepository


def _case(api, n=1, owner="R1"):
    with api.db() as db:
        case = bank.add_case(db, api.store.cipher, n, owner)
        db.commit()
    return case


def _audit(api, action):
    with api.db() as db:
        return list(db.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_lists_360_and_export_never_carry_the_full_id_or_phone(api) -> None:
    case = _case(api)
    full_id, full_phone = bank.id_number(1), "13800000001"
    h = api.login("branch_manager")
    for url in ("/customers", f"/customers/{case.customer_id}", "/customers/export.csv"):
        text = api.client.get(url, headers=h).text
        assert case.customer_id in text
        assert full_id not in text and full_phone not in text
    row = api.client.get("/customers", headers=h).json()["items"][0]
    assert row["id_number"] == "1101**********001X"[:4] + "*" * 10 + full_id[-4:]
    assert row["phone"] == "138****0001"


def test_unmask_gives_the_full_values_and_is_audited_with_the_reason(api) -> None:
    case = _case(api)
    r = api.client.post(
        f"/customers/{case.customer_id}/unmask",
        json={"reason": "开户核实"},
        headers=api.login("rm"),
    )
    assert r.status_code == 200
    assert r.json() == {
        "customer_id": case.customer_id,
        "id_number": bank.id_number(1),
        "phone": "13800000001",
    }
    [entry] = _audit(api, "unmask")
    assert (entry.actor, entry.entity_id, entry.reason) == ("rm", case.customer_id, "开户核实")


def test_a_teller_may_not_unmask_and_nothing_is_audited(api) -> None:
    case = _case(api, owner="T1")
    r = api.client.post(
        f"/customers/{case.customer_id}/unmask", json={"reason": "x"}, headers=api.login("teller")
    )
    assert r.status_code == 403
    assert _audit(api, "unmask") == []


def test_unmask_without_a_reason_is_refused(api) -> None:
    case = _case(api)
    r = api.client.post(f"/customers/{case.customer_id}/unmask", json={}, headers=api.login("rm"))
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "reason"]


def test_every_read_of_a_customer_record_is_audited(api) -> None:
    case = _case(api)
    h = api.login("rm")
    api.client.get(f"/customers/{case.customer_id}", headers=h)
    api.client.get(f"/customers/{case.customer_id}", headers=h)
    reads = _audit(api, "read")
    assert [(e.entity, e.entity_id, e.actor) for e in reads] == [
        ("customer", case.customer_id, "rm")
    ] * 2


def test_bad_id_number_answers_422_with_its_path_and_code(api) -> None:
    bad = bank.id_number(1)[:-1] + ("0" if bank.id_number(1)[-1] != "0" else "1")
    r = api.client.get("/customers", params={"id_number": bad}, headers=api.login("rm"))
    assert r.status_code == 422
    [err] = r.json()["detail"]
    assert err["loc"] == ["query", "id_number"] and err["code"] == "ID_CHECKSUM"


def test_bad_mobile_answers_422_mobile_format_and_a_good_one_is_stored_masked(api) -> None:
    case = _case(api)
    h = api.login("rm")
    url = f"/customers/{case.customer_id}/archive"
    r = api.client.patch(url, json={"phone": "12345"}, headers=h)
    assert r.status_code == 422
    assert r.json()["detail"][0] == {
        "loc": ["body", "phone"],
        "code": "MOBILE_FORMAT",
        "msg": r.json()["detail"][0]["msg"],
    }
    r = api.client.patch(url, json={"phone": "+86 139-1234-5678"}, headers=h)
    assert r.status_code == 200 and r.json()["phone"] == "139****5678"
    unmasked = api.client.post(
        f"/customers/{case.customer_id}/unmask", json={"reason": "check"}, headers=h
    )
    assert unmasked.json()["phone"] == "13912345678"
    [change] = _audit(api, "update")
    assert change.after == {"phone": "139****5678"}


def test_lookup_by_id_number_finds_the_customer(api) -> None:
    case = _case(api)
    r = api.client.get(
        "/customers", params={"id_number": bank.id_number(1)}, headers=api.login("rm")
    )
    assert [i["customer_id"] for i in r.json()["items"]] == [case.customer_id]


def test_completing_a_task_records_the_contact_once(api) -> None:
    case = _case(api)
    h = api.login("rm")
    assert [t["id"] for t in api.client.get("/tasks", headers=h).json()] == [case.task_id]
    body = {
        "channel": "visit",
        "purpose": "年度回访",
        "outcome": "续存定期",
        "next_step": "介绍理财",
        "next_contact_date": "2026-02-05",
    }
    r = api.client.post(f"/tasks/{case.task_id}/complete", json=body, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["task"]["state"] == "done"
    assert r.json()["contact"]["next_step"] == "介绍理财"
    assert api.client.get("/tasks", headers=h).json() == []  # today's list is empty now
    log = api.client.get(f"/customers/{case.customer_id}/contacts", headers=h).json()
    assert [c["purpose"] for c in log] == ["年度回访", "review"]
    again = api.client.post(f"/tasks/{case.task_id}/complete", json=body, headers=h)
    assert again.status_code == 409


def test_next_contact_date_before_the_contact_is_refused(api) -> None:
    case = _case(api)
    body = {"channel": "phone", "purpose": "p", "outcome": "o", "next_contact_date": "2025-01-01"}
    r = api.client.post(f"/tasks/{case.task_id}/complete", json=body, headers=api.login("rm"))
    assert r.status_code == 422 and r.json()["detail"][0]["code"] == "DATE_ORDER"


def test_overdue_tasks_are_those_due_before_today(api) -> None:
    case = _case(api)
    api.clock.advance(days=1)
    h = api.login("rm")
    assert api.client.get("/tasks", headers=h).json() == []
    overdue = api.client.get("/tasks", params={"when": "overdue"}, headers=h).json()
    assert [t["id"] for t in overdue] == [case.task_id]


def test_complaint_deadline_follows_severity_and_tier(api) -> None:
    black = _case(api, 1)  # 黑金: default table
    diamond = _case(api, 2)
    with api.db() as db:
        t = db.get(TierSnapshot, (bank.RUN_NO, diamond.customer_id, "card_tiers"))
        t.level, t.level_index = "钻石", 4
        db.commit()
    h = api.login("rm")
    got = {}
    for case in (black, diamond):
        r = api.client.post(
            f"/customers/{case.customer_id}/complaints",
            json={"severity": "B", "summary": "转账延迟"},
            headers=h,
        )
        assert r.status_code == 201, r.text
        got[case.customer_id] = r.json()["response_due_at"]
    # bank_default.yaml: B is 72 hours by default, 24 hours from 钻石 up
    assert got[black.customer_id] == (bank.NOW + timedelta(hours=72)).isoformat().replace(
        "+00:00", "Z"
    )
    assert got[diamond.customer_id] == (bank.NOW + timedelta(hours=24)).isoformat().replace(
        "+00:00", "Z"
    )


def test_an_overdue_complaint_surfaces_to_the_supervisor(api) -> None:
    case = _case(api)  # R1, supervised by S1
    r = api.client.post(
        f"/customers/{case.customer_id}/complaints",
        json={"severity": "A", "summary": "柜面态度"},
        headers=api.login("rm"),
    )
    new_id = r.json()["id"]
    api.clock.advance(hours=25)  # A: 24 hours
    sup = api.client.get(
        "/complaints", params={"overdue": True}, headers=api.login("rm_supervisor")
    ).json()
    mine = [c for c in sup if c["id"] == new_id]
    assert mine and mine[0]["overdue"] and mine[0]["escalated_to"] == "S1"
    other = api.client.get(
        "/complaints", params={"overdue": True}, headers=api.login("personal_banking")
    ).json()
    assert new_id in {c["id"] for c in other}


def test_accepting_a_referral_makes_the_rm_the_customers_rm(api) -> None:
    case = _case(api, owner="T1")
    r = api.client.post(
        f"/customers/{case.customer_id}/referrals",
        json={"to_staff_id": "R1", "note": "升级潜力"},
        headers=api.login("teller"),
    )
    assert r.status_code == 201, r.text
    ref = r.json()["id"]
    assert (
        api.client.get(f"/customers/{case.customer_id}", headers=api.login("rm")).status_code == 404
    )
    offered = api.client.get("/referrals", params={"state": "offered"}, headers=api.login("rm"))
    assert ref in {x["id"] for x in offered.json()}
    ok = api.client.post(f"/referrals/{ref}/accept", json={}, headers=api.login("rm"))
    assert ok.status_code == 200 and ok.json()["state"] == "accepted"
    assert (
        api.client.get(f"/customers/{case.customer_id}", headers=api.login("rm")).status_code == 200
    )


def test_referral_to_a_non_rm_or_another_branch_is_refused(api) -> None:
    case = _case(api, owner="T1")
    h = api.login("teller")
    for target in ("T2", "R9", "nobody"):
        r = api.client.post(
            f"/customers/{case.customer_id}/referrals", json={"to_staff_id": target}, headers=h
        )
        assert r.status_code == 422 and r.json()["detail"][0]["code"] == "REFER_TARGET"


def test_departure_hands_the_book_over_by_spare_capacity_and_keeps_history(api) -> None:
    for n in range(1, 7):
        _case(api, n, owner="R2")
    r = api.client.post(
        "/staff/R2/departure", json={"end_date": "2026-01-31"}, headers=api.login("branch_manager")
    )
    assert r.status_code == 200, r.text
    # R1, R3, R4 (capacity 100 each, empty books) share 6 customers: 2 each
    assert r.json() == {"moved": 6, "to": {"R1": 2, "R3": 2, "R4": 2}}
    with api.db() as db:
        rows = list(db.scalars(select(StaffAssignment).where(StaffAssignment.role == "rm")))
    assert Counter(a.staff_id for a in rows if a.valid_to is None) == {"R1": 2, "R3": 2, "R4": 2}
    assert {a.staff_id for a in rows if a.valid_to is not None} == {"R2"}
    staff = api.client.get("/staff", params={"role": "rm"}, headers=api.login("branch_manager"))
    assert {s["staff_id"]: s["end_date"] for s in staff.json()}["R2"] == "2026-01-31"


def test_an_rm_may_not_record_a_departure(api) -> None:
    assert (
        api.client.post(
            "/staff/R2/departure", json={"end_date": "2026-01-31"}, headers=api.login("rm")
        ).status_code
        == 403
    )


def test_compliance_is_done_over_due_per_person(api) -> None:
    cases = [_case(api, n, owner="R1") for n in range(1, 5)]
    h = api.login("rm")
    body = {"channel": "phone", "purpose": "p", "outcome": "o"}
    api.client.post(f"/tasks/{cases[0].task_id}/complete", json=body, headers=h)
    with api.db() as db:  # a closed task (its reason disappeared) is not due
        db.get(Task, cases[3].task_id).state = "closed"
        db.commit()
    rows = api.client.get(
        "/staff/compliance",
        params={"since": "2026-01-01", "until": "2026-01-31"},
        headers=api.login("rm_supervisor"),
    ).json()
    by = {r["staff_id"]: r for r in rows}
    assert set(by) == {"S1", "R1", "R4"}  # the supervisor's team and the supervisor
    assert (by["R1"]["due"], by["R1"]["done"], by["R1"]["contacts"]) == (3, 1, 5)
    assert abs(by["R1"]["compliance"] - 1 / 3) < 1e-9
    assert by["R4"]["compliance"] is None


def test_salon_invites_the_rules_15_best_fits_within_scope(api) -> None:
    with api.db() as db:
        for n in range(1, 21):
            c = bank.add_customer(db, api.store.cipher, n, "R1", aum=300_000 + n)
            if n % 4 == 0:
                c.hobbies = "书法"
        bank.add_customer(db, api.store.cipher, 30, "R9", aum=9_000_000)  # other branch
        db.commit()
    h = api.login("branch_manager")
    e = api.client.post(
        "/events",
        json={"kind": "salon", "title": "书法雅集", "starts_at": "2026-02-01T10:00:00+08:00"},
        headers=h,
    )
    assert e.status_code == 201 and e.json()["capacity"] == 15 and e.json()["branch_id"] == "B1"
    r = api.client.post(
        f"/events/{e.json()['id']}/invitations/pick", json={"interests": ["书法"]}, headers=h
    )
    picked = r.json()["customer_ids"]
    # the five 书法 lovers first (largest AUM first), then the richest of the rest
    assert picked[:5] == ["C0020", "C0016", "C0012", "C0008", "C0004"]
    assert len(picked) == 15 and "C0030" not in picked
    assert picked[5:] == [f"C{n:04d}" for n in (19, 18, 17, 15, 14, 13, 11, 10, 9, 7)]
    again = api.client.post(f"/events/{e.json()['id']}/invitations/pick", json={}, headers=h)
    assert again.json()["invited"] == 0  # full: 15 already invited


def _count_queries(api, fn) -> int:
    n = 0

    def count(*_a, **_k):
        nonlocal n
        n += 1

    event.listen(api.store.engine, "before_cursor_execute", count)
    try:
        fn()
    finally:
        event.remove(api.store.engine, "before_cursor_execute", count)
    return n


def test_the_book_costs_the_same_queries_for_2_or_30_customers(api) -> None:
    h = api.login("branch_manager")
    for n in range(1, 3):
        _case(api, n, owner="R1")
    small = _count_queries(api, lambda: api.client.get("/customers", headers=h))
    for n in range(3, 31):
        _case(api, n, owner="R2")
    large = _count_queries(api, lambda: api.client.get("/customers", headers=h))
    assert api.client.get("/customers", headers=h).json()["total"] == 30
    assert small == large


def test_a_book_total_by_tier_or_band_counts_the_listed_customers(api) -> None:
    """An own, a team's, a branch's and the whole bank's totals, filtered by tier or band or
    not, are the number of customers the filter lists (summed from the run's book counts,
    or read from its staff books), and a filter that matches nobody totals 0."""
    aums = {1: 600_000, 2: 700_000, 3: 300_000, 4: 800_000}  # 黑金 from 500,000, else 金卡
    with api.db() as db:
        for n, aum in aums.items():
            bank.add_customer(db, api.store.cipher, n, "R9" if n == 4 else "R1", aum=aum)
        db.commit()
    expected = {  # role → query → customers listed (R1: rm, in supervisor S1's team)
        "rm": {"": 3, "tier=黑金": 2, "tier=金卡": 1, "band=50-300万": 3},
        "rm_supervisor": {"": 3, "tier=黑金": 2, "tier=金卡": 1, "band=50-300万": 3},
        "branch_manager": {"": 3, "tier=黑金": 2, "tier=金卡": 1, "band=50-300万": 3},
        "personal_banking": {"": 4, "tier=黑金": 3, "tier=金卡": 1, "band=50-300万": 4},
    }
    for role, by_query in expected.items():
        h = api.login(role)
        for query, n in {**by_query, "band=300万以上": 0, "tier=黑金&band=50-300万": None}.items():
            page = api.client.get(f"/customers?limit=50&{query}", headers=h).json()
            count = api.client.get(f"/customers/count?{query}", headers=h).json()["total"]
            assert page["total"] == count == len(page["items"]), (role, query)
            for term in filter(None, query.split("&")):
                field, value = term.split("=")
                assert all(item[field] == value for item in page["items"]), (role, query)
            if n is not None:
                assert count == n, (role, query)


def test_the_book_lists_the_current_runs_customers_by_aum_in_every_scope(api) -> None:
    """The book is the current run's customers, highest AUM first, whichever way the scope
    is drawn (own book, team, branch, everything); a customer left in the archive but
    absent from the run is not listed (and not counted), and its 360 still opens."""
    aums = {1: 700_000, 2: 2_000_000, 3: 650_000, 4: 900_000}
    with api.db() as db:
        for n, aum in aums.items():
            bank.add_customer(db, api.store.cipher, n, "R1" if n != 4 else "R4", aum=aum)
        gone = bank.add_customer(db, api.store.cipher, 5, "R1", aum=5_000_000)
        db.execute(
            CustomerSnapshot.__table__.delete().where(
                CustomerSnapshot.customer_id == gone.customer_id
            )
        )
        RunRepository(db).write_book(bank.RUN_NO)
        db.commit()
    by_aum = [f"C{n:04d}" for n in sorted(aums, key=aums.__getitem__, reverse=True)]
    expected = {  # rm R1 sees its own; supervisor S1 also R4's; the branch and head office all
        "rm": [c for c in by_aum if c != "C0004"],
        "rm_supervisor": by_aum,
        "branch_manager": by_aum,
        "personal_banking": by_aum,
    }
    for role, ids in expected.items():
        h = api.login(role)
        page = api.client.get("/customers?limit=50", headers=h).json()
        assert [r["customer_id"] for r in page["items"]] == ids, role
        assert page["total"] == len(ids), role
        assert [Decimal(r["aum"]) for r in page["items"]] == [aums[int(c[1:])] for c in ids]
        assert api.client.get("/customers/count", headers=h).json()["total"] == len(ids), role
        second = api.client.get("/customers?limit=2&offset=2&sort=aum", headers=h).json()
        assert [r["customer_id"] for r in second["items"]] == ids[::-1][2:4], role
        assert second["total"] == len(ids), role  # a page of some: the total of all
        past = api.client.get("/customers?limit=2&offset=10", headers=h).json()
        assert (past["items"], past["total"]) == ([], len(ids)), role
    h = api.login("branch_manager")
    assert api.client.get(f"/customers/{gone.customer_id}", headers=h).status_code == 200


def test_the_360_shows_every_list_about_the_customer_and_empty_ones_for_a_bare_one(api) -> None:
    """The 360 of a customer with an open task, a complaint, a logged contact and two
    surveys lists each of them; one with none of these gets empty lists. Each read is
    audited."""
    case = _case(api)  # C0001: an open task, an open complaint (bank.add_case)
    with api.db() as db:
        bare = bank.add_customer(db, api.store.cipher, 2, "R1").customer_id
        db.commit()
    h = api.login("rm")
    url = f"/customers/{case.customer_id}"
    contact = {"channel": "visit", "purpose": "annual review", "outcome": "agreed"}
    assert api.client.post(f"{url}/contacts", json=contact, headers=h).status_code == 201
    for score, day in ((7, "2026-01-02"), (10, "2026-01-04")):
        survey = {"score": score, "surveyed_on": day}
        assert api.client.post(f"{url}/surveys", json=survey, headers=h).status_code == 201
    r = api.client.get(url, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["archive"]["customer_id"] == "C0001" and body["archive"]["name"] == "客户1"
    assert body["archive"]["address"] == "北京市海淀区中关村大街1号"  # an RM may unmask
    [task] = body["open_tasks"]
    assert (task["kind"], task["due_date"], task["staff_id"]) == (
        "monthly_contact",
        "2026-01-05",
        "R1",
    )
    [complaint] = body["complaints"]
    assert (complaint["severity"], complaint["summary"], complaint["state"]) == (
        "C",
        "queue",
        "open",
    )
    assert complaint["escalated_to"] is None
    # newest first: the one logged now, then the case's phone call (bank.add_case)
    logged = [(c["channel"], c["purpose"], c["staff_id"]) for c in body["contacts"]]
    assert logged == [("visit", "annual review", "R1"), ("phone", "review", "R1")]
    assert [s["score"] for s in body["surveys"]] == [10, 7]  # newest first
    assert body["satisfaction_avg"] == 8.5
    assert [(s["staff_id"], s["role"]) for s in body["staff"]] == [("R1", "rm")]
    assert [(t["ladder_id"], t["level"]) for t in body["tiers"]] == [
        ("branch_bands", "50-300万"),
        ("card_tiers", "黑金"),
    ]
    assert [x["account_id"] for x in body["holdings"]] == ["A0001"]
    r = api.client.get(f"/customers/{bare}", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["open_tasks"] == body["complaints"] == body["contacts"] == body["surveys"] == []
    assert body["satisfaction_avg"] is None
    assert [x["account_id"] for x in body["holdings"]] == ["A0002"]
    reads = [(e.entity_id, e.actor) for e in _audit(api, "read")]
    assert reads == [("C0001", "rm"), ("C0002", "rm")]


def _book(api, role: str, sort: str = "-aum") -> tuple[int, list[str]]:
    r = api.client.get("/customers", params={"sort": sort}, headers=api.login(role))
    assert r.status_code == 200, r.text
    return r.json()["total"], [c["customer_id"] for c in r.json()["items"]]


def test_a_reassignment_moves_the_customer_between_the_books_at_once(api) -> None:
    """An own book lists what its owner holds after a move, in every sort; a team's book
    lists a customer two of its members hold once."""
    aums = {1: 700_000, 2: 2_000_000, 3: 650_000}
    with api.db() as db:
        for n, aum in aums.items():
            bank.add_customer(db, api.store.cipher, n, "R1", aum=aum)
        bank.add_customer(db, api.store.cipher, 4, "R4", aum=900_000)
        db.commit()
    assert _book(api, "rm") == (3, ["C0002", "C0001", "C0003"])
    body = {"customer_ids": ["C0002"], "role": "rm", "to_staff_id": "R4", "reason": "asked"}
    r = api.client.post("/staff/reassign", json=body, headers=api.login("branch_manager"))
    assert r.status_code == 200, r.text
    assert _book(api, "rm") == (2, ["C0001", "C0003"])
    assert _book(api, "rm", "aum") == (2, ["C0003", "C0001"])
    assert _book(api, "rm", "customer_id") == (2, ["C0001", "C0003"])
    # supervisor S1's team is R1 and R4: every customer once, the moved one included
    assert _book(api, "rm_supervisor") == (4, ["C0002", "C0004", "C0001", "C0003"])
    with api.db() as db:  # R1 also holds C0004 as a second role: still listed once
        bank.assign(db, "C0004", "R1", "vip_teller")
        db.flush()
        RunRepository(db).write_book(bank.RUN_NO)
        db.commit()
    assert _book(api, "rm_supervisor") == (4, ["C0002", "C0004", "C0001", "C0003"])
    assert _book(api, "rm") == (3, ["C0004", "C0001", "C0003"])
