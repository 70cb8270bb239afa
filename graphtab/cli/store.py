"""``graphtab store build`` and ``graphtab store query``."""

from __future__ import annotations

import argparse

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
    embedding_matrix,
    keyed,
    progress,
    read_input,
    validate_early,
)
from .scaleout import add_scaleout_arguments, scaleout_requested

METRICS = ["cosine", "euclidean", "dot", "manhattan"]


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "store", help="build and query a neighbour store (NeighborStore)",
                      description="Build a NeighborStore from a table of vectors, or query a saved one.",
                      dest="store_verb")
    b = add_command(verbs, "build", help="build a store from an embeddings table",
                    description="Read INPUT (CSV or Parquet: keys plus vector columns, e.g. the output "
                                "of `node2vec embed` or `tabemb embed`) and save a NeighborStore "
                                "artifact to --out.")
    b.add_argument("input", help="embeddings table (.parquet or .csv)")
    add_out(b, "store directory to write")
    add_key(b)
    vg = b.add_mutually_exclusive_group()
    vg.add_argument("--columns", nargs="+", default=None, metavar="COL",
                    help="vector columns in order (default: the emb_* columns)")
    vg.add_argument("--list-col", default=None, metavar="COL",
                    help="one column holding each vector as a list")
    deprecated(b, "--vector-cols", "--columns", "columns", nargs="+")
    b.add_argument("--metadata-cols", nargs="+", default=None, metavar="COL",
                   help="columns to keep as metadata for filters (default: none)")
    b.add_argument("--metric", default="cosine", choices=METRICS, help="distance")
    b.add_argument("--n-trees", type=int, default=50, metavar="N",
                   help="Annoy trees: more = higher recall, bigger index, longer build")
    b.add_argument("--search-k", type=int, default=None, metavar="N",
                   help="nodes inspected per query (default: n_trees * k)")
    b.add_argument("--exact", action="store_true", help="no index: exact search only")
    add_n_jobs(b, "build and query threads")
    add_seed(b)
    add_ids_as_str(b)
    b.set_defaults(func=_cmd_build)

    q = add_command(verbs, "query", help="query a saved store with the rows of a table",
                    description="Query the store at STORE with the rows of INPUT (vectors, or with "
                                "--by-key the stored vectors of INPUT's keys, which are then left out "
                                "of their own answers) and write (query, rank, key, distance) rows "
                                "to --out.")
    q.add_argument("store", help="store directory written by `graphtab store build`")
    q.add_argument("input", help="table of queries (.parquet or .csv)")
    add_out(q, "output table (.parquet or .csv); a directory with --workers/--dask")
    q.add_argument("--k", type=int, default=10, metavar="K", help="neighbours per query")
    add_key(q, "column naming each query (default: the Parquet index, else an embeddings table's one "
               "non-emb_* column, else the row number)")
    q.add_argument("--by-key", action="store_true",
                   help="query with the stored vectors of the keys in INPUT's key column")
    vg = q.add_mutually_exclusive_group()
    vg.add_argument("--columns", nargs="+", default=None, metavar="COL",
                    help="vector columns in order (default: the emb_* columns)")
    vg.add_argument("--list-col", default=None, metavar="COL",
                    help="one column holding each vector as a list")
    deprecated(q, "--vector-cols", "--columns", "columns", nargs="+")
    deprecated(q, "--id-col", "--key", "key")
    deprecated(q, "--chunksize", "--chunk-rows", "chunk_rows", type=int)
    q.add_argument("--search-k", type=int, default=None, metavar="N",
                   help="nodes inspected per query (default: the store's)")
    add_n_jobs(q, "query threads")
    add_progress(q)
    add_ids_as_str(q)
    add_scaleout_arguments(q, description=(
        "With --workers or --dask, --out is a directory of Parquet part files (one per partition of "
        "INPUT), one row per query row: the key column, then neighbor_key_i and neighbor_distance_i "
        "for i < k (wide, not one row per rank); vectors from --columns or the emb_* columns."))
    q.set_defaults(func=_cmd_query)


