"""``tierbook lifecycle``: fit on a transactions file, print a summary, write the results."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tierbook.batch.lifecycle import lifecycle_from_file
from tierbook.rules.analyses import Lifecycle
from tierbook.rules.loader import RulebookError, load_preset, load_rulebook


def lifecycle_rules(rulebook: str | None) -> Lifecycle:
    """The ``lifecycle`` section of ``rulebook`` (default: the retail_membership preset)."""
    try:
        lr = load_rulebook(rulebook) if rulebook else load_preset("retail_membership")
    except RulebookError as exc:
        raise ValueError(str(exc)) from None
    if lr.rulebook.lifecycle is None:
        raise ValueError(f"rulebook {lr.source} has no lifecycle section")
    return lr.rulebook.lifecycle


def run_lifecycle(
    transactions: Path, calibration_end: str, out: Path | None, rulebook: str | None, top: int
) -> str:
    try:
        end = date.fromisoformat(calibration_end)
    except ValueError:
        raise ValueError(
            f"--calibration-end {calibration_end!r} is not a date (YYYY-MM-DD)"
        ) from None
    rules = lifecycle_rules(rulebook)
    result = lifecycle_from_file(transactions, end, rules)
    p = result.parameters()
    bg, gg = p["bgnbd"], p["gamma_gamma"]
    lines = [
        f"customers {p['customers']:,}, calibration to {p['calibration_end']}, "
        f"time unit {rules.time_unit_days:g} days",
        f"BG/NBD  r={bg['r']:.3f} alpha={bg['alpha']:.3f} a={bg['a']:.3f} b={bg['b']:.3f} "
        f"(log-likelihood {bg['log_likelihood']:.1f})",
    ]
    if gg:
        lines.append(
            f"Gamma-Gamma  p={gg['p']:.3f} q={gg['q']:.3f} gamma={gg['gamma']:.3f} "
            f"(log-likelihood {gg['log_likelihood']:.1f})"
        )
    c = result.customers
    lines.append(
        f"expected purchases in the next {rules.horizon_days} days: "
        f"{c['expected_purchases'].sum():,.1f}; mean P(alive) {c['p_alive'].mean():.3f}; "
        f"total CLV ({rules.clv_periods} × {rules.clv_period_days:g} days) {c['clv'].sum():,.2f}"
    )
    cols = ["customer_id", "frequency", "recency", "T", "p_alive", "expected_purchases",
            "expected_spend", "clv"]  # fmt: skip
    lines.append(c.nlargest(top, "clv")[cols].to_string(index=False))
    if out is not None:
        if out.suffix.lower() == ".parquet":
            c.to_parquet(out, index=False)
        else:
            c.to_csv(out, index=False, encoding="utf-8")
        lines.append(f"per-customer results written to {out}")
    return "\n".join(lines)
