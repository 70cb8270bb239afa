"""``graphtab recommend fit | top | similar | evaluate``: recommendations from interactions."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from ._common import (
    UsageError,
    add_command,
    add_group,
    add_ids_as_str,
    add_key,
    add_out,
    add_progress,
    add_seed,
    check_model_dir,
    check_table_out,
    deprecated,
    keyed,
    progress,
    read_input,
    validate_early,
)
from .scaleout import add_scaleout_arguments, scaleout_requested


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "recommend", help="recommendations from user-item interactions",
                      description="Train a recommender on interactions, then serve top-k items per "
                                  "user and similar items.", dest="recommend_verb")
    f = add_command(verbs, "fit", help="train on an interactions table and save the model",
                    description="Train a Recommender on INTERACTIONS (one row per user-item "
                                "interaction) and save it to --out.")
    f.add_argument("interactions", help="interactions table (.csv or .parquet)")
    add_out(f, "model directory to write")
    _id_arguments(f)
    f.add_argument("--weight-col", default=None, metavar="COL",
                   help="interaction weight / rating column (>= 0; default: every interaction 1)")
    f.add_argument("--time-col", default=None, metavar="COL",
                   help="timestamp column: a user's recent interactions weigh more (see "
                        "--recency-half-life)")
    f.add_argument("--model", default="ials", choices=["ials", "lightgcn", "bpr", "node2vec"],
                   help="encoder of users and items (see graphemb.Recommender; default ials)")
    f.add_argument("--dim", type=int, default=None, metavar="N",
                   help="embedding dimension (default: the model's, ials 128, others 64)")
    f.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="training epochs (default: the model's, ials 16, lightgcn/bpr 100)")
    f.add_argument("--l2", type=float, default=None, metavar="W",
                   help="L2 penalty (default: the model's, ials 0.4, lightgcn/bpr 0.001)")
    f.add_argument("--unobserved-weight", type=float, default=0.1, metavar="W",
                   help="ials: weight of the unobserved user-item pairs")
    f.add_argument("--recency-half-life", type=float, default=5.0, metavar="N",
                   help="with --time-col: later interactions after which a user's recency boost halves "
                        "(0: no recency weighting)")
    f.add_argument("--n-layers", type=int, default=3, metavar="N", help="LightGCN propagation layers")
    f.add_argument("--batch-size", type=int, default=4096, metavar="N",
                   help="lightgcn/bpr: interactions per step")
    f.add_argument("--learning-rate", type=float, default=0.01, metavar="LR",
                   help="lightgcn/bpr: optimiser step size")
    f.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help="threads of the ials solver (default 1, -1 all cores)")
    f.add_argument("--item-features", default=None, metavar="FILE",
                   help="numeric item features keyed by item id (e.g. `tabemb embed` output): items "
                        "without interactions become recommendable")
    f.add_argument("--item-metadata", default=None, metavar="FILE",
                   help="item metadata keyed by item id (columns to filter on)")
    add_key(f, "item id column of --item-features/--item-metadata (default: the Parquet index, else "
               "an embeddings table's one non-emb_* column, else the --item-col column)")
    deprecated(f, "--item-key", "--key", "key")
    add_seed(f)
    add_progress(f)
    f.set_defaults(func=_cmd_fit)

    t = add_command(verbs, "top", help="top-k items per user",
                    description="Write the top-k items of every user in USERS (default: every user "
                                "seen in fit) from the model at MODEL to --out. Unknown users get the "
                                "most popular items.")
    t.add_argument("model", help="model directory written by `graphtab recommend fit`")
    t.add_argument("users", nargs="?", default=None,
                   help="table of users to serve, ids in --user-col (default: every known user)")
    add_out(t, "output table (.parquet or .csv); a directory with --workers/--dask")
    t.add_argument("--user-col", default="user", metavar="COL", help="user id column of USERS")
    t.add_argument("--k", type=int, default=10, metavar="K", help="items per user")
    t.add_argument("--include-seen", action="store_true",
                   help="also return items the user interacted with in fit")
    add_ids_as_str(t)
    add_progress(t)
    add_scaleout_arguments(t, description=(
        "With --workers or --dask (which need USERS), --out is a directory of Parquet part files "
        "(one per partition of USERS), one row per USERS row: the --user-col column, then rec_item_i "
        "and rec_score_i for i < k (wide, not one row per rank)."))
    t.set_defaults(func=_cmd_top)

    s = add_command(verbs, "similar", help="the items most similar to given items",
                    description="Write the k items most similar to each item of ITEMS (ids in "
                                "--item-col) from the model at MODEL to --out.")
    s.add_argument("model", help="model directory written by `graphtab recommend fit`")
    s.add_argument("items", help="table with an item id column")
    add_out(s, "output table (.parquet or .csv)")
    s.add_argument("--item-col", default="item", metavar="COL", help="item id column of ITEMS")
    s.add_argument("--k", type=int, default=10, metavar="K", help="similar items per item")
    add_ids_as_str(s)
    s.set_defaults(func=_cmd_similar)

    e = add_command(verbs, "evaluate", help="ranking metrics on held-out interactions",
                    description="Evaluate the model at MODEL on held-out interactions TEST; print the "
                                "metrics as JSON (and write them to --out if given).")
    e.add_argument("model", help="model directory written by `graphtab recommend fit`")
    e.add_argument("test", help="held-out interactions table")
    add_out(e, "also write the metrics to this .json file", required=False)
    _id_arguments(e)
    e.add_argument("--k", type=int, default=10, metavar="K", help="cut-off of the metrics")
    e.set_defaults(func=_cmd_evaluate)


def _id_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user-col", default="user", metavar="COL", help="user id column")
    p.add_argument("--item-col", default="item", metavar="COL", help="item id column")
    add_ids_as_str(p)


def _item_table(path: str | None, args: argparse.Namespace, what: str) -> pd.DataFrame | None:
    if path is None:
        return None
    df = keyed(read_input(path, args, id_columns=[args.item_col]), args.key, repr(path), embeddings=True)
    if isinstance(df.index, pd.RangeIndex) and args.key is None:
        if args.item_col not in df.columns:
            raise KeyError(f"{what} table {path!r}: no item id found (no --key, no stored index, no "
                           f"{args.item_col!r} column); columns: {list(df.columns)[:20]}")
        df = df.set_index(args.item_col)
    if args.ids_as_str and df.index.dtype != object:
        df.index = df.index.astype(str)
    return df


def _cmd_fit(args: argparse.Namespace) -> int:
    from graphemb import Recommender

    out = check_model_dir(args.out)
    model = validate_early(Recommender(
        model=args.model, dim=args.dim, n_layers=args.n_layers, epochs=args.epochs,
        batch_size=args.batch_size, learning_rate=args.learning_rate, l2=args.l2,
        unobserved_weight=args.unobserved_weight,
        recency_half_life=None if args.recency_half_life == 0 else args.recency_half_life, n_jobs=args.n_jobs,
        random_state=args.seed, verbose=progress(args)))
    df = read_input(args.interactions, args, id_columns=[args.user_col, args.item_col])
    model.fit(df, user_col=args.user_col, item_col=args.item_col, weight_col=args.weight_col,
              time_col=args.time_col,
              item_features=_item_table(args.item_features, args, "item features"),
              item_metadata=_item_table(args.item_metadata, args, "item metadata"))
    model.save(out)
    print(f"fitted {args.model} on {model.n_interactions_} interactions "
          f"({len(model.users_)} users, {len(model.items_)} items); saved to {out}")
    return 0


def _cmd_top(args: argparse.Namespace) -> int:
    from graphemb import Recommender
    from graphtab._io import write_table

    if args.k < 1:
        raise UsageError(f"--k must be a positive int, got {args.k}")
    exclude = not args.include_seen
    if scaleout_requested(args):
        from graphtab._scaleout import Step

        from .scaleout import run_batch_scaleout

        if args.users is None:
            raise UsageError("--workers / --dask need USERS: a Parquet (or CSV) table of the users to "
                             "serve, whose partitions are scored in parallel")
        step = Step("recommend", args.model, {"k": args.k, "user_col": args.user_col,
                                              "exclude_seen": exclude})
        run_batch_scaleout(args, step, args.users, args.out, id_columns=[args.user_col],
                           verbose=progress(args))
        return 0
    out = check_table_out(args.out)
    model = Recommender.load(args.model)
    if args.users is None and out.suffix.lower() in {".parquet", ".pq"}:
        model.recommend_all(args.k, out, exclude_seen=exclude, verbose=progress(args))
        n = len(model.users_)
    else:
        if args.users is None:
            rec = model.recommend_all(args.k, exclude_seen=exclude, verbose=progress(args))
        else:
            users = read_input(args.users, args, id_columns=[args.user_col])
            if args.user_col not in users.columns:
                raise KeyError(f"users table {args.users!r} has no column {args.user_col!r}; "
                               f"columns: {list(users.columns)[:20]}")
            rec = model.recommend(users[args.user_col].tolist(), args.k, exclude_seen=exclude)
        write_table(rec, out, index=False)
        n = rec["user"].nunique()
    print(f"top-{args.k} for {n} users written to {out}")
    return 0


def _cmd_similar(args: argparse.Namespace) -> int:
    from graphemb import Recommender
    from graphtab._io import write_table

    out = check_table_out(args.out)
    model = Recommender.load(args.model)
    items = read_input(args.items, args, id_columns=[args.item_col])
    if args.item_col not in items.columns:
        raise KeyError(f"items table {args.items!r} has no column {args.item_col!r}; "
                       f"columns: {list(items.columns)[:20]}")
    res = model.similar_items(items[args.item_col].tolist(), args.k)
    write_table(res, out, index=False)
    print(f"{args.k} similar items for {res['item'].nunique()} items written to {out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from graphemb import Recommender, evaluate_recommender

    if args.out and Path(args.out).suffix.lower() != ".json":
        raise UsageError(f"--out {args.out!r} must end in .json")
    model = Recommender.load(args.model)
    test = read_input(args.test, args, id_columns=[args.user_col, args.item_col])
    scores = evaluate_recommender(model, test, k=args.k, user_col=args.user_col, item_col=args.item_col)
    text = json.dumps({k: round(float(v), 6) for k, v in scores.items()}, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
