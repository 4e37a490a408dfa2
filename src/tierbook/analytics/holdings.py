"""Holdings on a date: every account with its balance on the as-of date (Ibis, whole table).

From daily snapshots the balance is the row of that day (a missing day counts as zero, as in
the data contract); from change events it is the latest event on or before the day.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

ACCOUNT_COLUMNS = (
    "account_id",
    "customer_id",
    "product_type",
    "product_name",
    "open_date",
    "maturity_date",
    "close_date",
)


def balances_on(balances: ir.Table, form: str, day: date) -> ir.Table:
    """``account_id``, ``balance`` on ``day`` for accounts with a balance row that applies."""
    if form == "daily":
        t = balances.filter(balances.date == day)
        return t.group_by("account_id").aggregate(balance=t.balance.max())
    t = balances.filter(balances.date <= day)
    latest = t.group_by("account_id").aggregate(date=t.date.max())
    joined = t.join(latest, ["account_id", "date"])
    return joined.group_by("account_id").aggregate(balance=joined.balance.max())


def holdings_on(accounts: ir.Table, balances: ir.Table, form: str, day: date) -> ir.Table:
    """Accounts opened by ``day`` with their balance on ``day`` (0 when none applies)."""
    acc = accounts.filter(accounts.open_date <= day).select(*ACCOUNT_COLUMNS)
    bal = balances_on(balances, form, day)
    out = acc.left_join(bal, "account_id").select(
        *ACCOUNT_COLUMNS, balance=ibis.coalesce(bal.balance, 0)
    )
    return out.order_by("account_id")
