"""Login, a book, a customer 360: the basic path works on both stores."""

from __future__ import annotations

from tests.integration.api import bank


def test_rm_sees_own_customer_in_book_and_360(api) -> None:
    with api.db() as db:
        case = bank.add_case(db, api.store.cipher, 1, "R1")
        db.commit()
    h = api.login("rm")
    r = api.client.get("/customers", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 1 and body["items"][0]["customer_id"] == case.customer_id
    r = api.client.get(f"/customers/{case.customer_id}", headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["archive"]["id_number"].startswith("1101****")
