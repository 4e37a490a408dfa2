"""One benchmark variant per process: ``python -m bench.variants VARIANT DATA AS_OF``.

Prints one JSON line: seconds of the computation (imports excluded), the CPU seconds of
the process over the same span (every thread), rows scanned, and a digest of the result (customers per final-month tier) so the driver can check that every
variant computes the same answer. Peak RSS is taken by the driver from ``wait4``.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path

CARD = (0, 100_000, 300_000, 500_000, 1_000_000, 6_000_000)
WEIGHTS = {
    "demand_deposit": 1.0,
    "time_deposit": 1.0,
    "wealth_management": 0.5,
    "fund": 0.5,
    "insurance": 0.5,
    "precious_metal": 0.5,
}


def _weight_sql(col: str = "a.product_type") -> str:
    arms = " ".join(f"WHEN '{k}' THEN {v}" for k, v in WEIGHTS.items())
    return f"CASE {col} {arms} ELSE 0 END"


def _tier_counts(month_avg) -> dict[str, int]:
    import numpy as np

    idx = np.searchsorted(np.asarray(CARD, float), np.round(month_avg, 2), side="right") - 1
    return {str(k): int(v) for k, v in zip(*np.unique(idx, return_counts=True), strict=True)}


def duckdb_sql(data: Path, as_of: date, form: str) -> dict:
    """Hand-written DuckDB SQL: the twelve monthly weighted daily averages per customer that
    a monthly-review ladder needs, then the as-of month's tier."""
    import duckdb
    import numpy as np

    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false; SET enable_progress_bar = false")
    t0, c0 = time.perf_counter(), time.process_time()
    first = date(as_of.year - 1 if as_of.month < 12 else as_of.year, as_of.month % 12 + 1, 1)
    acc = f"read_csv('{data}/accounts.csv', all_varchar=true)"
    if form == "daily":
        sums = f"""SELECT account_id, date_trunc('month', date)::DATE AS m, sum(balance) AS bd
                   FROM read_parquet('{data}/balances_daily/*.parquet')
                   WHERE date BETWEEN DATE '{first}' AND DATE '{as_of}' GROUP BY ALL"""
    else:
        stop = f"DATE '{as_of}' + 1"
        sums = f"""WITH e AS (
              SELECT account_id, date AS s, balance,
                     least(coalesce(lead(date) OVER (PARTITION BY account_id ORDER BY date), {stop}),
                           {stop}) AS e
              FROM read_parquet('{data}/balance_events/*.parquet') WHERE date <= DATE '{as_of}'),
            months AS (SELECT unnest(generate_series(DATE '{first}', DATE '{as_of}', INTERVAL 1 MONTH))::DATE AS m)
            SELECT account_id, m, sum(balance * date_diff('day', greatest(s, m), least(e, (m + INTERVAL 1 MONTH)::DATE))) AS bd
            FROM e JOIN months ON s < (m + INTERVAL 1 MONTH)::DATE AND e > m
            GROUP BY ALL"""
    sql = f"""WITH s AS ({sums})
        SELECT a.customer_id, s.m,
               sum(s.bd * {_weight_sql()}) / date_diff('day', s.m, least((s.m + INTERVAL 1 MONTH)::DATE, DATE '{as_of}' + 1)) AS avg
        FROM s JOIN {acc} a USING (account_id) GROUP BY a.customer_id, s.m"""
    # All twelve months come back (a monthly-review policy needs them); the tier is the as-of
    # month's. Selecting December inside SQL would let DuckDB scan December only.
    res = con.execute(sql).fetchnumpy()
    last = res["m"] == np.datetime64(date(as_of.year, as_of.month, 1))
    res = {"avg": res["avg"][last]}
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    cust = con.execute(
        f"SELECT count(*) FROM read_csv('{data}/customers.csv', all_varchar=true)"
    ).fetchone()[0]
    avg = np.concatenate([res["avg"], np.zeros(cust - len(res["avg"]))])
    return {"seconds": seconds, "cpu": cpu, "tiers": _tier_counts(avg)}


def pandas_daily(data: Path, as_of: date, form: str) -> dict:
    """A straightforward pandas version (daily form only)."""
    import pandas as pd

    t0, c0 = time.perf_counter(), time.process_time()
    start = date(as_of.year, as_of.month, 1)
    days = (as_of - start).days + 1
    bal = pd.read_parquet(data / "balances_daily", columns=["account_id", "date", "balance"])
    dates = pd.to_datetime(bal["date"])
    bal = bal[(dates >= pd.Timestamp(start)) & (dates <= pd.Timestamp(as_of))]
    acc = pd.read_csv(data / "accounts.csv", dtype=str)
    s = bal.groupby("account_id", as_index=False)["balance"].sum()
    s = s.merge(acc[["account_id", "customer_id", "product_type"]], on="account_id")
    s["w"] = s["balance"] * s["product_type"].map(WEIGHTS).fillna(0.0)
    avg = s.groupby("customer_id")["w"].sum() / days
    return {
        "seconds": time.perf_counter() - t0,
        "cpu": time.process_time() - c0,
        "tiers": _tier_counts(avg.to_numpy()),
    }


