"""Charts written with a run, as PNG files (matplotlib, Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def pareto_png(curve: pd.DataFrame, summary: dict[str, float], path: Path) -> Path:
    """The Pareto curve of profit: cumulative share of profit against share of customers,
    highest profit first, with the top share marked."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

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
