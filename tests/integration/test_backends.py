"""One suite over every engine: DuckDB, PostgreSQL and Spark (local[2]) give DuckDB's
per-customer monthly 年日均 and card tiers, and those of an independent pandas recomputation
from the raw files (``tests.reference``), for both balance forms of a small generated bank.

PostgreSQL runs in a database created for this module and dropped after it; Spark in one
local session per module. Without PostgreSQL or Java the engine is skipped, except under
``CI=true``, where it fails the run."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import uuid
from datetime import date
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.e2e.helpers import run_batch, tierbook
from tests.reference import card_levels, monthly_averages
from tierbook.analytics.backends import duckdb as duck
from tierbook.analytics.backends.capabilities import (
    CAPABILITIES,
    ENGINES,
    capabilities,
    capability_table,
)
from tierbook.analytics.backends.engine import on_engine
from tierbook.batch.run import Timer, compute_tiers
from tierbook.bootstrap import EngineSettings, open_dataset
from tierbook.demo.generator import generate
from tierbook.ingest.dataset import load_dataset
from tierbook.rules import load_rulebook

pytestmark = pytest.mark.xdist_group("backends")  # one Spark session, one database

AS_OF = date(2025, 12, 31)
ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI=true: every engine must run)")
    pytest.skip(reason)


def _postgres():
    try:
        import psycopg
    except ImportError:
        _unavailable("psycopg not installed (pip install 'tierbook[postgres]')")
    from tierbook.analytics.backends import postgres

    name = f"tierbook_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(ADMIN, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError as exc:
        _unavailable(f"PostgreSQL at 127.0.0.1:5432 unreachable: {exc}")
    con = postgres.connect(f"postgresql://postgres@127.0.0.1:5432/{name}")
    try:
        yield con
    finally:
        con.disconnect()
        with psycopg.connect(ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _spark():
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        _unavailable("no Java runtime for Spark")
    if importlib.util.find_spec("pyspark") is None:
        _unavailable("pyspark not installed (pip install 'tierbook[spark]')")
    from tierbook.analytics.backends import spark

    con = spark.connect("local[2]")
    try:
        yield con
    finally:
        spark.stop(con)


@pytest.fixture(scope="module", params=ENGINES)
def backend(request: pytest.FixtureRequest):
    if request.param == "postgres":
        yield from _postgres()
    elif request.param == "spark":
        yield from _spark()
    else:
        yield duck.connect(threads=1)


@pytest.fixture(scope="module")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bank")
    generate(out, customers=120, corporates=6, branches=2, seed=23, year=2025)
    return out


@pytest.fixture(scope="module")
def loaded(bank: Path) -> dict:
    """The bank validated once per balance form (the ingest always runs in DuckDB)."""
    ingest = duck.connect(threads=1)
    return {f: load_dataset(bank, ingest, balances=f, tables=()) for f in ("daily", "events")}


def _card(ds, con, staging: Path) -> tuple[pd.Index, np.ndarray, np.ndarray]:
    """Customer ids, monthly measures ``[customers, months]`` and card levels on ``con``."""
    ds = on_engine(ds, con, staging=staging)
    customers, results, _, _ = compute_tiers(ds, AS_OF, load_rulebook(None), Timer(None))
    card = results["card_tiers"]
    return pd.Index(customers["customer_id"]), card.measures, card.path.levels


@pytest.fixture(scope="module")
def on_duckdb(loaded: dict, tmp_path_factory: pytest.TempPathFactory):
    return {f: _card(ds, ds.con, tmp_path_factory.mktemp(f)) for f, ds in loaded.items()}


@pytest.fixture(scope="module")
def on_backend(backend, loaded: dict, tmp_path_factory: pytest.TempPathFactory):
    """The chosen engine's results per balance form, computed once for the module."""
    return {f: _card(ds, backend, tmp_path_factory.mktemp(f)) for f, ds in loaded.items()}


