"""``graphtab recommend``: recommendations from an interactions table.

- ``graphtab recommend fit INTERACTIONS MODEL_DIR [--user-col user] [--item-col item]
  [--weight-col W] [--model lightgcn|bpr|node2vec] [--dim 64] [--epochs 100]
  [--item-features FILE] [--item-metadata FILE] [--item-key item]``
  trains a :class:`graphemb.Recommender` and saves it.
- ``graphtab recommend top MODEL_DIR --out recs.parquet [--users FILE] [--k 10]
  [--include-seen] [--progress]``: top-k per user (every known user, written batch
  by batch with a progress bar, when ``--users`` is not given; unknown users in a
  ``--users`` file get the most popular items). With ``--workers N`` or ``--dask
  ADDRESS`` (and ``--users``) the ``recommend`` chunk function runs on Dask and
  ``--out`` is a directory of part files, one wide row per user row.
- ``graphtab recommend similar MODEL_DIR ITEMS --out similar.parquet [--k 10]``:
  item-to-item neighbours.
- ``graphtab recommend evaluate MODEL_DIR TEST [--k 10]``: metrics on held-out
  interactions, printed as JSON.
"""

from __future__ import annotations

import argparse
import json

import pandas as pd

from graphtab._io import read_table, write_table

from .scaleout import add_scaleout_arguments, batch_scaleout_requested, run_batch_scaleout


