"""Reading graphs and node tables for the graph subcommands (node2vec, gnn)."""

from __future__ import annotations

import argparse

import pandas as pd

from ._common import keyed, read_input

__all__ = ["add_graph_arguments", "read_graph", "read_node_table"]


def add_graph_arguments(p: argparse.ArgumentParser) -> None:
    """``--src``, ``--dst``, ``--weight``, ``--directed``."""
    p.add_argument("--src", default="src", metavar="COL", help="source node column")
    p.add_argument("--dst", default="dst", metavar="COL", help="target node column")
    p.add_argument("--weight", default=None, metavar="COL", help="edge weight column (default: unweighted)")
    p.add_argument("--directed", action="store_true", default=None,
                   help="the edges are directed (default: undirected: both directions of an edge are "
                        "one edge, repeated rows add their weights, and an edge list that looks "
                        "directed gives a warning)")


def read_graph(args: argparse.Namespace):
    """The edge list ``args.edges`` as a :class:`graphemb.Graph`."""
    from graphemb import as_graph

    df = read_input(args.edges, args, id_columns=[args.src, args.dst])
    cols = [args.src, args.dst] + ([args.weight] if args.weight else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"edge list {args.edges!r} has no column(s) {missing}; columns: {list(df.columns)}")
    return as_graph(df, src=args.src, dst=args.dst, weight=args.weight, directed=args.directed)


def read_node_table(path: str | None, args: argparse.Namespace, *, embeddings: bool) -> pd.DataFrame | None:
    """A table keyed by node id (features, labels): its key found the one documented way, and
    for a table without a stored index (a CSV), its first column."""
    if path is None:
        return None
    df = keyed(read_input(path, args), args.key, repr(path), embeddings=embeddings)
    if isinstance(df.index, pd.RangeIndex) and args.key is None and df.shape[1] > 1:
        df = df.set_index(df.columns[0])
    if getattr(args, "ids_as_str", False) and df.index.dtype != object:
        df.index = df.index.astype(str)
    return df
