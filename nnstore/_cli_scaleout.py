"""``graphtab scaleout``: run a pipeline of chunk functions over Parquet, locally or on Dask.

::

    graphtab scaleout --input records.parquet --output scored/ \\
        --step embed=people_encoder --step neighbors=people_store:k=10 --step anomaly=people_detector \\
        [--workers 4 | --dask tcp://scheduler:8786] [--chunk-rows 100000]

:func:`add_scaleout_arguments` adds ``--workers``, ``--dask``, ``--chunk-rows`` and
``--overwrite`` to any batch subcommand; :func:`run_scaleout` then runs the
job with :func:`nnstore.map_dask` when ``--workers`` or ``--dask`` is given,
else with :func:`nnstore.map_parquet` in this process.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from ._scaleout import ScaleoutResult, Step, map_dask, map_parquet

__all__ = ["add_scaleout_arguments", "register_scaleout", "run_scaleout", "scaleout_requested"]


def add_scaleout_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the scale-out options to a batch subcommand's parser.

    ``--workers N`` (a local Dask cluster of N processes) and ``--dask ADDRESS``
    (a running scheduler) exclude each other; ``--chunk-rows`` sets the rows per
    partition (default: one per Parquet row group); ``--overwrite`` clears an
    earlier job's output instead of resuming it.
    """
    g = parser.add_argument_group("scale-out (Dask)")
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


def run_scaleout(args: argparse.Namespace, steps: Any, inputs: Any, output_dir: Any, *,
                 columns: Sequence[str] | None = None, keep: Sequence[str] | None = None,
                 verbose: bool = True) -> ScaleoutResult:
    """Run ``steps`` over ``inputs`` into ``output_dir`` as the parsed options ask."""
    common = {"chunk_rows": getattr(args, "chunk_rows", None), "columns": columns, "keep": keep,
              "overwrite": getattr(args, "overwrite", False), "verbose": verbose}
    if scaleout_requested(args):
        return map_dask(steps, inputs, output_dir, workers=args.workers, scheduler=args.dask, **common)
    return map_parquet(steps, inputs, output_dir, **common)


def register_scaleout(sub: argparse._SubParsersAction) -> None:
    """Add ``graphtab scaleout``."""
    p = sub.add_parser(
        "scaleout", help="run embed / neighbors / anomaly steps over Parquet, locally or on Dask",
        description="Run a pipeline of chunk functions (each step appends columns) over the rows "
                    "of INPUT, writing OUTPUT/part-NNNNN.parquet per partition with a completion "
                    "marker; a rerun skips completed partitions and retries failed ones.")
    p.add_argument("--input", required=True, nargs="+", metavar="IN",
                   help="Parquet file(s) or directories of Parquet files (CSV: one partition per file)")
    p.add_argument("--output", required=True, metavar="OUTDIR", help="output directory")
    p.add_argument("--step", required=True, action="append", metavar="NAME=ARTIFACT[:opt=value]",
                   help="a step, in order (repeat): embed=MODEL_DIR, neighbors=STORE_DIR:k=10, "
                        "anomaly=DETECTOR_DIR; options are the chunk function's keywords")
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
