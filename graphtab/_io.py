"""Reading and writing the tables the CLI and the batch functions exchange.

CSV/TSV and Parquet in, Parquet (or CSV) out, chosen by the file suffix. A file
that cannot be read raises :class:`TableReadError` (a ``ValueError``) naming
the file, what was expected and what was found (an empty file, binary data,
Parquet data behind a ``.csv`` name, a text encoding other than UTF-8, a
malformed row) instead of the reader's own message. Writes go to a temporary
sibling file that is renamed into place, so a failed job never leaves a
half-written output where a good one was.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import pandas as pd

__all__ = ["TableReadError", "iter_table_chunks", "read_table", "table_format", "write_table"]

_PARQUET = {".parquet", ".pq"}
_CSV = {".csv", ".tsv", ".txt"}
_COMPRESSED = {".gz", ".bz2", ".zip", ".xz", ".zst"}


class TableReadError(ValueError):
    """An input table could not be read; the message names the file and the problem."""


def _suffix(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSED:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def table_format(path: str | os.PathLike, *, role: str = "input") -> str:
    """``"parquet"`` or ``"csv"`` from ``path``'s suffix (a directory is Parquet).

    Raises
    ------
    ValueError
        Any other suffix, naming ``role`` and the path.
    """
    path = Path(path)
    suffix = _suffix(path)
    if suffix in _PARQUET or (role == "input" and path.is_dir()):
        return "parquet"
    if suffix in _CSV:
        return "csv"
    raise ValueError(f"{role} {str(path)!r}: cannot tell the format from the suffix "
                     f"{suffix or '(none)'!r}; expected .csv, .tsv or .parquet")


def _check_readable(path: Path) -> str:
    if not path.exists():
        raise FileNotFoundError(f"input file {str(path)!r} does not exist")
    fmt = table_format(path)
    if path.is_dir():
        return fmt
    if path.stat().st_size == 0:
        raise TableReadError(f"input file {str(path)!r} is empty (0 bytes); expected a "
                             f"{'Parquet file' if fmt == 'parquet' else 'CSV table with a header row'}")
    with open(path, "rb") as f:
        head = f.read(4096)
    if fmt == "csv" and _suffix(path) == Path(path).suffix.lower():  # not compressed
        if head.startswith(b"PAR1"):
            raise TableReadError(f"input file {str(path)!r} holds Parquet data but is named like a "
                                 "CSV file; rename it to .parquet")
        if b"\x00" in head:
            raise TableReadError(f"input file {str(path)!r} holds binary data, not CSV text")
    if fmt == "parquet" and not head.startswith(b"PAR1"):
        raise TableReadError(f"input file {str(path)!r} is not a Parquet file (no Parquet header); "
                             "name CSV files .csv")
    return fmt


def _csv_kwargs(path: Path, str_columns: Sequence[str], kwargs: dict) -> dict:
    kw = dict(kwargs)
    kw.setdefault("sep", "\t" if _suffix(path) == ".tsv" else ",")
    if str_columns:
        dtype = dict(kw.pop("dtype", None) or {})
        for c in str_columns:
            dtype[c] = str
        kw["dtype"] = dtype
        kw["keep_default_na"] = False
        kw["na_values"] = {c: [""] for c in str_columns}
    return kw


def _csv_error(path: Path, e: Exception) -> TableReadError:
    if isinstance(e, UnicodeDecodeError):
        return TableReadError(f"input file {str(path)!r} is not UTF-8 text (byte {e.start}: "
                              f"{e.object[e.start:e.start + 1]!r}); save it as UTF-8 CSV")
    if isinstance(e, pd.errors.EmptyDataError):
        return TableReadError(f"input file {str(path)!r} has no columns; expected a CSV table with "
                              "a header row")
    first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    return TableReadError(f"input file {str(path)!r} is not a well-formed CSV table: {first}")


def _str_ids(df: pd.DataFrame, str_columns: Sequence[str]) -> pd.DataFrame:
    """Parquet keeps types; ``str_columns`` (and an index of that name) become str."""
    for c in str_columns:
        if c in df.columns and df[c].dtype != object:
            df[c] = df[c].astype(str).where(df[c].notna(), None)
    if df.index.name in set(str_columns) and df.index.dtype != object:
        df.index = df.index.astype(str)
    return df


def read_table(path: str | os.PathLike, *, columns: list[str] | None = None,
               index_col: str | None = None, str_columns: Sequence[str] = (),
               **kwargs) -> pd.DataFrame:
    """Read a CSV/TSV or Parquet file into a DataFrame.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.tsv``/``.txt`` (optionally compressed) or ``.parquet``/``.pq``
        (or a directory of Parquet files).
    columns : list of str, optional
        Only these columns.
    index_col : str, optional
        The key column to use as the index; it must exist.
    str_columns : sequence of str
        Columns read as strings (ids such as ``"007"`` keep their leading zeros;
        in Parquet they are converted). Absent ones are ignored.
    **kwargs
        Passed to ``pandas.read_csv`` / ``pandas.read_parquet``.

    Returns
    -------
    DataFrame

    Raises
    ------
    FileNotFoundError
        No such file.
    TableReadError
        The file is empty, binary, Parquet behind a CSV name (or the reverse),
        not UTF-8, or malformed; the message names the file.
    KeyError
        ``index_col`` is not a column.
    """
    path = Path(path)
    fmt = _check_readable(path)
    if fmt == "parquet":
        try:
            df = pd.read_parquet(path, columns=columns, **kwargs)
        except (OSError, ValueError) as e:  # pyarrow's ArrowInvalid is a ValueError
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise TableReadError(f"input file {str(path)!r} is not a readable Parquet table: "
                                 f"{first}") from e
        df = _str_ids(df, str_columns)
    else:
        kw = _csv_kwargs(path, [c for c in str_columns], kwargs)
        try:
            df = pd.read_csv(path, usecols=columns, **kw)
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise _csv_error(path, e) from e
    if index_col is not None:
        if index_col not in df.columns:
            if df.index.name == index_col:
                return df
            raise KeyError(
                f"key column {index_col!r} not in {str(path)!r}; columns: {list(df.columns)[:20]}"
            )
        df = df.set_index(index_col)
    return df


def iter_table_chunks(path: str | os.PathLike, *, chunksize: int = 100_000,
                      columns: list[str] | None = None,
                      str_columns: Sequence[str] = ()) -> Iterator[pd.DataFrame]:
    """Yield a CSV or Parquet file in chunks of at most ``chunksize`` rows.

    Same errors as :func:`read_table`; ``str_columns`` likewise.
    """
    if isinstance(chunksize, bool) or not isinstance(chunksize, int) or chunksize <= 0:
        raise ValueError(f"chunksize must be a positive int, got {chunksize!r}")
    path = Path(path)
    fmt = _check_readable(path)
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=chunksize, columns=columns):
                yield _str_ids(batch.to_pandas(), str_columns)
        except (OSError, ValueError) as e:
            raise TableReadError(f"input file {str(path)!r} is not a readable Parquet table: "
                                 f"{str(e).strip().splitlines()[0]}") from e
    else:
        kw = _csv_kwargs(path, list(str_columns), {})
        try:
            yield from pd.read_csv(path, usecols=columns, chunksize=chunksize, **kw)
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
            raise _csv_error(path, e) from e


def write_table(df: pd.DataFrame, path: str | os.PathLike, *, index: bool = True) -> Path:
    """Write ``df`` to ``.parquet`` or ``.csv`` atomically (temporary file + rename).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ValueError
        A suffix other than .parquet/.pq/.csv/.tsv/.txt.
    """
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
