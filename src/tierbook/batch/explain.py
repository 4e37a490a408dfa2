"""Read a run's outputs back and explain one customer's tiers."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tierbook.batch.tiering import render_explanations
from tierbook.rules.models import Rulebook


def explain_customer(run_dir: Path, customer_id: str) -> str:
    tiers_path = run_dir / "tiers.parquet"
    if not tiers_path.exists():
        raise FileNotFoundError(f"{run_dir} holds no run (tiers.parquet is missing)")
    filt = [("customer_id", "==", customer_id)]
    tiers = pd.read_parquet(tiers_path, filters=filt)
    if tiers.empty:
        raise KeyError(f"customer {customer_id} is not in the run at {run_dir}")
    history = pd.read_parquet(run_dir / "history.parquet", filters=filt)
    manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    rb = manifest["rulebook"]
    lines = [
        f"customer {customer_id} as of {manifest['as_of']} — rulebook {rb['rulebook_id']} "
        f"{rb['rulebook_version']} (sha256 {rb['rulebook_sha256'][:12]}…)"
    ]
    rulebook = Rulebook.model_validate_json((run_dir / "rulebook.json").read_text(encoding="utf-8"))
    weights = {k.value: v for k, v in rulebook.asset_weights.items()}
    for _, row in tiers.iterrows():
        ladder = rulebook.ladder(str(row["ladder_id"]))
        [text] = render_explanations(row.to_frame().T, ladder, weights)
        lines.append("")
        lines.append(f"[{row['ladder_id']}] {row['level']}")
        lines.extend(f"  - {part}" for part in text.split("; "))
        h = history[history["ladder_id"] == row["ladder_id"]].sort_values("period_end")
        trail = ", ".join(
            f"{pd.Timestamp(r.period_end):%Y-%m} {r.measure:,.0f}→{r.level}({r.step})"
            for r in h.itertuples()
        )
        lines.append(f"  history: {trail}")
    return "\n".join(lines)
