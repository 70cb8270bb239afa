"""``graphtab gnn fit`` and ``graphtab gnn embed``: GNN node embeddings.

Features and labels are tables keyed by node id, the key found the one
documented way (``--key``, else the Parquet index, else an embeddings table's
one non-``emb_*`` column): the output of ``node2vec embed`` or ``tabemb embed``
is a features table as it is. Labels: the ``--label-col`` column (default: the
only column); empty cells mean unlabelled.
"""

from __future__ import annotations

import argparse

from ._common import (
    UsageError,
    add_command,
    add_device,
    add_group,
    add_ids_as_str,
    add_key,
    add_out,
    add_progress,
    add_seed,
    check_model_dir,
    check_table_out,
    deprecated,
    progress,
    validate_early,
)
from .graphs import add_graph_arguments, read_graph, read_node_table


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "gnn", help="GNN node embeddings (pre-train, fine-tune, inductive embed)",
                      description="GNN encoders (sage, gcn, gat) with DGI / link-prediction "
                                  "pre-training and fine-tuning on labels.", dest="gnn_verb")
    f = add_command(verbs, "fit", help="train a GNN embedder on an edge list and save it",
                    description="Pre-train (and with --labels fine-tune) a GNN embedder on EDGES and "
                                "save it to --out (a model directory).")
    f.add_argument("edges", help="edge list (.csv, .tsv or .parquet), one row per edge")
    add_out(f, "model directory to write")
    _node_arguments(f)
    f.add_argument("--labels", default=None, metavar="FILE", help="labels table keyed by node id")
    f.add_argument("--label-col", default=None, metavar="COL",
                   help="label column (default: the only column of --labels)")
    f.add_argument("--validation", default=None, metavar="FILE",
                   help="validation labels keyed by node id (same label column): fine-tuning keeps the "
                        "best validation epoch and stops early")
    f.add_argument("--emb-out", default=None, metavar="PATH",
                   help="also write the training graph's embeddings (.parquet or .csv)")
    f.add_argument("--encoder", default=None, choices=["gcn", "sage", "gat"],
                   help="convolution (default: gcn)")
    f.add_argument("--dim", type=int, default=None, metavar="N", help="embedding dimension (default: 512)")
    f.add_argument("--hidden-dim", type=int, default=None, metavar="N",
                   help="hidden width (default: 512)")
    f.add_argument("--n-layers", type=int, default=None, metavar="N",
                   help="message-passing layers (default: 1)")
    deprecated(f, "--layers", "--n-layers", "n_layers", type=int)
    f.add_argument("--dropout", type=float, default=None, metavar="P",
                   help="dropout rate during pre-training (default: 0)")
    f.add_argument("--normalize", default=None, choices=["auto", "row", "standard", "none"],
                   help="feature normalisation inside the model (default: auto)")
    f.add_argument("--pretrain", default=None, choices=["dgi", "link", "none"],
                   help="self-supervised pre-training objective (default: dgi)")
    f.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="maximum pre-training epochs (default: 500)")
    deprecated(f, "--pretrain-epochs", "--epochs", "epochs", type=int)
    f.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                   help="pre-training learning rate (default: 0.001)")
    deprecated(f, "--lr", "--learning-rate", "learning_rate", type=float)
    f.add_argument("--l2", type=float, default=None, metavar="L2",
                   help="pre-training L2 penalty (default: 0)")
    f.add_argument("--mode", default="finetune", choices=["finetune", "probe"],
                   help="with --labels: fine-tune the encoder, or fit a linear probe on it")
    f.add_argument("--finetune-epochs", type=int, default=200, metavar="N",
                   help="maximum fine-tuning epochs (with --labels)")
    add_device(f)
    add_seed(f)
    add_progress(f)
    f.set_defaults(func=_cmd_fit)

    e = add_command(verbs, "embed", help="embed a graph with a saved GNN model (inductive)",
                    description="Embed every node of EDGES with the model at MODEL; nodes unseen in "
                                "training are embedded from their features and neighbours.")
    e.add_argument("model", help="model directory written by `graphtab gnn fit`")
    e.add_argument("edges", help="edge list (.csv, .tsv or .parquet)")
    add_out(e, "output embeddings table (.parquet or .csv)")
    _node_arguments(e)
    e.add_argument("--predictions", action="store_true",
                   help="add a 'prediction' column from the classification head")
    add_device(e, default=None)
    e.set_defaults(func=_cmd_embed)


