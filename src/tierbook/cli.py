"""``tierbook`` command line. Thin: parses options, calls the services, prints."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

if TYPE_CHECKING:
    from tierbook.bootstrap import EngineSettings
    from tierbook.store.publish import StoredPlan

app = typer.Typer(
    help="tierbook — customer tiering and key-customer maintenance for banks.",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="Check and show rulebooks.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
db_app = typer.Typer(help="The operational store (TIERBOOK_DATABASE_URL).", no_args_is_help=True)
app.add_typer(db_app, name="db")
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


def _out_of_memory(settings: EngineSettings, stage: str, exc: Exception) -> typer.Exit:
    """The hint for DuckDB's out-of-memory error: the stage it stopped in and the setting
    whose limit that stage ran under."""
    from tierbook.batch.run import ANALYSIS_STAGES

    if stage in ANALYSIS_STAGES:
        name, limit = "TIERBOOK_ANALYSIS_MEMORY_LIMIT", settings.analysis_memory_limit
    else:
        name, limit = "TIERBOOK_MEMORY_LIMIT", settings.memory_limit
    return _fail(
        f"the engine ran out of its working memory ({name}={limit}) in the stage "
        f"'{stage}': set {name} higher (docs/scaling.md). " + str(exc).splitlines()[0]
    )


@rules_app.command("check")
def rules_check(file: Annotated[Path, typer.Argument(help="rulebook YAML")]) -> None:
    """Validate a rulebook; print its id, version and hash, or every problem with its path."""
    from tierbook.rules import RulebookError, load_rulebook

    try:
        lr = load_rulebook(file)
    except RulebookError as exc:
        raise _fail(str(exc)) from None
    rb = lr.rulebook
    console.print(
        f"[green]ok[/] {rb.id} {rb.version} sha256={lr.sha256[:16]}… "
        f"ladders: {', '.join(lad.id for lad in rb.ladders)}"
    )


@rules_app.command("show")
def rules_show(preset: Annotated[str | None, typer.Argument(help="preset name")] = None) -> None:
    """Print a shipped preset (default: bank_default), or list the presets."""
    from tierbook.rules.loader import DEFAULT_PRESET, RulebookError, preset_names, preset_text

    try:
        text = preset_text(preset or DEFAULT_PRESET)
    except RulebookError as exc:
        raise _fail(str(exc)) from None
    console.print(f"# presets: {', '.join(preset_names())}", highlight=False)
    console.print(text, highlight=False, markup=False)


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option(help="folder to write the demo bank to")] = Path("demo-bank"),
    customers: Annotated[int, typer.Option(help="individual customers")] = 20_000,
    corporates: Annotated[int, typer.Option(help="corporate and institutional customers")] = 300,
    branches: Annotated[int, typer.Option()] = 8,
    seed: Annotated[int, typer.Option()] = 7,
    year: Annotated[int, typer.Option(help="calendar year of the data")] = 2025,
    flaws: Annotated[bool, typer.Option(help="plant a few bad rows for the quarantine")] = True,
    purchases: Annotated[
        bool, typer.Option(help="add purchases.csv for the retail_membership preset")
    ] = False,
) -> None:
    """Generate a seeded demo bank (inputs in the data contract, ground truth in truth/)."""
    from rich.progress import Progress

    from tierbook.demo.generator import generate

    with Progress(console=console, transient=True) as bar:
        task = bar.add_task("generating", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=stage, completed=done, total=total or None)

        summary = generate(
            out,
            customers=customers,
            corporates=corporates,
            branches=branches,
            seed=seed,
            year=year,
            progress=progress,
        )
    if flaws:
        from tierbook.demo.flaws import plant_flaws

        planted = plant_flaws(out, year)
        console.print(f"  planted {len(planted)} bad input rows (truth/flaws.csv)")
    if purchases:
        from tierbook.demo.purchases import write_purchases

        console.print(f"  purchases        {write_purchases(out, seed=seed, year=year):>12,} rows")
    console.print(f"[green]demo bank written to {out} in {summary.seconds:.1f}s[/]")
    for table, rows in summary.rows.items():
        console.print(f"  {table:<16} {rows:>12,} rows")
    labels = ", ".join(f"{k} {v}" for k, v in summary.labels.items())
    console.print(f"  planted cases (truth/labels.csv, never read by the engine): {labels}")


@app.command("run")
def run(
    as_of: Annotated[str, typer.Option(help="as-of date, YYYY-MM-DD")],
    data: Annotated[
        Path | None, typer.Option(help="data folder (see docs/data-contract.md)")
    ] = None,
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out"),
    rulebook: Annotated[str | None, typer.Option(help="rulebook YAML or preset name")] = None,
    balances: Annotated[str, typer.Option(help="auto, daily or events")] = "auto",
    excel: Annotated[bool, typer.Option(help="write the Excel workbook")] = True,
    quiet: Annotated[bool, typer.Option(help="no summary")] = False,
    publish: Annotated[
        bool, typer.Option(help="also publish into the store (TIERBOOK_DATABASE_URL)")
    ] = False,
    write_state: Annotated[
        bool, typer.Option(help="also write the daily-close state (OUT/state) as of AS_OF")
    ] = False,
    engine: Annotated[str | None, typer.Option(help="duckdb (default), postgres or spark")] = None,
    spark_master: Annotated[
        str | None, typer.Option(help="Spark master: local[2] (default) or spark://host:7077")
    ] = None,
    spark_staging: Annotated[
        Path | None, typer.Option(help="Spark: folder for the validated Parquet inputs")
    ] = None,
    database: Annotated[
        str | None, typer.Option(help="PostgreSQL URL: run there on the validated files")
    ] = None,
    source: Annotated[
        str | None, typer.Option(help="PostgreSQL URL ?schema=S holding the input tables")
    ] = None,
) -> None:
    """Run the batch: 年日均 → tiers → named staff → dated tasks; write results to OUT."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tierbook.batch.outputs import spill_folder, write_outputs
    from tierbook.batch.run import load_previous_assignments, run_batch, tables_needed
    from tierbook.batch.summary import print_summary
    from tierbook.bootstrap import EngineSettings, close_dataset, open_dataset
    from tierbook.ingest.dataset import IngestError
    from tierbook.rules import RulebookError, load_rulebook

    try:
        day = date.fromisoformat(as_of)
    except ValueError:
        raise _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    if balances not in ("auto", "daily", "events"):
        raise _fail("--balances must be auto, daily or events")
    try:
        loaded = load_rulebook(rulebook)
    except RulebookError as exc:
        raise _fail(str(exc)) from None
    import duckdb

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=quiet) as bar:
        task = bar.add_task("load and validate inputs", total=None)
        settings = EngineSettings.from_env(
            engine=engine,
            spark_master=spark_master,
            staging=spark_staging,
            database_url=database,
            source=source,
        )
        try:
            ds = open_dataset(data, settings, balances=balances, tables=tables_needed(loaded))
        except (IngestError, ValueError) as exc:
            raise _fail(str(exc)) from None
        except duckdb.OutOfMemoryException as exc:
            raise _out_of_memory(settings, "load and validate inputs", exc) from None
        stage_now = ["load and validate inputs"]

        def progress(stage: str) -> None:
            stage_now[0] = stage
            bar.update(task, description=stage)

        try:
            stored = _stored_plan() if publish else None
            previous = stored.assignments if stored is not None else None
            if previous is None:
                previous = load_previous_assignments(out)
            try:
                result = run_batch(
                    ds,
                    day,
                    loaded,
                    previous_assignments=previous,
                    progress=progress,
                    analysis_memory_limit=settings.analysis_memory_limit,
                    staff_ends=stored.staff_ends if stored is not None else None,
                    spill=spill_folder(out),
                )
            except duckdb.OutOfMemoryException as exc:
                raise _out_of_memory(settings, stage_now[0], exc) from None
            progress("write outputs")
            manifest = write_outputs(result, out, excel=excel)
            if publish:
                from tierbook.store.publish import publish_batch
                from tierbook.store.settings import SettingsError

                try:
                    done = publish_batch(result, ds, manifest=manifest, on_stage=progress)
                except SettingsError as exc:
                    raise _fail(str(exc)) from None
            if write_state:
                from tierbook.batch.close_init import init_state

                progress("write the close state")
                init_state(ds, day, loaded, out / "state")
        finally:
            close_dataset(ds)
    if publish:
        state = "published" if done.published else "already in the store, unchanged"
        console.print(f"run {done.run_id[:12]} {state} ({done.seconds:.1f}s)")
    if not quiet:
        print_summary(result, console)
    console.print(f"[green]results written to {out}/[/]")