def tierbook_engine(data: Path, as_of: date, form: str) -> dict:
    """tierbook: load + validate inputs, 年日均 over 12 months, every ladder's policy."""
    import ibis.backends.duckdb  # noqa: F401 -- an import, like the reference's ``import duckdb``

    from tierbook.batch.run import Timer, compute_tiers
    from tierbook.bootstrap import connect_engine
    from tierbook.ingest.dataset import load_dataset
    from tierbook.rules import load_preset

    t0, c0 = time.perf_counter(), time.process_time()
    loaded = load_preset()
    ds = load_dataset(
        data, connect_engine(), balances=form, check_keys=CHECK_KEYS, tables=(), defer_checks=True
    )
    t1 = time.perf_counter()
    customers, _results, _sums, _cal = compute_tiers(ds, as_of, loaded, Timer(None))
    ds.finish_checks()  # as the batch does: the quarantine is complete (no-op when settled)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    split = {"validate": t1 - t0, "compute": seconds - (t1 - t0)}
    # Immediate classification of the as-of month, comparable with the references.
    return {
        "seconds": seconds,
        "cpu": cpu,
        "split": split,
        "tiers": _tier_counts(customers["month_avg"].to_numpy()),
    }


def spark_sql(data: Path, as_of: date, form: str) -> dict:
    """Hand-written Spark SQL (local[2]), the same query as ``duckdb_sql``; ``seconds``
    excludes the session start, reported as ``session``."""
    import numpy as np

    from tierbook.analytics.backends.spark import session

    t_session = time.perf_counter()
    spark = session("local[2]", "tierbook-bench")
    t0 = time.perf_counter()
    first = date(as_of.year - 1 if as_of.month < 12 else as_of.year, as_of.month % 12 + 1, 1)
    spark.read.csv(f"{data}/accounts.csv", header=True).createOrReplaceTempView("acc")
    table = "balances_daily" if form == "daily" else "balance_events"
    spark.read.parquet(f"{data}/{table}").createOrReplaceTempView("bal")
    if form == "daily":
        sums = f"""SELECT account_id, trunc(date, 'MM') AS m, sum(balance) AS bd FROM bal
                   WHERE date BETWEEN DATE '{first}' AND DATE '{as_of}' GROUP BY account_id, trunc(date, 'MM')"""
    else:
        stop = f"date_add(DATE '{as_of}', 1)"
        sums = f"""WITH e AS (
              SELECT account_id, date AS s, balance,
                     least(coalesce(lead(date) OVER (PARTITION BY account_id ORDER BY date), {stop}), {stop}) AS e
              FROM bal WHERE date <= DATE '{as_of}'),
            months AS (SELECT explode(sequence(DATE '{first}', DATE '{as_of}', INTERVAL 1 MONTH)) AS m)
            SELECT account_id, m, sum(balance * datediff(least(e, add_months(m, 1)), greatest(s, m))) AS bd
            FROM e JOIN months ON s < add_months(m, 1) AND e > m GROUP BY account_id, m"""
    sql = f"""WITH s AS ({sums})
        SELECT a.customer_id, s.m,
               sum(s.bd * {_weight_sql()}) / datediff(least(add_months(s.m, 1), {f"date_add(DATE '{as_of}', 1)"}), s.m) AS avg
        FROM s JOIN acc a ON s.account_id = a.account_id GROUP BY a.customer_id, s.m"""
    res = spark.sql(sql).toArrow()
    last = res.column("m").to_numpy(zero_copy_only=False) == date(as_of.year, as_of.month, 1)
    avg = res.column("avg").to_numpy(zero_copy_only=False)[last]
    seconds = time.perf_counter() - t0
    cust = spark.read.csv(f"{data}/customers.csv", header=True).count()
    avg = np.concatenate([avg, np.zeros(cust - len(avg))])
    return {"seconds": seconds, "session": t0 - t_session, "tiers": _tier_counts(avg)}


def tierbook_spark(data: Path, as_of: date, form: str) -> dict:
    """tierbook with ``--engine spark`` (local[2]): validate in DuckDB, compute on Spark;
    ``seconds`` includes the session start."""
    from tierbook.batch.run import Timer, compute_tiers
    from tierbook.bootstrap import EngineSettings, close_dataset, open_dataset
    from tierbook.rules import load_preset

    t0 = time.perf_counter()
    settings = EngineSettings.from_env(engine="spark", spark_master="local[2]")
    ds = open_dataset(data, settings, balances=form, check_keys=CHECK_KEYS, tables=())
    customers, *_ = compute_tiers(ds, as_of, load_preset(), Timer(None))
    close_dataset(ds)
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "tiers": _tier_counts(customers["month_avg"].to_numpy())}


CHECK_KEYS = True

VARIANTS = {
    "duckdb_sql": duckdb_sql,
    "pandas": pandas_daily,
    "tierbook": tierbook_engine,
    "spark_sql": spark_sql,
    "tierbook_spark": tierbook_spark,
}

if __name__ == "__main__":
    name, data_dir, as_of_text, form = sys.argv[1:5]
    out = VARIANTS[name](Path(data_dir), date.fromisoformat(as_of_text), form)
    print(json.dumps(out))
