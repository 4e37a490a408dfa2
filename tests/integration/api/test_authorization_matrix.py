"""Authorization matrix: every OpenAPI operation × every role × a record of {the caller's
own book, a team member's, a same-branch colleague's, another branch's}.

Expectations are written out by hand here, independently of ``tierbook.domain.access``:
a role without the permission gets 403; with it, an in-scope record succeeds and an
out-of-scope one is 404; lists, counts and exports contain the record exactly when it is in
scope. No request may answer 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.integration.api import bank
from tests.integration.api.conftest import open_api

# --- who sees what (hand-written) -----------------------------------------------------------
RELATIONS = ("own", "team", "colleague", "other")
OWNER = {"team": "R4", "colleague": "R2", "other": "R9"}  # own: the caller's staff (or R1)
EVERYTHING = set(RELATIONS)
SEES = {
    "teller": {"own"},
    "vip_teller": {"own"},
    "lobby_manager": {"own"},
    "rm": {"own"},
    "rm_supervisor": {"own", "team"},
    "branch_manager": {"own", "team", "colleague"},
    "personal_banking": EVERYTHING,
    "head_office_analyst": EVERYTHING,
    "admin": set(),
}
FRONT = {
    "teller",
    "vip_teller",
    "lobby_manager",
    "rm",
    "rm_supervisor",
    "branch_manager",
    "personal_banking",
}
RM_UP = {"rm", "rm_supervisor", "branch_manager", "personal_banking"}
MAY = {
    "view": FRONT | {"head_office_analyst"},
    "unmask": RM_UP,
    "contact": FRONT,
    "refer": {"teller", "vip_teller", "lobby_manager"},
    "answer": RM_UP,
    "complaint": FRONT,
    "ack": FRONT,
    "reassign": {"branch_manager"},
    "depart": {"branch_manager"},
    "event": {"branch_manager", "personal_banking"},
    "compliance": {"rm_supervisor", "branch_manager", "personal_banking", "head_office_analyst"},
    "export": FRONT | {"head_office_analyst"},
    "audit": {"admin"},
    "anyone": set(bank.ROLES),
}


def event_visible(role: str, rel: str) -> bool:
    """Events of the record's branch: the caller's branch, or head office sees all."""
    if role == "admin":
        return False
    return role in {"personal_banking", "head_office_analyst"} or rel != "other"


@dataclass(frozen=True)
class Op:
    """How to call one operation for a case, what permission it needs, how to judge it:
    ``record`` 404 out of scope; ``list`` returns the record iff in scope; ``event`` scoped
    by the event's branch; ``global`` needs only the permission."""

    need: str
    kind: str
    url: str
    body: dict[str, Any] | None = None
    find: str = "customer_id"


