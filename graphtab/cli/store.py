"""``graphtab store build`` / ``graphtab store query`` and ``graphtab inspect``."""

from __future__ import annotations

import argparse
import json

from nnstore import read_artifact


def register(sub: argparse._SubParsersAction) -> None:
    """The ``store`` group (``build``, ``query``)."""
    _register_store(sub)


def register_inspect(sub: argparse._SubParsersAction) -> None:
    """``graphtab inspect``."""
    p = sub.add_parser(
        "inspect",
        help="check a saved artifact (manifest, checksums) and print its manifest",
        description="Verify a graphtab artifact directory and print its manifest as JSON.",
    )
    p.add_argument("path", help="artifact directory")
    p.add_argument("--kind", default=None, help="refuse the artifact unless it is of this kind")
    p.set_defaults(func=_cmd_inspect)


def _cmd_inspect(args: argparse.Namespace) -> int:
    art = read_artifact(args.path, kind=args.kind)
    print(json.dumps(art.manifest, indent=2, sort_keys=True))
    return 0


# -- graphtab store build / query ------------------------------------------------
def _register_store(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "store",
        help="build and query a neighbour store (NeighborStore) from CSV/Parquet",
        description="Build a NeighborStore from a table of vectors, or query a saved one.",
    )
    ssub = p.add_subparsers(dest="store_command", metavar="STORE_COMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    b = ssub.add_parser(
        "build", help="build a store from a CSV/Parquet table",
        description="Read INPUT (CSV or Parquet: a key column plus vector columns, or one list "
                    "column) and save a NeighborStore artifact to OUT_DIR.")
    b.add_argument("input", help="CSV or Parquet file")
    b.add_argument("out_dir", help="artifact directory to write")
    b.add_argument("--key", required=True, help="key column")
    vg = b.add_mutually_exclusive_group()
    vg.add_argument("--vector-cols", nargs="+", default=None,
                    help="vector columns in order (default: the emb_* columns)")
    vg.add_argument("--list-col", default=None, help="one column holding each vector as a list")
    b.add_argument("--metadata-cols", nargs="*", default=None,
                   help="columns to keep as metadata for filters (default: none)")
    b.add_argument("--metric", default="cosine", choices=["cosine", "euclidean", "dot", "manhattan"])
    b.add_argument("--n-trees", type=int, default=50)
    b.add_argument("--search-k", type=int, default=None)
    b.add_argument("--exact", action="store_true", help="no Annoy index: exact search only")
    b.add_argument("--random-state", type=int, default=None)
    b.set_defaults(func=_cmd_store_build)

    q = ssub.add_parser(
        "query", help="query a saved store with vectors or keys from a table",
        description="Query the store at STORE_DIR with the rows of INPUT (vectors, or stored keys "
                    "with --keys-col) and write (query, rank, key, distance) to --out.")
    q.add_argument("store_dir", help="artifact directory written by `graphtab store build`")
    q.add_argument("input", help="CSV or Parquet file with the queries")
    q.add_argument("--k", type=int, default=10)
    q.add_argument("--out", required=True, help="output .parquet or .csv")
    qg = q.add_mutually_exclusive_group()
    qg.add_argument("--keys-col", default=None,
                    help="query by stored keys in this column (the key itself is excluded)")
    qg.add_argument("--vector-cols", nargs="+", default=None,
                    help="vector columns in order (default: the emb_* columns)")
    qg.add_argument("--list-col", default=None, help="one column holding each vector as a list")
    q.add_argument("--id-col", default=None,
                   help="column naming each vector query (default: the row number)")
    q.add_argument("--search-k", type=int, default=None)
    q.add_argument("--n-jobs", type=int, default=None, help="query threads (default: all cores)")
    q.add_argument("--chunksize", type=int, default=10_000, help="queries per batch")
    q.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    from .scaleout import add_scaleout_arguments
    add_scaleout_arguments(q, description=(
        "With --workers or --dask, --out is a directory of Parquet part files (one per partition "
        "of INPUT), one row per query row: the --id-col column, then neighbor_key_i and "
        "neighbor_distance_i for i < k (wide, not one row per rank); vectors from --vector-cols "
        "or the emb_* columns (--keys-col and --list-col are not supported there)."))
    q.set_defaults(func=_cmd_store_query)


