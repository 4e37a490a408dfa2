"""Churn report of a run: who is leaving, since when, why; cohort retention by starting tier.

Applies the pure rules of ``tierbook.domain.churn`` to every customer's months of the
monthly book; the early-warning score is ``tierbook.batch.early_warning``.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from tierbook.analytics.aum import CLASSES
from tierbook.batch.monthly import MonthlyBook
from tierbook.domain.churn import (
    ChurnInputs,
    ChurnVerdict,
    churn_reason,
    churn_verdict,
    is_followed,
    not_followed,
)
from tierbook.ingest.contract import COUNTERPARTY_TYPES
from tierbook.ingest.dataset import Dataset
from tierbook.rules.analyses import ChurnRules

CHURN_COLUMNS = ("customer_id", "leaving", "onset_month", "signal", "signals", "baseline_aum",
                 "last_aum", "change", "reason_source", "reason_code", "reason", "start_level",
                 "level")  # fmt: skip
COHORT_COLUMNS = ("start_level", "month", "customers", "retained", "at_or_above_start")


def downgrade_matrix(levels: np.ndarray) -> np.ndarray:
    """``[n, T]``: the level went down in the month (never in the first month)."""
    down = np.zeros(levels.shape, dtype=bool)
    down[:, 1:] = levels[:, 1:] < levels[:, :-1]
    return down


def baselines(aum: np.ndarray, rules: ChurnRules) -> np.ndarray:
    """``[n]`` baseline AUM: the average of the first ``baseline_months`` months of ``aum``."""
    return aum[:, : rules.baseline_months].mean(axis=1)


def followed_customers(aum: np.ndarray, rules: ChurnRules) -> np.ndarray:
    """``[n]`` whether churn follows each customer of ``aum`` (``[n, months]``)."""
    return np.asarray([is_followed(b, rules) for b in baselines(aum, rules).tolist()], dtype=bool)


def verdicts(book: MonthlyBook, rules: ChurnRules) -> list[ChurnVerdict]:
    """The churn verdict of every customer on the book's months (the rules run on the
    followed customers; the others get their baseline only)."""
    down = downgrade_matrix(book.levels)
    other = book.flow("other_bank", "out")
    base = baselines(book.aum, rules)
    out = []
    for i, b in enumerate(base.tolist()):
        if not is_followed(b, rules):
            out.append(not_followed(b))
            continue
        inp = ChurnInputs(
            book.aum[i].tolist(),
            other[i].tolist(),
            book.open_accounts[i].tolist(),
            down[i].tolist(),
        )
        out.append(churn_verdict(inp, rules))
    return out


def onset_months(vs: list[ChurnVerdict]) -> np.ndarray:
    """Onset month per customer; -1 not followed; a large number when not leaving."""
    return np.asarray(
        [(-1 if not v.followed else (v.onset if v.leaving else 10**6)) for v in vs],
        dtype=np.int64,
    )


def churn_frame(
    ds: Dataset,
    book: MonthlyBook,
    level_names: list[str],
    vs: list[ChurnVerdict],
    rules: ChurnRules,
) -> pd.DataFrame:
    """One row per followed customer: signal, onset, reason, starting and current level."""
    contacts = _contact_codes(ds)
    levels = book.levels
    base = book.class_aum[:, : rules.baseline_months].mean(axis=1)
    drop = base - book.class_aum[:, -1]
    out = book.flows[:, :, :, 1]
    rows = []
    for i, v in enumerate(vs):
        if not v.followed:
            continue
        cid = book.customer_ids[i]
        reason = None
        onset_date = None
        if v.leaving and v.onset is not None:
            end = book.month_ends[v.onset]
            onset_date = end.replace(day=1)
            since = onset_date - timedelta(days=rules.reason_window_days)
            codes = [code for d, code in contacts.get(cid, []) if d >= since]
            outflow = dict(zip(COUNTERPARTY_TYPES, out[i, v.onset :].sum(axis=0), strict=True))
            lost = {c: float(x) for c, x in zip(CLASSES, drop[i], strict=True) if c != "loan"}
            reason = churn_reason(v, codes, lost, outflow, rules)
        rows.append(
            {
                "customer_id": cid,
                "leaving": v.leaving,
                "onset_month": onset_date,
                "signal": v.signal,
                "signals": ",".join(v.signals),
                "baseline_aum": round(v.baseline, 2),
                "last_aum": round(float(book.aum[i, -1]), 2),
                "change": round(v.change, 4),
                "reason_source": reason.source if reason else None,
                "reason_code": reason.code if reason else None,
                "reason": reason.label if reason else None,
                "start_level": level_names[int(levels[i, 0])],
                "level": level_names[int(levels[i, -1])],
            }
        )
    return pd.DataFrame(rows, columns=CHURN_COLUMNS).astype({"leaving": bool})


def _contact_codes(ds: Dataset) -> dict[str, list[tuple[date, str]]]:
    """Reason codes of the contact log per customer, latest first."""
    if "contacts" not in ds.tables:
        return {}
    t = ds.tables["contacts"]
    t = t.filter(t.reason_code.notnull()).select("customer_id", "date", "reason_code")
    frame = t.to_pandas().sort_values("date", ascending=False)
    frame["date"] = pd.to_datetime(frame["date"]).dt.date
    out: dict[str, list[tuple[date, str]]] = {}
    for cid, d, code in frame.itertuples(index=False):
        out.setdefault(cid, []).append((d, str(code)))
    return out


def cohort_retention(
    book: MonthlyBook, level_names: list[str], vs: list[ChurnVerdict]
) -> pd.DataFrame:
    """Per starting tier (level in the first review month) and month: followed customers,
    the share not yet leaving, and the share still at or above the starting tier."""
    onset = onset_months(vs)
    followed = onset >= 0
    levels = book.levels
    start = levels[:, 0]
    rows = []
    for k, name in enumerate(level_names):
        sel = followed & (start == k)
        n = int(sel.sum())
        if n == 0:
            continue
        for m, end in enumerate(book.month_ends):
            rows.append(
                {
                    "start_level": name,
                    "month": end,
                    "customers": n,
                    "retained": round(float((onset[sel] > m).mean()), 4),
                    "at_or_above_start": round(float((levels[sel, m] >= k).mean()), 4),
                }
            )
    return pd.DataFrame(rows, columns=COHORT_COLUMNS)
