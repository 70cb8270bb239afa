"""Batch scoring that scales out: one chunk function, a loop on one machine or a Dask cluster.

Every batch operation of graphtab is a *chunk function*::

    f(chunk: pandas.DataFrame, artifact: str | Path, **options) -> pandas.DataFrame

It returns the chunk with its own columns appended: same index, same rows, in
the same order. Steps are found by name: the built-in ones
(:mod:`graphtab._chunks`), then the ``graphtab.chunks`` entry-point group, through
which another distribution can add its own:

=============  =================================  ==========================================
name           artifact                           appends
=============  =================================  ==========================================
``embed``      a saved ``tabemb.TableEncoder``    ``emb_0 .. emb_{d-1}`` (float32)
``neighbors``  a saved ``NeighborStore``          ``neighbor_key_{i}``, ``neighbor_distance_{i}``
``anomaly``    a saved anomaly detector           ``anomaly_score``, ``anomaly_probability``,
                                                  ``anomaly_label``
``recommend``  a saved ``graphemb.Recommender``   ``rec_item_{i}``, ``rec_score_{i}`` (users in
                                                  the ``user`` column)
=============  =================================  ==========================================

A *pipeline* is a list of :class:`Step` (name or function, artifact path,
options); :func:`run_pipeline` applies them in order and is itself a chunk
function, so the same code runs

- in one process, in a loop over Parquet files and row groups (:func:`map_parquet`);
- on a Dask cluster, one task per partition (:func:`map_dask`), or lazily on a
  ``dask.dataframe`` you already have (:func:`map_partitions`);
- inside Spark's ``mapInPandas`` or Ray Data's ``map_batches`` (recipes in the README).

Each worker process loads an artifact once (:func:`load_artifact_cached`, keyed
by the resolved path and the manifest's modification time) and a
``NeighborStore`` is memory-mapped: the Annoy index file is mapped by every
worker on the machine and shared through the page cache, never copied into
each process nor shipped over the network.

Output layout (both drivers write the same files)::

    OUTPUT_DIR/
        part-00000.parquet      one file per partition, written atomically
        part-00001.parquet
        _markers/part-00000.json   completion marker (rows in/out, source, bytes)
        _markers/part-00003.failed.json   the error of a failed partition
        _job.json               inputs (sizes, row counts), partitioning, steps
        _SUCCESS                written when every partition is complete

A partition is *input rows* ``[first_row, first_row + n_rows)`` of one file.
Its boundaries depend only on the files' row counts and ``chunk_rows`` (default:
one partition per Parquet row group), so a rerun of the same job maps to the
same part files: completed partitions (marker present, part file of the
recorded size) are skipped, failed or missing ones are run again, and nothing
finished is rewritten. A rerun with other inputs or steps into the same
directory is refused (``overwrite=True`` clears our files first). Rows in =
rows out is checked per partition (after every step and on the written file's
footer) and in total; a failure never stops the other partitions, and the
driver raises :class:`ScaleoutError` naming the failed ones at the end.
``pandas.read_parquet(OUTPUT_DIR)`` (or ``dask.dataframe.read_parquet``) reads the
result in input order: files starting with ``_`` or ``.`` are skipped by
pyarrow.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pandas as pd

from nnstore import GraphtabError

from ._io import read_table, write_table

__all__ = [
    "CHUNK_GROUP",
    "ScaleoutError",
    "ScaleoutResult",
    "Step",
    "append_columns",
    "artifact_cache_info",
    "clear_artifact_cache",
    "get_chunk_function",
    "load_artifact_cached",
    "map_dask",
    "map_parquet",
    "map_partitions",
    "pipeline_columns",
    "run_pipeline",
]

logger = logging.getLogger(__name__)

#: The entry-point group naming the chunk functions.
CHUNK_GROUP = "graphtab.chunks"

_PARQUET = {".parquet", ".pq"}
_CSV = {".csv", ".tsv", ".txt"}


class ScaleoutError(GraphtabError):
    """One or more partitions of a scale-out job failed, or rows went missing.

    Attributes
    ----------
    failed : dict
        ``{part file name: error message}`` of the failed partitions.
    output_dir : str
    """

    def __init__(self, message: str, *, failed: Mapping[str, str] | None = None,
                 output_dir: str | None = None) -> None:
        super().__init__(message)
        self.failed = dict(failed or {})
        self.output_dir = output_dir


# -- the per-process artifact cache ------------------------------------------------------
_CACHE: dict[tuple, Any] = {}
_CACHE_LOCKS: dict[tuple, threading.Lock] = {}
_CACHE_GUARD = threading.Lock()
_CACHE_LOADS: dict[str, int] = {}


def _loader_name(loader: Callable) -> str:
    owner = getattr(loader, "__self__", None)
    qual = getattr(loader, "__qualname__", None) or repr(loader)
    mod = getattr(loader, "__module__", None) or getattr(owner, "__module__", "")
    return f"{mod}.{qual}"


def _manifest_mtime(path: Path) -> int:
    m = path / "manifest.json"
    target = m if m.is_file() else path
    try:
        return target.stat().st_mtime_ns
    except FileNotFoundError:
        return -1


def load_artifact_cached(loader: Callable[[str | os.PathLike], Any], path: str | os.PathLike) -> Any:
    """``loader(path)``, once per process: later calls return the same object.

    The key is ``(loader, resolved path, mtime of path/manifest.json)``: a
    re-saved artifact (new manifest) is loaded again, another path to the same
    directory is not. Threads asking for the same artifact at once wait for
    one load. Chunk functions use it so that a Dask worker, a Spark executor's
    Python worker or a Ray actor loads each model once, however many chunks it
    processes; ``NeighborStore.load`` (mmap=True) maps the index instead of
    reading it.

    Parameters
    ----------
    loader : callable
        ``TableEncoder.load``, ``NeighborStore.load``, ``anomaly.load_detector``, ...
    path : str or Path
        The artifact directory.
    """
    p = Path(path).resolve()
    key = (_loader_name(loader), str(p), _manifest_mtime(p))
    try:
        return _CACHE[key]
    except KeyError:
        pass
    with _CACHE_GUARD:
        lock = _CACHE_LOCKS.setdefault(key, threading.Lock())
    with lock:
        if key in _CACHE:
            return _CACHE[key]
        obj = loader(p)
        with _CACHE_GUARD:
            # an older version of the same artifact is dropped (its mapping closes with it)
            for old in [k for k in _CACHE if k[:2] == key[:2]]:
                del _CACHE[old]
            _CACHE[key] = obj
            _CACHE_LOADS[key[1]] = _CACHE_LOADS.get(key[1], 0) + 1
        logger.info("loaded %s with %s (pid %d)", p, key[0], os.getpid())
        return obj


def artifact_cache_info() -> dict:
    """This process's cache: ``{"pid", "cached": [paths], "loads": {path: times loaded}}``."""
    with _CACHE_GUARD:
        return {"pid": os.getpid(), "cached": sorted({k[1] for k in _CACHE}),
                "loads": dict(_CACHE_LOADS)}


