"""Lifecycle service: fit BG/NBD + Gamma-Gamma on a purchases table and score customers.

Used by ``tierbook lifecycle`` on a plain transactions file (customer, date, amount) and by
the batch for purchase-based rulebooks (calibration end = the as-of date).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd

from tierbook.analytics.lifecycle import rfm_summary
from tierbook.domain import lifecycle as model
from tierbook.rules.analyses import Lifecycle


@dataclass
class LifecycleResult:
    customers: pd.DataFrame
    bgnbd: model.BgNbd
    gamma_gamma: model.GammaGamma | None
    calibration_end: date
    rules: Lifecycle

    def parameters(self) -> dict[str, Any]:
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "time_unit_days": self.rules.time_unit_days,
            "customers": len(self.customers),
            "bgnbd": {k: round(v, 4) for k, v in asdict(self.bgnbd).items()},
            "gamma_gamma": (
                {k: round(v, 4) for k, v in asdict(self.gamma_gamma).items()}
                if self.gamma_gamma
                else None
            ),
        }


def score_lifecycle(purchases: Any, calibration_end: date, rules: Lifecycle) -> LifecycleResult:
    """``purchases``: an Ibis table with ``customer_id``, ``date``, ``amount``."""
    s = rfm_summary(purchases, calibration_end, rules.time_unit_days).to_pandas()
    if s.empty:
        raise ValueError(f"no purchases on or before the calibration end {calibration_end}")
    x, tx, T = s["frequency"], s["recency"], s["T"]
    bg = model.fit_bgnbd(x, tx, T)
    horizon = rules.horizon_days / rules.time_unit_days
    s["p_alive"] = model.probability_alive(bg, x, tx, T).round(4)
    s["expected_purchases"] = model.expected_purchases(bg, horizon, x, tx, T).round(4)
    gg = None
    try:
        gg = model.fit_gamma_gamma(x, s["monetary"])
        spend = model.expected_spend(gg, x, s["monetary"])
    except ValueError:
        spend = s["total"] / (x + 1)  # too few repeat buyers: each one's own mean spend
    s["expected_spend"] = np.round(np.asarray(spend, dtype=float), 2)
    s["clv"] = model.lifetime_value(
        bg, s["expected_spend"], x, tx, T, periods=rules.clv_periods,
        period_length=rules.clv_period_days / rules.time_unit_days,
        discount_rate=rules.discount_rate, margin=rules.margin,
    ).round(2)  # fmt: skip
    for col in ("recency", "T", "monetary"):
        s[col] = s[col].round(4)
    return LifecycleResult(s, bg, gg, calibration_end, rules)


class TransactionsFileError(ValueError):
    """A transactions file that cannot be read: file, line, field and reason."""


ALIASES = {"customer": "customer_id", "amount": "amount", "date": "date"}


def read_transactions_file(path: Path) -> pd.DataFrame:
    """A CSV (or Parquet) file with columns customer (or customer_id), date, amount."""
    try:
        if path.suffix.lower() == ".parquet":
            raw = pd.read_parquet(path).astype(str)
        else:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise TransactionsFileError(f"{path}: cannot read: {exc}") from exc
    cols = {c.strip().lower(): c for c in raw.columns}
    if "customer" not in cols and "customer_id" in cols:
        cols["customer"] = cols["customer_id"]
    missing = [c for c in ALIASES if c not in cols]
    if missing:
        raise TransactionsFileError(f"{path}: missing column(s) {', '.join(missing)}")
    frame = pd.DataFrame(
        {
            "customer_id": raw[cols["customer"]].str.strip(),
            "date": pd.to_datetime(raw[cols["date"]].str.strip(), errors="coerce"),
            "amount": pd.to_numeric(raw[cols["amount"]].str.replace(",", ""), errors="coerce"),
        }
    )
    for field, bad, reason in (
        ("customer", frame["customer_id"] == "", "empty"),
        ("date", frame["date"].isna(), "not a date (YYYY-MM-DD)"),
        ("amount", frame["amount"].isna() | (frame["amount"] < 0), "not an amount >= 0"),
    ):
        if bad.any():
            lines = ", ".join(str(i + 2) for i in bad[bad].index[:5])
            raise TransactionsFileError(f"{path}: line {lines}: field {field}: {reason}")
    frame["date"] = frame["date"].dt.date
    return frame


def lifecycle_from_file(path: Path, calibration_end: date, rules: Lifecycle) -> LifecycleResult:
    frame = read_transactions_file(path)
    return score_lifecycle(ibis.memtable(frame), calibration_end, rules)
