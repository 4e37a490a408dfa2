"""Charts of a run as PNG files (matplotlib, Agg backend; no display, no network).

Chinese level names need a CJK font. The first installed one of ``CJK_FONTS`` is used;
without any, levels are labelled ``L0 ≥0``, ``L1 ≥100k``, … — their place on the ladder and
its threshold (as in the workbook's tier summary) — so that no label renders as empty boxes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

CJK_FONTS = (
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
)


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def cjk_font() -> str | None:
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    return next((f for f in CJK_FONTS if f in names), None)


def level_labels(levels: list[str], mins: list[float]) -> list[str]:
    """The level names when a CJK font is installed, else ``L{k} ≥{threshold}``."""
    if cjk_font() is not None or all(n.isascii() for n in levels):
        return levels
    return [f"L{k} ≥{_short(m)}" for k, m in enumerate(mins)]


def _short(x: float) -> str:
    for div, unit in ((1e6, "M"), (1e3, "k")):
        if x >= div:
            return f"{x / div:g}{unit}"
    return f"{x:g}"


def _style(plt: Any) -> None:
    font = cjk_font()
    if font:
        plt.rcParams["font.sans-serif"] = [font, "DejaVu Sans"]
    plt.rcParams["axes.unicode_minus"] = False


def tier_distribution(
    counts: dict[str, pd.Series], mins: dict[str, list[float]], path: Path
) -> Path:
    """One bar chart panel per ladder: customers per level (``counts``: ladder → series
    indexed by level name in ladder order; ``mins``: ladder → level thresholds)."""
    plt = _pyplot()
    _style(plt)
    fig, axes = plt.subplots(1, len(counts), figsize=(5.5 * len(counts), 4), squeeze=False)
    for ax, (ladder, series) in zip(axes[0], counts.items(), strict=True):
        labels = level_labels([str(x) for x in series.index], mins[ladder])
        bars = ax.bar(labels, series.to_numpy(), color="#3b6ea8")
        ax.bar_label(bars, fmt="%d", fontsize=8)
        ax.set_title(f"{ladder}: customers per level")
        ax.set_ylabel("customers")
        ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def churn_by_cohort(
    cohorts: pd.DataFrame, levels: list[str], mins: list[float], path: Path
) -> Path:
    """Retention curves: share of each starting tier not yet leaving, month by month."""
    plt = _pyplot()
    _style(plt)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    labels = dict(zip(levels, level_labels(levels, mins), strict=True))
    for level in levels:
        part = cohorts[cohorts["start_level"] == level]
        if part.empty:
            continue
        n = int(part["customers"].iloc[0])
        ax.plot(pd.to_datetime(part["month"]), part["retained"], marker="o", markersize=3,
                label=f"{labels[level]} (n={n})")  # fmt: skip
    ax.set_ylim(0, 1.02)
    ax.set_ylabel("share not yet leaving")
    ax.set_title("Cohort retention by starting tier")
    ax.legend(fontsize=8, loc="lower left")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def pareto_png(curve: pd.DataFrame, summary: dict[str, float], path: Path) -> Path:
    """The Pareto curve of profit: cumulative share of profit against share of customers,
    highest profit first, with the top share marked."""
    plt = _pyplot()
    _style(plt)
    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=110)
    x = np.r_[0.0, curve["customer_share"].to_numpy(float)] * 100
    y = np.r_[0.0, curve["profit_share"].to_numpy(float)] * 100
    ax.plot(x, y, color="#1f5fa8", lw=2, label="cumulative profit")
    ax.plot([0, 100], [0, 100], color="#999999", lw=1, ls="--", label="equal shares")
    top = summary.get("top_share")
    if top is not None and "top_profit_share" in summary:
        tx, ty = top * 100, summary["top_profit_share"] * 100
        ax.scatter([tx], [ty], color="#c0392b", zorder=3)
        ax.annotate(f"top {tx:.0f}% → {ty:.1f}% of profit", (tx, ty), (tx + 5, ty - 12))
    ax.axhline(100, color="#cccccc", lw=0.8)
    ax.set_xlabel("customers, highest profit first (%)")
    ax.set_ylabel("share of total profit (%)")
    ax.set_title(f"Pareto curve of profit (Gini {summary.get('gini', float('nan')):.3f})")
    ax.set_xlim(0, 100)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path
