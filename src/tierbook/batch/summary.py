"""The rich summary printed after a run."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

from tierbook.batch.run import RunResult


def print_summary(result: RunResult, console: Console | None = None) -> None:
    con = console or Console()
    rb = result.rulebook
    con.rule(f"tierbook run as of {result.as_of} — {rb.rulebook.id} {rb.rulebook.version}")
    tiers = result.frame("tiers", ["ladder_id", "level", "measure"])  # read once, all ladders
    for lad in rb.rulebook.ladders:
        con.print(_tier_table(tiers, lad.id, list(lad.level_names()), lad.title))
    con.print(_changes_table(result))
    con.print(_counts_table("Staff books (customers per role)", result.assignments, "role"))
    con.print(_counts_table("Tasks by kind", result.tasks, "kind"))
    con.print(_counts_table("Tasks by role", result.tasks, "role"))
    con.print(_counts_table("Alerts", result.alerts, "kind"))
    con.print(
        f"Departures: {len(result.departures)} customer(s) reassigned; "
        f"birthday list for next month: {len(result.birthday_list)}"
    )
    con.print(
        _counts_table("Quarantined rows by table and code", result.quarantine, ["table", "code"])
    )
    total = sum(result.timings.values())
    con.print(
        "Timings: "
        + ", ".join(f"{k} {v:.2f}s" for k, v in result.timings.items())
        + f" (total {total:.2f}s)"
    )


def _tier_table(tiers: pd.DataFrame, ladder_id: str, levels: list[str], title: str) -> Table:
    t = tiers[tiers["ladder_id"] == ladder_id]
    g = t.groupby("level", observed=False)["measure"].agg(["count", "sum"]).reindex(levels)
    g = g.fillna(0)
    table = Table(title=f"{title} [{ladder_id}]")
    table.add_column("level")
    table.add_column("customers", justify="right")
    table.add_column("share", justify="right")
    table.add_column("measure total (CNY)", justify="right")
    n = max(len(t), 1)
    for level, row in g.iterrows():
        table.add_row(
            str(level), f"{int(row['count']):,}", f"{row['count'] / n:.1%}", f"{row['sum']:,.0f}"
        )
    table.add_row("total", f"{len(t):,}", "100%", f"{t['measure'].sum():,.0f}", style="bold")
    return table


def _changes_table(result: RunResult) -> Table:
    table = Table(title="Upgrades and downgrades over the review history")
    for col in ("ladder", "upgrades", "downgrades", "in the last month"):
        table.add_column(col, justify="right" if col != "ladder" else "left")
    ch = result.frame("changes", ["ladder_id", "direction", "date"])
    last = pd.Timestamp(result.as_of)
    for ladder_id, g in ch.groupby("ladder_id"):
        recent = g[pd.to_datetime(g["date"]) == last]
        table.add_row(
            str(ladder_id),
            f"{(g['direction'] == 'upgrade').sum():,}",
            f"{(g['direction'] == 'downgrade').sum():,}",
            f"{len(recent):,}",
        )
    return table


def _counts_table(title: str, frame: pd.DataFrame, by: str | list[str]) -> Table:
    table = Table(title=title)
    cols = [by] if isinstance(by, str) else by
    for c in cols:
        table.add_column(c)
    table.add_column("count", justify="right")
    if len(frame) and all(c in frame.columns for c in cols):
        for key, n in frame.groupby(cols).size().sort_values(ascending=False).items():
            keys = key if isinstance(key, tuple) else (key,)
            table.add_row(*map(str, keys), f"{n:,}")
    return table
