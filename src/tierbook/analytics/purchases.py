"""Purchase measures for purchase-based ladders (retail membership), as Ibis expressions."""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from tierbook.analytics.aum import bucket_index
from tierbook.domain.periods import ReviewCalendar


def monthly_purchases(purchases: ir.Table, cal: ReviewCalendar) -> ir.Table:
    """Per customer and bucket: purchase total and the largest single purchase."""
    t = purchases.filter(purchases.date >= cal.start, purchases.date <= cal.as_of)
    t = t.mutate(bucket=bucket_index(t.date, cal))
    return t.group_by(["customer_id", "bucket"]).aggregate(
        spend=t.amount.sum(), largest=t.amount.max(), count=ibis._.count()
    )