def register_recommend(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("recommend", help="recommendations from user-item interactions",
                       description=__doc__.split("\n\n")[0])
    rsub = p.add_subparsers(dest="recommend_command", metavar="ACTION")

    f = rsub.add_parser("fit", help="train on an interactions table and save the model")
    f.add_argument("interactions", help="interactions table (.csv/.parquet), one row per (user, item)")
    f.add_argument("model_dir", help="model directory to write")
    f.add_argument("--user-col", default="user")
    f.add_argument("--item-col", default="item")
    f.add_argument("--weight-col", default=None, help="interaction weight / rating column (>= 0)")
    f.add_argument("--model", default="lightgcn", choices=["lightgcn", "bpr", "node2vec"])
    f.add_argument("--dim", type=int, default=64)
    f.add_argument("--n-layers", type=int, default=3)
    f.add_argument("--epochs", type=int, default=100)
    f.add_argument("--batch-size", type=int, default=4096)
    f.add_argument("--learning-rate", type=float, default=0.01)
    f.add_argument("--l2", type=float, default=1e-3)
    f.add_argument("--item-features", default=None,
                   help="numeric item features table (e.g. tabemb record embeddings) for cold-start items")
    f.add_argument("--item-metadata", default=None, help="item metadata table (columns to filter on)")
    f.add_argument("--item-key", default="item", help="item id column of the item tables (default: item)")
    f.add_argument("--seed", type=int, default=0, help="random_state")
    f.add_argument("--progress", action="store_true", help="show a progress bar over epochs")
    f.set_defaults(func=_cmd_fit)

    t = rsub.add_parser("top", help="top-k items per user")
    t.add_argument("model_dir")
    t.add_argument("--out", required=True, help="output table (.parquet or .csv)")
    t.add_argument("--users", default=None, help="table of users to serve (default: every known user)")
    t.add_argument("--user-col", default="user")
    t.add_argument("--k", type=int, default=10)
    t.add_argument("--include-seen", action="store_true", help="do not exclude the items seen in fit")
    t.add_argument("--progress", action="store_true", help="show a progress bar (every-user mode)")
    add_scaleout_arguments(t, description=(
        "With --workers or --dask (which need --users), --out is a directory of Parquet part files "
        "(one per partition of the users table), one row per users-table row: the --user-col "
        "column, then rec_item_i and rec_score_i for i < k (wide, not one row per rank)."))
    t.set_defaults(func=_cmd_top)

    s = rsub.add_parser("similar", help="the items most similar to given items")
    s.add_argument("model_dir")
    s.add_argument("items", help="table with an item id column")
    s.add_argument("--item-col", default="item")
    s.add_argument("--out", required=True)
    s.add_argument("--k", type=int, default=10)
    s.set_defaults(func=_cmd_similar)

    e = rsub.add_parser("evaluate", help="metrics on held-out interactions (JSON)")
    e.add_argument("model_dir")
    e.add_argument("test", help="held-out interactions table")
    e.add_argument("--user-col", default="user")
    e.add_argument("--item-col", default="item")
    e.add_argument("--k", type=int, default=10)
    e.set_defaults(func=_cmd_evaluate)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _item_table(path: str | None, key: str, what: str) -> pd.DataFrame | None:
    if path is None:
        return None
    df = read_table(path)
    if key not in df.columns:
        raise KeyError(f"{what} table {path!r} has no item id column {key!r}; "
                       f"columns: {list(df.columns)[:20]}")
    return df.set_index(key)


def _cmd_fit(args: argparse.Namespace) -> int:
    from graphemb import Recommender

    df = read_table(args.interactions)
    model = Recommender(model=args.model, dim=args.dim, n_layers=args.n_layers, epochs=args.epochs,
                        batch_size=args.batch_size, learning_rate=args.learning_rate, l2=args.l2,
                        random_state=args.seed, verbose=args.progress)
    model.fit(df, user_col=args.user_col, item_col=args.item_col, weight_col=args.weight_col,
              item_features=_item_table(args.item_features, args.item_key, "item features"),
              item_metadata=_item_table(args.item_metadata, args.item_key, "item metadata"))
    model.save(args.model_dir)
    print(f"fitted {args.model} on {model.n_interactions_} interactions "
          f"({len(model.users_)} users, {len(model.items_)} items); saved to {args.model_dir}")
    return 0


def _cmd_top(args: argparse.Namespace) -> int:
    from graphemb import Recommender

    exclude = not args.include_seen
    if batch_scaleout_requested(args):
        from graphtab._scaleout import Step

        if args.users is None:
            raise ValueError("--workers / --dask need --users: a Parquet (or CSV) table of the users "
                             "to serve, whose partitions are scored in parallel")
        step = Step("recommend", args.model_dir,
                    {"k": args.k, "user_col": args.user_col, "exclude_seen": exclude})
        run_batch_scaleout(args, step, args.users, args.out, id_columns=[args.user_col],
                           verbose=args.progress)
        return 0
    model = Recommender.load(args.model_dir)
    if args.users is None and args.out.lower().endswith((".parquet", ".pq")):
        model.recommend_all(args.k, args.out, exclude_seen=exclude, verbose=args.progress)
        n = len(model.users_)
    else:
        if args.users is None:
            rec = model.recommend_all(args.k, exclude_seen=exclude, verbose=args.progress)
        else:
            users = read_table(args.users)
            if args.user_col not in users.columns:
                raise KeyError(f"users table {args.users!r} has no column {args.user_col!r}; "
                               f"columns: {list(users.columns)[:20]}")
            rec = model.recommend(users[args.user_col].tolist(), args.k, exclude_seen=exclude)
        write_table(rec, args.out, index=False)
        n = rec["user"].nunique()
    print(f"top-{args.k} for {n} users written to {args.out}")
    return 0


def _cmd_similar(args: argparse.Namespace) -> int:
    from graphemb import Recommender

    model = Recommender.load(args.model_dir)
    items = read_table(args.items)
    if args.item_col not in items.columns:
        raise KeyError(f"items table {args.items!r} has no column {args.item_col!r}")
    res = model.similar_items(items[args.item_col].tolist(), args.k)
    write_table(res, args.out, index=False)
    print(f"{args.k} similar items for {res['item'].nunique()} items written to {args.out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from graphemb import Recommender, evaluate_recommender

    model = Recommender.load(args.model_dir)
    test = read_table(args.test)
    scores = evaluate_recommender(model, test, k=args.k, user_col=args.user_col, item_col=args.item_col)
    print(json.dumps({k: round(float(v), 6) for k, v in scores.items()}, indent=1))
    return 0
