"""Login with argon2 hashes and server-side sessions: idle timeout, logout, lifetime."""

from __future__ import annotations

from sqlalchemy import select

from tests.integration.api import bank
from tierbook.store.models import User, UserSession


def _login(api, role="rm", password=None):
    return api.client.post(
        "/auth/login", json={"login": role, "password": password or bank.password(role)}
    )


def test_login_returns_a_token_that_identifies_the_user_and_scope(api) -> None:
    r = _login(api)
    assert r.status_code == 200
    me = api.client.get("/auth/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.json()["login"] == "rm" and me.json()["scope"] == "own"
    assert me.json()["staff_id"] == "R1" and me.json()["branch_id"] == "B1"


def test_the_cookie_alone_authenticates(api) -> None:
    assert _login(api).status_code == 200  # the client keeps the Set-Cookie
    assert api.client.get("/auth/me").status_code == 200


def test_wrong_password_and_unknown_login_both_answer_401(api) -> None:
    assert _login(api, password="wrong").status_code == 401
    assert _login(api, role="nobody", password="x").status_code == 401


def test_passwords_are_stored_as_argon2id_hashes(api) -> None:
    with api.db() as db:
        stored = db.scalar(select(User.password_hash).where(User.login == "rm"))
    assert stored.startswith("$argon2id$") and bank.password("rm") not in stored


def test_only_the_hash_of_the_token_is_stored(api) -> None:
    token = _login(api).json()["token"]
    with api.db() as db:
        hashes = list(db.scalars(select(UserSession.token_hash)))
    assert token not in hashes and len(hashes) == 1


def test_no_token_answers_401(api) -> None:
    assert api.client.get("/customers").status_code == 401
    assert api.client.get("/customers", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_session_survives_29_minutes_idle_and_ends_after_more_than_30(api) -> None:
    h = {"Authorization": f"Bearer {_login(api).json()['token']}"}
    api.clock.advance(minutes=29)
    assert api.client.get("/auth/me", headers=h).status_code == 200
    api.clock.advance(minutes=29)  # idle time counts from the last request
    assert api.client.get("/auth/me", headers=h).status_code == 200
    api.clock.advance(minutes=30, seconds=1)
    assert api.client.get("/auth/me", headers=h).status_code == 401
    api.clock.advance(seconds=1)  # and it stays ended
    assert api.client.get("/auth/me", headers=h).status_code == 401
    with api.db() as db:
        assert db.scalar(select(UserSession.revoked_at)) is not None


def test_logout_invalidates_the_token(api) -> None:
    h = {"Authorization": f"Bearer {_login(api).json()['token']}"}
    assert api.client.post("/auth/logout", headers=h).status_code == 204
    assert api.client.get("/auth/me", headers=h).status_code == 401


def test_a_session_ends_at_its_lifetime_even_when_busy(api) -> None:
    h = {"Authorization": f"Bearer {_login(api).json()['token']}"}
    for _ in range(12 * 3):  # a request every 20 minutes for 12 hours
        api.clock.advance(minutes=20)
        last = api.client.get("/auth/me", headers=h).status_code
    assert last == 401


def test_a_deactivated_user_is_logged_out(api) -> None:
    h = {"Authorization": f"Bearer {_login(api).json()['token']}"}
    with api.db() as db:
        db.scalar(select(User).where(User.login == "rm")).active = False
        db.commit()
    assert api.client.get("/auth/me", headers=h).status_code == 401
    assert _login(api).status_code == 401
