"""Value step of the batch (SPEC §3.5): fake-big flags with evidence, value score with its
parts, key customers, key-account types, cross-sell tasks, concentration and 20/60/20.

Rules are pure (``tierbook.domain``); features come from the engine
(``tierbook.analytics.features`` via ``value_inputs``); this module puts them together as
frames. Profit = net interest + fees − concessions (fee waivers + rate premium), over the
twelve months ending at the as-of date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tierbook.batch.measures import BucketSums
from tierbook.batch.value_frames import (
    any_flag,
    concentration_frames,
    flag_frame,
    key_customer_frame,
)
from tierbook.batch.value_inputs import ValueInputs, gather
from tierbook.domain import detectors as det
from tierbook.domain import scoring
from tierbook.domain.key_accounts import PRODUCTS, account_types, next_best_products
from tierbook.domain.periods import ReviewCalendar
from tierbook.domain.referrals import referral_influence
from tierbook.ingest.dataset import Dataset
from tierbook.planner.common import STAMP_COLUMNS, fan_out, finish_tasks, ts
from tierbook.rules.loader import LoadedRulebook
from tierbook.rules.value import SCORE_PARTS, KeyCustomerRules


@dataclass
class ValueResult:
    value_scores: pd.DataFrame  # one row per customer: inputs, score parts, type, group
    key_customers: pd.DataFrame
    fake_big_flags: pd.DataFrame  # one row per flag with its evidence
    pareto: pd.DataFrame  # the curve at every percent of customers
    segments_206020: pd.DataFrame  # profile of each group: tier mix, products, branches
    cross_sell_tasks: pd.DataFrame  # the planner's task columns
    concentration: dict[str, float] = field(default_factory=dict)


def value_step(
    ds: Dataset,
    as_of: date,
    loaded: LoadedRulebook,
    customers: pd.DataFrame,
    sums: BucketSums,
    cal: ReviewCalendar,
    assignments: pd.DataFrame,
) -> ValueResult | None:
    """Everything of the ``key_customers`` rulebook section; None when it is absent."""
    rb = loaded.rulebook
    rules = rb.key_customers
    if rules is None:
        return None
    ladder = rb.ladder(rules.ladder)
    weights = {k.value: v for k, v in rb.asset_weights.items()}
    index = pd.Index(customers["customer_id"])
    inp, win = gather(ds, index, rules, ladder.thresholds(), weights, sums, cal)
    f = inp.frame
    base = customers[["customer_id", "branch_id", "kind"]].reset_index(drop=True)
    base["tier"] = customers[f"{ladder.id}_level"].to_numpy()
    f["contribution"] = f["net_interest"] + f["fees"]
    f["concessions"] = f["fee_waivers"] + f["rate_premium"]
    f["profit"] = f["contribution"] - f["concessions"]
    kinds = detect(inp, rules)
    flags = flag_frame(base, f, kinds, win, rules)
    scores = score_frame(base, inp, rules, kinds)
    conc = concentration_frames(scores, inp.held, rules)
    scores["group_206020"] = conc.groups
    stamp = loaded.stamp
    tasks = cross_sell(scores, inp.held, rules, assignments, as_of, stamp)
    return ValueResult(
        value_scores=_stamped(scores, stamp),
        key_customers=_stamped(key_customer_frame(scores, assignments), stamp),
        fake_big_flags=_stamped(flags, stamp),
        pareto=conc.pareto,
        segments_206020=conc.profiles,
        cross_sell_tasks=tasks,
        concentration=conc.summary,
    )


def _stamped(frame: pd.DataFrame, stamp: dict[str, str]) -> pd.DataFrame:
    """The rulebook id, version and hash on every row (as on tiers and tasks)."""
    return frame.assign(**{k: stamp.get(k, "") for k in STAMP_COLUMNS})


def detect(inp: ValueInputs, rules: KeyCustomerRules) -> dict[str, np.ndarray]:
    """Flag masks by detector name (``tierbook.domain.detectors.DETECTORS``)."""
    f, d = inp.frame, rules.detectors
    bulk = det.bulk(inp.shape, d.bulk)
    contribution = (f["net_interest"] + f["fees"]).to_numpy(float)
    concessions = (f["fee_waivers"] + f["rate_premium"]).to_numpy(float)
    profit = contribution - concessions
    peel, ratio = det.peeler(concessions, contribution, d.peeler)
    hv = det.high_volume_low_profit(
        f["volume"].to_numpy(float), profit, contribution, peel, d.high_volume_low_profit
    )
    f["volume_pct"], f["margin"], f["margin_pct"], f["profit_rate"] = (
        hv.volume_pct, hv.margin, hv.margin_pct, hv.profit_rate,
    )  # fmt: skip
    f["concession_ratio"] = ratio
    return {
        det.WINDOW_DRESSING: bulk == det.WINDOW_DRESSING,
        det.ONE_OFF_BULK: bulk == det.ONE_OFF_BULK,
        det.HIGH_VOLUME_LOW_PROFIT: hv.flag,
        det.PEELER: peel,
    }


def score_frame(
    base: pd.DataFrame, inp: ValueInputs, rules: KeyCustomerRules, kinds: dict[str, np.ndarray]
) -> pd.DataFrame:
    f, s = inp.frame, rules.score
    profit = f["profit"].to_numpy(float)
    in_graph = f.index.isin(list({c for edge in inp.edges for c in edge}))
    influence = referral_influence(  # the profit of the customers a referral reaches
        inp.edges,
        dict(zip(f.index[in_graph], profit[in_graph].tolist(), strict=True)),
        decay=s.referral_decay,
        depth=s.referral_depth,
    )
    out = base.copy()
    out["profit"] = np.round(profit, 2)
    for col in ("contribution", "concessions", "txn_count", "volume", "tenure_years"):
        out[col] = f[col].to_numpy()
    out["product_types"] = inp.held.sum(axis=1)
    referrers = pd.Index(list(influence), dtype=object)
    at = referrers.get_indexer(out["customer_id"])  # -1: referred nobody
    direct = np.asarray([i.direct for i in influence.values()] + [0], dtype=np.int64)
    value = np.asarray([i.value for i in influence.values()] + [0.0], dtype=float)
    out["referred"], out["referral_value"] = direct[at], value[at]  # [-1]: the zeros
    out["aum_cv"] = scoring.coefficient_of_variation(inp.monthly_aum)
    vi = scoring.ValueInputs(
        profit=profit,
        txn_count=out["txn_count"].to_numpy(float),
        product_types=out["product_types"].to_numpy(float),
        tenure_years=out["tenure_years"].to_numpy(float),
        referral_value=out["referral_value"].to_numpy(float),
        aum_cv=out["aum_cv"].to_numpy(float),
    )
    points, total = scoring.value_score(vi, s)
    for p in SCORE_PARTS:
        out[f"pts_{p}"] = np.round(points[p], 2)
    out["score"] = np.round(total, 2)
    out["rank"] = out["score"].rank(ascending=False, method="first").astype(int)
    flagged = any_flag(kinds, len(out))
    names = np.full(len(out), "", dtype=object)  # the flags' names in detector order
    rows = np.flatnonzero(flagged)
    names[rows] = [",".join(k for k, m in kinds.items() if m[r]) for r in rows.tolist()]
    out["flags"] = pd.Series(names, index=out.index, dtype="str")
    key, reasons = scoring.select_key_customers(total, profit, flagged, rules.select)
    out["key_customer"] = key
    out["key_reason"] = reasons
    org = out["kind"].isin(["corporate", "institution"]).to_numpy()
    ka, ka_reason = account_types(
        inp.held, vi.tenure_years, out["referred"].to_numpy(float), org, rules.account_types
    )
    out["ka_type"], out["ka_reason"] = ka, ka_reason
    return out


def cross_sell(
    scores: pd.DataFrame,
    held: np.ndarray,
    rules: KeyCustomerRules,
    assignments: pd.DataFrame,
    as_of: date,
    stamp: dict[str, str],
) -> pd.DataFrame:
    """One task per key customer and assigned staff of the rule's roles, naming the next best
    products and how many of the customer's tier peers hold them."""
    rule = rules.cross_sell
    key = scores["key_customer"].to_numpy(bool)
    found = next_best_products(held, scores["tier"].astype(str).tolist(), key, rule)
    if not found:
        return finish_tasks([], stamp)
    rows = pd.DataFrame(
        {
            "row": [s.row for s in found],
            "text": [f"{s.product.value} ({s.peer_share:.0%} of {s.peers:,})" for s in found],
        }
    )
    text = rows.groupby("row", sort=True)["text"].agg("; ".join)
    subj = scores.iloc[text.index][["customer_id", "branch_id", "tier"]].copy()
    subj["products"] = text.to_numpy()
    tasks = fan_out(subj, rule.roles, assignments, unassigned=True)
    tasks["kind"] = "cross_sell"
    tasks["due_date"] = ts(as_of + timedelta(days=rule.due_days))
    tasks["rule"] = "key_customers.cross_sell"
    tasks["reason"] = (
        "交叉销售 next best product: 同层 "
        + tasks["tier"].astype(str)
        + " 客户多数持有, 本客户未持有: "
        + tasks["products"]
    )
    return finish_tasks([tasks], stamp)


__all__ = ["PRODUCTS", "ValueResult", "value_step"]
