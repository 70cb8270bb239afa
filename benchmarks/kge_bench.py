"""Knowledge-graph embeddings: filtered MRR / Hits@k on the standard link-prediction splits.

    .venv/bin/python benchmarks/kge_bench.py --data ../shared/data \
        --sets nations kinship umls --models complex rotate distmult transe

Trains on train, evaluates filtered (train + valid + test as known triples) on
test, tail and head prediction averaged. ``--time-budget`` caps training
seconds per run (used for the large sets on CPU). Writes a markdown table to
``--out`` (default benchmarks/results/kge.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import pandas as pd
import torch

from graphemb import KGEmbedder, read_triples

# per-set settings picked by hand from a few short trial runs (not tuned on the validation split)
SETTINGS = {
    "nations": dict(dim=100, epochs=100, batch_size=256, learning_rate=3e-3),
    "kinship": dict(dim=100, epochs=60, batch_size=256, learning_rate=3e-3, dropout=0.1),
    "umls": dict(dim=100, epochs=60, batch_size=256, learning_rate=3e-3, dropout=0.1),
    "WN18RR": dict(dim=200, epochs=1000, batch_size=1024, learning_rate=3e-3, dropout=0.2),
    "FB15k-237": dict(dim=200, epochs=1000, batch_size=1024, learning_rate=3e-3, dropout=0.2),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the shared data folder (with knowledge_graphs/)")
    ap.add_argument("--sets", nargs="+", default=["nations", "kinship", "umls"])
    ap.add_argument("--models", nargs="+", default=["complex", "rotate", "distmult", "transe"])
    ap.add_argument("--time-budget", type=float, default=None, help="training seconds per run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", default="benchmarks/results/kge.md")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = []
    for name in args.sets:
        d = Path(args.data) / "knowledge_graphs" / name
        tr, va, te = (read_triples(d / f"{s}.txt") for s in ("train", "valid", "test"))
        ents = pd.unique(pd.concat([x[c] for x in (tr, va, te) for c in ("head", "tail")]))
        for model in args.models:
            t0 = time.perf_counter()
            kge = KGEmbedder(model=model, random_state=0, device=args.device,
                             time_budget=args.time_budget, **SETTINGS[name])
            kge.fit(tr, entities=ents)
            fit_s = time.perf_counter() - t0
            res = kge.evaluate(te, known=[tr, va])
            row = {"set": name, "model": model, "epochs": kge.n_epochs_, "train_s": round(fit_s, 1),
                   "s_per_epoch": round(fit_s / kge.n_epochs_, 2),
                   **{k: round(res[k], 3) for k in ("mrr", "hits@1", "hits@3", "hits@10")}}
            rows.append(row)
            print(row, flush=True)
    cols = list(rows[0])
    table = "\n".join(["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
                      + ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows])
    header = (f"## Knowledge-graph embeddings (`benchmarks/kge_bench.py`), {dt.date.today()}\n\n"
              f"CPU, {args.threads} torch threads; filtered ranks, test split, tail and head "
              f"prediction averaged; time budget per run: {args.time_budget or 'none'} s.\n\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(header + table + "\n")
    print(table)


if __name__ == "__main__":
    main()