def _stored_plan() -> StoredPlan:
    """With ``--publish`` the store's open assignments are the previous ones (what the API
    moved is kept; none before the first publish) and its recorded departures count."""
    from tierbook.store.publish import stored_plan
    from tierbook.store.settings import SettingsError

    try:
        return stored_plan()
    except SettingsError as exc:
        raise _fail(str(exc)) from None


@app.command("lifecycle")
def lifecycle(
    transactions: Annotated[Path, typer.Option(help="CSV or Parquet: customer, date, amount")],
    calibration_end: Annotated[str, typer.Option(help="last day of the calibration, YYYY-MM-DD")],
    out: Annotated[
        Path | None, typer.Option(help="write per-customer results (.csv/.parquet)")
    ] = None,
    rulebook: Annotated[str | None, typer.Option(help="rulebook with a lifecycle section")] = None,
    top: Annotated[int, typer.Option(help="customers to print, by CLV")] = 10,
) -> None:
    """BG/NBD + Gamma-Gamma: P(alive), expected purchases in the horizon and CLV per customer."""
    from tierbook.batch.cli_lifecycle import run_lifecycle

    try:
        text = run_lifecycle(transactions, calibration_end, out, rulebook, top)
    except ValueError as exc:
        raise _fail(str(exc)) from None
    typer.echo(text)


