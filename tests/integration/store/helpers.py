"""Reading a store back for comparisons: every table's rows, in a stable order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, inspect, select, text

from tierbook.store.base import Base


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows (as text, sorted): equal dumps mean equal table contents."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = conn.execute(select(table)).fetchall()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def count(engine: Engine, table: str, where: str = "1=1") -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one())


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


__all__ = ["count", "dump", "func", "scalar", "tables"]