def _cmd_build(args: argparse.Namespace) -> int:
    from nnstore import NeighborStore

    out = check_model_dir(args.out, what="store directory")
    store = NeighborStore(1, metric=args.metric, n_trees=args.n_trees, search_k=args.search_k,
                          exact=args.exact, n_jobs=args.n_jobs, random_state=args.seed)
    validate_early(store)
    df = keyed(read_input(args.input, args), args.key, repr(args.input), embeddings=True,
               ids_as_str=args.ids_as_str)
    meta = None
    if args.metadata_cols:
        missing = [c for c in args.metadata_cols if c not in df.columns]
        if missing:
            raise KeyError(f"metadata columns {missing} not in {args.input!r}; "
                           f"columns: {list(df.columns)[:20]}")
        meta = df[args.metadata_cols].reset_index(drop=True)
    arr = embedding_matrix(df, args.columns, repr(args.input), list_col=args.list_col)
    store = NeighborStore(arr.shape[1], metric=args.metric, n_trees=args.n_trees,
                          search_k=args.search_k, exact=args.exact, n_jobs=args.n_jobs,
                          random_state=args.seed)
    store.add(df.index, arr, metadata=meta)
    store.rebuild()
    store.save(out)
    print(f"built {store!r} -> {out}")
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    import pandas as pd
    from tqdm.auto import tqdm

    from graphtab._io import iter_table_chunks, write_table
    from nnstore import NeighborStore

    if args.k < 1:
        raise UsageError(f"--k must be a positive int, got {args.k}")
    if scaleout_requested(args):
        return _query_scaleout(args)
    out = check_table_out(args.out)
    store = NeighborStore.load(args.store)
    chunk_rows = args.chunk_rows or 10_000
    str_cols = [args.key] if (args.ids_as_str and args.key) else []
    parts, offset = [], 0
    with tqdm(desc="queries", unit="q", disable=not progress(args)) as bar:
        for chunk in iter_table_chunks(args.input, chunksize=chunk_rows, str_columns=str_cols):
            chunk = keyed(chunk, args.key, repr(args.input), embeddings=True,
                          ids_as_str=args.ids_as_str)
            if isinstance(chunk.index, pd.RangeIndex):
                chunk.index = pd.RangeIndex(offset, offset + len(chunk))
            if args.by_key:
                res = store.query_keys(chunk.index.tolist(), k=args.k, search_k=args.search_k,
                                       n_jobs=args.n_jobs)
            else:
                arr = embedding_matrix(chunk, args.columns, repr(args.input), list_col=args.list_col)
                res = store.query(arr, k=args.k, search_k=args.search_k, n_jobs=args.n_jobs)
                ids = chunk.index.to_numpy()
                res["query"] = ids[res["query"].to_numpy()]
            parts.append(res)
            offset += len(chunk)
            bar.update(len(chunk))
    result = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(
        columns=["query", "rank", "key", "distance"])
    write_table(result, out, index=False)
    print(f"wrote {len(result)} rows for {offset} queries -> {out}")
    return 0


def _query_scaleout(args: argparse.Namespace) -> int:
    from graphtab._scaleout import Step

    from .scaleout import run_batch_scaleout

    if args.by_key or args.list_col is not None:
        raise UsageError("--by-key and --list-col are not supported with --workers / --dask: give the "
                         "vectors as columns (--columns, default the emb_* columns)")
    opts = {"k": args.k, "search_k": args.search_k, "n_jobs": args.n_jobs}
    if args.columns is not None:
        opts["columns"] = list(args.columns)
    run_batch_scaleout(args, Step("neighbors", args.store, opts), args.input, args.out,
                       id_columns=[args.key] if args.key else [], verbose=progress(args))
    return 0
