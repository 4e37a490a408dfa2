"""Score the fake-big detectors of a run against planted ground truth (the demo bank's
``truth/labels.csv``): precision and recall per detector, and how many customers that must
not be flagged (``steady_large``) were flagged anyway."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from tierbook.domain.detectors import DETECTORS

MUST_NOT_FLAG = "steady_large"
_HEADERS = {"true_positives": "hits"}


def evaluate_run(run_dir: Path, truth_file: Path) -> pd.DataFrame:
    """One row per detector: labelled, flagged, true positives, precision, recall."""
    flags_path = Path(run_dir) / "fake_big_flags.parquet"
    if not flags_path.exists():
        raise FileNotFoundError(f"{flags_path} not found: run the batch with key_customers rules")
    if not Path(truth_file).exists():
        raise FileNotFoundError(f"{truth_file} not found")
    flags = pd.read_parquet(flags_path, columns=["customer_id", "detector"])
    truth = pd.read_csv(truth_file, dtype=str)
    missing = {"customer_id", "label"} - set(truth.columns)
    if missing:
        raise ValueError(f"{truth_file}: missing column(s) {', '.join(sorted(missing))}")
    rows = []
    for name in DETECTORS:
        want = set(truth.loc[truth["label"] == name, "customer_id"])
        got = set(flags.loc[flags["detector"] == name, "customer_id"])
        tp = len(want & got)
        rows.append({
            "detector": name,
            "labelled": len(want),
            "flagged": len(got),
            "true_positives": tp,
            "precision": tp / len(got) if got else float("nan"),
            "recall": tp / len(want) if want else float("nan"),
        })  # fmt: skip
    steady = set(truth.loc[truth["label"] == MUST_NOT_FLAG, "customer_id"])
    wrongly = steady & set(flags["customer_id"])
    rows.append({
        "detector": f"{MUST_NOT_FLAG}: must not flag",
        "labelled": len(steady),
        "flagged": len(wrongly),
        "true_positives": 0,
        "precision": float("nan"),
        "recall": float("nan"),
    })  # fmt: skip
    return pd.DataFrame(rows)


def print_evaluation(table: pd.DataFrame, console: Console, floor: float | None) -> bool:
    """Print the table; False when ``floor`` is given and a detector falls below it or a
    must-not-flag customer was flagged."""
    out = Table(title="fake-big detectors vs planted truth")
    for col in table.columns:
        justify = "left" if col == "detector" else "right"
        out.add_column(_HEADERS.get(col, col), justify=justify, no_wrap=True)
    ok = True
    for row in table.itertuples(index=False):
        cells = [f"{x:.3f}" if isinstance(x, float) else str(x) for x in row]
        out.add_row(*cells)
        scored = row.detector in DETECTORS
        if floor is not None and scored and not (row.precision >= floor and row.recall >= floor):
            ok = False
        if floor is not None and not scored and row.flagged > 0:
            ok = False
    console.print(out)
    if floor is not None:
        console.print(f"floor {floor:g}: " + ("[green]met[/]" if ok else "[red]not met[/]"))
    return ok
