"""``seed_demo_users``: one working login per role, linked to staff who fit the role."""

from __future__ import annotations

import pandas as pd

from tests.integration.store.conftest import BatchRun
from tierbook.store.demo_users import seed_demo_users
from tierbook.store.models import USER_ROLES, User
from tierbook.store.passwords import verify_password
from tierbook.store.publish import publish_run


def test_every_role_gets_a_login_whose_password_verifies(store, year_end: BatchRun) -> None:
    publish_run(store, year_end.result, year_end.master)
    logins = {d.login: d for d in seed_demo_users(store)}
    assert set(logins) == set(USER_ROLES)
    with store.unit_of_work() as uow:
        users = {u.login: (u.role, u.password_hash) for u in uow.session.query(User)}
    for login, d in logins.items():
        role, password_hash = users[login]
        assert role == d.role
        assert verify_password(password_hash, d.password)
        assert not verify_password(password_hash, d.password + "x")
        assert d.password not in password_hash


def test_linked_staff_hold_the_role_and_the_rm_has_the_largest_book(
    store, year_end: BatchRun
) -> None:
    publish_run(store, year_end.result, year_end.master)
    logins = {d.login: d for d in seed_demo_users(store, password="demo-pass-123")}
    staff = pd.read_csv(year_end.data / "staff.csv", dtype=str).set_index("staff_id")
    active = staff[staff["end_date"].isna()]
    books = year_end.result.assignments.groupby("staff_id").size()
    rm = logins["rm"]
    active_rms = active[active["role"] == "rm"].index
    assert rm.book == books.reindex(active_rms).fillna(0).max()
    for role in ("teller", "vip_teller", "lobby_manager", "rm_supervisor", "branch_manager"):
        d = logins[role]
        assert d.staff_id in active.index
        assert active.loc[d.staff_id, "role"] == role
        assert active.loc[d.staff_id, "branch_id"] == rm.branch_id
    assert active.loc[logins["personal_banking"].staff_id, "role"] == "personal_banking"
    assert logins["admin"].staff_id is None
    assert logins["head_office_analyst"].staff_id is None


def test_seeding_again_resets_the_passwords_without_new_users(store, year_end: BatchRun) -> None:
    publish_run(store, year_end.result, year_end.master)
    seed_demo_users(store, password="first-password")
    again = {d.login: d for d in seed_demo_users(store, password="second-password")}
    with store.unit_of_work() as uow:
        users = {u.login: u.password_hash for u in uow.session.query(User)}
    assert len(users) == len(USER_ROLES)
    assert all(verify_password(h, "second-password") for h in users.values())
    assert set(again) == set(users)