def _node_arguments(p: argparse.ArgumentParser) -> None:
    add_graph_arguments(p)
    p.add_argument("--features", default=None, metavar="FILE",
                   help="node features table keyed by node id (default: structural features)")
    add_key(p, "node id column of the --features/--labels tables (default: the Parquet index, else "
               "an embeddings table's one non-emb_* column, else the first column)")
    add_ids_as_str(p)


def _labels(path: str, col: str | None, args: argparse.Namespace, what: str):
    table = read_node_table(path, args, embeddings=False)
    if col is None:
        if table.shape[1] != 1:
            raise UsageError(f"{what} table {path!r} has columns {list(table.columns)}: name the label "
                             "column with --label-col")
        col = table.columns[0]
    if col not in table.columns:
        raise KeyError(f"{what} table {path!r} has no column {col!r}; columns: {list(table.columns)}")
    return table[col]


def _cmd_fit(args: argparse.Namespace) -> int:
    from graphemb import GNNEmbedder
    from graphtab._io import write_table

    out = check_model_dir(args.out)
    if args.emb_out:
        check_table_out(args.emb_out, option="--emb-out")
    if args.label_col and not args.labels:
        raise UsageError("--label-col needs --labels")
    if args.validation and not args.labels:
        raise UsageError("--validation needs --labels")
    given = {"encoder": args.encoder, "dim": args.dim, "hidden_dim": args.hidden_dim,
             "n_layers": args.n_layers, "dropout": args.dropout, "epochs": args.epochs,
             "learning_rate": args.learning_rate, "l2": args.l2}
    kwargs = {k: v for k, v in given.items() if v is not None}
    if args.pretrain is not None:
        kwargs["pretrain"] = None if args.pretrain == "none" else args.pretrain
    if args.normalize is not None:
        kwargs["normalize"] = None if args.normalize == "none" else args.normalize
    model = GNNEmbedder(**kwargs, device=args.device, random_state=args.seed, verbose=progress(args))
    validate_early(model)
    g = read_graph(args)
    features = read_node_table(args.features, args, embeddings=True)
    labels = _labels(args.labels, args.label_col, args, "labels") if args.labels else None
    validation = _labels(args.validation, labels.name, args, "validation") if args.validation else None
    model.pretrain_graph(g, features)
    if labels is not None:
        model.fine_tune(g, labels, features, mode=args.mode, validation=validation,
                        epochs=args.finetune_epochs)
    model.save(out)
    if args.emb_out:
        emb = model.transform()
        emb.index.name = "node"
        write_table(emb, args.emb_out)
    stage = f", fine-tuned ({args.mode}) on {len(model.classes_)} classes" if labels is not None else ""
    if labels is not None and model.best_epoch_ is not None:
        stage += f", best validation epoch {model.best_epoch_}"
    print(f"trained {model.encoder} GNN on {g!r}{stage}; saved to {out}")
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from graphemb import GNNEmbedder
    from graphtab._io import write_table

    out = check_table_out(args.out)
    model = GNNEmbedder.load(args.model, device=args.device)
    g = read_graph(args)
    features = read_node_table(args.features, args, embeddings=True)
    emb = model.transform(g, features)
    if args.predictions:
        emb = emb.assign(prediction=model.predict(g, features))
    emb.index.name = "node"
    write_table(emb, out)
    print(f"embedded {g!r} into {out} ({emb.shape[0]} rows x {emb.shape[1]} columns)")
    return 0
