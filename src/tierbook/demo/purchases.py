"""Demo purchases for the retail-membership preset: ``write_purchases(out, seed=…, year=…)``.

A share of the demo bank's individuals are members of a retail chain. Each member joins on
its first purchase (over the two years up to the demo year's end) and then buys the way
BG/NBD and Gamma-Gamma assume: while alive at a Poisson rate λ ~ Gamma(r, α) per week,
dropping out after each purchase with probability p ~ Beta(a, b); every purchase's amount
is Gamma(s, ν) with ν ~ Gamma(q, γ) per member. Each member also has a taste for
promotions, new arrivals, bulk buying and a favourite category. The parameters drawn are
written to ``truth/purchases.json`` (never read by the engine).
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from tierbook.demo.writers import csv_schema

CATEGORIES = ("上衣", "裤装", "连衣裙", "外套", "鞋履", "配饰")
PARAMS = {"r": 0.5, "alpha": 6.0, "a": 0.7, "b": 3.0, "spend_p": 4.0, "spend_q": 4.0,
          "spend_gamma": 450.0, "member_share": 0.6}  # fmt: skip


def simulate(
    rng: np.random.Generator, customer_ids: list[str], start: date, end: date
) -> pd.DataFrame:
    """Purchases of members joining between ``start`` and ``end`` (inclusive)."""
    p = PARAMS
    span = (end - start).days + 1
    members = [c for c in customer_ids if rng.random() < p["member_share"]]
    rows: list[tuple[str, int, float, int, float, bool, str]] = []
    for cid in members:
        lam = rng.gamma(p["r"], 1.0 / p["alpha"]) / 7.0  # per day
        drop = rng.beta(p["a"], p["b"])
        nu = rng.gamma(p["spend_q"], 1.0 / p["spend_gamma"])
        promo, fresh = rng.beta(1.0, 2.0), rng.beta(1.5, 2.0)
        bulk = rng.gamma(1.0, 0.8)
        favourite = int(rng.integers(0, len(CATEGORIES)))
        day = int(rng.integers(0, span))
        while day < span:
            items = 1 + int(rng.poisson(bulk))
            unit = rng.gamma(p["spend_p"], 1.0 / nu) / max(1.0, 0.6 * items)
            discount = float(np.round(rng.uniform(0.1, 0.5), 2)) if rng.random() < promo else 0.0
            amount = float(np.round(max(unit * items * (1.0 - discount), 1.0), 2))
            cat = favourite if rng.random() < 0.6 else int(rng.integers(0, len(CATEGORIES)))
            rows.append((cid, day, amount, items, discount, bool(rng.random() < fresh),
                         CATEGORIES[cat]))  # fmt: skip
            if rng.random() < drop or lam <= 0:
                break
            day += 1 + int(rng.exponential(1.0 / lam))
    frame = pd.DataFrame(
        rows, columns=["customer_id", "day", "amount", "items", "discount", "new_arrival",
                       "category"],
    )  # fmt: skip
    frame = frame.sort_values(["day", "customer_id"], kind="stable", ignore_index=True)
    frame["date"] = [str(start + timedelta(days=int(d))) for d in frame["day"]]
    frame.insert(0, "purchase_id", [f"P{i + 1:09d}" for i in range(len(frame))])
    return frame


def write_purchases(out: Path, *, seed: int = 7, year: int = 2025) -> int:
    """Add ``purchases.csv`` to the demo bank in ``out``; returns the number of purchases."""
    customers = pd.read_csv(out / "customers.csv", dtype=str, usecols=["customer_id", "kind"])
    ids = customers.loc[customers["kind"] == "individual", "customer_id"].tolist()
    rng = np.random.default_rng([seed, 2_000_000])
    frame = simulate(rng, ids, date(year - 1, 1, 1), date(year, 12, 31))
    names = csv_schema("purchases").names
    frame[names].to_csv(out / "purchases.csv", index=False, encoding="utf-8")
    (out / "truth").mkdir(exist_ok=True)
    (out / "truth" / "purchases.json").write_text(
        json.dumps({**PARAMS, "members": int(frame["customer_id"].nunique()),
                    "purchases": len(frame)}, indent=2),
        encoding="utf-8",
    )  # fmt: skip
    return len(frame)
