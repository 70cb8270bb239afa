"""graphemb's subcommands of the ``graphtab`` command (see nnstore._cli).

``register(subparsers)`` adds them; it is found through the ``graphtab.cli``
entry-point group declared in pyproject.toml.

- ``graphtab node2vec embed EDGES OUT``: embed an edge list (CSV/Parquet)
  into an embeddings table (Parquet/CSV, index = node id).
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add graphemb's subcommands to ``sub``."""
    _register_node2vec(sub)


# -- node2vec ---------------------------------------------------------------------------
def _register_node2vec(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("node2vec", help="Node2Vec node embeddings",
                       description="Node2Vec node embeddings of a graph given as an edge list.")
    nsub = p.add_subparsers(dest="node2vec_command", metavar="ACTION")
    e = nsub.add_parser(
        "embed", help="embed an edge list (CSV/Parquet) into an embeddings table",
        description="Read an edge list, run Node2Vec, write one row per node "
                    "(index = node id, columns emb_0..) to OUT (.parquet or .csv).",
    )
    e.add_argument("edges", help="edge list file (.csv, .tsv or .parquet), one row per edge")
    e.add_argument("out", help="output embeddings table (.parquet or .csv)")
    e.add_argument("--src", default="src", help="source node column (default: src)")
    e.add_argument("--dst", default="dst", help="target node column (default: dst)")
    e.add_argument("--weight", default=None, help="edge weight column (default: unweighted)")
    e.add_argument("--directed", action="store_true", help="treat edges as directed")
    e.add_argument("--dim", type=int, default=128)
    e.add_argument("--walk-length", type=int, default=80)
    e.add_argument("--n-walks", type=int, default=10)
    e.add_argument("--window", type=int, default=10)
    e.add_argument("--p", type=float, default=1.0, help="return parameter (default 1)")
    e.add_argument("--q", type=float, default=1.0, help="in-out parameter (default 1)")
    e.add_argument("--epochs", type=int, default=1)
    e.add_argument("--negative", type=int, default=5)
    e.add_argument("--n-jobs", type=int, default=None)
    e.add_argument("--device", default="cpu", help="cpu (numba trainer) or cuda (torch trainer)")
    e.add_argument("--seed", type=int, default=None, help="random_state")
    e.add_argument("--save-model", default=None, help="also save the model artifact to this directory")
    e.add_argument("--progress", action="store_true", help="show progress bars")
    e.set_defaults(func=_cmd_node2vec_embed)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _cmd_node2vec_embed(args: argparse.Namespace) -> int:
    from graphemb import Node2Vec, as_graph
    from graphtab._io import read_table, write_table

    cols = [args.src, args.dst] + ([args.weight] if args.weight else [])
    df = read_table(args.edges)
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"edge list {args.edges!r} has no column(s) {missing}; columns: {list(df.columns)}")
    g = as_graph(df, src=args.src, dst=args.dst, weight=args.weight, directed=args.directed)
    model = Node2Vec(dim=args.dim, walk_length=args.walk_length, n_walks=args.n_walks,
                     window=args.window, p=args.p, q=args.q, epochs=args.epochs,
                     negative=args.negative, n_jobs=args.n_jobs, device=args.device,
                     random_state=args.seed, verbose=args.progress)
    emb = model.fit_transform(g)
    emb.index.name = "node"
    write_table(emb, args.out)
    if args.save_model:
        model.save(args.save_model)
    print(f"embedded {g!r} into {args.out} ({emb.shape[0]} rows x {emb.shape[1]} columns)")
    return 0