@pytest.mark.parametrize("form", ["daily", "events"])
def test_every_engine_gives_the_reference_monthly_aum_and_card_tier(
    on_backend, bank: Path, form: str
) -> None:
    ids, months, levels = on_backend[form]
    ref = monthly_averages(bank).reindex(ids)
    np.testing.assert_allclose(months, ref.to_numpy(), rtol=1e-9, atol=1e-6)
    assert list(levels[:, -1]) == list(card_levels(ref))


@pytest.mark.parametrize("form", ["daily", "events"])
def test_every_engine_gives_duckdbs_results(on_backend, on_duckdb, form: str) -> None:
    ids, months, levels = on_backend[form]
    want_ids, want_months, want_levels = on_duckdb[form]
    assert list(ids) == list(want_ids)
    np.testing.assert_allclose(months, want_months, rtol=1e-12, atol=1e-9)
    np.testing.assert_array_equal(levels, want_levels)


def test_a_duplicate_day_found_by_the_engine_is_quarantined_and_left_out(
    backend, bank: Path, tmp_path: Path
) -> None:
    """The engine's own scan notices the day given twice; the ingest sets both rows aside
    (DUPLICATE_KEY) and the engine sums the rest."""
    copy = tmp_path / "bank"
    shutil.copytree(bank, copy)
    part = pq.read_table(copy / "balances_daily").slice(1000, 1).to_pylist()[0]
    twice = pa.table(
        {"account_id": [part["account_id"]], "date": [part["date"]], "balance": [1e9]},
        schema=pq.read_schema(next((copy / "balances_daily").glob("*.parquet"))),
    )
    pq.write_table(twice, copy / "balances_daily" / "part-99999.parquet")
    ds = on_engine(
        load_dataset(copy, duck.connect(threads=1), balances="daily", tables=()),
        backend,
        staging=tmp_path / "staging",
    )
    customers, results, _, _ = compute_tiers(ds, AS_OF, load_rulebook(None), Timer(None))
    assert set(ds.quarantine["code"]) == {"DUPLICATE_KEY"}
    assert len(ds.quarantine) == 2
    bal = pd.read_parquet(copy / "balances_daily")
    key = (bal["account_id"] == part["account_id"]) & (
        pd.to_datetime(bal["date"]) == pd.Timestamp(part["date"])
    )
    pq.write_table(pa.Table.from_pandas(bal[~key], preserve_index=False), tmp_path / "clean.pq")
    shutil.rmtree(copy / "balances_daily")
    (copy / "balances_daily").mkdir()
    shutil.move(tmp_path / "clean.pq", copy / "balances_daily" / "part-0.parquet")
    ref = monthly_averages(copy).reindex(customers["customer_id"])
    np.testing.assert_allclose(results["card_tiers"].measures, ref.to_numpy(), atol=1e-6)


def test_every_engine_has_one_row_in_the_capability_table() -> None:
    assert set(ENGINES) == {"duckdb", "postgres", "spark"}
    assert all(CAPABILITIES[e].engine == e for e in ENGINES)
    with pytest.raises(ValueError, match="duckdb, postgres, spark"):
        capabilities("oracle")


@pytest.fixture(scope="module")
def postgres_con():
    yield from _postgres()