def clear_artifact_cache() -> None:
    """Forget every cached artifact of this process (and the load counts)."""
    with _CACHE_GUARD:
        _CACHE.clear()
        _CACHE_LOCKS.clear()
        _CACHE_LOADS.clear()


# -- steps ---------------------------------------------------------------------------
@cache
def _chunk_entry_points() -> dict:
    return {ep.name: ep for ep in entry_points(group=CHUNK_GROUP)}


def _builtin_chunks() -> dict:
    from . import _chunks

    return {"embed": _chunks.embed_chunk, "neighbors": _chunks.neighbors_chunk,
            "anomaly": _chunks.anomaly_chunk, "recommend": _chunks.recommend_chunk}


def get_chunk_function(name: str) -> Callable[..., pd.DataFrame]:
    """The chunk function named ``name``: a built-in step or one registered in the
    ``graphtab.chunks`` entry-point group.

    Raises
    ------
    ValueError
        An unknown name (the message lists the known ones).
    ImportError
        The package providing it cannot be imported (e.g. an extra is missing).
    """
    builtin = _builtin_chunks()
    if name in builtin:
        return builtin[name]
    eps = _chunk_entry_points()
    if name not in eps:
        raise ValueError(f"unknown step {name!r}; known steps: {sorted({*builtin, *eps})} "
                         f"(entry-point group {CHUNK_GROUP!r})")
    try:
        return eps[name].load()
    except ImportError as e:
        raise ImportError(f"step {name!r} ({eps[name].value}) cannot be imported: {e}") from e


