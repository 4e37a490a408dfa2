"""Early warning of churn: a scikit-learn logistic regression on monthly features.

Features of month ``t`` use only months up to ``t`` (AUM changes, flows to other banks and
securities, activity, products, level fall, tenure). Training: the first ``train_months``
months alone — churn onsets are recomputed on those months only, so nothing of the later
months enters the fit — with every month ``t`` whose ``horizon_months`` fit inside
labelled 1 when the customer's onset falls in ``(t, t + horizon]``. Evaluation: features
of month ``train_months`` (its last), labelled by the onsets of the full year in the
following ``horizon_months``; customers already leaving are left out. Reported: AUC and
precision in the top ``top_share`` of scores. The drivers of a score are its per-feature
contributions (coefficient × standardised value) to the log-odds, largest first.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from tierbook.analytics.aum import CLASSES
from tierbook.batch.churn import onset_months, verdicts
from tierbook.batch.monthly import MonthlyBook
from tierbook.rules.analyses import ChurnRules

FEATURES: tuple[str, ...] = (
    "log_aum",
    "aum_change_1m",
    "aum_change_3m",
    "aum_vs_peak",
    "other_bank_out_3m",
    "securities_out_3m",
    "net_flow_3m",
    "activity_change",
    "products",
    "term_share",
    "level_fall",
    "months_below_level",
    "aum_vs_baseline",
    "accounts_change_3m",
    "tenure_years",
)


def _ratio(a: np.ndarray, b: np.ndarray, lo: float = -1.0, hi: float = 5.0) -> np.ndarray:
    return np.clip(np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b > 0), lo, hi)


def features_at(book: MonthlyBook, t: int, baseline_months: int) -> np.ndarray:
    """``[n, len(FEATURES)]`` from months ``<= t`` only."""
    aum, levels = book.aum, book.levels
    base = aum[:, : min(baseline_months, t + 1)].mean(axis=1)
    prev3 = aum[:, max(t - 3, 0) : t].mean(axis=1) if t > 0 else aum[:, 0]
    lo = max(t - 2, 0)
    window = slice(lo, t + 1)
    counts_now = book.counts[:, window].sum(axis=1)
    counts_before = book.counts[:, max(t - 5, 0) : lo].sum(axis=1)
    term = [CLASSES.index(c) for c in ("time_deposit", "wealth_management")]
    month_end = np.datetime64(book.month_ends[t], "D")
    cols = [
        np.log1p(aum[:, t]),
        _ratio(aum[:, t] - aum[:, max(t - 1, 0)], aum[:, max(t - 1, 0)]),
        _ratio(aum[:, t] - prev3, prev3),
        _ratio(aum[:, t], aum[:, : t + 1].max(axis=1)) - 1.0,
        _ratio(book.flow("other_bank", "out")[:, window].sum(axis=1), prev3, 0.0),
        _ratio(book.flow("securities", "out")[:, window].sum(axis=1), prev3, 0.0),
        _ratio(book.inflow()[:, window].sum(axis=1) - book.outflow()[:, window].sum(axis=1), prev3),
        np.log((counts_now + 1.0) / (counts_before + 1.0)),
        (book.class_aum[:, t, :] > 0).sum(axis=1).astype(float),
        _ratio(book.class_aum[:, t, term].sum(axis=1), aum[:, t], 0.0, 2.0),
        (levels[:, t] - levels[:, : t + 1].max(axis=1)).astype(float),
        book.below_runs[:, t].astype(float),
        _ratio(aum[:, t] - base, base),
        (book.open_accounts[:, t] - book.open_accounts[:, max(t - 3, 0)]).astype(float),
        np.clip((month_end - book.open_date).astype(float) / 365.25, 0.0, 40.0),
    ]
    x = np.stack(cols, axis=1)
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)


@dataclass
class EarlyWarningResult:
    metrics: dict[str, Any]
    scores: pd.DataFrame  # current score and drivers per customer not yet leaving
    coefficients: pd.DataFrame
    model: Any = field(repr=False, default=None)


def training_set(book: MonthlyBook, rules: ChurnRules) -> tuple[np.ndarray, np.ndarray]:
    ew = rules.early_warning
    known = book.truncated(ew.train_months)
    onset = onset_months(verdicts(known, rules))
    xs, ys = [], []
    for t in range(rules.baseline_months, ew.train_months - ew.horizon_months):
        sel = onset > t
        xs.append(features_at(book, t, rules.baseline_months)[sel])
        ys.append((onset[sel] <= t + ew.horizon_months).astype(int))
    if not xs:
        return np.zeros((0, len(FEATURES))), np.zeros(0, dtype=int)
    return np.concatenate(xs), np.concatenate(ys)


def fit_and_evaluate(
    book: MonthlyBook, rules: ChurnRules, full_onset: np.ndarray
) -> EarlyWarningResult | None:
    """Train on the first months, evaluate on the next; ``None`` when a set has one class."""
    ew = rules.early_warning
    if book.n_months < ew.train_months + ew.horizon_months:
        return None
    x, y = training_set(book, rules)
    if len(set(y.tolist())) < 2:
        return None
    model = make_pipeline(
        StandardScaler(),
        LogisticRegression(C=ew.regularization, class_weight="balanced", max_iter=2000),
    )
    model.fit(x, y)
    t_eval = ew.train_months - 1
    sel = full_onset > t_eval
    x_eval = features_at(book, t_eval, rules.baseline_months)[sel]
    y_eval = (full_onset[sel] <= t_eval + ew.horizon_months).astype(int)
    metrics: dict[str, Any] = {
        "model": ew.model,
        "train_rows": len(y),
        "train_positives": int(y.sum()),
        "evaluated_customers": len(y_eval),
        "evaluated_positives": int(y_eval.sum()),
        "features_through_month": str(book.month_ends[t_eval]),
        "labels_in_months": [str(m) for m in book.month_ends[t_eval + 1 :][: ew.horizon_months]],
    }
    if len(set(y_eval.tolist())) == 2:
        score = model.predict_proba(x_eval)[:, 1]
        k = max(1, math.ceil(ew.top_share * len(score)))
        top = np.argsort(-score, kind="stable")[:k]
        metrics.update(
            auc=round(float(roc_auc_score(y_eval, score)), 4),
            top_share=ew.top_share,
            top_customers=k,
            precision_at_top=round(float(y_eval[top].mean()), 4),
            base_rate=round(float(y_eval.mean()), 4),
        )
    lr = model[-1]
    coef = pd.DataFrame({"feature": FEATURES, "coefficient": np.round(lr.coef_[0], 4)})
    scores = current_scores(book, model, full_onset, rules)
    return EarlyWarningResult(metrics, scores, coef, model)


def contributions(model: Any, x: np.ndarray) -> np.ndarray:
    """Per-feature contributions to the log-odds: coefficient × standardised value."""
    scaler, lr = model[0], model[-1]
    return scaler.transform(x) * lr.coef_[0][None, :]


def current_scores(
    book: MonthlyBook, model: Any, onset: np.ndarray, rules: ChurnRules
) -> pd.DataFrame:
    """Score at the last month of every followed customer not yet leaving, with drivers."""
    t = book.n_months - 1
    sel = np.flatnonzero(onset > t)
    x = features_at(book, t, rules.baseline_months)[sel]
    score = model.predict_proba(x)[:, 1] if len(sel) else np.zeros(0)
    contrib = contributions(model, x) if len(sel) else np.zeros((0, len(FEATURES)))
    names = np.asarray(FEATURES, dtype=object)
    order = np.argsort(-contrib, axis=1)[:, : rules.early_warning.drivers]
    text = [
        "; ".join(
            f"{names[j]}={x[i, j]:.3g} (+{contrib[i, j]:.2f})"
            for j in order[i]
            if contrib[i, j] > 0
        )
        for i in range(len(sel))
    ]
    frame = pd.DataFrame(
        {"customer_id": book.customer_ids.to_numpy()[sel], "warning_score": np.round(score, 4),
         "drivers": text}
    )  # fmt: skip
    frame["warning_rank"] = frame["warning_score"].rank(ascending=False, method="first")
    return frame.sort_values("warning_rank", ignore_index=True)
