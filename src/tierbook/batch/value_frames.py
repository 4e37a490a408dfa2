"""Frames of the value step: flags with evidence, the key-customer list, Pareto, 20/60/20."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierbook.batch.value_inputs import Window
from tierbook.domain import concentration as cc
from tierbook.domain import detectors as det
from tierbook.domain.key_accounts import PRODUCTS
from tierbook.rules.value import SCORE_PARTS, KeyCustomerRules

BULK_EVIDENCE = (
    "year_avg", "held_avg", "peak", "peak_date", "start_balance", "end_balance",
    "period_end_max", "period_end_date", "threshold", "avg_threshold", "days_above",
    "dressed_dates", "flow_date", "inflow_before", "outflow_after",
)  # fmt: skip
HVLP_EVIDENCE = ("volume", "volume_pct", "margin_bp", "margin_pct", "profit", "profit_rate")
PEELER_EVIDENCE = (
    "contribution", "concessions", "fee_waivers", "rate_premium", "concession_ratio",
    "months_peeled",
)  # fmt: skip
MONEY_EVIDENCE = {
    "year_avg", "held_avg", "peak", "start_balance", "end_balance", "period_end_max",
    "threshold", "avg_threshold", "inflow_before", "outflow_after", "volume", "profit",
    "contribution", "concessions", "fee_waivers", "rate_premium",
}  # fmt: skip
"""Evidence in CNY, written to the cent: the engine's parallel sums of a year of balances
differ from run to run in the last bits, and the same inputs should give the same file."""
EVIDENCE: dict[str, tuple[str, ...]] = {
    det.WINDOW_DRESSING: BULK_EVIDENCE,
    det.ONE_OFF_BULK: BULK_EVIDENCE,
    det.HIGH_VOLUME_LOW_PROFIT: HVLP_EVIDENCE,
    det.PEELER: PEELER_EVIDENCE,
}


def _m(s: pd.Series) -> pd.Series:
    return s.astype(float).map("{:,.0f}".format)


def _d(s: pd.Series) -> pd.Series:
    return s.map(lambda d: "-" if d is None or pd.isna(d) else d.isoformat()).astype(object)


def _evidence(f: pd.DataFrame, win: Window) -> pd.DataFrame:
    e = f.copy()
    e["peak_date"] = win.to_date(f["peak_day"])
    e["period_end_date"] = win.to_date(f["period_end_day"])
    e["flow_date"] = win.to_date(f["flow_day"])
    e["threshold"] = f["peak_threshold"]
    e["margin_bp"] = f["margin"] * 10_000
    return e


def _reasons(detector: str, e: pd.DataFrame, rules: KeyCustomerRules) -> pd.Series:
    b = rules.detectors.bulk
    if detector in (det.WINDOW_DRESSING, det.ONE_OFF_BULK):
        text = (
            "peak " + _m(e["peak"]) + " on " + _d(e["peak_date"])
            + " vs 年日均 " + _m(e["year_avg"]) + " (since first balance "
            + _m(e["held_avg"]) + "); held ≥ " + _m(e["threshold"])
            + " for " + e["days_above"].astype(int).astype(str) + " days (max "
            + str(b.max_days_above) + "); " + _m(e["start_balance"]) + " at the start, "
            + _m(e["end_balance"]) + " now"
        )  # fmt: skip
        if detector == det.WINDOW_DRESSING:
            text = (
                text + "; period end " + _d(e["period_end_date"]) + " at "
                + _m(e["period_end_max"]) + "; in " + _m(e["inflow_before"]) + " before / out "
                + _m(e["outflow_after"]) + " after " + _d(e["flow_date"])
            )  # fmt: skip
        return text
    if detector == det.HIGH_VOLUME_LOW_PROFIT:
        return (
            "turnover " + _m(e["volume"]) + " (top " + ((1 - e["volume_pct"]) * 100).map(
                "{:.1f}%".format) + "), profit " + _m(e["profit"]) + " = "
            + (e["profit_rate"] * 100).map("{:.1f}%".format) + " of contribution, margin "
            + e["margin_bp"].map("{:.3f}".format) + " bp"
        )  # fmt: skip
    return (
        "concessions " + _m(e["concessions"]) + " = " + e["concession_ratio"].map("{:.2f}".format)
        + " × contribution " + _m(e["contribution"]) + "; " + e["months_peeled"].astype(int)
        .astype(str) + " months with concessions above contribution"
    )  # fmt: skip


def any_flag(kinds: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``[n]`` whether any detector of ``kinds`` flags each row."""
    out = np.zeros(n, dtype=bool)
    for mask in kinds.values():
        out |= mask
    return out


