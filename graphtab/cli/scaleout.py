"""``graphtab scaleout``: run a pipeline of chunk functions over Parquet, locally or on Dask.

::

    graphtab scaleout --input records.parquet --output scored/ \\
        --step embed=people_encoder --step neighbors=people_store:k=10 --step anomaly=people_detector \\
        [--workers 4 | --dask tcp://scheduler:8786] [--chunk-rows 100000]

:func:`add_scaleout_arguments` adds ``--workers``, ``--dask``, ``--chunk-rows`` and
``--overwrite`` to any batch subcommand; :func:`run_scaleout` then runs the
job with :func:`nnstore.map_dask` when ``--workers`` or ``--dask`` is given,
else with :func:`nnstore.map_parquet` in this process.

The batch subcommands ``tabemb embed``, ``store query``, ``anomaly score`` and
``recommend top`` take these options: with ``--workers`` or ``--dask`` they run
their chunk function (``embed``, ``neighbors``, ``anomaly``, ``recommend``) through
:func:`run_batch_scaleout`, and ``--out`` is a directory of Parquet part files
holding the id column(s) and the columns the step appends, one row per input row.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from graphtab._scaleout import ScaleoutResult, Step, check_steps, map_dask, map_parquet, pipeline_columns

__all__ = ["add_scaleout_arguments", "batch_scaleout_requested", "register_scaleout",
           "run_batch_scaleout", "run_scaleout", "sample_rows", "scaleout_requested"]


def add_scaleout_arguments(parser: argparse.ArgumentParser, *, description: str | None = None) -> None:
    """Add the scale-out options to a batch subcommand's parser.

    ``--workers N`` (a local Dask cluster of N processes) and ``--dask ADDRESS``
    (a running scheduler) exclude each other; ``--chunk-rows`` sets the rows per
    partition (default: one per Parquet row group); ``--overwrite`` clears an
    earlier job's output instead of resuming it. ``description`` (optional) says
    what the subcommand writes in that case.
    """
    g = parser.add_argument_group("scale-out (Dask)", description)
    x = g.add_mutually_exclusive_group()
    x.add_argument("--workers", type=int, default=None, metavar="N",
                   help="run on a local Dask cluster of N worker processes (1 thread each)")
    x.add_argument("--dask", default=None, metavar="ADDRESS",
                   help="run on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786); "
                        "inputs and output must be on a file system every worker sees")
    g.add_argument("--chunk-rows", type=int, default=None, metavar="N",
                   help="rows per partition (default: one partition per Parquet row group)")
    g.add_argument("--overwrite", action="store_true",
                   help="remove an earlier job's part files first (default: resume it, "
                        "skipping completed partitions)")


def scaleout_requested(args: argparse.Namespace) -> bool:
    """True when ``--workers`` or ``--dask`` was given."""
    return getattr(args, "workers", None) is not None or getattr(args, "dask", None) is not None


def batch_scaleout_requested(args: argparse.Namespace) -> bool:
    """For a batch subcommand: True when ``--workers`` or ``--dask`` was given.

    Raises ``ValueError`` when ``--chunk-rows`` or ``--overwrite`` comes without
    either (they only apply to a scale-out job).
    """
    if scaleout_requested(args):
        return True
    given = [f for f, v in (("--chunk-rows", getattr(args, "chunk_rows", None)),
                            ("--overwrite", getattr(args, "overwrite", False) or None)) if v is not None]
    if given:
        raise ValueError(f"{' and '.join(given)} only apply with --workers N or --dask ADDRESS")
    return False


def run_scaleout(args: argparse.Namespace, steps: Any, inputs: Any, output_dir: Any, *,
                 columns: Sequence[str] | None = None, keep: Sequence[str] | None = None,
                 verbose: bool = True) -> ScaleoutResult:
    """Run ``steps`` over ``inputs`` into ``output_dir`` as the parsed options ask."""
    common = {"chunk_rows": getattr(args, "chunk_rows", None), "columns": columns, "keep": keep,
              "overwrite": getattr(args, "overwrite", False), "verbose": verbose}
    if scaleout_requested(args):
        return map_dask(steps, inputs, output_dir, workers=args.workers, scheduler=args.dask, **common)
    return map_parquet(steps, inputs, output_dir, **common)


def sample_rows(inputs: Any, n: int = 2) -> pd.DataFrame:
    """The first ``n`` rows of the first input file (Parquet or CSV), as the drivers read them."""
    from graphtab._scaleout import _input_files, _read_unit, _Unit

    first = _input_files(inputs)[0]
    if first.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        rows = min(n, pq.ParquetFile(first).metadata.num_rows)
        return _read_unit(_Unit(0, "sample", str(first.resolve()), 0, rows), None)
    return pd.read_csv(first, nrows=n, sep="\t" if first.suffix.lower() == ".tsv" else ",")


def run_batch_scaleout(args: argparse.Namespace, step: Step, inputs: Any, output_dir: Any, *,
                       id_columns: Sequence[str] = (), verbose: bool = True) -> ScaleoutResult:
    """Run one batch subcommand's step with ``--workers`` / ``--dask``, print a summary line.

    The written columns are ``id_columns`` (kept from the input) followed by the
    columns the step appends (found by running it on the input's first two rows).

    Raises
    ------
    ValueError
        ``output_dir`` names a ``.csv`` file (the output is a directory of Parquet parts).
    KeyError
        An id column the input lacks.
    """
    out = Path(output_dir)
    if out.suffix.lower() in {".csv", ".tsv", ".txt"}:
        raise ValueError(f"--out {str(out)!r}: with --workers or --dask the output is a directory of "
                         "Parquet part files, not a CSV file; give a directory name")
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


def register_scaleout(sub: argparse._SubParsersAction) -> None:
    """Add ``graphtab scaleout``."""
    p = sub.add_parser(
        "scaleout",
        help="run embed / neighbors / anomaly / recommend steps over Parquet, locally or on Dask",
        description="Run a pipeline of chunk functions (each step appends columns) over the rows "
                    "of INPUT, writing OUTPUT/part-NNNNN.parquet per partition with a completion "
                    "marker; a rerun skips completed partitions and retries failed ones.")
    p.add_argument("--input", required=True, nargs="+", metavar="IN",
                   help="Parquet file(s) or directories of Parquet files (CSV: one partition per file)")
    p.add_argument("--output", required=True, metavar="OUTDIR", help="output directory")
    p.add_argument("--step", required=True, action="append", metavar="NAME=ARTIFACT[:opt=value]",
                   help="a step, in order (repeat): embed=MODEL_DIR, neighbors=STORE_DIR:k=10, "
                        "anomaly=DETECTOR_DIR, recommend=MODEL_DIR:k=10; options are the chunk "
                        "function's keywords")
    p.add_argument("--columns", nargs="+", default=None, help="input columns to read (default all)")
    p.add_argument("--keep", nargs="+", default=None,
                   help="output columns to write (default: input columns and every added column)")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_scaleout_arguments(p)
    p.set_defaults(func=_cmd_scaleout)


def _cmd_scaleout(args: argparse.Namespace) -> int:
    steps = [Step.parse(s) for s in args.step]
    res = run_scaleout(args, steps, args.input, args.output, columns=args.columns, keep=args.keep,
                       verbose=not args.no_progress)
    print(f"{res.rows_out} rows in {res.n_parts} partitions -> {res.output_dir} "
          f"({res.n_written} written, {res.n_skipped} already complete; {res.seconds:.1f} s)")
    return 0
