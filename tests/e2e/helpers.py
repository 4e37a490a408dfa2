"""Running the ``tierbook`` command line inside the tests."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tierbook.cli import app

runner = CliRunner()


def tierbook(*args: str, expect: int = 0) -> str:
    """Run ``tierbook ARGS``; fail the test unless it exits with ``expect``; its output."""
    result = runner.invoke(app, list(args))
    assert result.exit_code == expect, result.output
    return result.output


def run_batch(bank: Path, out: Path, *extra: str, as_of: str = "2025-12-31") -> Path:
    """``tierbook run`` on ``bank`` into ``out`` (quiet, no workbook unless asked)."""
    tierbook("run", "--data", str(bank), "--as-of", as_of, "--out", str(out), *extra)
    return out