def flag_frame(
    base: pd.DataFrame,
    f: pd.DataFrame,
    kinds: dict[str, np.ndarray],
    win: Window,
    rules: KeyCustomerRules,
) -> pd.DataFrame:
    """One row per flag: who, which detector, why (reason) and the evidence columns."""
    flagged = np.flatnonzero(any_flag(kinds, len(f)))  # the evidence of these rows only
    e = _evidence(f.iloc[flagged].reset_index(drop=True), win)
    at = np.full(len(f), -1, dtype=np.int64)
    at[flagged] = np.arange(len(flagged))
    columns = list(dict.fromkeys(c for cols in EVIDENCE.values() for c in cols))
    parts = []
    for detector, mask in kinds.items():
        sel = np.flatnonzero(mask)
        if len(sel) == 0:
            continue
        part = base.iloc[sel].reset_index(drop=True)
        part.insert(4, "detector", detector)
        ev = e.iloc[at[sel]].reset_index(drop=True)
        part["reason"] = _reasons(detector, ev, rules).to_numpy()
        for c in columns:
            if c not in EVIDENCE[detector]:
                part[c] = None
            elif c in MONEY_EVIDENCE:
                part[c] = np.round(ev[c].to_numpy(float), 2)
            else:
                part[c] = ev[c].to_numpy()
        parts.append(part)
    if not parts:
        return pd.DataFrame(columns=[*base.columns, "detector", "reason", *columns])
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(["detector", "customer_id"], ignore_index=True)


def key_customer_frame(scores: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
    """The key customers by rank, with the named RM and the score explained."""
    k = scores.loc[scores["key_customer"]].sort_values("rank")
    rm = assignments.loc[assignments["role"].astype(str) == "rm"].drop_duplicates("customer_id")
    k = k.merge(rm[["customer_id", "staff_id"]], on="customer_id", how="left")
    k["explanation"] = _explain(k)
    cols = [
        "rank", "customer_id", "branch_id", "kind", "tier", "staff_id", "score", "profit",
        *[f"pts_{p}" for p in SCORE_PARTS], "ka_type", "ka_reason", "explanation",
    ]  # fmt: skip
    return k[cols].reset_index(drop=True)


def _explain(k: pd.DataFrame) -> pd.Series:
    if k.empty:  # no key customer (a tiny bank): nothing to format
        return pd.Series([], index=k.index, dtype=object)
    text = "score " + k["score"].map("{:.1f}".format) + " ="
    for p in SCORE_PARTS:
        text = text + f" {p} " + k[f"pts_{p}"].map("{:.1f}".format)
    return (
        text + "; profit " + _m(k["profit"]) + ", " + k["txn_count"].astype(int).astype(str)
        + " txns, " + k["product_types"].astype(str) + " product types, "
        + k["tenure_years"].map("{:.1f}".format) + " years, referred "
        + k["referred"].astype(str)
    )  # fmt: skip


@dataclass(frozen=True)
class ConcentrationFrames:
    groups: np.ndarray  # group name per customer
    pareto: pd.DataFrame
    profiles: pd.DataFrame
    summary: dict[str, float]


def concentration_frames(
    scores: pd.DataFrame, held: np.ndarray, rules: KeyCustomerRules
) -> ConcentrationFrames:
    c = rules.concentration
    profit = scores["profit"].to_numpy(float)
    group = np.asarray(cc.GROUP_NAMES, dtype=object)[
        cc.split_groups(profit, c.split.top, c.split.bottom)
    ]
    summary: dict[str, float] = {
        "customers": float(len(profit)),
        "total_profit": float(profit.sum()),
        "loss_making_share": float((profit < 0).mean()) if len(profit) else 0.0,
        "gini": cc.gini(profit),
    }
    pareto = pd.DataFrame(columns=["customer_share", "customers", "profit_share"])
    if len(profit) and profit.sum() > 0:
        _, cum = cc.pareto_curve(profit)
        summary["top_share"] = c.top_share
        summary["top_profit_share"] = cc.top_share(profit, c.top_share)
        pct = np.arange(1, 101) / 100
        k = np.maximum(1, np.ceil(pct * len(profit) - 1e-9).astype(int))
        pareto = pd.DataFrame({"customer_share": pct, "customers": k, "profit_share": cum[k - 1]})
    return ConcentrationFrames(group, pareto, _profiles(scores, group, held), summary)


def _profiles(scores: pd.DataFrame, group: np.ndarray, held: np.ndarray) -> pd.DataFrame:
    """Long table: group, dimension (all, tier, kind, branch, product), category, customers,
    share of the group, profit."""
    s = scores[["customer_id", "tier", "kind", "branch_id", "profit"]].copy()
    s["group"] = group
    size = s.groupby("group")["customer_id"].count()
    parts = []
    s["all"] = "all"
    for dim, col in (("all", "all"), ("tier", "tier"), ("kind", "kind"), ("branch", "branch_id")):
        g = s.groupby(["group", col], observed=True).agg(
            customers=("customer_id", "count"), profit=("profit", "sum")
        )
        g = g.reset_index().rename(columns={col: "category"})
        g.insert(1, "dimension", dim)
        parts.append(g)
    for k, product in enumerate(PRODUCTS):
        s["holds"] = held[:, k]
        g = (
            s.loc[s["holds"]]
            .groupby("group")
            .agg(customers=("customer_id", "count"), profit=("profit", "sum"))
        )
        g = g.reset_index()
        g.insert(1, "dimension", "product")
        g.insert(2, "category", product.value)
        parts.append(g)
    out = pd.concat(parts, ignore_index=True)
    out["share"] = out["customers"] / out["group"].map(size)
    order = {n: i for i, n in enumerate(cc.GROUP_NAMES)}
    out["_o"] = out["group"].map(order)
    out = out.sort_values(["_o", "dimension", "customers"], ascending=[True, True, False])
    cols = ["group", "dimension", "category", "customers", "share", "profit"]
    return out[cols].reset_index(drop=True)


__all__ = ["ConcentrationFrames", "concentration_frames", "flag_frame", "key_customer_frame"]