def _table_vectors(df, vector_cols, list_col, where: str):
    import numpy as np

    if list_col is not None:
        if list_col not in df.columns:
            raise KeyError(f"list column {list_col!r} not in {where}; columns: {list(df.columns)[:20]}")
        rows = df[list_col].tolist()
        lens = {len(r) for r in rows}
        if len(lens) > 1:
            raise ValueError(f"list column {list_col!r} in {where} holds vectors of lengths {sorted(lens)}")
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
    if vector_cols is None:
        vector_cols = [c for c in df.columns if isinstance(c, str) and c.startswith("emb_")]
        if not vector_cols:
            raise ValueError(f"{where} has no emb_* columns; name them with --vector-cols or --list-col")
    missing = [c for c in vector_cols if c not in df.columns]
    if missing:
        raise KeyError(f"vector columns {missing} not in {where}; columns: {list(df.columns)[:20]}")
    return df[vector_cols]


def _cmd_store_build(args: argparse.Namespace) -> int:
    from graphtab._io import read_table
    from nnstore import NeighborStore

    df = read_table(args.input)
    if args.key not in df.columns:
        raise KeyError(f"key column {args.key!r} not in {args.input!r}; columns: {list(df.columns)[:20]}")
    vecs = _table_vectors(df, args.vector_cols, args.list_col, repr(args.input))
    meta = None
    if args.metadata_cols:
        missing = [c for c in args.metadata_cols if c not in df.columns]
        if missing:
            raise KeyError(f"metadata columns {missing} not in {args.input!r}")
        meta = df[args.metadata_cols].reset_index(drop=True)
    import numpy as np

    arr = np.asarray(vecs, dtype=np.float32) if not hasattr(vecs, "to_numpy") else \
        vecs.to_numpy(dtype=np.float32)
    store = NeighborStore(arr.shape[1], metric=args.metric, n_trees=args.n_trees,
                          search_k=args.search_k, exact=args.exact, random_state=args.random_state)
    store.add(df[args.key].tolist(), arr, metadata=meta)
    store.rebuild()
    store.save(args.out_dir)
    print(f"built {store!r} -> {args.out_dir}")
    return 0


def _cmd_store_query(args: argparse.Namespace) -> int:
    import numpy as np
    import pandas as pd
    from tqdm.auto import tqdm

    from graphtab._io import iter_table_chunks, write_table
    from nnstore import NeighborStore

    from .scaleout import batch_scaleout_requested

    if batch_scaleout_requested(args):
        return _store_query_scaleout(args)
    store = NeighborStore.load(args.store_dir)
    parts = []
    offset = 0
    with tqdm(desc="queries", unit="q", disable=args.no_progress) as bar:
        for chunk in iter_table_chunks(args.input, chunksize=args.chunksize):
            if args.keys_col is not None:
                if args.keys_col not in chunk.columns:
                    raise KeyError(f"keys column {args.keys_col!r} not in {args.input!r}; "
                                   f"columns: {list(chunk.columns)[:20]}")
                res = store.query_keys(chunk[args.keys_col].tolist(), k=args.k,
                                       search_k=args.search_k, n_jobs=args.n_jobs)
            else:
                vecs = _table_vectors(chunk, args.vector_cols, args.list_col, repr(args.input))
                arr = vecs.to_numpy(dtype=np.float32) if hasattr(vecs, "to_numpy") else vecs
                res = store.query(arr, k=args.k, search_k=args.search_k, n_jobs=args.n_jobs)
                if args.id_col is not None:
                    if args.id_col not in chunk.columns:
                        raise KeyError(f"id column {args.id_col!r} not in {args.input!r}")
                    ids = chunk[args.id_col].to_numpy()
                    res["query"] = ids[res["query"].to_numpy()]
                else:
                    res["query"] = res["query"] + offset
            parts.append(res)
            offset += len(chunk)
            bar.update(len(chunk))
    out = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["query", "rank", "key", "distance"])
    write_table(out, args.out, index=False)
    print(f"wrote {len(out)} rows for {offset} queries -> {args.out}")
    return 0


def _store_query_scaleout(args: argparse.Namespace) -> int:
    from graphtab._scaleout import Step

    from .scaleout import run_batch_scaleout

    if args.keys_col is not None or args.list_col is not None:
        raise ValueError("--keys-col and --list-col are not supported with --workers / --dask: "
                         "give the vectors as columns (--vector-cols, default the emb_* columns)")
    opts = {"k": args.k, "search_k": args.search_k, "n_jobs": args.n_jobs}
    if args.vector_cols is not None:
        opts["columns"] = list(args.vector_cols)
    run_batch_scaleout(args, Step("neighbors", args.store_dir, opts), args.input, args.out,
                       id_columns=[args.id_col] if args.id_col else [],
                       verbose=not args.no_progress)
    return 0
