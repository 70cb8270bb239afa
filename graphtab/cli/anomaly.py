"""``graphtab anomaly fit`` and ``graphtab anomaly score``: distance-based anomaly detection."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ._common import (
    UsageError,
    add_command,
    add_group,
    add_ids_as_str,
    add_key,
    add_n_jobs,
    add_out,
    add_progress,
    add_seed,
    check_model_dir,
    check_table_out,
    deprecated,
    keyed,
    numeric_matrix,
    progress,
    read_input,
    validate_early,
)
from .scaleout import add_scaleout_arguments, scaleout_requested

METHODS = ["largest", "mean", "median", "lof"]


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "anomaly", help="distance-based anomaly detection (fit, score)",
                      description="Fit a kNN / LOF anomaly detector on a table and score tables with it.",
                      dest="anomaly_verb")
    f = add_command(verbs, "fit", help="fit a detector on a table and save it",
                    description="Fit KNNDetector (--method largest/mean/median) or LOFDetector (lof) on "
                                "the feature columns of TABLE (an embeddings table works as it is) and "
                                "save it to --out.")
    f.add_argument("table", help="table of training rows (.csv or .parquet)")
    add_out(f, "model directory to write")
    add_key(f)
    f.add_argument("--columns", nargs="+", default=None, metavar="COL",
                   help="feature columns (default: every column but the key; each must be numeric)")
    f.add_argument("--method", default="largest", choices=METHODS,
                   help="kNN score (distance to the k-th neighbour, or the mean/median of the k) or lof")
    f.add_argument("--n-neighbors", type=int, default=None, metavar="K",
                   help="neighbours per point (default: 5 for kNN, 20 for lof)")
    deprecated(f, "--k", "--n-neighbors", "n_neighbors", type=int)
    f.add_argument("--contamination", type=float, default=0.1, metavar="C",
                   help="share of training rows flagged, in (0, 0.5]")
    f.add_argument("--threshold-quantile", type=float, default=None, metavar="Q",
                   help="set the threshold at this quantile of the training scores instead")
    f.add_argument("--threshold-score", type=float, default=None, metavar="S",
                   help="set the threshold at this fixed score instead")
    f.add_argument("--backend", default="auto", choices=["auto", "exact", "annoy"],
                   help="neighbour search (nnstore's): exact, annoy (approximate, for large data) or "
                        "chosen by the data's shape")
    f.add_argument("--scaler", default="robust", choices=["standard", "robust", "none"],
                   help="per-feature scaling (robust: median / IQR)")
    f.add_argument("--n-trees", type=int, default=10, metavar="N",
                   help="Annoy trees for the annoy backend (more = closer to exact, slower)")
    add_n_jobs(f, "threads for the neighbour search")
    add_seed(f)
    add_ids_as_str(f)
    f.set_defaults(func=_cmd_fit)

    s = add_command(verbs, "score", help="score the rows of a table with a saved detector",
                    description="Score every row of TABLE with the detector at MODEL, in chunks "
                                "(constant memory), and write score, probability and label per row "
                                "(indexed by the key) to --out.")
    s.add_argument("model", help="model directory written by `graphtab anomaly fit`")
    s.add_argument("table", help="table with the model's feature columns (.csv or .parquet)")
    add_out(s, "output table (.parquet or .csv); a directory with --workers/--dask")
    add_key(s, "key column (default: the key column used at fit when TABLE has it, else the Parquet "
               "index, else the row number)")
    deprecated(s, "--chunksize", "--chunk-rows", "chunk_rows", type=int)
    add_progress(s)
    add_ids_as_str(s)
    add_scaleout_arguments(s, description=(
        "With --workers or --dask, --out is a directory of Parquet part files (one per partition of "
        "TABLE) with the key column (when TABLE has it), anomaly_score, anomaly_probability and "
        "anomaly_label, one row per input row; a rerun resumes."),
        chunk_help="rows per chunk (default: 100000 in one process; one partition per Parquet row "
                   "group with --workers/--dask)")
    s.set_defaults(func=_cmd_score)


def _features(df: pd.DataFrame, columns: list[str] | None, where: str) -> pd.DataFrame:
    if columns:
        missing = [c for c in columns if c not in df.columns]
        if missing:
            raise KeyError(f"--columns {missing} not in {where}; columns: {list(df.columns)[:20]}")
        df = df[columns]
    if df.shape[1] == 0:
        raise UsageError(f"{where} has no feature column to fit on")
    X = numeric_matrix(df, where)  # names the column and row of a value that is not a number
    return pd.DataFrame(X, index=df.index, columns=[str(c) for c in df.columns])


def _cmd_fit(args: argparse.Namespace) -> int:
    from anomaly import KNNDetector, LOFDetector

    out = check_model_dir(args.out)
    if args.threshold_quantile is not None and args.threshold_score is not None:
        raise UsageError("give --threshold-quantile or --threshold-score, not both")
    scaler = None if args.scaler == "none" else args.scaler
    common = {"contamination": args.contamination, "backend": args.backend, "scaler": scaler,
              "n_trees": args.n_trees, "n_jobs": args.n_jobs, "random_state": args.seed}
    if args.method == "lof":
        det = LOFDetector(20 if args.n_neighbors is None else args.n_neighbors, **common)
    else:
        det = KNNDetector(5 if args.n_neighbors is None else args.n_neighbors, method=args.method,
                          **common)
    validate_early(det)
    df = keyed(read_input(args.table, args), args.key, repr(args.table), embeddings=True,
               ids_as_str=args.ids_as_str)
    X = _features(df, args.columns, repr(args.table))
    det.fit(X)
    if args.threshold_quantile is not None:
        det.set_threshold(quantile=args.threshold_quantile)
    elif args.threshold_score is not None:
        det.set_threshold(score=args.threshold_score)
    det.save(out)
    print(f"fitted {type(det).__name__} on {len(X)} rows x {X.shape[1]} features "
          f"(backend {det.backend_}); threshold {det.threshold_:.6g} flags "
          f"{int(det.labels_.sum())} training rows; saved to {out}")
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
    key = args.key if args.key is not None else art.info.get("key_name")
    if scaleout_requested(args):
        from graphtab._scaleout import Step

        from .scaleout import run_batch_scaleout, sample_rows

        has_key = key is not None and key in sample_rows(args.table).columns
        if args.key is not None and not has_key:
            raise KeyError(f"key column {args.key!r} not in {args.table!r}")
        run_batch_scaleout(args, Step("anomaly", args.model), args.table, args.out,
                           id_columns=[key] if has_key else [], verbose=progress(args))
        return 0
    out = check_table_out(args.out)
    det = load_detector(args.model)
    names = art.info.get("feature_names_in")
    path = Path(args.table)
    frames, offset = [], 0
    str_cols = [key] if (args.ids_as_str and key) else []
    with tqdm(total=_n_rows(path), unit="rows", disable=not progress(args), desc="scoring") as bar:
        for chunk in iter_table_chunks(path, chunksize=args.chunk_rows or 100_000, str_columns=str_cols):
            if key is not None and (key in chunk.columns or chunk.index.name == key):
                chunk = keyed(chunk, key, repr(args.table), ids_as_str=args.ids_as_str)
            elif args.key is not None:
                raise KeyError(f"key column {args.key!r} not in {str(path)!r}; "
                               f"columns: {list(chunk.columns)[:20]}")
            else:
                chunk = keyed(chunk, None, repr(args.table), embeddings=True)
                if isinstance(chunk.index, pd.RangeIndex):
                    chunk.index = pd.RangeIndex(offset, offset + len(chunk))
            if names is not None:
                missing = [c for c in names if c not in chunk.columns]
                if missing:
                    raise KeyError(f"{str(path)!r} lacks the detector's feature column(s) {missing[:10]}")
                X = _features(chunk, list(names), repr(args.table))
            else:  # fitted on an embeddings table: its emb_* columns, else every column
                emb = [c for c in chunk.columns if isinstance(c, str) and c.startswith("emb_")]
                X = _features(chunk, emb or None, repr(args.table))
            frames.append(det.score_frame(X))
            offset += len(chunk)
            bar.update(len(chunk))
    result = pd.concat(frames) if frames else pd.DataFrame(columns=["score", "probability", "label"])
    write_table(result, out)
    print(f"scored {len(result)} rows; {int(result['label'].sum())} flagged "
          f"(threshold {det.threshold_:.6g}); wrote {out}")
    return 0