CONTACT = {"channel": "phone", "purpose": "review", "outcome": "agreed"}
OPS: dict[tuple[str, str], Op] = {
    ("get", "/auth/me"): Op("anyone", "global", "/auth/me"),
    ("get", "/customers"): Op("view", "list", "/customers?limit=200"),
    ("get", "/customers/count"): Op("view", "count", "/customers/count"),
    ("get", "/customers/export.csv"): Op("export", "export", "/customers/export.csv"),
    ("get", "/customers/{customer_id}"): Op("view", "record", "/customers/{c}"),
    ("post", "/customers/{customer_id}/unmask"): Op(
        "unmask", "record", "/customers/{c}/unmask", {"reason": "matrix"}
    ),
    ("patch", "/customers/{customer_id}/archive"): Op(
        "contact", "record", "/customers/{c}/archive", {"hobbies": "茶艺"}
    ),
    ("get", "/customers/{customer_id}/contacts"): Op("view", "record", "/customers/{c}/contacts"),
    ("post", "/customers/{customer_id}/contacts"): Op(
        "contact", "record", "/customers/{c}/contacts", CONTACT
    ),
    ("post", "/customers/{customer_id}/referrals"): Op(
        "refer", "record", "/customers/{c}/referrals", {"to_staff_id": "{rm}"}
    ),
    ("post", "/customers/{customer_id}/complaints"): Op(
        "complaint", "record", "/customers/{c}/complaints", {"severity": "B", "summary": "x"}
    ),
    ("post", "/customers/{customer_id}/surveys"): Op(
        "complaint", "record", "/customers/{c}/surveys", {"score": 8, "surveyed_on": "2026-01-05"}
    ),
    ("get", "/tasks"): Op("view", "list", "/tasks?when=open&staff_id={owner}", find="id:task"),
    ("post", "/tasks/{task_id}/complete"): Op(
        "contact", "record", "/tasks/{task}/complete", CONTACT
    ),
    ("get", "/contacts"): Op("view", "list", "/contacts"),
    ("get", "/referrals"): Op("view", "list", "/referrals"),
    ("post", "/referrals/{referral_id}/accept"): Op(
        "answer", "record", "/referrals/{ref0}/accept", {}
    ),
    ("post", "/referrals/{referral_id}/decline"): Op(
        "answer", "record", "/referrals/{ref1}/decline", {"note": "not now"}
    ),
    ("get", "/alerts"): Op("view", "list", "/alerts", find="id:alert"),
    ("post", "/alerts/{alert_id}/ack"): Op("ack", "record", "/alerts/{alert}/ack"),
    ("get", "/complaints"): Op("view", "list", "/complaints"),
    ("post", "/complaints/{complaint_id}/respond"): Op(
        "complaint", "record", "/complaints/{complaint}/respond"
    ),
    ("get", "/staff"): Op("view", "list", "/staff", find="staff_id"),
    ("get", "/staff/compliance"): Op("compliance", "list", "/staff/compliance", find="staff_id"),
    ("get", "/events"): Op("view", "event_list", "/events", find="id:event"),
    ("post", "/events"): Op(
        "event",
        "global",
        "/events",
        {"kind": "salon", "title": "茶艺沙龙", "starts_at": "2026-02-01T10:00:00+08:00"},
    ),
    ("get", "/events/{event_id}"): Op("view", "event", "/events/{event}"),
    ("post", "/events/{event_id}/invitations/pick"): Op(
        "event", "event", "/events/{event}/invitations/pick", {"interests": ["茶艺"]}
    ),
    ("post", "/events/{event_id}/invitations/{customer_id}/rsvp"): Op(
        "contact", "record", "/events/{event}/invitations/{c}/rsvp", {"rsvp": "yes"}
    ),
    ("post", "/events/{event_id}/invitations/{customer_id}/attendance"): Op(
        "event", "record", "/events/{event}/invitations/{c}/attendance", {"attended": True}
    ),
    ("post", "/events/{event_id}/follow-ups"): Op("event", "event", "/events/{event}/follow-ups"),
    ("get", "/audit"): Op("audit", "global", "/audit"),
    ("post", "/staff/reassign"): Op(
        "reassign",
        "record",
        "/staff/reassign",
        {"customer_ids": ["{c}"], "role": "{role}", "to_staff_id": "{mate}", "reason": "x"},
    ),
    ("post", "/staff/{staff_id}/departure"): Op(
        "depart",
        "record",
        "/staff/{owner}/departure",
        {"end_date": "2026-01-31", "to_staff_id": "{mate}"},
    ),
    ("post", "/auth/logout"): Op("anyone", "global", "/auth/logout"),
}
UNAUTHENTICATED = {("post", "/auth/login")}


def test_the_matrix_covers_every_operation_of_the_openapi_document(bank_template) -> None:
    api = open_api(bank_template.clone())
    spec = api.client.get("/openapi.json").json()
    ops = {(m, p) for p, item in spec["paths"].items() for m in item}
    assert ops == set(OPS) | UNAUTHENTICATED


def _fill(value: Any, names: dict[str, str]) -> Any:
    if isinstance(value, str):
        return value.format(**names) if "{" in value else value
    if isinstance(value, list):
        return [_fill(v, names) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, names) for k, v in value.items()}
    return value


def _listed(op: Op, body: Any, case: bank.Case) -> bool:
    if op.find.startswith("id:"):
        want = {"task": case.task_id, "alert": case.alert_id, "event": case.event_id}
        return any(r["id"] == want[op.find[3:]] for r in body)
    if op.find == "staff_id":
        return any(r["staff_id"] == case.owner for r in body)
    rows = body["items"] if isinstance(body, dict) else body
    return any(r["customer_id"] == case.customer_id for r in rows)


