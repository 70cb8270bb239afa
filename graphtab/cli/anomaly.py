"""anomaly's subcommands of the ``graphtab`` command (see nnstore._cli).

``register(subparsers)`` adds them; it is found through the ``graphtab.cli``
entry-point group declared in pyproject.toml.

- ``graphtab anomaly fit INPUT --out MODEL_DIR [--key COL] [--columns C ...]
  --method largest|mean|median|lof --k K [--contamination C] [--backend B] [--scaler S]
  [--n-trees T] [--n-jobs J]``
- ``graphtab anomaly score MODEL_DIR INPUT --out scores.parquet [--chunksize N] [--key COL]``
  scores a CSV/Parquet file in chunks (constant memory) with a progress bar and
  writes ``score``, ``probability``, ``label`` per row, indexed by the key column
  (or the row number). With ``--workers N`` or ``--dask ADDRESS`` it runs the
  ``anomaly`` chunk function on Dask and ``--out`` is a directory of part files.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import pandas as pd

from .scaleout import add_scaleout_arguments, batch_scaleout_requested, run_batch_scaleout

logger = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``graphtab anomaly fit`` and ``graphtab anomaly score`` to ``sub``."""
    p = sub.add_parser("anomaly", help="distance-based anomaly detection (fit, score)",
                       description="Fit a kNN/LOF anomaly detector and score tables with it.")
    asub = p.add_subparsers(dest="anomaly_command", metavar="ACTION")

    f = asub.add_parser("fit", help="fit a detector on a CSV/Parquet table and save it",
                        description="Fit KNNDetector (largest/mean/median) or LOFDetector (lof) "
                                    "on the numeric columns of INPUT and save it to MODEL_DIR.")
    f.add_argument("input", help="CSV or Parquet table (an embeddings table works as is)")
    f.add_argument("--out", required=True, help="model directory to write")
    f.add_argument("--key", default=None, help="column holding the row key (kept as the index)")
    f.add_argument("--columns", nargs="+", default=None,
                   help="feature columns (default: every numeric column except the key)")
    f.add_argument("--method", default="largest", choices=["largest", "mean", "median", "lof"],
                   help="kNN score (largest/mean/median distance) or lof (default largest)")
    f.add_argument("--k", type=int, default=None, help="neighbours (default 5 for kNN, 20 for lof)")
    f.add_argument("--contamination", type=float, default=0.1,
                   help="share of training rows flagged, in (0, 0.5] (default 0.1)")
    f.add_argument("--threshold-quantile", type=float, default=None,
                   help="set the threshold at this quantile of the training scores instead")
    f.add_argument("--threshold-score", type=float, default=None,
                   help="set the threshold at this fixed score instead")
    f.add_argument("--backend", default="auto", choices=["auto", "exact", "annoy"])
    f.add_argument("--scaler", default="robust", choices=["standard", "robust", "none"],
                   help="per-feature scaling (default robust: median / IQR)")
    f.add_argument("--n-trees", type=int, default=10,
                   help="Annoy trees for the annoy backend (default 10; more = closer to exact, slower)")
    f.add_argument("--n-jobs", type=int, default=None, help="threads for the neighbour search")
    f.add_argument("--random-state", type=int, default=None)
    f.set_defaults(func=_cmd_fit)

    s = asub.add_parser("score", help="score a CSV/Parquet table with a saved detector, in chunks",
                        description="Score every row of INPUT with the detector in MODEL_DIR.")
    s.add_argument("model", help="model directory written by `graphtab anomaly fit`")
    s.add_argument("input", help="CSV or Parquet table with the model's feature columns")
    s.add_argument("--out", required=True, help="output .parquet or .csv")
    s.add_argument("--key", default=None,
                   help="key column (default: the key column used at fit, when INPUT has it)")
    s.add_argument("--chunksize", type=int, default=100_000, help="rows per chunk (default 100000)")
    s.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_scaleout_arguments(s, description=(
        "With --workers or --dask, --out is a directory of Parquet part files (one per partition "
        "of INPUT) with the key column (when INPUT has it), anomaly_score, anomaly_probability "
        "and anomaly_label, one row per input row; a rerun resumes."))
    s.set_defaults(func=_cmd_score)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _features(df: pd.DataFrame, columns: list[str] | None) -> pd.DataFrame:
    if columns:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise KeyError(f"--columns {missing} not in the input; columns: {list(df.columns)[:20]}")
        return df[columns]
    numeric = [c for c in df.columns if pd.api.types.is_numeric_dtype(df[c])]
    if not numeric:
        raise ValueError("the input has no numeric column to fit on; name them with --columns")
    return df[numeric]


def _cmd_fit(args: argparse.Namespace) -> int:
    from anomaly import KNNDetector, LOFDetector
    from graphtab._io import read_table

    df = read_table(args.input, index_col=args.key)
    X = _features(df, args.columns)
    scaler = None if args.scaler == "none" else args.scaler
    common = {"contamination": args.contamination, "backend": args.backend, "scaler": scaler,
              "n_trees": args.n_trees, "n_jobs": args.n_jobs, "random_state": args.random_state}
    if args.method == "lof":
        det = LOFDetector(20 if args.k is None else args.k, **common)
    else:
        det = KNNDetector(5 if args.k is None else args.k, method=args.method, **common)
    det.fit(X)
    if args.threshold_quantile is not None:
        det.set_threshold(quantile=args.threshold_quantile)
    elif args.threshold_score is not None:
        det.set_threshold(score=args.threshold_score)
    det.save(args.out)
    print(f"fitted {type(det).__name__} on {len(X)} rows x {X.shape[1]} features "
          f"(backend {det.backend_}); threshold {det.threshold_:.6g} flags "
          f"{int(det.labels_.sum())} training rows; saved to {args.out}")
    return 0


def _n_rows(path: Path) -> int | None:
    if path.suffix.lower() in {".parquet", ".pq"}:
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def _cmd_score(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from anomaly import load_detector
    from graphtab._io import iter_table_chunks, write_table
    from nnstore import read_artifact
    art = read_artifact(args.model, kind="anomaly_detector")
    det = load_detector(args.model)
    key = args.key if args.key is not None else art.info.get("key_name")
    names = art.info.get("feature_names_in")
    if batch_scaleout_requested(args):
        from graphtab._scaleout import Step

        from .scaleout import sample_rows

        has_key = key is not None and key in sample_rows(args.input).columns
        if args.key is not None and not has_key:
            raise KeyError(f"key column {args.key!r} not in {args.input!r}")
        run_batch_scaleout(args, Step("anomaly", args.model), args.input, args.out,
                           id_columns=[key] if has_key else [], verbose=not args.no_progress)
        return 0
    path = Path(args.input)
    frames = []
    offset = 0
    with tqdm(total=_n_rows(path), unit="rows", disable=args.no_progress,
              desc="scoring") as bar:
        for chunk in iter_table_chunks(path, chunksize=args.chunksize):
            if key is not None and key in chunk.columns:
                chunk = chunk.set_index(key)
            elif args.key is not None:
                raise KeyError(f"key column {args.key!r} not in {str(path)!r}")
            else:
                chunk.index = pd.RangeIndex(offset, offset + len(chunk))
            X = chunk if names is not None else _features(chunk, None)
            frames.append(det.score_frame(X))
            offset += len(chunk)
            bar.update(len(chunk))
    out = pd.concat(frames) if frames else pd.DataFrame(columns=["score", "probability", "label"])
    write_table(out, args.out)
    print(f"scored {len(out)} rows; {int(out['label'].sum())} flagged "
          f"(threshold {det.threshold_:.6g}); wrote {args.out}")
    return 0
