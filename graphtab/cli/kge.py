"""``graphtab kge fit | predict | evaluate``: knowledge-graph embeddings.

Triples files: tab-separated ``head<TAB>relation<TAB>tail`` without a header
(``.txt``/``.tsv``, as the standard benchmarks ship them), or a CSV/Parquet
table with the columns head, relation, tail. Entity and relation ids are
always read as strings.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pandas as pd

from ._common import (
    add_command,
    add_device,
    add_group,
    add_out,
    add_progress,
    add_seed,
    check_model_dir,
    check_table_out,
    deprecated,
    progress,
    validate_early,
)

MODELS = ["complex", "distmult", "rotate", "transe"]


def _read(path: str) -> pd.DataFrame:
    from graphemb import read_triples
    from graphtab._io import read_table

    suffix = Path(path).suffix.lower()
    if suffix in {".txt", ".tsv", ""}:
        return read_triples(path)
    return read_table(path, str_columns=["head", "relation", "tail"])


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "kge", help="knowledge-graph embeddings (TransE, DistMult, ComplEx, RotatE)",
                      description="Train knowledge-graph embeddings on (head, relation, tail) triples, "
                                  "predict missing entities, evaluate link prediction.", dest="kge_verb")
    f = add_command(verbs, "fit", help="train on a triples file and save the model",
                    description="Train a KGEmbedder on TRIPLES and save it to --out.")
    f.add_argument("triples", help="training triples (.txt/.tsv: head<TAB>relation<TAB>tail, or "
                                   ".csv/.parquet with columns head, relation, tail)")
    add_out(f, "model directory to write")
    f.add_argument("--model", default="complex", choices=MODELS, help="scoring model")
    f.add_argument("--dim", type=int, default=200, metavar="N", help="embedding dimension")
    f.add_argument("--epochs", type=int, default=100, metavar="N", help="training epochs")
    f.add_argument("--batch-size", type=int, default=512, metavar="N", help="queries per step")
    f.add_argument("--learning-rate", type=float, default=1e-3, metavar="LR", help="Adam step size")
    f.add_argument("--dropout", type=float, default=0.0, metavar="P", help="dropout on query vectors")
    f.add_argument("--n3", type=float, default=0.0, metavar="W",
                   help="weight of the N3 penalty on the embeddings")
    deprecated(f, "--regularization", "--n3", "n3", type=float)
    f.add_argument("--time-budget", type=float, default=None, metavar="SECONDS",
                   help="stop training after this many seconds")
    f.add_argument("--entities", nargs="+", default=[], metavar="FILE",
                   help="further triples files whose entities to embed too")
    add_device(f)
    add_seed(f)
    add_progress(f)
    f.set_defaults(func=_cmd_fit)

    q = add_command(verbs, "predict", help="top-k tails (or heads) for a table of queries",
                    description="Answer (head, relation, ?) queries (or (?, relation, tail) with --heads) "
                                "from QUERIES with the model at MODEL; write the top-k entities per "
                                "query to --out.")
    q.add_argument("model", help="model directory written by `graphtab kge fit`")
    q.add_argument("queries", help="table with columns head, relation (or tail, relation with --heads)")
    add_out(q, "output table (.parquet or .csv)")
    q.add_argument("--k", type=int, default=10, metavar="K", help="entities per query")
    q.add_argument("--heads", action="store_true", help="predict heads of (?, relation, tail)")
    q.add_argument("--exact", action="store_true",
                   help="score every entity instead of searching the neighbour store")
    q.set_defaults(func=_cmd_predict)

    e = add_command(verbs, "evaluate", help="filtered MRR and Hits@k on test triples",
                    description="Evaluate the model at MODEL on TEST triples (filtered ranking); print "
                                "the metrics as JSON (and write them to --out if given).")
    e.add_argument("model", help="model directory written by `graphtab kge fit`")
    e.add_argument("test", help="test triples")
    add_out(e, "also write the metrics to this .json file", required=False)
    e.add_argument("--known", nargs="+", default=[], metavar="FILE",
                   help="other true triples to filter out of the ranking (train, valid)")
    e.set_defaults(func=_cmd_evaluate)


def _cmd_fit(args: argparse.Namespace) -> int:
    from graphemb import KGEmbedder

    out = check_model_dir(args.out)
    params = dict(model=args.model, dim=args.dim, epochs=args.epochs, batch_size=args.batch_size,
                  learning_rate=args.learning_rate, dropout=args.dropout, time_budget=args.time_budget,
                  n3=args.n3, device=args.device, random_state=args.seed, verbose=progress(args))
    model = validate_early(KGEmbedder(**params))
    train = _read(args.triples)
    extra: list = []
    for path in args.entities:
        t = _read(path)
        extra.extend(pd.unique(pd.concat([t["head"], t["tail"]])))
    model.fit(train, entities=extra or None)
    model.save(out)
    print(f"trained {args.model} on {len(train)} triples ({len(model.entities_)} entities, "
          f"{len(model.relations_)} relations, {model.n_epochs_} epochs) -> {out}")
    return 0


def _cmd_predict(args: argparse.Namespace) -> int:
    from graphemb import KGEmbedder
    from graphtab._io import read_table, write_table

    out = check_table_out(args.out)
    model = KGEmbedder.load(args.model)
    anchor = "tail" if args.heads else "head"
    if Path(args.queries).suffix.lower() in {".txt", ".tsv", ""}:
        queries = pd.read_csv(args.queries, sep="\t", dtype=str, keep_default_na=False)
    else:
        queries = read_table(args.queries, str_columns=[anchor, "relation"])
    missing = [c for c in (anchor, "relation") if c not in queries.columns]
    if missing:
        raise KeyError(f"queries {args.queries!r} need columns {anchor!r} and 'relation'; missing "
                       f"{missing}; columns: {list(queries.columns)}")
    fn = model.predict_head if args.heads else model.predict_tail
    frames = [fn(a, r, k=args.k, exact=args.exact).assign(query=i, **{anchor: a, "relation": r})
              for i, (a, r) in enumerate(zip(queries[anchor], queries["relation"], strict=True))]
    cols = ["query", anchor, "relation", "rank", "entity", "score"]
    result = pd.concat(frames, ignore_index=True)[cols] if frames else pd.DataFrame(columns=cols)
    write_table(result, out, index=False)
    print(f"{len(queries)} queries -> {out}")
    return 0


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from graphemb import KGEmbedder

    if args.out and Path(args.out).suffix.lower() != ".json":
        raise ValueError(f"--out {args.out!r} must end in .json")
    model = KGEmbedder.load(args.model)
    res = model.evaluate(_read(args.test), known=[_read(p) for p in args.known])
    text = json.dumps({k: round(v, 4) for k, v in res.items()}, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