_OPTION = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


@dataclass(frozen=True)
class Step:
    """One step of a pipeline: a chunk function, its artifact and its options.

    Parameters
    ----------
    name : str or callable
        A name in the ``graphtab.chunks`` entry-point group (``"embed"``,
        ``"neighbors"``, ``"anomaly"``) or a chunk function itself (it must be
        importable by the workers, i.e. defined in a module, not in ``__main__``).
    artifact : str or Path
        The artifact directory the function loads (a model, a store).
    options : dict
        Keyword options of the function (``{"k": 10}``); JSON types.
    """

    name: str | Callable
    artifact: str | os.PathLike
    options: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Step:
        """``"NAME=ARTIFACT[:opt=value[:opt=value...]]"`` (values read as JSON, else text).

        >>> Step.parse("neighbors=stores/items:k=10")
        Step(name='neighbors', artifact='stores/items', options={'k': 10})
        """
        if "=" not in text:
            raise ValueError(f"step {text!r} must look like NAME=ARTIFACT[:option=value...], "
                             "e.g. neighbors=store_dir:k=10")
        name, rest = text.split("=", 1)
        parts = rest.split(":")
        # options are the trailing ':key=value' segments; the artifact path may contain ':'
        cut = len(parts)
        while cut > 1 and _OPTION.match(parts[cut - 1]):
            cut -= 1
        artifact = ":".join(parts[:cut])
        options = {}
        for seg in parts[cut:]:
            k, v = seg.split("=", 1)
            options[k] = _parse_value(v)
        if not name or not artifact:
            raise ValueError(f"step {text!r} must look like NAME=ARTIFACT[:option=value...]")
        return cls(name.strip(), artifact, options)

    @property
    def label(self) -> str:
        return self.name if isinstance(self.name, str) else _loader_name(self.name)

    def function(self) -> Callable[..., pd.DataFrame]:
        return get_chunk_function(self.name) if isinstance(self.name, str) else self.name

    def describe(self) -> dict:
        """A JSON description (recorded in ``_job.json``)."""
        p = Path(self.artifact).resolve()
        m = p / "manifest.json"  # a re-saved artifact is another job (mixing versions is refused)
        return {"step": self.label, "artifact": str(p), "options": dict(self.options),
                "manifest_mtime_ns": m.stat().st_mtime_ns if m.is_file() else None}


def as_steps(steps: Any) -> list[Step]:
    """Steps from ``Step`` objects, ``"name=artifact:opt=v"`` strings, or ``(name, artifact[, options])``."""
    if isinstance(steps, (Step, str, tuple)):
        steps = [steps]
    out = []
    for s in steps:
        if isinstance(s, Step):
            out.append(s)
        elif isinstance(s, str):
            out.append(Step.parse(s))
        elif isinstance(s, (tuple, list)) and len(s) in (2, 3):
            out.append(Step(s[0], s[1], dict(s[2]) if len(s) == 3 else {}))
        else:
            raise TypeError("each step must be a Step, a 'name=artifact' string or a "
                            f"(name, artifact[, options]) tuple, got {s!r}")
    if not out:
        raise ValueError("steps is empty: give at least one step")
    return out


def check_steps(steps: Any) -> list[Step]:
    """Normalise ``steps`` and check, before any work, that every name and artifact exists.

    Raises ``ValueError`` (unknown name), ``FileNotFoundError`` (no artifact at the
    path) or :class:`nnstore.ArtifactError` (a directory that is no artifact).
    """
    from nnstore import read_artifact

    steps = as_steps(steps)
    for s in steps:
        s.function()
        p = Path(s.artifact)
        if not p.exists():
            raise FileNotFoundError(f"step {s.label!r}: artifact {str(p)!r} does not exist")
        if isinstance(s.name, str):
            read_artifact(p, verify=False)  # manifest and files present; loaders verify checksums
    return steps


