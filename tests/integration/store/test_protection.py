"""Personal data at rest and the audit trail: ID numbers and phones are stored encrypted,
masked and hashed, never in plain text; the audit log refuses updates and deletes."""

from __future__ import annotations

import pytest
from sqlalchemy import text, update
from sqlalchemy.exc import DatabaseError

from tests.integration.store.conftest import BatchRun
from tierbook.store.models import AppendOnlyError, AuditEntry
from tierbook.store.publish import publish_run
from tierbook.store.repositories import AuditRepository


def test_encrypted_columns_hold_no_plain_id_number_or_phone(store, year_end: BatchRun) -> None:
    publish_run(store, year_end.result, year_end.master)
    plain = year_end.result.identities.set_index("customer_id")
    with store.engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM customers")).mappings().all()
    assert len(rows) == len(plain)
    for row in rows:
        ident = plain.loc[row["customer_id"]]
        stored = " ".join(str(v) for v in row.values())
        for field in ("id_number", "phone"):
            value = ident[field]
            if not isinstance(value, str):
                assert row[f"{field}_enc"] is None
                continue
            assert value not in stored, (row["customer_id"], field)
            assert store.cipher.decrypt(row[f"{field}_enc"]) == value
            masked = row[f"{field}_masked"]
            assert masked[:3] == value[:3] and masked[-4:] == value[-4:] and "*" in masked
            assert row[f"{field}_hash"] == store.cipher.lookup_hash(value)


def test_a_customer_is_found_by_the_keyed_hash_of_the_id_number(store, year_end: BatchRun) -> None:
    publish_run(store, year_end.result, year_end.master)
    one = year_end.result.identities.iloc[5]
    with store.engine.connect() as conn:
        found = (
            conn.execute(
                text("SELECT customer_id FROM customers WHERE id_number_hash = :h"),
                {"h": store.cipher.lookup_hash(one["id_number"])},
            )
            .scalars()
            .all()
        )
    assert found == [one["customer_id"]]


def _entry(store) -> int:  # type: ignore[no-untyped-def]
    with store.unit_of_work() as uow:
        entry = AuditEntry(
            actor="admin",
            action="unmask",
            entity="customer",
            entity_id="C1",
            before=None,
            after={"field": "phone"},
            reason="customer called",
        )
        AuditRepository(uow.session).append(entry)
        uow.commit()
        return entry.id


def test_the_orm_refuses_to_change_or_delete_an_audit_entry(store) -> None:
    entry_id = _entry(store)
    with store.unit_of_work() as uow:
        entry = uow.session.get(AuditEntry, entry_id)
        assert entry is not None
        entry.reason = "rewritten"
        with pytest.raises(AppendOnlyError):
            uow.session.flush()
    with store.unit_of_work() as uow:
        entry = uow.session.get(AuditEntry, entry_id)
        uow.session.delete(entry)
        with pytest.raises(AppendOnlyError):
            uow.session.flush()


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_log SET reason = 'rewritten'", "DELETE FROM audit_log"],
    ids=["update", "delete"],
)
def test_the_database_refuses_to_change_or_delete_an_audit_entry(store, sql: str) -> None:
    _entry(store)
    with pytest.raises(DatabaseError, match="append-only"), store.engine.begin() as conn:
        conn.execute(text(sql))
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT reason FROM audit_log")).scalar_one() == (
            "customer called"
        )


def test_a_core_update_of_the_audit_log_is_refused_too(store) -> None:
    _entry(store)
    with pytest.raises(DatabaseError, match="append-only"), store.unit_of_work() as uow:
        uow.session.execute(update(AuditEntry).values(reason="rewritten"))
