"""``graphtab kge``: knowledge-graph embeddings from the command line.

- ``graphtab kge fit TRIPLES --out MODEL_DIR [--model complex] [--dim 200] [--epochs 100]``
  trains a :class:`graphemb.KGEmbedder` on a triples file (tab-separated
  ``head relation tail`` without header, as the standard benchmarks ship, or a
  CSV/Parquet table with columns head, relation, tail) and saves it.
- ``graphtab kge predict MODEL_DIR QUERIES --out predictions.parquet [--k 10]``
  answers (head, relation, ?) queries (a table with columns head, relation; or
  tail, relation with ``--heads``) with the top-k entities per query.
- ``graphtab kge evaluate MODEL_DIR TEST [--known TRAIN ...]`` prints filtered
  MRR and Hits@1/3/10 as JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from graphtab._io import read_table, write_table


def _read(path: str) -> pd.DataFrame:
    from graphemb import read_triples

    suffix = Path(path).suffix.lower()
    if suffix in {".txt", ".tsv", ""}:
        return read_triples(path)
    return read_table(path, dtype=str) if suffix == ".csv" else read_table(path)


def register_kge(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("kge", help="knowledge-graph embeddings (TransE, DistMult, ComplEx, RotatE)",
                       description=__doc__.split("\n\n")[0])
    ksub = p.add_subparsers(dest="kge_command", metavar="ACTION")
    f = ksub.add_parser("fit", help="train on a triples file and save the model")
    f.add_argument("triples",
                   help="training triples (.txt/.tsv: head<TAB>relation<TAB>tail, or .csv/.parquet)")
    f.add_argument("--out", required=True, help="model directory to write")
    f.add_argument("--model", default="complex", choices=["complex", "distmult", "rotate", "transe"])
    f.add_argument("--dim", type=int, default=200)
    f.add_argument("--epochs", type=int, default=100)
    f.add_argument("--batch-size", type=int, default=512)
    f.add_argument("--learning-rate", type=float, default=1e-3)
    f.add_argument("--dropout", type=float, default=0.0)
    f.add_argument("--regularization", type=float, default=0.0)
    f.add_argument("--time-budget", type=float, default=None, help="stop after this many seconds")
    f.add_argument("--entities", nargs="*", default=(), help="further triples files whose entities to embed")
    f.add_argument("--device", default="cpu")
    f.add_argument("--random-state", type=int, default=0)
    f.add_argument("--no-progress", action="store_true")
    f.set_defaults(func=_cmd_fit)

    q = ksub.add_parser("predict", help="top-k tails (or heads) for a table of queries")
    q.add_argument("model", help="model directory")
    q.add_argument("queries", help="table with columns head, relation (or tail, relation with --heads)")
    q.add_argument("--out", required=True, help="output table (.parquet or .csv)")
    q.add_argument("--k", type=int, default=10)
    q.add_argument("--heads", action="store_true", help="predict heads of (?, relation, tail)")
    q.add_argument("--exact", action="store_true", help="score every entity instead of the neighbour store")
    q.set_defaults(func=_cmd_predict)

    e = ksub.add_parser("evaluate", help="filtered MRR and Hits@k on test triples")
    e.add_argument("model", help="model directory")
    e.add_argument("test", help="test triples")
    e.add_argument("--known", nargs="*", default=(), help="other true triples to filter (train, valid)")
    e.set_defaults(func=_cmd_evaluate)


def _cmd_fit(args: argparse.Namespace) -> int:
    from graphemb import KGEmbedder

    train = _read(args.triples)
    extra: list = []
    for path in args.entities:
        t = _read(path)
        extra.extend(pd.unique(pd.concat([t["head"], t["tail"]])))
    model = KGEmbedder(model=args.model, dim=args.dim, epochs=args.epochs, batch_size=args.batch_size,
                       learning_rate=args.learning_rate, dropout=args.dropout,
                       regularization=args.regularization, time_budget=args.time_budget,
                       device=args.device, random_state=args.random_state,
                       verbose=not args.no_progress)
    model.fit(train, entities=extra or None)
    model.save(args.out)
    print(f"trained {args.model} on {len(train)} triples ({len(model.entities_)} entities, "
          f"{len(model.relations_)} relations, {model.n_epochs_} epochs) -> {args.out}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from graphemb import KGEmbedder

    model = KGEmbedder.load(args.model)
    queries = _read(args.queries) if Path(args.queries).suffix.lower() not in {".txt", ".tsv", ""} \
        else pd.read_csv(args.queries, sep="\t", dtype=str, keep_default_na=False)
    anchor = "tail" if args.heads else "head"
    missing = [c for c in (anchor, "relation") if c not in queries.columns]
    if missing:
        raise KeyError(f"queries need columns {anchor!r} and 'relation'; missing {missing}")
    frames = []
    for i, (a, r) in enumerate(zip(queries[anchor], queries["relation"], strict=True)):
        fn = model.predict_head if args.heads else model.predict_tail
        res = fn(a, r, k=args.k, exact=args.exact)
        frames.append(res.assign(query=i, **{anchor: a, "relation": r}))
    out = pd.concat(frames, ignore_index=True)[["query", anchor, "relation", "rank", "entity", "score"]]
    write_table(out, args.out, index=False)
    print(f"{len(queries)} queries -> {args.out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from graphemb import KGEmbedder

    model = KGEmbedder.load(args.model)
    res = model.evaluate(_read(args.test), known=[_read(p) for p in args.known])
    print(json.dumps({k: round(v, 4) for k, v in res.items()}, indent=2))
    return 0
