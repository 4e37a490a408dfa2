"""Corporate segmentation of a run: every corporate and institutional client's segment and
two-axis scores, and the segments ranked by attractiveness (SPEC §3.6).

Bank's value to the client (0–1, percentile among the clients): share of wallet (the
share of its outgoing payments that do not leave for other banks), product coverage
(distinct product types held), tenure, activity (transactions) and growth (AUM of the last
quarter against the first). Client's value to the bank: its contribution over the year
(net interest + fees − concessions, percentile). Weights from the rulebook.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from tierbook.analytics import churn as expr
from tierbook.analytics.aum import CLASSES
from tierbook.batch.measures import BucketSums
from tierbook.batch.monthly import MonthlyBook
from tierbook.domain.periods import ReviewCalendar
from tierbook.domain.segments import (
    Client,
    attractiveness,
    bank_value_to_client,
    percentile_scores,
    quadrant,
    segment_of,
)
from tierbook.ingest.contract import PRODUCT_TYPES
from tierbook.ingest.dataset import Dataset
from tierbook.rules.analyses import CorporateSegmentation

AXES = ("share_of_wallet", "product_coverage", "tenure", "activity", "growth")


def client_frame(
    ds: Dataset, book: MonthlyBook, sums: BucketSums, cal: ReviewCalendar
) -> pd.DataFrame:
    """Raw measures of every corporate and institutional client, in the book's order."""
    cust = ds.tables["customers"]
    cols = ["customer_id", "kind", "sector", "industry", "annual_sales", "listed_industry"]
    c = cust.filter(cust.kind != "individual").select(*cols).to_pandas()
    rows = book.customer_ids.get_indexer(c["customer_id"])
    year = sums.class_average(cal, "year", book.rows[rows])
    deposit = year[:, CLASSES.index("demand_deposit")] + year[:, CLASSES.index("time_deposit")]
    out_all = book.outflow()[rows].sum(axis=1)
    out_other = book.flow("other_bank", "out")[rows].sum(axis=1)
    aum = book.aum[rows]
    first, last = aum[:, :3].mean(axis=1), aum[:, -3:].mean(axis=1)
    held = expr.products_held(ds.tables["accounts"], cal.as_of, book.month_ends[0].replace(day=1))
    products = held.to_pandas().set_index("customer_id")["products"]
    c["deposit_avg"] = np.round(deposit, 2)
    c["loan_avg"] = np.round(year[:, CLASSES.index("loan")], 2)
    c["share_of_wallet"] = np.divide(
        out_all - out_other, out_all, out=np.zeros_like(out_all), where=out_all > 0
    )
    c["products"] = products.reindex(c["customer_id"]).fillna(0).to_numpy()
    c["tenure_years"] = (np.datetime64(cal.as_of, "D") - book.open_date[rows]).astype(
        float
    ) / 365.25
    c["transactions"] = book.counts[rows].sum(axis=1)
    c["growth"] = np.divide(last - first, first, out=np.zeros_like(first), where=first > 0)
    c["contribution"] = _contribution(ds, c["customer_id"], book.month_ends)
    return c


def _contribution(ds: Dataset, ids: pd.Series, month_ends: list[date]) -> np.ndarray:
    if "income" not in ds.tables:
        return np.zeros(len(ids))
    t = expr.contribution(ds.tables["income"], month_ends[0], month_ends[-1]).to_pandas()
    return t.set_index("customer_id")["contribution"].reindex(ids).fillna(0).to_numpy()


def segment_clients(c: pd.DataFrame, rules: CorporateSegmentation) -> pd.DataFrame:
    """Add the segment and the two axis scores to every client row."""
    c = c.copy()
    segs = [
        segment_of(
            Client(
                str(r.customer_id), str(r.kind), r.sector if isinstance(r.sector, str) else None,
                None if pd.isna(r.annual_sales) else float(r.annual_sales),
                None if pd.isna(r.listed_industry) else bool(r.listed_industry),
                bool(r.loan_avg > 0), float(r.deposit_avg),
            ),
            rules,
        )
        for r in c.itertuples(index=False)
    ]  # fmt: skip
    c["loan"] = [s.loan for s in segs]
    c["size"] = [s.size for s in segs]
    c["deposit_band"] = [s.deposit_band for s in segs]
    c["segment"] = [s.label(rules.deposit_line) for s in segs]
    ax = rules.axes
    scores = {
        "share_of_wallet": percentile_scores(c["share_of_wallet"].tolist()),
        "product_coverage": (c["products"] / len(PRODUCT_TYPES)).clip(0, 1).tolist(),
        "tenure": (c["tenure_years"] / ax.tenure_cap_years).clip(0, 1).tolist(),
        "activity": percentile_scores(c["transactions"].tolist()),
        "growth": percentile_scores(c["growth"].tolist()),
    }
    c["bank_to_client"] = [
        round(bank_value_to_client({k: scores[k][i] for k in AXES}, ax), 4) for i in range(len(c))
    ]
    c["client_to_bank"] = np.round(percentile_scores(c["contribution"].tolist()), 4)
    return c


def rank_segments(c: pd.DataFrame, rules: CorporateSegmentation) -> pd.DataFrame:
    """One row per segment: size, money, mean axis scores, attractiveness, rank, quadrant."""
    g = c.groupby("segment").agg(
        clients=("customer_id", "count"),
        deposit_avg_total=("deposit_avg", "sum"),
        loan_avg_total=("loan_avg", "sum"),
        contribution_total=("contribution", "sum"),
        bank_to_client=("bank_to_client", "mean"),
        client_to_bank=("client_to_bank", "mean"),
    )
    g["attractiveness"] = [
        round(attractiveness(b, v, rules.axes), 4)
        for b, v in zip(g["bank_to_client"], g["client_to_bank"], strict=True)
    ]
    mid_b, mid_c = float(g["bank_to_client"].median()), float(g["client_to_bank"].median())
    g["quadrant"] = [
        quadrant(b, v, mid_b, mid_c)
        for b, v in zip(g["bank_to_client"], g["client_to_bank"], strict=True)
    ]
    g = g.sort_values(["attractiveness", "clients"], ascending=[False, False])
    g["rank"] = np.arange(1, len(g) + 1)
    return g.round({"bank_to_client": 4, "client_to_bank": 4}).reset_index()
