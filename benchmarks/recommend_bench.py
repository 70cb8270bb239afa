"""Recommendation benchmark: graphemb.Recommender vs popularity, item-kNN and implicit's ALS.

MovieLens-100K (``--data DIR`` holding ``ml-100k.inter``; written there by
``/work/shared/data/get_movielens_100k.sh DIR`` when missing). Ratings >= 4
are the positives; an 80/20 random split per user with seed 0 gives train and
test. Hyper-parameters are chosen on a validation split carved from train
(another 80/20 per-user split of train, seed 1), never on test (``--tune``
runs the grids and writes the choice; without it the recorded choice is used).
Then every model is fitted on the whole train split with model seeds
0, 1, 2 and scored on test: NDCG@10, recall@10, precision@10, MAP@10, hit
rate, coverage (medians over seeds; the spread is shown), fit time, and the
time of top-10 for all 943 users after fit (``recommend_all``, seen items
excluded through the store).

Threads are pinned to 1 (run it with ``/work/benchslot 1``). implicit is not a
graphtab dependency: run this with a venv that has it, e.g.
``python -m venv benchmarks/.venv-recommend && benchmarks/.venv-recommend/bin/pip install
-e . -c constraints.txt implicit``.

Usage::

    /work/benchslot 1 benchmarks/.venv-recommend/bin/python benchmarks/recommend_bench.py \\
        --data /tmp/ml100k [--tune] [--seeds 0 1 2] [--out benchmarks/results/recommend.md]
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[_v] = "1"

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)

from graphemb import (  # noqa: E402
    ALSRecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    Recommender,
    evaluate_recommender,
    train_test_split_interactions,
)

HERE = Path(__file__).resolve().parent
CHOICE = HERE / "results" / "raw" / "recommend_tuned.json"

# chosen on the validation split by --tune (see benchmarks/results/recommend.md)
DEFAULTS = {
    "lightgcn": {"n_layers": 3, "epochs": 100, "learning_rate": 0.01, "l2": 1e-3, "dim": 64},
    "node2vec": {"dim": 64, "node2vec_params": {"p": 1.0, "q": 1.0, "window": 10, "walk_length": 40,
                                                "n_walks": 10}},
    "itemknn": {"n_neighbors": 200},
    "als": {"factors": 16, "regularization": 20.0, "alpha": 3.0, "iterations": 30},
}

GRIDS = {
    "lightgcn": [dict(n_layers=L, epochs=e, learning_rate=0.01, l2=l2, dim=64)
                 for L, e, l2 in [*itertools.product([3], [100, 200], [1e-3, 1e-2]),
                                  (2, 100, 1e-3), (3, 100, 3e-3), (3, 150, 3e-3)]],
    "node2vec": [dict(dim=64, node2vec_params=dict(p=p, q=q, window=w, walk_length=40, n_walks=10))
                 for p, q, w in [(1, 1, 5), (1, 1, 10)]],
    "itemknn": [dict(n_neighbors=n) for n in (20, 50, 100, 200, 400)],
    "als": [dict(factors=f, regularization=r, alpha=a, iterations=it)
            for f, r, a, it in [*itertools.product([32, 64, 128], [0.1, 1.0], [1.0, 10.0, 40.0], [15]),
                                *itertools.product([8, 16, 32], [1.0, 5.0, 20.0], [3.0, 10.0], [30]),
                                *itertools.product([8, 16, 32], [50.0, 100.0], [1.0, 3.0], [30])]],
}


def make(name: str, params: dict, seed: int):
    if name == "lightgcn":
        return Recommender(model="lightgcn", random_state=seed, **params)
    if name == "node2vec":
        return Recommender(model="node2vec", random_state=seed, **params)
    if name == "itemknn":
        return ItemKNNRecommender(**params)
    if name == "als":
        return ALSRecommender(random_state=seed, num_threads=1, **params)
    if name == "popularity":
        return PopularityRecommender()
    raise ValueError(name)


def has_implicit() -> bool:
    try:
        import implicit  # noqa: F401
    except ImportError:
        return False
    return True


def load(data: Path) -> pd.DataFrame:
    f = data / "ml-100k.inter"
    if not f.exists():
        subprocess.run(["/work/shared/data/get_movielens_100k.sh", str(data)], check=True)
    df = pd.read_csv(f, sep="\t")
    df.columns = ["user", "item", "rating", "timestamp"]
    return df


def tune(train: pd.DataFrame, names: list[str], log) -> dict:
    fit, val = train_test_split_interactions(train, random_state=1)
    chosen = {}
    for name in names:
        best, best_p = -1.0, None
        for params in GRIDS[name]:
            t0 = time.perf_counter()
            m = make(name, params, 0).fit(fit)
            s = evaluate_recommender(m, val, k=10)
            log(f"  tune {name} {json.dumps(params)}: val ndcg@10 {s['ndcg@10']:.4f} "
                f"recall@10 {s['recall@10']:.4f} ({time.perf_counter() - t0:.1f} s)")
            if s["ndcg@10"] > best:
                best, best_p = s["ndcg@10"], params
        chosen[name] = {"params": best_p, "val_ndcg@10": best}
        log(f"  -> {name}: {json.dumps(best_p)} (val ndcg@10 {best:.4f})")
    return chosen


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/ml100k"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--models", nargs="+",
                    default=["popularity", "itemknn", "als", "lightgcn", "node2vec"])
    ap.add_argument("--tune", nargs="*", default=None,
                    help="tune these models (default: all but popularity) on the validation split")
    ap.add_argument("--out", type=Path, default=None, help="markdown table to write")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "raw" / "recommend.json")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    models = [m for m in args.models if m != "als" or has_implicit()]
    if "als" in args.models and "als" not in models:
        log("implicit is not installed: ALS skipped")
    df = load(args.data)
    pos = df[df["rating"] >= 4]
    train, test = train_test_split_interactions(pos, random_state=0)
    log(f"MovieLens-100K: {len(pos)} positives (rating >= 4), {pos['user'].nunique()} users, "
        f"{pos['item'].nunique()} items; train {len(train)}, test {len(test)}")

    chosen = json.loads(CHOICE.read_text()) if CHOICE.exists() else {}
    if args.tune is not None:
        names = args.tune or [m for m in models if m != "popularity"]
        chosen.update(tune(train, names, log))
        CHOICE.parent.mkdir(parents=True, exist_ok=True)
        CHOICE.write_text(json.dumps(chosen, indent=1))
    params = {m: chosen.get(m, {}).get("params", DEFAULTS.get(m, {})) for m in models}

    rows = []
    for name in models:
        for seed in args.seeds if name != "popularity" else args.seeds[:1]:
            m = make(name, params[name], seed)
            t0 = time.perf_counter()
            m.fit(train)
            fit_s = time.perf_counter() - t0
            s = evaluate_recommender(m, test, k=10)
            if isinstance(m, Recommender):
                t0 = time.perf_counter()
                allrec = m.recommend_all(10, verbose=False)
                all_s = time.perf_counter() - t0
                assert allrec["user"].nunique() == len(m.users_)
            else:
                t0 = time.perf_counter()
                m.recommend(list(m.users_), 10)
                all_s = time.perf_counter() - t0
            row = {"model": name, "seed": seed, **s.to_dict(), "fit_s": fit_s, "top10_all_users_s": all_s}
            rows.append(row)
            log(f"{name} seed {seed}: ndcg@10 {s['ndcg@10']:.4f} recall@10 {s['recall@10']:.4f} "
                f"fit {fit_s:.1f} s, top-10 all users {all_s:.3f} s")
    res = pd.DataFrame(rows)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(res.to_json(orient="records", indent=1))
    cols = ["ndcg@10", "recall@10", "precision@10", "map@10", "hit_rate@10", "coverage@10", "fit_s",
            "top10_all_users_s"]
    med = res.groupby("model", sort=False)[cols].median()
    lo = res.groupby("model", sort=False)[cols].min()
    hi = res.groupby("model", sort=False)[cols].max()
    n = res.groupby("model", sort=False).size()
    lines = ["| model | runs | NDCG@10 | recall@10 | precision@10 | MAP@10 | hit rate@10 | coverage@10 "
             "| fit (s) | top-10, all users (s) |", "|---|---|---|---|---|---|---|---|---|---|"]
    for mname in med.index:
        cells = []
        for c in cols:
            fmt = "{:.4f}" if not c.endswith("_s") else "{:.3f}" if c.startswith("top") else "{:.1f}"
            cell = fmt.format(med.loc[mname, c])
            if n[mname] > 1 and not c.endswith("_s"):
                cell += f" ({fmt.format(lo.loc[mname, c])}-{fmt.format(hi.loc[mname, c])})"
            cells.append(cell)
        lines.append(f"| {mname} | {n[mname]} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    log(table)
    ratios = []
    if "als" in med.index:
        for mname in ("lightgcn", "node2vec"):
            if mname in med.index:
                r_n = med.loc[mname, "ndcg@10"] / med.loc["als", "ndcg@10"]
                r_r = med.loc[mname, "recall@10"] / med.loc["als", "recall@10"]
                ratios.append(f"- {mname} / ALS: NDCG@10 {r_n:.3f}x, recall@10 {r_r:.3f}x")
    log("\n".join(ratios))
    if args.out:
        cmd = "/work/benchslot 1 " + " ".join([Path(sys.executable).as_posix(), *sys.argv])
        text = [
            "## Recommendation benchmark (`benchmarks/recommend_bench.py`)",
            "",
            f"Date {dt.date.today().isoformat()}; machine: {platform.machine()}, "
            f"{os.cpu_count()} cores shared with other jobs, 1 thread (torch, BLAS, numba); "
            f"python {platform.python_version()}, torch {torch.__version__}.",
            "",
            f"Command: `{cmd}`",
            "",
            f"MovieLens-100K, ratings >= 4 as positives ({len(pos)} interactions, "
            f"{pos['user'].nunique()} users, {pos['item'].nunique()} items), 80/20 random split per user, "
            f"seed 0 (train {len(train)}, test {len(test)}). Medians over model seeds "
            f"{args.seeds} (min-max in brackets). Seen (train) items excluded for every model.",
            "Hyper-parameters chosen on a validation split of train (80/20 per user, seed 1), "
            "by validation NDCG@10:",
            "",
        ]
        for mname in models:
            if params.get(mname):
                v = chosen.get(mname, {}).get("val_ndcg@10")
                text.append(f"- {mname}: `{json.dumps(params[mname])}`"
                            + (f" (validation NDCG@10 {v:.4f})" if v is not None else ""))
        text += ["", table, "", *ratios, ""]
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
