"""Recency-frequency-monetary summary of purchases, as an Ibis expression.

Purchases of one customer on one day count as one purchase (their amounts add up), as in
Fader, Hardie & Lee. Per customer, up to the calibration end: ``frequency`` = repeat
purchases (purchase days − 1), ``recency`` = first to last purchase, ``T`` = first purchase
to the calibration end, both in units of ``unit_days``; ``monetary`` = mean amount of the
repeat purchases (0 without any).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir


def rfm_summary(purchases: ir.Table, calibration_end: date, unit_days: float) -> ir.Table:
    """``purchases`` with ``customer_id``, ``date`` and ``amount`` columns."""
    t = purchases.filter(purchases.date <= calibration_end)
    daily = t.group_by(["customer_id", "date"]).aggregate(amount=t.amount.sum())
    s = daily.group_by("customer_id").aggregate(
        first=daily.date.min(),
        last=daily.date.max(),
        days=daily.count(),
        total=daily.amount.sum(),
        first_amount=daily.amount.argmin(daily.date),
    )
    end = ibis.literal(calibration_end, type="date")
    frequency = (s.days - 1).cast("int64")
    repeat_total = s.total - s.first_amount
    return s.select(
        "customer_id",
        first_purchase=s.first,
        last_purchase=s.last,
        frequency=frequency,
        recency=s.last.delta(s.first, unit="day").cast("float64") / unit_days,
        T=end.delta(s.first, unit="day").cast("float64") / unit_days,
        monetary=ibis.ifelse(frequency > 0, repeat_total / frequency.cast("float64"), 0.0),
        total=s.total,
    ).order_by("customer_id")