def _judge(role: str, rel: str, op: Op, r: Any, case: bank.Case) -> str | None:
    """None when the answer is right, else what is wrong."""
    if r.status_code >= 500:
        return f"server error {r.status_code}"
    if role not in MAY[op.need]:
        return None if r.status_code == 403 else f"want 403, got {r.status_code} {r.text[:200]}"
    visible = rel in SEES[role]
    if op.kind in {"event", "event_list"}:
        if op.kind == "event_list":
            ok = r.status_code == 200 and _listed(op, r.json(), case) == event_visible(role, rel)
            return None if ok else f"event list leak/miss {r.status_code}"
        if not event_visible(role, rel):
            return None if r.status_code == 404 else f"want 404, got {r.status_code}"
        if r.status_code // 100 != 2:
            return f"want 2xx, got {r.status_code} {r.text[:200]}"
        data = r.json()
        if "invitations" in data and _listed(op, data["invitations"], case) != visible:
            return "event invitations leak or miss the customer"
        if "customer_ids" in data and not visible and case.customer_id in data["customer_ids"]:
            return "pick invited an out-of-scope customer"
        return None
    if op.kind == "record":
        if visible:
            return (
                None
                if r.status_code // 100 == 2
                else f"want 2xx, got {r.status_code} {r.text[:300]}"
            )
        return None if r.status_code == 404 else f"want 404, got {r.status_code} {r.text[:200]}"
    if op.kind == "global":
        return None if r.status_code // 100 == 2 else f"want 2xx, got {r.status_code}"
    if r.status_code != 200:
        return f"want 200, got {r.status_code} {r.text[:200]}"
    if op.kind == "list":
        return None if _listed(op, r.json(), case) == visible else "list leaks or misses the record"
    if op.kind == "count":
        return None if r.json()["total"] == int(visible) else f"count {r.json()['total']}"
    if op.kind == "export":
        return None if (case.customer_id in r.text) == visible else "export leaks or misses it"
    return None


def _names(case: bank.Case) -> dict[str, str]:
    return {
        "c": case.customer_id,
        "task": str(case.task_id),
        "alert": str(case.alert_id),
        "complaint": str(case.complaint_id),
        "ref0": str(case.referral_ids[0]),
        "ref1": str(case.referral_ids[1]),
        "event": str(case.event_id),
        "owner": case.owner,
        "role": case.owner_role,
        "mate": bank.COLLEAGUE[case.owner],
        "rm": "R3" if case.branch_id == "B1" else "R8",
    }


@pytest.mark.parametrize("role", bank.ROLES)
def test_each_role_reaches_exactly_its_scope(bank_template, role) -> None:
    """One database per role holding a case of each relation; the count is checked against
    the number of cases in scope."""
    api = open_api(bank_template.clone())
    problems: list[str] = []
    try:
        own = bank.USERS[role] or "R1"
        with api.db() as db:
            cases = {
                rel: bank.add_case(db, api.store.cipher, n, own if rel == "own" else OWNER[rel])
                for n, rel in enumerate(RELATIONS, start=1)
            }
            db.commit()
        in_scope = len(SEES[role])
        for rel, case in cases.items():
            names = _names(case)
            for (method, path), op in OPS.items():
                url = _fill(op.url, names)
                kw = {"json": _fill(op.body, names)} if op.body is not None else {}
                r = api.client.request(method.upper(), url, headers=api.login(role), **kw)
                if path == "/auth/logout":
                    api.tokens.pop(role, None)
                if op.kind == "count":
                    ok = (
                        r.status_code == 403
                        if role not in MAY[op.need]
                        else (r.status_code == 200 and r.json()["total"] == in_scope)
                    )
                    wrong = None if ok else f"count {r.status_code} {r.text[:100]}"
                else:
                    wrong = _judge(role, rel, op, r, case)
                if wrong:
                    problems.append(f"{role} × {rel} × {method.upper()} {url}: {wrong}")
    finally:
        api.client.close()
        api.store.dispose()
    assert not problems, "\n".join(problems)