def append_columns(chunk: pd.DataFrame, new: pd.DataFrame, *, step: str = "step") -> pd.DataFrame:
    """``chunk`` with the columns of ``new`` appended (rows matched by position, ``chunk``'s index).

    The helper every chunk function ends with. A column name already in ``chunk``
    raises ``ValueError`` naming it (use the step's ``prefix`` option).
    """
    if len(new) != len(chunk):
        raise ValueError(f"{step}: {len(new)} new rows for a chunk of {len(chunk)}")
    clash = [c for c in new.columns if c in chunk.columns]
    if clash:
        raise ValueError(f"{step}: the chunk already has column(s) {clash[:10]}; drop them first or "
                         "give the step another prefix")
    new = new.set_axis(chunk.index, axis=0)
    return pd.concat([chunk, new], axis=1)


def run_pipeline(chunk: pd.DataFrame, steps: Any) -> pd.DataFrame:
    """Apply the steps to one chunk, in order; itself a chunk function (``steps`` as the artifact).

    Every step must return a DataFrame with the chunk's index (same rows, same
    order); columns it adds are appended. A step that drops, adds or reorders
    rows, or returns a column that already exists with other values, raises
    :class:`ScaleoutError` naming it.

    Returns
    -------
    DataFrame of shape (len(chunk), n_columns_in + columns added), index = ``chunk.index``.
    """
    if not isinstance(chunk, pd.DataFrame):
        raise TypeError(f"chunk must be a pandas DataFrame, got {type(chunk).__name__}")
    out = chunk
    for s in as_steps(steps):
        res = s.function()(out, s.artifact, **s.options)
        if not isinstance(res, pd.DataFrame):
            raise ScaleoutError(f"step {s.label!r} returned {type(res).__name__}, expected a DataFrame")
        if len(res) != len(out) or not res.index.equals(out.index):
            raise ScaleoutError(
                f"step {s.label!r} returned {len(res)} rows for a chunk of {len(out)} "
                "(or another index): a chunk function must keep every row, in order")
        out = res
    return out


# -- partitions -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Unit:
    part: int
    name: str  # part-00000
    path: str
    first_row: int
    n_rows: int  # -1 for a CSV file read whole (unknown until read)


def _input_files(inputs: Any) -> list[Path]:
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in _PARQUET
                           and not any(part.startswith((".", "_")) for part in f.relative_to(p).parts))
            if not found:
                raise FileNotFoundError(f"input directory {str(p)!r} holds no .parquet files")
            files.extend(found)
        elif p.is_file():
            if p.suffix.lower() not in _PARQUET | _CSV:
                raise ValueError(f"input {str(p)!r} must be a .parquet or .csv file (or a directory)")
            files.append(p)
        else:
            raise FileNotFoundError(f"input {str(p)!r} does not exist")
    if not files:
        raise ValueError("inputs is empty: give at least one file or directory")
    return files