@app.command("close")
def close(
    data: Annotated[Path, typer.Option(help="data folder with day partitions (docs/close.md)")],
    close_date: Annotated[str, typer.Option("--date", help="the day to close, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="output folder of the run the state began with")] = Path(
        "out"
    ),
    state: Annotated[Path | None, typer.Option(help="state folder (default OUT/state)")] = None,
    file: Annotated[Path | None, typer.Option(help="the day's balance file")] = None,
    rulebook: Annotated[str | None, typer.Option(help="rulebook YAML or preset name")] = None,
    excel: Annotated[bool, typer.Option(help="write the Excel workbook")] = False,
    quiet: Annotated[bool, typer.Option(help="no summary")] = False,
) -> None:
    """Close one day: add its balances or events to the state, write that day's results."""
    from tierbook.batch.close import close_day
    from tierbook.batch.close_outputs import write_close_outputs
    from tierbook.batch.close_state import StateError
    from tierbook.batch.run import load_previous_assignments
    from tierbook.batch.summary import print_summary
    from tierbook.bootstrap import connect_engine
    from tierbook.domain.closing import Action, CloseRefusedError
    from tierbook.ingest.quarantine import IngestError
    from tierbook.rules import RulebookError, load_rulebook

    try:
        day = date.fromisoformat(close_date)
    except ValueError:
        raise _fail(f"--date {close_date!r} is not a date (YYYY-MM-DD)") from None
    try:
        loaded = load_rulebook(rulebook)
        outcome = close_day(
            data,
            day,
            loaded,
            connect_engine(),
            state or out / "state",
            file=file,
            previous_assignments=load_previous_assignments(out),
        )
    except (RulebookError, CloseRefusedError, StateError, IngestError) as exc:
        raise _fail(str(exc)) from None
    if outcome.action is Action.NOTHING:
        console.print(f"{day} is already closed with this input; nothing changed")
        return
    assert outcome.result is not None
    write_close_outputs(outcome.result, out, excel=excel)
    outcome.commit()
    if not quiet:
        print_summary(outcome.result, console)
    console.print(f"[green]{day} closed; results written to {out}/[/]", highlight=False)


@app.command("split-days")
def split_days(
    data: Annotated[Path, typer.Option(help="data folder whose Parquet balances to split")],
    since: Annotated[str | None, typer.Option(help="first day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, typer.Option(help="last day, YYYY-MM-DD")] = None,
) -> None:
    """Write each day of the balances (and transactions) as a day partition (date=D/)."""
    from tierbook.batch import dayfiles
    from tierbook.bootstrap import connect_engine

    try:
        first = date.fromisoformat(since) if since else None
        last = date.fromisoformat(until) if until else None
    except ValueError:
        raise _fail("--since/--until must be dates (YYYY-MM-DD)") from None
    written = dayfiles.split_days(connect_engine(), data, first, last)
    for table, rows in written.items():
        console.print(f"  {table:<16} {rows:>12,} rows in {data / table}/date=*/")


@app.command("explain")
def explain(
    customer_id: Annotated[str, typer.Argument()],
    run_dir: Annotated[Path, typer.Option("--run", help="output folder of a run")] = Path("out"),
) -> None:
    """Why is this customer in its tier? Explanation per ladder and the review history."""
    from tierbook.batch.explain import explain_customer

    try:
        text = explain_customer(run_dir, customer_id)
    except (FileNotFoundError, KeyError) as exc:
        raise _fail(str(exc).strip("'\"")) from None
    console.print(text, highlight=False, markup=False)


DbUrl = Annotated[
    str | None, typer.Option("--url", help="database URL (default: TIERBOOK_DATABASE_URL)")
]


@db_app.command("upgrade")
def db_upgrade(url: DbUrl = None) -> None:
    """Create or migrate the store's tables to the latest schema (SQLite or PostgreSQL)."""
    from tierbook.bootstrap import database_url
    from tierbook.store.migrate import upgrade_engine_url
    from tierbook.store.settings import SettingsError

    try:
        target = database_url(url)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    before, after = upgrade_engine_url(target)
    console.print(f"[green]database at revision {after}[/] (was {before or 'empty'})")


@db_app.command("seed-demo-users")
def db_seed_demo_users(
    url: DbUrl = None,
    password: Annotated[
        str | None, typer.Option(help="one password for every login (default: random each)")
    ] = None,
) -> None:
    """Create (or reset) one login per role, linked to staff of the published demo bank."""
    from tierbook.bootstrap import open_store
    from tierbook.store.demo_users import NoDemoStaffError, seed_demo_users
    from tierbook.store.settings import SettingsError

    try:
        store = open_store(url)
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    try:
        logins = seed_demo_users(store, password=password)
    except NoDemoStaffError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.dispose()
    console.print("demo logins (login = role; password; linked staff, branch, customers in book):")
    for d in logins:
        staff = f"{d.staff_id} {d.staff_name} {d.branch_id or 'head office'} book {d.book}"
        line = f"  {d.login:<20} {d.password:<14} {staff if d.staff_id else '(no staff row)'}"
        console.print(line, highlight=False, markup=False)


@app.command("evaluate")
def evaluate(
    run_dir: Annotated[Path, typer.Option("--run", help="output folder of a run")] = Path("out"),
    truth: Annotated[Path, typer.Option(help="ground truth (demo bank: truth/labels.csv)")] = Path(
        "demo-bank/truth/labels.csv"
    ),
    floor: Annotated[
        float | None, typer.Option(help="fail (exit 1) if a precision or recall is below")
    ] = None,
) -> None:
    """Precision and recall of every fake-big detector against planted ground truth."""
    from tierbook.batch.evaluate import evaluate_run, print_evaluation

    try:
        table = evaluate_run(run_dir, truth)
    except (FileNotFoundError, ValueError) as exc:
        raise _fail(str(exc)) from None
    if not print_evaluation(table, console, floor):
        raise typer.Exit(1)


@app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    url: DbUrl = None,
    workers: Annotated[int, typer.Option(help="uvicorn worker processes")] = 1,
) -> None:
    """Serve the workbench API (OpenAPI at /docs) on the store (TIERBOOK_DATABASE_URL)."""
    import uvicorn
    from pydantic import ValidationError

    from tierbook.api.server import PROTOCOL
    from tierbook.api.settings import ApiSettings

    try:
        settings = ApiSettings(**({"database_url": url} if url else {}))
    except ValidationError as exc:
        raise _fail(str(exc.errors()[0]["msg"])) from None
    if url:
        os.environ["TIERBOOK_DATABASE_URL"] = url  # the workers read the same settings
    console.print(f"tierbook API on http://{host}:{port}/docs — store {settings.database_url}")
    uvicorn.run(
        "tierbook.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=PROTOCOL,
        log_level="warning",
    )


if __name__ == "__main__":  # pragma: no cover
    app()
