"""Reading and writing the tables the CLI and the batch functions exchange.

CSV and Parquet in, Parquet (or CSV) out, chosen by the file suffix. Writes go
to a temporary sibling file that is renamed into place, so a failed batch job
never leaves a half-written output where a good one was.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

__all__ = ["iter_table_chunks", "read_table", "write_table"]

_PARQUET = {".parquet", ".pq"}
_CSV = {".csv", ".tsv", ".txt"}


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".bz2", ".zip", ".xz", ".zst"}:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_table(path: str | os.PathLike, *, columns: list[str] | None = None,
               index_col: str | None = None, **kwargs) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file into a DataFrame.

    ``index_col`` names the key column to use as the index; it must exist.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file {str(path)!r} does not exist")
    suffix = _suffix(path)
    if suffix in _PARQUET or path.is_dir():
        df = pd.read_parquet(path, columns=columns, **kwargs)
    elif suffix in _CSV:
        sep = "\t" if suffix == ".tsv" else kwargs.pop("sep", ",")
        df = pd.read_csv(path, sep=sep, usecols=columns, **kwargs)
    else:
        raise ValueError(
            f"cannot tell the format of {str(path)!r}: expected a .csv, .tsv or .parquet file"
        )
    if index_col is not None:
        if index_col not in df.columns:
            raise KeyError(
                f"key column {index_col!r} not in {str(path)!r}; columns: {list(df.columns)[:20]}"
            )
        df = df.set_index(index_col)
    return df


def iter_table_chunks(path: str | os.PathLike, *, chunksize: int = 100_000,
                      columns: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """Yield a CSV or Parquet file in chunks of at most ``chunksize`` rows."""
    if chunksize <= 0:
        raise ValueError(f"chunksize must be positive, got {chunksize}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input file {str(path)!r} does not exist")
    suffix = _suffix(path)
    if suffix in _PARQUET:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(batch_size=chunksize, columns=columns):
            yield batch.to_pandas()
    elif suffix in _CSV:
        sep = "\t" if suffix == ".tsv" else ","
        yield from pd.read_csv(path, sep=sep, usecols=columns, chunksize=chunksize)
    else:
        raise ValueError(
            f"cannot tell the format of {str(path)!r}: expected a .csv, .tsv or .parquet file"
        )


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = True) -> Path:
    """Write ``df`` to ``.parquet`` or ``.csv`` atomically (temporary file + rename)."""
    path = Path(path)
    suffix = _suffix(path)
    if suffix not in _PARQUET | _CSV:
        raise ValueError(f"output {str(path)!r} must end in .parquet or .csv")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
    try:
        if suffix in _PARQUET:
            df.to_parquet(tmp, index=index)
        else:
            df.to_csv(tmp, index=index, sep="\t" if suffix == ".tsv" else ",")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path