def _plan(files: list[Path], chunk_rows: int | None) -> tuple[list[_Unit], list[dict]]:
    import pyarrow.parquet as pq

    if chunk_rows is not None and (not isinstance(chunk_rows, int) or chunk_rows <= 0):
        raise ValueError(f"chunk_rows must be a positive int or None, got {chunk_rows!r}")
    spans: list[tuple[Path, int, int]] = []
    described = []
    for f in files:
        st = f.stat()
        desc = {"path": str(f.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
        if f.suffix.lower() in _PARQUET:
            meta = pq.ParquetFile(f).metadata
            desc["rows"] = meta.num_rows
            if chunk_rows is None:
                start = 0
                for g in range(meta.num_row_groups):
                    n = meta.row_group(g).num_rows
                    if n:
                        spans.append((f, start, n))
                    start += n
            else:
                for start in range(0, meta.num_rows, chunk_rows):
                    spans.append((f, start, min(chunk_rows, meta.num_rows - start)))
        else:
            desc["rows"] = None
            spans.append((f, 0, -1))
        described.append(desc)
    width = max(5, len(str(max(len(spans) - 1, 0))))
    units = [_Unit(i, f"part-{i:0{width}d}", str(f.resolve()), s, n)
             for i, (f, s, n) in enumerate(spans)]
    return units, described


def _read_unit(unit: _Unit, columns: Sequence[str] | None) -> pd.DataFrame:
    """The unit's rows as pandas; a stored RangeIndex continues over the file (global row numbers)."""
    path = Path(unit.path)
    if unit.n_rows < 0:
        return read_table(path, columns=list(columns) if columns else None)
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    meta = pf.metadata
    groups, start, offset = [], 0, None
    for g in range(meta.num_row_groups):
        n = meta.row_group(g).num_rows
        if start + n > unit.first_row and start < unit.first_row + unit.n_rows:
            groups.append(g)
            if offset is None:
                offset = unit.first_row - start
        start += n
    pmeta = pf.schema_arrow.pandas_metadata or {}
    index_cols = pmeta.get("index_columns", [])
    read_cols = None
    if columns is not None:
        read_cols = list(columns) + [c for c in index_cols if isinstance(c, str) and c not in columns]
    table = pf.read_row_groups(groups, columns=read_cols)
    table = table.slice(offset or 0, unit.n_rows)
    df = table.to_pandas()
    ranges = [c for c in index_cols if isinstance(c, dict) and c.get("kind") == "range"]
    if not index_cols or ranges:
        r = ranges[0] if ranges else {"start": 0, "step": 1, "name": None}
        step = int(r.get("step", 1))
        first = int(r.get("start", 0)) + step * unit.first_row
        df.index = pd.RangeIndex(first, first + step * len(df), step, name=r.get("name"))
    return df


def _part_path(out: Path, unit: _Unit) -> Path:
    return out / f"{unit.name}.parquet"


def _marker_path(out: Path, unit: _Unit, failed: bool = False) -> Path:
    return out / "_markers" / (f"{unit.name}.failed.json" if failed else f"{unit.name}.json")


def _write_json(path: Path, obj: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{threading.get_ident()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _completed(out: Path, unit: _Unit) -> dict | None:
    """The unit's marker if the partition is complete (marker + part file of the recorded size)."""
    m = _marker_path(out, unit)
    part = _part_path(out, unit)
    if not (m.is_file() and part.is_file()):
        return None
    try:
        with open(m, encoding="utf-8") as f:
            info = json.load(f)
    except (OSError, json.JSONDecodeError):
        return None
    if info.get("bytes") != part.stat().st_size or info.get("rows_out") != info.get("rows_in"):
        return None
    return info


def _run_unit(unit: _Unit, steps: list[Step], output_dir: str, columns: Sequence[str] | None,
              keep: Sequence[str] | None) -> dict:
    """Read, run the pipeline, check rows, write the part and its marker. Never raises:
    returns ``{"part", "ok", "rows_in", "rows_out", "error"}``."""
    import pyarrow.parquet as pq

    out = Path(output_dir)
    t0 = time.perf_counter()
    rows_in = unit.n_rows
    try:
        chunk = _read_unit(unit, columns)
        if rows_in >= 0 and len(chunk) != rows_in:
            raise ScaleoutError(f"read {len(chunk)} rows where the file's footer says {rows_in}")
        rows_in = len(chunk)
        res = run_pipeline(chunk, steps)
        if keep is not None:
            missing = [c for c in keep if c not in res.columns]
            if missing:
                raise KeyError(f"keep names columns {missing} that the pipeline's output lacks; "
                               f"it has {list(res.columns)[:30]}")
            res = res[list(keep)]
        if len(res) != rows_in:
            raise ScaleoutError(f"{rows_in} rows in, {len(res)} rows out")
        part = write_table(res, _part_path(out, unit))
        written = pq.ParquetFile(part).metadata.num_rows
        if written != rows_in:
            raise ScaleoutError(f"{rows_in} rows in, but {part.name} holds {written}")
        info = {"part": unit.name, "source": unit.path, "first_row": unit.first_row,
                "rows_in": rows_in, "rows_out": written, "bytes": part.stat().st_size,
                "seconds": round(time.perf_counter() - t0, 3), "pid": os.getpid()}
        _write_json(_marker_path(out, unit), info)
        fm = _marker_path(out, unit, failed=True)
        if fm.exists():
            fm.unlink()
        return {"part": unit.name, "ok": True, "rows_in": rows_in, "rows_out": written, "error": ""}
    except Exception as e:
        msg = f"{type(e).__name__}: {e.args[0] if isinstance(e, KeyError) and e.args else e}"
        logger.warning("partition %s (%s rows %d..) failed: %s", unit.name, unit.path,
                       unit.first_row, msg)
        try:
            _write_json(_marker_path(out, unit, failed=True),
                        {"part": unit.name, "source": unit.path, "first_row": unit.first_row,
                         "error": msg, "traceback": traceback.format_exc(limit=20)})
        except OSError:  # pragma: no cover - the output directory itself is broken
            pass
        return {"part": unit.name, "ok": False, "rows_in": max(rows_in, 0), "rows_out": 0, "error": msg}


# -- jobs ------------------------------------------------------------------------------
@dataclass
class ScaleoutResult:
    """What a driver did.

    Attributes
    ----------
    output_dir : Path
    n_parts : int
        Partitions of the job.
    n_written : int
        Partitions written by this run.
    n_skipped : int
        Partitions already complete from an earlier run (not rewritten).
    rows_in, rows_out : int
        Over the whole job (equal, checked).
    seconds : float
        Wall time of this run.
    """

    output_dir: Path
    n_parts: int
    n_written: int
    n_skipped: int
    rows_in: int
    rows_out: int
    seconds: float

    @property
    def parts(self) -> list[Path]:
        return sorted(self.output_dir.glob("part-*.parquet"))


_OURS = re.compile(r"^(part-\d+\.parquet|_markers|_job\.json|_SUCCESS)$")


def _prepare(steps: Any, inputs: Any, output_dir: Any, chunk_rows: int | None,
             columns: Sequence[str] | None, keep: Sequence[str] | None, overwrite: bool):
    steps = check_steps(steps)
    files = _input_files(inputs)
    units, described = _plan(files, chunk_rows)
    out = Path(output_dir)
    if out.exists() and not out.is_dir():
        raise ValueError(f"output_dir {str(out)!r} is a file")
    job = {"inputs": described, "chunk_rows": chunk_rows, "n_parts": len(units),
           "columns": None if columns is None else list(columns),
           "keep": None if keep is None else list(keep),
           "steps": [s.describe() for s in steps]}
    jpath = out / "_job.json"
    if overwrite and out.is_dir():
        for child in out.iterdir():
            if _OURS.match(child.name):
                shutil.rmtree(child) if child.is_dir() else child.unlink()
    if jpath.is_file():
        with open(jpath, encoding="utf-8") as f:
            old = json.load(f)
        if old != json.loads(json.dumps(job)):
            diff = [k for k in job if old.get(k) != json.loads(json.dumps(job[k]))]
            raise ValueError(
                f"output_dir {str(out)!r} holds the output of another job ({', '.join(diff)} "
                "differ); write to another directory or pass overwrite=True (--overwrite)")
    elif out.is_dir() and any(_OURS.match(c.name) for c in out.iterdir()):
        raise ValueError(f"output_dir {str(out)!r} holds part files without a _job.json; "
                         "write to another directory or pass overwrite=True (--overwrite)")
    out.mkdir(parents=True, exist_ok=True)
    _write_json(jpath, job)
    success = out / "_SUCCESS"
    if success.exists():
        success.unlink()
    done = {u.name: _completed(out, u) for u in units}
    todo = [u for u in units if done[u.name] is None]
    return steps, units, todo, out, described


def _finish(out: Path, units: list[_Unit], described: list[dict], results: list[dict],
            n_skipped: int, t0: float) -> ScaleoutResult:
    failed = {r["part"]: r["error"] for r in results if not r["ok"]}
    if failed:
        names = sorted(failed)
        shown = "; ".join(f"{n}: {failed[n]}" for n in names[:5])
        more = f" (and {len(names) - 5} more)" if len(names) > 5 else ""
        raise ScaleoutError(
            f"{len(names)} of {len(units)} partitions failed: {', '.join(names[:20])}"
            f"{' ...' if len(names) > 20 else ''}. {shown}{more}. The other partitions are "
            f"written; run the same job again to retry only the failed ones "
            f"(errors in {str(out / '_markers')!r})", failed=failed, output_dir=str(out))
    rows_in = rows_out = 0
    for u in units:
        info = _completed(out, u)
        if info is None:
            raise ScaleoutError(f"partition {u.name} has no valid completion marker after the run",
                                failed={u.name: "no marker"}, output_dir=str(out))
        rows_in += info["rows_in"]
        rows_out += info["rows_out"]
    # Parquet: the footers' row counts; a CSV file's rows are known only once read
    expected = sum(d["rows"] for d in described if d["rows"] is not None)
    expected += sum(_completed(out, u)["rows_in"] for u in units if u.n_rows < 0)
    if rows_in != expected or rows_out != rows_in:
        raise ScaleoutError(f"rows in the input: {expected}; rows read: {rows_in}; rows written: "
                            f"{rows_out}: they must be equal", output_dir=str(out))
    _write_json(out / "_SUCCESS", {"n_parts": len(units), "rows": rows_out})
    res = ScaleoutResult(out, len(units), len(units) - n_skipped, n_skipped, rows_in, rows_out,
                         time.perf_counter() - t0)
    logger.info("scale-out job done: %s", res)
    return res


def map_parquet(steps: Any, inputs: Any, output_dir: str | os.PathLike, *, chunk_rows: int | None = None,
                columns: Sequence[str] | None = None, keep: Sequence[str] | None = None,
                overwrite: bool = False, verbose: bool = False) -> ScaleoutResult:
    """Run a pipeline over Parquet (or CSV) files in this process, one partition at a time.

    Parameters
    ----------
    steps : list of Step, ``"name=artifact[:opt=v]"`` strings or ``(name, artifact[, options])``
    inputs : path or list of paths
        Parquet files, directories of Parquet files, or CSV files (a CSV file is one
        partition; use Parquet for big inputs).
    output_dir : path
        Where the ``part-*.parquet`` files, markers and ``_job.json`` go.
    chunk_rows : int, optional
        Rows per partition (default: one partition per Parquet row group).
    columns : list of str, optional
        Input columns to read (default all).
    keep : list of str, optional
        Output columns to write (default: every input column and every column the steps add).
    overwrite : bool, default False
        Remove this job's files from ``output_dir`` first (else a rerun resumes).
    verbose : bool, default False
        tqdm progress bar over rows.

    Returns
    -------
    ScaleoutResult

    Raises
    ------
    ScaleoutError
        Some partitions failed (named, with their errors); the others are written.
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    steps, units, todo, out, described = _prepare(steps, inputs, output_dir, chunk_rows,
                                                        columns, keep, overwrite)
    total = sum(u.n_rows for u in todo) if all(u.n_rows >= 0 for u in todo) else None
    results = []
    with tqdm(total=total, unit="rows", desc="scale-out", disable=not verbose) as bar:
        for u in todo:
            r = _run_unit(u, steps, str(out), columns, keep)
            results.append(r)
            bar.update(r["rows_in"])
    return _finish(out, units, described, results, len(units) - len(todo), t0)


def _client(workers: int | None, scheduler: str | None, client: Any):
    """(client, things to close) for the requested cluster."""
    try:
        import distributed
    except ImportError as e:
        raise ImportError("map_dask needs dask and distributed: pip install 'graphtab[dask]'") from e
    if sum(x is not None for x in (workers, scheduler, client)) > 1:
        raise ValueError("give at most one of workers, scheduler, client")
    if client is not None:
        return client, []
    if scheduler is not None:
        c = distributed.Client(scheduler)
        return c, [c]
    if workers is None:
        try:
            return distributed.get_client(), []
        except ValueError:
            workers = os.cpu_count() or 1
    if not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a positive int, got {workers!r}")
    cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=":0")  # any free port: no clash
    c = distributed.Client(cluster)
    return c, [c, cluster]


_STATS_META = pd.DataFrame({"part": pd.Series(dtype=object), "ok": pd.Series(dtype=bool),
                            "rows_in": pd.Series(dtype="int64"), "rows_out": pd.Series(dtype="int64"),
                            "error": pd.Series(dtype=object)})


def _run_unit_frame(unit: _Unit, steps: list[Step], output_dir: str, read_columns, keep) -> pd.DataFrame:
    # (not named ``columns``: dask.dataframe.from_map passes a column projection under that name)
    return pd.DataFrame([_run_unit(unit, steps, output_dir, read_columns, keep)],
                        columns=_STATS_META.columns)


def map_dask(steps: Any, inputs: Any, output_dir: str | os.PathLike, *, workers: int | None = None,
             scheduler: str | None = None, client: Any = None, chunk_rows: int | None = None,
             columns: Sequence[str] | None = None, keep: Sequence[str] | None = None,
             overwrite: bool = False, verbose: bool = False) -> ScaleoutResult:
    """Run a pipeline on a Dask cluster: one task per partition, each written as a part file.

    The partitions are those of :func:`map_parquet` (same part files, same
    rows, same output). They become a ``dask.dataframe`` collection
    (``dask.dataframe.from_map``, explicit ``meta``) whose partitions each read
    their rows on the worker, run :func:`run_pipeline` and write
    ``part-NNNNN.parquet`` plus its completion marker; only a one-row status
    frame travels back. Each worker process loads each artifact once
    (:func:`load_artifact_cached`); the store's Annoy index is memory-mapped.

    Parameters
    ----------
    steps, inputs, output_dir, chunk_rows, columns, keep, overwrite, verbose
        As in :func:`map_parquet`. ``output_dir`` and the inputs must be reachable
        at the same paths from every worker (a shared file system) when the
        cluster spans machines.
    workers : int, optional
        Start a local cluster of this many worker processes, one thread each
        (``distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
        processes=True)``), closed at the end.
    scheduler : str, optional
        Address of a running scheduler (``"tcp://host:8786"``).
    client : distributed.Client, optional
        A client you already hold. With none of the three, the current default
        client is used if there is one, else a local cluster with one worker per core.

    Returns
    -------
    ScaleoutResult

    Raises
    ------
    ScaleoutError
        Some partitions failed (named, with their errors, including a worker that
        died); the others are written and a rerun retries only the failed ones.
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    steps, units, todo, out, described = _prepare(steps, inputs, output_dir, chunk_rows,
                                                        columns, keep, overwrite)
    results: list[dict] = []
    if todo:
        import dask.dataframe as dd
        from distributed import as_completed

        cl, to_close = _client(workers, scheduler, client)
        try:
            ddf = dd.from_map(_run_unit_frame, todo, args=[steps, str(out), columns, keep],
                              meta=_STATS_META, label="graphtab-scaleout", enforce_metadata=False)
            parts = ddf.to_delayed()
            futures = cl.compute(parts)
            unit_of = {f.key: u for f, u in zip(futures, todo, strict=True)}
            total = sum(u.n_rows for u in todo) if all(u.n_rows >= 0 for u in todo) else None
            with tqdm(total=total, unit="rows", desc="scale-out", disable=not verbose) as bar:
                for fut in as_completed(futures):
                    u = unit_of[fut.key]
                    try:
                        r = fut.result().iloc[0].to_dict()
                        r["ok"] = bool(r["ok"])
                    except Exception as e:  # the task itself died (killed worker, lost data)
                        r = {"part": u.name, "ok": False, "rows_in": max(u.n_rows, 0),
                             "rows_out": 0, "error": f"{type(e).__name__}: {e}"}
                    results.append(r)
                    bar.update(r["rows_in"])
        finally:
            for c in to_close:
                c.close()
    return _finish(out, units, described, results, len(units) - len(todo), t0)


def map_partitions(ddf: Any, steps: Any, *, meta: pd.DataFrame | None = None):
    """Lazily apply a pipeline to every partition of a ``dask.dataframe`` you already have.

    ``meta`` (the output's empty frame) defaults to the pipeline run on the
    first two rows of the first partition (computed once, on the client).
    Writing the result is up to you (``.to_parquet(...)``); :func:`map_dask` is
    the resumable, checked job runner.

    Returns
    -------
    dask.dataframe.DataFrame
    """
    steps = check_steps(steps)
    if meta is None:
        sample = ddf.partitions[0].head(2)
        meta = run_pipeline(sample, steps).iloc[:0]
    return ddf.map_partitions(run_pipeline, steps, meta=meta)


def pipeline_columns(steps: Any, sample: pd.DataFrame) -> pd.DataFrame:
    """The pipeline's output frame on ``sample`` (a few input rows): its columns and dtypes,
    e.g. to build a Spark schema for ``mapInPandas``."""
    return run_pipeline(sample, check_steps(steps))
