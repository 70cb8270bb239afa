"""``graphtab node2vec embed``: Node2Vec embeddings of an edge list."""

from __future__ import annotations

import argparse

from ._common import (
    add_command,
    add_device,
    add_group,
    add_ids_as_str,
    add_n_jobs,
    add_out,
    add_progress,
    add_seed,
    check_model_dir,
    check_table_out,
    progress,
    validate_early,
)
from .graphs import add_graph_arguments, read_graph


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "node2vec", help="Node2Vec node embeddings",
                      description="Node2Vec node embeddings of a graph given as an edge list.",
                      dest="node2vec_verb")
    e = add_command(verbs, "embed", help="embed the nodes of an edge list",
                    description="Read an edge list, run Node2Vec, write one row per node (the node id "
                                "as the key, columns emb_0..) to --out (.parquet or .csv). The "
                                "output feeds `store build`, `anomaly fit` and `gnn fit --features` "
                                "as it is.")
    e.add_argument("edges", help="edge list (.csv, .tsv or .parquet), one row per edge")
    add_out(e, "output embeddings table (.parquet or .csv)")
    add_graph_arguments(e)
    e.add_argument("--dim", type=int, default=128, metavar="N", help="embedding dimension")
    e.add_argument("--walk-length", type=int, default=80, metavar="N", help="nodes per walk")
    e.add_argument("--n-walks", type=int, default=10, metavar="N", help="walks started from every node")
    e.add_argument("--window", type=int, default=10, metavar="N", help="skip-gram context window")
    e.add_argument("--p", type=float, default=1.0, metavar="P",
                   help="return parameter (small p keeps walks local)")
    e.add_argument("--q", type=float, default=1.0, metavar="Q",
                   help="in-out parameter (small q pushes walks outwards)")
    e.add_argument("--epochs", type=int, default=1, metavar="N", help="passes over the walks")
    e.add_argument("--negative", type=int, default=5, metavar="N", help="negative samples per pair")
    e.add_argument("--subsample", type=_subsample, default="auto", metavar="T",
                   help="frequent-node subsampling threshold (0 disables; default 'auto': "
                        "max(1e-3, 10 / number of nodes))")
    e.add_argument("--learning-rate", type=float, default=0.025, metavar="LR",
                   help="initial skip-gram learning rate (decays linearly)")
    add_n_jobs(e, "threads for walks and training")
    add_device(e)
    add_seed(e)
    e.add_argument("--save-model", default=None, metavar="DIR",
                   help="also save the model artifact to this directory")
    add_progress(e)
    add_ids_as_str(e)
    e.set_defaults(func=_cmd_embed)


def _subsample(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected 'auto' or a number >= 0, got {text!r}") from None


def _cmd_embed(args: argparse.Namespace) -> int:
    from graphemb import Node2Vec
    from graphtab._io import write_table

    out = check_table_out(args.out)
    if args.save_model:
        check_model_dir(args.save_model, option="--save-model")
    model = Node2Vec(dim=args.dim, walk_length=args.walk_length, n_walks=args.n_walks,
                     window=args.window, p=args.p, q=args.q, epochs=args.epochs,
                     negative=args.negative, subsample=args.subsample,
                     learning_rate=args.learning_rate, n_jobs=args.n_jobs,
                     device=args.device, random_state=args.seed, verbose=progress(args))
    validate_early(model)
    g = read_graph(args)
    emb = model.fit_transform(g)
    emb.index.name = "node"
    write_table(emb, out)
    if args.save_model:
        model.save(args.save_model)
    print(f"embedded {g!r} into {out} ({emb.shape[0]} rows x {emb.shape[1]} columns)")
    return 0
