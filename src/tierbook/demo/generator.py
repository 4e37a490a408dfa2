"""The demo bank: ``generate(out, customers=…, seed=…)`` writes a complete data directory.

Customers are generated in chunks of ``CHUNK`` individuals (plus their share of the
corporates); each chunk has its own random stream (``seed``, chunk number), is simulated as
a dense account × day matrix and written as one Parquet part per large table, so memory
stays flat at any size and the same seed gives the same bytes.

Layout of ``out``::

    branches.csv staff.csv customers.csv accounts.csv income.csv referrals.csv
    balances_daily/part-00000.parquet …   balance_events/part-00000.parquet …
    transactions/part-00000.parquet …     truth/labels.csv  (never read by the engine)
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pyarrow as pa

from tierbook.demo import accounts as acc
from tierbook.demo import cases, income, paths, people, staff, txns, wealth
from tierbook.demo.names import PRODUCT_NAMES
from tierbook.demo.writers import Writers
from tierbook.ingest.contract import PRODUCT_TYPES

CHUNK = 5000
Progress = Callable[[str, int, int], None]


@dataclass
class DemoSummary:
    """Where the demo bank was written and how many rows each table has."""

    out: Path
    paths: dict[str, Path] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    labels: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class _Registry:
    """What the referral graph needs to know about every customer."""

    ids: list[str] = field(default_factory=list)
    branch: list[np.ndarray] = field(default_factory=list)
    open_day: list[np.ndarray] = field(default_factory=list)
    wealth: list[np.ndarray] = field(default_factory=list)


def generate(
    out: Path,
    *,
    customers: int = 20000,
    corporates: int = 300,
    branches: int = 8,
    seed: int = 7,
    year: int = 2025,
    balance_forms: Iterable[str] = ("daily", "events"),
    progress: Progress | None = None,
) -> DemoSummary:
    """Write a demo bank of ``customers`` individuals and ``corporates`` firms to ``out``."""
    began = time.perf_counter()
    forms = set(balance_forms)
    if not forms <= {"daily", "events"} or not forms:
        raise ValueError("balance_forms must be a non-empty subset of ('daily', 'events')")
    if customers < 1 or branches < 1 or corporates < 0:
        raise ValueError("need at least one customer and one branch")
    out = Path(out)
    sites = staff.branch_sites(branches)
    writers = Writers(out, forms)
    summary = DemoSummary(out=out)
    writers.write_csv_rows(
        "branches", [{"branch_id": s.branch_id, "name": s.name, "city": s.city} for s in sites]
    )
    writers.write_csv_rows(
        "staff",
        staff.make_staff(
            np.random.default_rng([seed, 999_999]), sites, customers + corporates, year
        ),
    )

    n_chunks = max(1, math.ceil(customers / CHUNK))
    ind_bounds = np.linspace(0, customers, n_chunks + 1).astype(int)
    corp_bounds = np.linspace(0, corporates, n_chunks + 1).astype(int)
    run = _Run(sites, year, writers, summary)
    for ci in range(n_chunks):
        rng = np.random.default_rng([seed, ci])
        _chunk(
            run,
            rng,
            ci,
            int(ind_bounds[ci + 1] - ind_bounds[ci]),
            int(corp_bounds[ci + 1] - corp_bounds[ci]),
        )
        if progress is not None:
            progress("customers", ci + 1, n_chunks)
    writers.write_csv_rows(
        "referrals", _referrals(np.random.default_rng([seed, 1_000_000]), run.registry, year)
    )
    writers.close()
    summary.paths = writers.paths
    summary.rows = writers.rows
    summary.seconds = time.perf_counter() - began
    return summary


@dataclass
class _Run:
    """What every chunk of one run shares."""

    sites: list[people.BranchSite]
    year: int
    writers: Writers
    summary: DemoSummary
    registry: _Registry = field(default_factory=_Registry)
    offsets: dict[str, int] = field(default_factory=lambda: {"customer": 0, "account": 0, "txn": 0})


def _chunk(run: _Run, rng: np.random.Generator, ci: int, n_ind: int, n_corp: int) -> None:
    sites, year, writers, registry, offsets = (
        run.sites,
        run.year,
        run.writers,
        run.registry,
        run.offsets,
    )
    days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    epoch = (date(year, 1, 1) - date(1970, 1, 1)).days
    n = n_ind + n_corp
    branch_of = rng.choice(len(sites), n, p=staff.branch_weights(len(sites)))
    ind = people.make_individuals(
        rng,
        n_ind,
        year=year,
        sites=sites,
        branch_of=branch_of[:n_ind],
        wealth=wealth.sample_wealth(rng, n_ind),
    )
    corp = people.make_corporates(
        rng,
        n_corp,
        year=year,
        sites=sites,
        branch_of=branch_of[n_ind:],
        wealth=wealth.sample_corporate_wealth(rng, n_corp),
    )
    cols = {k: ind.columns[k] + corp.columns[k] for k in ind.columns}
    open_day = (np.r_[ind.open_day, corp.open_day] - np.datetime64(f"{year}-01-01")).astype(
        np.int64
    )
    target = np.r_[ind.wealth, corp.wealth]
    activity = np.r_[ind.activity, corp.activity]
    corporate = np.r_[np.zeros(n_ind, bool), np.ones(n_corp, bool)]
    cust_ids = [f"C{offsets['customer'] + i + 1:08d}" for i in range(n)]
    offsets["customer"] += n
    writers.write_csv_columns("customers", {"customer_id": cust_ids, **cols})

    eligible = np.flatnonzero((~corporate) & (open_day < -60))
    plan = cases.choose(rng, eligible, n_ind)
    planted = np.zeros(n, bool)
    planted[plan.cust] = True
    normal = np.flatnonzero(~planted)
    h = acc.Holdings.concat(
        [
            acc.normal_holdings(
                rng,
                normal,
                wealth=target[normal],
                activity=activity[normal],
                cust_open=open_day[normal],
                corporate=corporate[normal],
                days=days,
            ),
            cases.holdings(rng, plan, open_day, days),
        ]
    )
    h = acc.settle_maturities(rng, h.take(np.lexsort((h.open_day, h.prod, h.cust))), days)
    drift = np.where(corporate, rng.normal(0, 0.25, n), rng.normal(0, 0.2, n)) * ~planted
    book = paths.simulate(rng, h, days, drift)
    cases.shape(rng, plan, h, book, year)
    paths.settle_payouts(book, h)
    paths.finish(book)

    acct_list = [f"A{offsets['account'] + i + 1:010d}" for i in range(len(h))]
    acct_ids = pa.array(acct_list, pa.string())
    offsets["account"] += len(h)
    writers.write_csv_columns(
        "accounts",
        _accounts(rng, h, acct_list, cust_ids=cust_ids, corporate=corporate, epoch=epoch),
    )
    if "daily" in writers.forms:
        writers.write_balances("balances_daily", ci, acct_ids, paths.daily_rows(book), epoch)
    if "events" in writers.forms:
        writers.write_balances("balance_events", ci, acct_ids, paths.event_rows(book), epoch)

    deposit = np.isin(h.prod, acc.DEPOSITS)
    a, d, delta = paths.deltas(book, h, deposit)
    t = txns.build(
        rng,
        a,
        d,
        delta,
        override=book.cp[a, d].astype(np.int64),
        time_deposit=h.prod == acc.TIME,
        corporate=corporate[h.cust],
        extra=plan.extra,
    )
    writers.write_txns(ci, acct_ids, t, offsets["txn"], epoch)
    offsets["txn"] += len(t.acct)

    inc = income.compute(
        rng, book, h, n_customers=n, txn_acct=t.acct, txn_day=t.day, wealth=target, plan=plan
    )
    writers.write_csv_columns("income", _income_columns(inc, cust_ids, open_day, days, year))
    labels = {
        "customer_id": [cust_ids[c] for c in plan.cust],
        "label": [cases.CASES[k] for k in plan.case],
        "detail": [plan.detail.get(int(c), "") for c in plan.cust],
    }
    writers.write_csv_columns("truth/labels", labels)
    for name in labels["label"]:
        run.summary.labels[name] = run.summary.labels.get(name, 0) + 1
    registry.ids.extend(cust_ids)
    registry.branch.append(branch_of)
    registry.open_day.append(open_day)
    registry.wealth.append(target)


def _accounts(
    rng: np.random.Generator,
    h: acc.Holdings,
    acct_ids: list[str],
    *,
    cust_ids: list[str],
    corporate: np.ndarray,
    epoch: int,
) -> dict[str, list[object]]:
    names = []
    pick = rng.integers(0, 1000, len(h))
    for prod, term, corp, k in zip(h.prod, h.term, corporate[h.cust], pick, strict=True):
        kind = PRODUCT_TYPES[prod]
        options = PRODUCT_NAMES[kind]
        if kind == "demand_deposit":
            names.append(options[2] if corp else options[k % 2])
        elif kind == "time_deposit":
            names.append({365: options[0], 1095: options[1]}.get(int(term), options[2 + k % 2]))
        elif kind == "loan":
            names.append(options[2 + k % 2] if corp else options[k % 2])
        else:
            names.append(options[k % len(options)])

    def iso(days: np.ndarray, valid: np.ndarray) -> list[object]:
        dates = (days + epoch).astype("datetime64[D]").astype(str)
        return [s if v else None for s, v in zip(dates, valid, strict=True)]

    return {
        "account_id": acct_ids,
        "customer_id": [cust_ids[c] for c in h.cust],
        "product_type": [PRODUCT_TYPES[p] for p in h.prod],
        "product_name": names,
        "open_date": iso(h.open_day, np.ones(len(h), bool)),
        "maturity_date": iso(h.maturity, h.maturity < acc.NO_DAY),
        "close_date": iso(h.close, h.close < acc.NO_DAY),
    }


def _income_columns(
    inc: dict[str, np.ndarray], cust_ids: list[str], open_day: np.ndarray, days: int, year: int
) -> dict[str, list[object]]:
    month = paths.month_of_day(days)
    month_end = np.flatnonzero(np.r_[month[1:] != month[:-1], True])
    c, m = np.nonzero(open_day[:, None] <= month_end[None, :])
    out: dict[str, list[object]] = {
        "customer_id": [cust_ids[i] for i in c],
        "month": [f"{year}-{k + 1:02d}" for k in m],
    }
    for key, arr in inc.items():
        out[key] = arr[c, m].tolist()
    return out


def _referrals(rng: np.random.Generator, reg: _Registry, year: int) -> list[dict[str, object]]:
    """A small referral graph: about 4% of customers were introduced by an earlier customer."""
    branch = np.concatenate(reg.branch)
    opened = np.concatenate(reg.open_day)
    aum = np.concatenate(reg.wealth)
    n = len(opened)
    order = np.argsort(opened, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    referred = np.flatnonzero((rng.random(n) < 0.04) & (rank >= 10) & (opened > -12 * 365))
    rows = []
    seen = set()
    for r in referred:
        cand = order[rng.integers(0, rank[r], 4)]
        cand = cand[opened[cand] < opened[r]]
        same = cand[branch[cand] == branch[r]]
        pool = same if len(same) else cand
        if len(pool) == 0:
            continue
        who = int(pool[np.argmax(aum[pool])])
        if (who, int(r)) in seen:
            continue
        seen.add((who, int(r)))
        when = np.datetime64(f"{year}-01-01") + np.timedelta64(int(opened[r]), "D")
        rows.append({"referrer_id": reg.ids[who], "referred_id": reg.ids[r], "date": str(when)})
    rows.sort(key=lambda x: (x["referrer_id"], x["referred_id"]))
    return rows


__all__ = ["CHUNK", "DemoSummary", "generate"]
