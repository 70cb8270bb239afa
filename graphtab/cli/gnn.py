"""``graphtab gnn``: GNN embeddings from the command line.

- ``graphtab gnn fit EDGES [--features F] [--labels L] --out MODEL_DIR``:
  pre-train (and, with labels, fine-tune) a :class:`~graphemb.GNNEmbedder`
  and save it; ``--emb-out`` also writes the training graph's embeddings.
- ``graphtab gnn embed MODEL_DIR EDGES [--features F] --out EMB``: embed a
  graph (which may hold nodes never seen in training) with a saved model.

Tables are CSV/TSV or Parquet. Features and labels are keyed by node id: the
``--key`` column if given, else a Parquet file's stored index, else a CSV's
first column. Labels: the ``--label-col`` column (default: the only column
left after the key); empty cells mean unlabelled.
"""

from __future__ import annotations

import argparse

import pandas as pd


def register_gnn(sub: argparse._SubParsersAction) -> None:
    """Add ``graphtab gnn fit`` and ``graphtab gnn embed`` to ``sub``."""
    p = sub.add_parser("gnn", help="GNN node embeddings (pre-train, fine-tune, inductive embed)",
                       description="GNN encoders (sage, gcn, gat) with DGI / link-prediction "
                                   "pre-training and fine-tuning on labels.")
    gsub = p.add_subparsers(dest="gnn_command", metavar="ACTION")

    f = gsub.add_parser("fit", help="train a GNN embedder on an edge list and save it",
                        description="Pre-train (and with --labels fine-tune) a GNN embedder, "
                                    "save it to --out (a model directory).")
    f.add_argument("edges", help="edge list file (.csv, .tsv or .parquet), one row per edge")
    _graph_args(f)
    f.add_argument("--labels", default=None, help="labels table keyed by node id (optional)")
    f.add_argument("--label-col", default=None, help="label column (default: the only non-key column)")
    f.add_argument("--validation", default=None,
                   help="validation labels table keyed by node id, same label column (optional): "
                        "fine-tuning keeps the best validation epoch and stops early")
    f.add_argument("--out", required=True, help="model directory to write")
    f.add_argument("--emb-out", default=None, help="also write the training embeddings (.parquet/.csv)")
    f.add_argument("--encoder", default="sage", choices=["sage", "gcn", "gat"])
    f.add_argument("--dim", type=int, default=128)
    f.add_argument("--hidden-dim", type=int, default=256)
    f.add_argument("--layers", type=int, default=2)
    f.add_argument("--dropout", type=float, default=0.0)
    f.add_argument("--pretrain", default="dgi", choices=["dgi", "link", "none"])
    f.add_argument("--pretrain-epochs", type=int, default=300)
    f.add_argument("--finetune-epochs", type=int, default=200)
    f.add_argument("--mode", default="finetune", choices=["finetune", "probe"],
                   help="with --labels: fine-tune the encoder or fit a linear probe on it")
    f.add_argument("--lr", type=float, default=1e-3)
    f.add_argument("--device", default="cpu")
    f.add_argument("--seed", type=int, default=None, help="random_state")
    f.add_argument("--progress", action="store_true", help="show progress bars")
    f.set_defaults(func=_cmd_fit)

    e = gsub.add_parser("embed", help="embed a graph with a saved GNN model (inductive)",
                        description="Embed every node of EDGES with a saved model; nodes unseen in "
                                    "training are embedded from their features and neighbours.")
    e.add_argument("model", help="model directory written by `graphtab gnn fit`")
    e.add_argument("edges", help="edge list file (.csv, .tsv or .parquet)")
    _graph_args(e)
    e.add_argument("--out", required=True, help="output embeddings table (.parquet or .csv)")
    e.add_argument("--predictions", action="store_true",
                   help="add a 'prediction' column from the classification head")
    e.add_argument("--device", default=None, help="override the saved device")
    e.set_defaults(func=_cmd_embed)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _graph_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--src", default="src", help="source node column (default: src)")
    p.add_argument("--dst", default="dst", help="target node column (default: dst)")
    p.add_argument("--weight", default=None, help="edge weight column (default: unweighted)")
    p.add_argument("--directed", action="store_true", help="treat edges as directed")
    p.add_argument("--features", default=None,
                   help="node features table keyed by node id (default: structural features)")
    p.add_argument("--key", default=None, help="node id column of --features/--labels tables")


def _read_graph(args: argparse.Namespace):
    from graphemb import as_graph
    from graphtab._io import read_table

    df = read_table(args.edges)
    cols = [args.src, args.dst] + ([args.weight] if args.weight else [])
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise KeyError(f"edge list {args.edges!r} has no column(s) {missing}; columns: {list(df.columns)}")
    return as_graph(df, src=args.src, dst=args.dst, weight=args.weight, directed=args.directed)


def _read_keyed(path: str | None, key: str | None) -> pd.DataFrame | None:
    from graphtab._io import read_table

    if path is None:
        return None
    df = read_table(path, index_col=key)
    if key is None and isinstance(df.index, pd.RangeIndex) and not str(path).endswith((".parquet", ".pq")):
        df = df.set_index(df.columns[0])
    return df


def _cmd_fit(args: argparse.Namespace) -> int:
    from graphemb import GNNEmbedder
    from graphtab._io import write_table

    g = _read_graph(args)
    features = _read_keyed(args.features, args.key)
    model = GNNEmbedder(encoder=args.encoder, hidden_dim=args.hidden_dim, dim=args.dim,
                        n_layers=args.layers, dropout=args.dropout,
                        pretrain=None if args.pretrain == "none" else args.pretrain,
                        pretrain_epochs=args.pretrain_epochs, finetune_epochs=args.finetune_epochs,
                        lr=args.lr, device=args.device, random_state=args.seed, verbose=args.progress)
    model.pretrain_graph(g, features)
    if args.labels:
        table = _read_keyed(args.labels, args.key)
        col = args.label_col
        if col is None:
            if table.shape[1] != 1:
                raise ValueError(f"labels table {args.labels!r} has columns {list(table.columns)}: "
                                 "name the label column with --label-col")
            col = table.columns[0]
        if col not in table.columns:
            raise KeyError(f"labels table {args.labels!r} has no column {col!r}; "
                           f"columns: {list(table.columns)}")
        validation = None
        if args.validation:
            vtable = _read_keyed(args.validation, args.key)
            if col not in vtable.columns:
                raise KeyError(f"validation table {args.validation!r} has no column {col!r}; "
                               f"columns: {list(vtable.columns)}")
            validation = vtable[col]
        model.fine_tune(g, table[col], features, mode=args.mode, validation=validation)
    model.save(args.out)
    if args.emb_out:
        emb = model.transform()
        emb.index.name = "node"
        write_table(emb, args.emb_out)
    stage = f", fine-tuned ({args.mode}) on {len(model.classes_)} classes" if args.labels else ""
    if args.labels and model.best_epoch_ is not None:
        stage += f", best validation epoch {model.best_epoch_}"
    print(f"trained {args.encoder} GNN on {g!r}{stage}; saved to {args.out}")
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from graphemb import GNNEmbedder
    from graphtab._io import write_table

    model = GNNEmbedder.load(args.model, device=args.device)
    g = _read_graph(args)
    features = _read_keyed(args.features, args.key)
    emb = model.transform(g, features)
    if args.predictions:
        emb = emb.assign(prediction=model.predict(g, features))
    emb.index.name = "node"
    write_table(emb, args.out)
    print(f"embedded {g!r} into {args.out} ({emb.shape[0]} rows x {emb.shape[1]} columns)")
    return 0