def _to_schema(con, bank: Path, schema: str) -> pd.DataFrame:
    """The bank's files as tables of ``schema`` (text columns for the small tables, as a CSV
    export would give; typed balances), with three bad balance rows. Returns the balances
    a correct load keeps."""
    from tierbook.analytics.backends import postgres

    for name in ("branches", "staff", "customers", "accounts"):
        frame = pa.Table.from_pandas(pd.read_csv(bank / f"{name}.csv", dtype=str))
        postgres.copy_in(
            con, name, ibis.Schema.from_pyarrow(frame.schema), frame.to_batches(), into=schema
        )
    bal = pd.read_parquet(bank / "balances_daily")
    bal["date"] = pd.to_datetime(bal["date"]).dt.date
    bad = bal.iloc[[500, 900]].copy()
    bad.iloc[0, bad.columns.get_loc("balance")] = -1.0  # NEGATIVE_AMOUNT, replaces row 500
    bad.iloc[1, bad.columns.get_loc("balance")] += 7.0  # row 900's key twice: DUPLICATE_KEY
    ghost = pd.DataFrame({"account_id": ["NO-SUCH-ACCOUNT"], "date": [AS_OF], "balance": [1.0]})
    raw = pd.concat([bal.drop(bal.index[500]), bad, ghost], ignore_index=True)
    table = pa.Table.from_pandas(raw, preserve_index=False)
    postgres.copy_in(
        con,
        "balances_daily",
        ibis.Schema.from_pyarrow(table.schema),
        table.to_batches(),
        into=schema,
    )
    return bal.drop(bal.index[[500, 900]])


def test_inputs_read_from_a_postgres_schema_are_checked_there(
    postgres_con, bank: Path, tmp_path: Path
) -> None:
    kept = _to_schema(postgres_con, bank, "bank")
    source = f"postgresql://postgres@127.0.0.1:5432/{postgres_con.con.info.dbname}?schema=bank"
    ds = open_dataset(None, EngineSettings(source=source), balances="daily", tables=())
    customers, results, _, _ = compute_tiers(ds, AS_OF, load_rulebook(None), Timer(None))
    codes = ds.quarantine["code"].value_counts().to_dict()
    assert codes == {"NEGATIVE_AMOUNT": 1, "DUPLICATE_KEY": 2, "UNKNOWN_REFERENCE": 1}
    record = next(f for f in ds.files if f.table == "balances_daily")
    assert (record.rows_read, record.rows_loaded) == (len(kept) + 4, len(kept))
    clean = tmp_path / "clean"
    shutil.copytree(bank, clean, ignore=shutil.ignore_patterns("balances_daily"))
    (clean / "balances_daily").mkdir()
    kept.to_parquet(clean / "balances_daily" / "part-0.parquet")
    ref = monthly_averages(clean).reindex(customers["customer_id"])
    np.testing.assert_allclose(results["card_tiers"].measures, ref.to_numpy(), atol=1e-6)


def test_the_engines_doc_shows_the_capability_table_of_the_code() -> None:
    doc = Path(__file__).parents[2] / "docs" / "engines.md"
    assert capability_table() in doc.read_text(encoding="utf-8")


def test_the_command_line_runs_the_batch_in_postgres_with_duckdbs_outputs(
    postgres_con, bank: Path, tmp_path: Path
) -> None:
    url = f"postgresql://postgres@127.0.0.1:5432/{postgres_con.con.info.dbname}"
    for name, extra in (("duckdb", ()), ("postgres", ("--database", url))):
        run_batch(bank, tmp_path / name, "--no-excel", "--quiet", *extra)
    for table, key in (
        ("tiers", ["ladder_id", "customer_id"]),
        ("tasks", ["task_id"]),
        ("churn", ["customer_id"]),  # the monthly book: flows of the followed customers only
        ("value_scores", ["customer_id"]),  # balance shapes in blocks of customers
    ):
        got, want = (
            pd.read_parquet(tmp_path / e / f"{table}.parquet").sort_values(key, ignore_index=True)
            for e in ("postgres", "duckdb")
        )
        pd.testing.assert_frame_equal(got, want)
    for engine in ("duckdb", "postgres"):
        manifest = json.loads((tmp_path / engine / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["engine"] == engine


def test_an_unknown_engine_or_a_missing_database_fails_with_a_message(bank: Path) -> None:
    args = ("run", "--data", str(bank), "--as-of", "2025-12-31")
    assert "duckdb, postgres, spark" in tierbook(*args, "--engine", "oracle", expect=2)
    assert "--database" in tierbook(*args, "--engine", "postgres", expect=2)
    assert "--data DIR or --source" in tierbook("run", "--as-of", "2025-12-31", expect=2)
