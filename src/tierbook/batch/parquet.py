"""Result frames to Parquet: the writer every result file of a run goes through."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tierbook.batch.memory import give_back_memory

ROW_GROUP = 1 << 20  # pyarrow's default row group size


def write_parquet(frames: pd.DataFrame | Iterable[pd.DataFrame], path: Path) -> int:
    """``frame.to_parquet(path, index=False)`` read back alike, at half the writer's work on
    the large results (history: 4.8M rows at 200k customers): dictionary pages for the text
    columns only (amounts are nearly all distinct, a dictionary of them is built only to be
    dropped), min/max statistics for ``customer_id`` only (what a reader filtering one
    customer, like ``tierbook explain``, skips row groups by). Categorical columns are
    written as text: in memory a ladder id or level is a one-byte code into the names of
    every ladder of the run, but a reader of one file should not meet another ladder's
    levels among its categories. (A categorical of dates, the history's month ends, is
    written as dates.) The frame goes to Arrow one row group at a time, so writing holds
    one row group's copy, not the whole frame's (the history of 2M customers: 48M rows).

    ``frames`` may also be several frames of the same columns (an iterable, e.g. one per
    ladder, made as they are written): the file holds their rows one after the other, as
    ``pd.concat`` of them would, and only one of them need be in memory at a time. Returns
    the number of rows written."""
    parts = iter([frames] if isinstance(frames, pd.DataFrame) else frames)
    first = next(parts)
    cats = [c for c in first.columns if isinstance(first[c].dtype, pd.CategoricalDtype)]
    schema = pa.Schema.from_pandas(first.drop(columns=cats), preserve_index=False)
    # a categorical's value type, from none of its values (each frame converts its own)
    kinds = {c: pa.array(first[c].cat.categories[:0]).type for c in cats}
    plain = pa.schema(
        [pa.field(c, _text(kinds[c])) if c in kinds else schema.field(c) for c in first]
    )
    text = [f.name for f in plain if _is_text(f.type)]
    stats = ["customer_id"] if "customer_id" in plain.names else False
    rows = 0
    with pq.ParquetWriter(path, plain, use_dictionary=text, write_statistics=stats) as writer:
        frame: pd.DataFrame | None = first
        while frame is not None:
            _write_frame(writer, frame, cats, schema, plain)
            rows += len(frame)
            frame = next(parts, None)
    # Arrow's allocator keeps the pages of the row groups' copies for reuse: at 2M
    # customers that was 1.2 GB held for the rest of the run after writing the history
    give_back_memory()
    return rows


def _write_frame(
    writer: pq.ParquetWriter,
    frame: pd.DataFrame,
    cats: list[str],
    schema: pa.Schema,
    plain: pa.Schema,
) -> None:
    values = {c: pa.array(frame[c].cat.categories) for c in cats}  # converted once
    codes = {c: frame[c].cat.codes.to_numpy() for c in cats}
    rest = frame.drop(columns=cats)
    for lo in range(0, len(frame), ROW_GROUP):
        hi = lo + ROW_GROUP
        part = pa.Table.from_pandas(rest.iloc[lo:hi], schema=schema, preserve_index=False)
        columns = {c: part.column(c) for c in part.column_names}
        for c in cats:  # a categorical's values by its codes (-1: missing)
            k = codes[c][lo:hi]
            columns[c] = values[c].take(pa.array(k, mask=k < 0)).cast(plain.field(c).type)
        writer.write_table(pa.table([columns[c] for c in plain.names], schema=plain))


def parquet_rows(path: Path) -> int:
    """The number of rows of a Parquet file, from its footer."""
    return int(pq.ParquetFile(path).metadata.num_rows)


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _text(t: pa.DataType) -> pa.DataType:
    """A categorical's value type in the file: text as large strings, dates as dates."""
    return pa.large_string() if _is_text(t) else t


def move_spilled(spilled: dict[str, Path], name: str, path: Path) -> int:
    """Move the file the batch wrote for result ``name`` (``RunResult.spilled``) to
    ``path``, record the move in ``spilled``, and return its row count."""
    if spilled[name] != path:
        spilled[name].replace(path)
        spilled[name] = path
    return parquet_rows(path)
