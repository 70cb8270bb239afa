"""``graphtab scaleout run``: a pipeline of chunk functions over Parquet, locally or on Dask.

::

    graphtab scaleout run records.parquet --out scored/ \\
        --step embed=people_encoder --step neighbors=people_store:k=10 --step anomaly=people_detector \\
        [--workers 4 | --dask tcp://scheduler:8786] [--chunk-rows 100000]

:func:`add_scaleout_arguments` adds ``--workers``, ``--dask``, ``--chunk-rows`` and
``--overwrite`` to a batch subcommand (``tabemb embed``, ``store query``,
``anomaly score``, ``recommend top``); with ``--workers`` or ``--dask`` it runs
its chunk function through :func:`run_batch_scaleout` and ``--out`` is a
directory of Parquet part files holding the key column and the columns the step
appends, one row per input row.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._common import UsageError, add_command, add_group, add_out, add_progress, progress

__all__ = ["add_scaleout_arguments", "register", "run_batch_scaleout", "run_scaleout", "sample_rows",
           "scaleout_requested"]


def add_scaleout_arguments(parser: argparse.ArgumentParser, *, description: str | None = None,
                           chunk_help: str = "rows per chunk (default: 10000 in one process; one "
                                             "partition per Parquet row group with --workers/--dask)"
                           ) -> None:
    """Add ``--workers``/``--dask`` (exclusive), ``--chunk-rows`` and ``--overwrite``."""
    g = parser.add_argument_group("scale-out (Dask)", description)
    x = g.add_mutually_exclusive_group()
    x.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run on a local Dask cluster of N worker processes (1 thread each)")
    x.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
                        "inputs and output must be on a file system every worker sees")
    g.add_argument("--chunk-rows", type=int, default=None, metavar="N", help=chunk_help)
    g.add_argument("--overwrite", action="store_true",
                   help="with --workers/--dask: remove an earlier job's part files first (default: "
                        "resume it, skipping completed partitions)")


def scaleout_requested(args: argparse.Namespace) -> bool:
    """True when ``--workers`` or ``--dask`` was given; ``--overwrite`` alone is refused."""
    requested = getattr(args, "workers", None) is not None or getattr(args, "dask", None) is not None
    if not requested and getattr(args, "overwrite", False) and getattr(args, "command", "") != "scaleout":
        raise UsageError("--overwrite only applies with --workers N or --dask ADDRESS")
    if getattr(args, "chunk_rows", None) is not None and args.chunk_rows < 1:
        raise UsageError(f"--chunk-rows must be a positive int, got {args.chunk_rows}")
    if getattr(args, "workers", None) is not None and args.workers < 1:
        raise UsageError(f"--workers must be a positive int, got {args.workers}")
    return requested


def run_scaleout(args: argparse.Namespace, steps: Any, inputs: Any, output_dir: Any, *,
                 columns: Sequence[str] | None = None, keep: Sequence[str] | None = None,
                 verbose: bool = True):
    """Run ``steps`` over ``inputs`` into ``output_dir`` as the parsed options ask."""
    from graphtab._scaleout import map_dask, map_parquet

    common = {"chunk_rows": getattr(args, "chunk_rows", None), "columns": columns, "keep": keep,
              "overwrite": getattr(args, "overwrite", False), "verbose": verbose}
    if scaleout_requested(args):
        return map_dask(steps, inputs, output_dir, workers=args.workers, scheduler=args.dask, **common)
    return map_parquet(steps, inputs, output_dir, **common)


def sample_rows(inputs: Any, n: int = 2) -> pd.DataFrame:
    """The first ``n`` rows of the first input file (Parquet or CSV), as the drivers read them."""
    from graphtab._io import read_table
    from graphtab._scaleout import _input_files, _read_unit, _Unit

    first = _input_files(inputs)[0]
    if first.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        rows = min(n, pq.ParquetFile(first).metadata.num_rows)
        return _read_unit(_Unit(0, "sample", str(first.resolve()), 0, rows), None)
    return read_table(first, nrows=n)


def _check_out_dir(path: str) -> Path:
    out = Path(path)
    if out.suffix.lower() in {".csv", ".tsv", ".txt", ".parquet", ".pq"}:
        raise UsageError(f"--out {str(out)!r}: with --workers or --dask (and for `scaleout run`) the "
                         "output is a directory of Parquet part files; give a directory name")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {str(out)!r} is a file; expected a directory")
    return out


def run_batch_scaleout(args: argparse.Namespace, step: Any, inputs: Any, output_dir: Any, *,
                       id_columns: Sequence[str] = (), verbose: bool = True):
    """Run one batch subcommand's step with ``--workers`` / ``--dask``, print a summary line.

    The written columns are ``id_columns`` (kept from the input) followed by the
    columns the step appends (found by running it on the input's first two rows).
    """
    from graphtab._scaleout import check_steps, pipeline_columns

    out = _check_out_dir(output_dir)
    steps = check_steps([step])
    sample = sample_rows(inputs)
    missing = [c for c in id_columns if c not in sample.columns]
    if missing:
        raise KeyError(f"column(s) {missing} not in the input; it has {list(sample.columns)[:20]}")
    added = [c for c in pipeline_columns(steps, sample).columns if c not in sample.columns]
    res = run_scaleout(args, steps, inputs, out, keep=[*id_columns, *added], verbose=verbose)
    where = f"Dask scheduler {args.dask}" if args.dask else \
        (f"{args.workers} local Dask worker{'s' if args.workers != 1 else ''}" if args.workers
         else "this process")
    print(f"{step.label}: {res.rows_out} rows in {res.n_parts} partitions on {where} -> {res.output_dir} "
          f"({res.n_written} written, {res.n_skipped} already complete; {res.seconds:.1f} s)")
    return res


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "scaleout", help="run embed / neighbors / anomaly / recommend steps over "
                                            "Parquet, locally or on Dask",
                      description="Batch pipelines of chunk functions over Parquet files.",
                      dest="scaleout_verb")
    p = add_command(verbs, "run", help="run a pipeline of steps over the rows of INPUT",
                    description="Run a pipeline of chunk functions (each step appends columns) over "
                                "the rows of INPUT, writing --out/part-NNNNN.parquet per partition "
                                "with a completion marker; a rerun skips completed partitions and "
                                "retries failed ones.")
    p.add_argument("input", nargs="+", help="Parquet file(s) or directories of Parquet files "
                                            "(CSV: one partition per file)")
    add_out(p, "output directory (Parquet part files)")
    p.add_argument("--step", required=True, action="append", metavar="NAME=ARTIFACT[:opt=value]",
                   help="a step, in order (repeat): embed=MODEL_DIR, neighbors=STORE_DIR:k=10, "
                        "anomaly=DETECTOR_DIR, recommend=MODEL_DIR:k=10; options are the chunk "
                        "function's keywords")
    p.add_argument("--columns", nargs="+", default=None, metavar="COL",
                   help="input columns to read (default: all)")
    p.add_argument("--keep", nargs="+", default=None, metavar="COL",
                   help="output columns to write (default: the input columns and every added column)")
    add_progress(p)
    add_scaleout_arguments(p, chunk_help="rows per partition (default: one per Parquet row group)")
    p.set_defaults(func=_cmd_run)


def _cmd_run(args: argparse.Namespace) -> int:
    from graphtab._scaleout import Step

    out = _check_out_dir(args.out)
    steps = [Step.parse(s) for s in args.step]
    res = run_scaleout(args, steps, args.input, out, columns=args.columns, keep=args.keep,
                       verbose=progress(args))
    print(f"{res.rows_out} rows in {res.n_parts} partitions -> {res.output_dir} "
          f"({res.n_written} written, {res.n_skipped} already complete; {res.seconds:.1f} s)")
    return 0

