"""``tierbook`` command line. Thin: parses options, calls the services, prints."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="tierbook — customer tiering and key-customer maintenance for banks.",
    no_args_is_help=True,
    add_completion=False,
)
rules_app = typer.Typer(help="Check and show rulebooks.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    return typer.Exit(code)


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
    console.print(f"[green]demo bank written to {out} in {summary.seconds:.1f}s[/]")
    for table, rows in summary.rows.items():
        console.print(f"  {table:<16} {rows:>12,} rows")
    labels = ", ".join(f"{k} {v}" for k, v in summary.labels.items())
    console.print(f"  planted cases (truth/labels.csv, never read by the engine): {labels}")


@app.command("run")
def run(
    data: Annotated[Path, typer.Option(help="data folder (see docs/data-contract.md)")],
    as_of: Annotated[str, typer.Option(help="as-of date, YYYY-MM-DD")],
    out: Annotated[Path, typer.Option(help="output folder")] = Path("out"),
    rulebook: Annotated[str | None, typer.Option(help="rulebook YAML or preset name")] = None,
    balances: Annotated[str, typer.Option(help="auto, daily or events")] = "auto",
    excel: Annotated[bool, typer.Option(help="write the Excel workbook")] = True,
    quiet: Annotated[bool, typer.Option(help="no summary")] = False,
) -> None:
    """Run the batch: 年日均 → tiers → named staff → dated tasks; write results to OUT."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from tierbook.batch.outputs import write_outputs
    from tierbook.batch.run import load_previous_assignments, run_batch, tables_needed
    from tierbook.batch.summary import print_summary
    from tierbook.bootstrap import connect_engine
    from tierbook.ingest.dataset import IngestError, load_dataset
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
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=quiet) as bar:
        task = bar.add_task("load and validate inputs", total=None)
        try:
            ds = load_dataset(
                data,
                connect_engine(),
                balances=balances,  # type: ignore[arg-type]
                tables=tables_needed(loaded),
                defer_checks=True,  # the batch's own scan of the balances settles them
            )
        except IngestError as exc:
            raise _fail(str(exc)) from None

        def progress(stage: str) -> None:
            bar.update(task, description=stage)

        result = run_batch(
            ds, day, loaded, previous_assignments=load_previous_assignments(out), progress=progress
        )
        progress("write outputs")
        write_outputs(result, out, excel=excel)
    if not quiet:
        print_summary(result, console)
    console.print(f"[green]results written to {out}/[/]")


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


if __name__ == "__main__":  # pragma: no cover
    app()
