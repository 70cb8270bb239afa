"""Recommendation benchmark: ``Recommender()`` against EASE, implicit's ALS, LightGCN and popularity.

MovieLens-100K (``--data DIR`` holding ``ml-100k.inter``; written there by
``/work/shared/data/get_movielens_100k.sh DIR`` when missing). Ratings >= 4 are
the positives. Two protocols:

- ``random``: 80/20 random split per user (seed 0);
- ``last``: each user's last interaction by time is the test item.

Validation data is carved from train the same way (random: another 80/20
split of train with seed 1; last: each user's last train interaction). The
baselines' hyper-parameters are chosen on it (grids below, by validation
NDCG@10); ``Recommender()`` runs with its defaults, LightGCN and Node2Vec with
theirs (``Recommender(model=...)``). Test is read once: every model is then
fitted on the whole train split (model seeds 0, 1, 2; deterministic models
once) and scored on test. In the leave-last protocol every model's ``fit``
gets the timestamp column (the baselines do not use it; ``Recommender`` weighs
a user's recent interactions more); in the random protocol no model gets it,
and the extra row ``default+time`` shows ``Recommender()`` given it there too.

``--split-seeds S ...`` instead repeats the random protocol on other splits
(default, EASE, ALS; baselines tuned on each split's own validation carve),
each split's test read once: how much of a gap on one split is the split.

``--scale`` instead generates 1M interactions with a known structure (users
and items in latent clusters, Zipf item popularity) and measures fit time and
peak memory of each model in a fresh subprocess.

Threads are pinned to 1. ALS needs ``implicit`` (``pip install implicit``).

Usage::

    python benchmarks/recommend_bench.py --data /tmp/ml100k --out benchmarks/results/recommend.md
    python benchmarks/recommend_bench.py --scale --out benchmarks/results/recommend_scale.md
    python benchmarks/recommend_bench.py --split-seeds 1 2 3 4 5 --out <page>
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

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from graphemb import (  # noqa: E402
    ALSRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    Recommender,
    evaluate_recommender,
    train_test_split_interactions,
)

HERE = Path(__file__).resolve().parent

GRIDS = {
    "ease": [{"l2": v} for v in (50.0, 100.0, 200.0, 300.0, 500.0, 800.0)],
    "als": [{"dim": d, "l2": r, "alpha": a, "epochs": e}
            for d, r, a, e in [*itertools.product([16, 32, 64], [1.0, 5.0, 20.0], [1.0, 3.0, 10.0], [30]),
                               *itertools.product([16, 32], [50.0], [3.0, 10.0], [30])]],
    "itemknn": [{"n_neighbors": n} for n in (20, 50, 100, 200, 400)],
}
FIXED = {
    "default": {},
    "default+time": {},
    "lightgcn": {"model": "lightgcn"},
    "node2vec": {"model": "node2vec"},
    "popularity": {},
}
SEEDED = {"default", "default+time", "lightgcn", "node2vec", "als"}


def make(name: str, params: dict, seed: int):
    if name in ("default", "default+time", "lightgcn", "node2vec"):
        return Recommender(random_state=seed, **params)
    if name == "ease":
        return EASERecommender(**params)
    if name == "als":
        return ALSRecommender(random_state=seed, **params)
    if name == "itemknn":
        return ItemKNNRecommender(**params)
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


def split(frame: pd.DataFrame, protocol: str, seed: int):
    if protocol == "random":
        return train_test_split_interactions(frame, random_state=seed)
    return train_test_split_interactions(frame, method="leave_last", time_col="timestamp")


def fit_eval(m, train: pd.DataFrame, test: pd.DataFrame, time_col: str | None) -> tuple[pd.Series, float]:
    t0 = time.perf_counter()
    m.fit(train, time_col=time_col)
    fit_s = time.perf_counter() - t0
    return evaluate_recommender(m, test, k=10), fit_s


def time_col_for(protocol: str, name: str) -> str | None:
    """The timestamp column goes to fit in the leave-last protocol (predicting the next
    interaction); in the random protocol only the extra row ``default+time`` gets it."""
    return "timestamp" if protocol == "last" or name == "default+time" else None


def run_protocol(pos: pd.DataFrame, protocol: str, models: list[str], seeds: list[int], log,
                 split_seed: int = 0, val_seed: int = 1, with_time: bool = True) -> dict:
    if protocol == "random" and "default" in models and with_time:
        at = models.index("default") + 1
        models = [*models[:at], "default+time", *models[at:]]
    train, test = split(pos, protocol, split_seed)
    fit, val = split(train, protocol, val_seed)
    log(f"[{protocol}] train {len(train)}, test {len(test)}; validation fit {len(fit)}, val {len(val)}")
    chosen, val_scores = {}, {}
    for name in models:
        if name in GRIDS:
            best, best_p = -1.0, None
            for params in GRIDS[name]:
                s, t = fit_eval(make(name, params, 0), fit, val, time_col_for(protocol, name))
                log(f"  tune {name} {json.dumps(params)}: val ndcg@10 {s['ndcg@10']:.4f} "
                    f"recall@10 {s['recall@10']:.4f} ({t:.1f} s)")
                if s["ndcg@10"] > best:
                    best, best_p, best_s = s["ndcg@10"], params, s
            chosen[name] = best_p
            val_scores[name] = best_s
            log(f"  -> {name}: {json.dumps(best_p)} (val ndcg@10 {best:.4f})")
        else:
            chosen[name] = FIXED[name]
            if name in ("default", "default+time", "popularity"):
                val_scores[name], _ = fit_eval(make(name, chosen[name], 0), fit, val,
                                               time_col_for(protocol, name))
                log(f"  val {name}: ndcg@10 {val_scores[name]['ndcg@10']:.4f} "
                    f"recall@10 {val_scores[name]['recall@10']:.4f}")
    rows = []
    for name in models:
        for seed in seeds if name in SEEDED else seeds[:1]:
            s, fit_s = fit_eval(make(name, chosen[name], seed), train, test, time_col_for(protocol, name))
            rows.append({"protocol": protocol, "model": name, "seed": seed, **s.to_dict(), "fit_s": fit_s})
            log(f"  test {name} seed {seed}: ndcg@10 {s['ndcg@10']:.4f} recall@10 {s['recall@10']:.4f} "
                f"fit {fit_s:.2f} s")
    return {"rows": rows, "chosen": chosen, "val": {k: v[["ndcg@10", "recall@10"]].to_dict()
                                                    for k, v in val_scores.items()},
            "sizes": (len(train), len(test), len(fit), len(val))}


def table(res: pd.DataFrame) -> str:
    cols = ["ndcg@10", "recall@10", "hit_rate@10", "map@10", "coverage@10", "fit_s"]
    g = res.groupby("model", sort=False)
    med, lo, hi, n = g[cols].median(), g[cols].min(), g[cols].max(), g.size()
    lines = ["| model | runs | NDCG@10 | recall@10 | hit rate@10 | MAP@10 | coverage@10 | fit (s) |",
             "|---|---|---|---|---|---|---|---|"]
    for m in med.index:
        cells = []
        for c in cols:
            fmt = "{:.2f}" if c == "fit_s" else "{:.4f}"
            cell = fmt.format(med.loc[m, c])
            if n[m] > 1 and c != "fit_s":
                cell += f" ({fmt.format(lo.loc[m, c])}-{fmt.format(hi.loc[m, c])})"
            cells.append(cell)
        lines.append(f"| {m} | {n[m]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def ratios(res: pd.DataFrame) -> list[str]:
    med = res.groupby("model")[["ndcg@10", "recall@10", "fit_s"]].median()
    out = []
    for base in ("ease", "als"):
        if base in med.index and "default" in med.index:
            r = med.loc["default"] / med.loc[base]
            out.append(f"- default / {base}: NDCG@10 {r['ndcg@10']:.3f}x, recall@10 {r['recall@10']:.3f}x, "
                       f"fit time {r['fit_s']:.1f}x")
    return out


def run_splits(pos: pd.DataFrame, split_seeds: list[int], log) -> tuple[str, list[dict]]:
    """The random protocol again on other 80/20 splits (split seed ``s``, validation carved from
    its train with seed ``1000 + s``): EASE and ALS tuned on each split's validation as in the
    main run, ``Recommender()`` with its defaults, every model fitted once (seed 0) on train and
    scored on that split's test."""
    models = ["default", "ease", "als"] if has_implicit() else ["default", "ease"]
    rows = []
    for s in split_seeds:
        r = run_protocol(pos, "random", models, [0], log, split_seed=s, val_seed=1000 + s, with_time=False)
        for row in r["rows"]:
            rows.append({**row, "split": s, "val_ndcg@10": r["val"].get(row["model"], {}).get("ndcg@10")})
    df = pd.DataFrame(rows)
    nd = df.pivot_table(index="split", columns="model", values="ndcg@10")
    rc = df.pivot_table(index="split", columns="model", values="recall@10")
    head = "| split seed | " + " | ".join(f"{m} NDCG@10" for m in models) + " | " + \
        " | ".join(f"{m} recall@10" for m in models) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(models))]
    for sd in nd.index:
        lines.append(f"| {sd} | " + " | ".join(f"{nd.loc[sd, m]:.4f}" for m in models) + " | "
                     + " | ".join(f"{rc.loc[sd, m]:.4f}" for m in models) + " |")
    lines.append("| mean | " + " | ".join(f"{nd[m].mean():.4f}" for m in models) + " | "
                 + " | ".join(f"{rc[m].mean():.4f}" for m in models) + " |")
    notes = []
    for base in models[1:]:
        notes.append(f"- default / {base}: mean NDCG@10 {nd['default'].mean() / nd[base].mean():.3f}x "
                     f"(ahead on {(nd['default'] > nd[base]).sum()} of {len(nd)} splits), mean recall@10 "
                     f"{rc['default'].mean() / rc[base].mean():.3f}x (ahead on "
                     f"{(rc['default'] > rc[base]).sum()} of {len(rc)})")
    return "\n".join(lines) + "\n\n" + "\n".join(notes), rows


#: the first round's grid (frequency exponent 1); the current defaults come from
#: ``recommend_default_carves.py`` (see the results page)
DEFAULT_GRID = [{"dim": d, "l2": l2, "unobserved_weight": a, "recency_half_life": hl, "recency_boost": b,
                 "frequency_exponent": 1.0}
                for d, l2, a, (hl, b) in [*itertools.product([64, 128], [0.02, 0.03], [0.1],
                                                             [(5.0, 5.0), (20.0, 3.0)]),
                                          (64, 0.02, 0.3, (20.0, 3.0))]]


def tune_default(pos: pd.DataFrame, log) -> str:
    """The first round of Recommender()'s iALS defaults (frequency exponent 1): a grid on the
    validation splits of both protocols (random without time, leave-last with time), scored against
    the best tuned baseline (EASE, ALS) of each; the pick maximises the smaller of the two NDCG@10
    ratios."""
    best_base, rows = {}, []
    for protocol in ("random", "last"):
        train, _ = split(pos, protocol, 0)
        fit, val = split(train, protocol, 1)
        tc = "timestamp" if protocol == "last" else None
        base = []
        for name in ("ease", "als"):
            if name == "als" and not has_implicit():
                continue
            base += [fit_eval(make(name, p, 0), fit, val, tc)[0]["ndcg@10"] for p in GRIDS[name]]
        best_base[protocol] = max(base)
        log(f"[{protocol}] best tuned baseline val NDCG@10 {best_base[protocol]:.4f}")
        for params in DEFAULT_GRID:
            sc, t = fit_eval(Recommender(random_state=0, **params), fit, val, tc)
            rows.append({"protocol": protocol, **params, "ndcg@10": sc["ndcg@10"],
                         "recall@10": sc["recall@10"], "fit_s": t})
            log(f"  {json.dumps(params)}: val ndcg@10 {sc['ndcg@10']:.4f} recall@10 {sc['recall@10']:.4f}")
    df = pd.DataFrame(rows)
    keys = list(DEFAULT_GRID[0])
    wide = df.pivot_table(index=keys, columns="protocol", values="ndcg@10")
    for p in ("random", "last"):
        wide[f"{p}/best baseline"] = wide[p] / best_base[p]
    wide["min ratio"] = wide[["random/best baseline", "last/best baseline"]].min(axis=1)
    wide = wide.sort_values("min ratio", ascending=False).reset_index()
    cols = [*keys, "random", "last", "random/best baseline", "last/best baseline", "min ratio"]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(f"{r[c]:.4f}" if c not in keys else f"{r[c]:g}" for c in cols) + " |"
              for _, r in wide.iterrows()]
    return (f"Best tuned baseline on validation: random {best_base['random']:.4f}, "
            f"last {best_base['last']:.4f} (NDCG@10).\n\n" + "\n".join(lines))


# -- scale ------------------------------------------------------------------------------------------
def synthetic(n_users: int = 30_000, n_items: int = 5_000, per_user: int = 33, n_clusters: int = 20,
              in_cluster: float = 0.8, seed: int = 0) -> pd.DataFrame:
    """~1M interactions: each user belongs to a cluster and draws ``in_cluster`` of its items from
    that cluster's items, the rest from all items, both with Zipf(1) popularity; timestamps random."""
    rng = np.random.default_rng(seed)
    item_cluster = rng.integers(0, n_clusters, n_items)
    pop = 1.0 / (1.0 + rng.permutation(n_items))
    user_cluster = rng.integers(0, n_clusters, n_users)
    users, items = [], []
    all_p = pop / pop.sum()
    by_cluster = [np.flatnonzero(item_cluster == c) for c in range(n_clusters)]
    for c in range(n_clusters):
        us = np.flatnonzero(user_cluster == c)
        cand = by_cluster[c]
        p = pop[cand] / pop[cand].sum()
        n_in = round(per_user * in_cluster)
        for u in us:
            a = rng.choice(cand, size=min(n_in, len(cand)), replace=False, p=p)
            b = rng.choice(n_items, size=per_user - len(a), replace=False, p=all_p)
            sel = np.unique(np.concatenate([a, b]))
            users.append(np.full(len(sel), u))
            items.append(sel)
    u = np.concatenate(users)
    i = np.concatenate(items)
    return pd.DataFrame({"user": u, "item": i, "timestamp": rng.random(len(u))})


_CHILD = """
import os, sys, time, json, resource
for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ[v] = "1"
sys.path.insert(0, {root!r})
sys.path.insert(0, {here!r})
import pandas as pd
import recommend_bench as rb
from graphemb import evaluate_recommender
train = pd.read_parquet({train!r}); test = pd.read_parquet({test!r})
m = rb.make({name!r}, {params!r}, 0)
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter(); m.fit(train); fit_s = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
s = evaluate_recommender(m, test.groupby("user").head(5), k=10)
print(json.dumps({{"fit_s": fit_s, "peak_rss_mb": peak / 1024, "rss_before_fit_mb": base / 1024,
                  "ndcg@10": s["ndcg@10"], "recall@10": s["recall@10"]}}))
"""


def run_scale(args, log) -> str:
    import tempfile

    df = synthetic()
    log(f"synthetic: {len(df)} interactions, {df['user'].nunique()} users, {df['item'].nunique()} items")
    train, test = train_test_split_interactions(df, random_state=0)
    tmp = Path(tempfile.mkdtemp())
    train.to_parquet(tmp / "train.parquet")
    test.to_parquet(tmp / "test.parquet")
    specs = [("default", {}), ("als", {"dim": 64, "l2": 5.0, "alpha": 3.0, "epochs": 15}),
             ("ease", {"l2": 500.0}), ("popularity", {})]
    if args.scale_lightgcn:
        specs.append(("lightgcn", {"model": "lightgcn", "epochs": 10}))
    rows = []
    for name, params in specs:
        if name == "als" and not has_implicit():
            continue
        code = _CHILD.format(root=str(HERE.parent), here=str(HERE), train=str(tmp / "train.parquet"),
                             test=str(tmp / "test.parquet"), name=name, params=params)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False,
                             timeout=args.scale_timeout)
        if out.returncode != 0:
            log(f"  {name}: failed: {out.stderr[-500:]}")
            continue
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append({"model": name, "params": json.dumps(params), **r})
        log(f"  {name}: {r}")
    lines = ["| model | params | fit (s) | peak RSS (MB) | RSS before fit (MB) | NDCG@10 | recall@10 |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['model']} | `{r['params']}` | {r['fit_s']:.1f} | {r['peak_rss_mb']:.0f} | "
                     f"{r['rss_before_fit_mb']:.0f} | {r['ndcg@10']:.4f} | {r['recall@10']:.4f} |")
    return (f"Synthetic interactions ({len(df)}; {df['user'].nunique()} users, {df['item'].nunique()} items, "
            f"20 latent clusters, 80% of a user's items from its cluster, Zipf popularity), 80/20 random "
            f"split per user; each model in a fresh process, one thread; metrics on at most 5 test items "
            f"per user.\n\n" + "\n".join(lines))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=Path("/tmp/ml100k"))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--protocols", nargs="+", default=["random", "last"])
    ap.add_argument("--models", nargs="+",
                    default=["default", "ease", "als", "itemknn", "lightgcn", "node2vec", "popularity"])
    ap.add_argument("--scale", action="store_true", help="the generated 1M-interaction run instead")
    ap.add_argument("--tune-default", action="store_true",
                    help="the first-round validation grid of Recommender()'s iALS defaults instead")
    ap.add_argument("--scale-timeout", type=int, default=900, help="seconds per model in --scale")
    ap.add_argument("--scale-lightgcn", action="store_true", help="also LightGCN (10 epochs) in --scale")
    ap.add_argument("--split-seeds", type=int, nargs="+", default=None,
                    help="the random protocol on these other split seeds (default, EASE, ALS) instead")
    ap.add_argument("--out", type=Path, default=None, help="markdown page to write")
    ap.add_argument("--json", type=Path, default=HERE / "results" / "raw" / "recommend.json")
    args = ap.parse_args(argv)

    def log(msg: str) -> None:
        print(msg, flush=True)

    cmd = " ".join([Path(sys.executable).as_posix(), *sys.argv])
    head = [f"Date {dt.date.today().isoformat()}; machine: {platform.machine()}, {os.cpu_count()} cores "
            f"shared with other jobs, 1 thread (BLAS, numba, torch); python {platform.python_version()}.", "",
            f"Command: `{cmd}`", ""]
    if args.scale:
        text = run_scale(args, log)
        if args.out:
            page = "## Recommenders at 1M interactions\n\n" + "\n".join(head) + "\n" + text + "\n"
            args.out.write_text(page)
        return 0

    if args.tune_default:
        pos = load(args.data)
        text = tune_default(pos[pos["rating"] >= 4], log)
        log(text)
        if args.out:
            args.out.write_text("## Validation grid of Recommender()'s iALS defaults\n\n" + "\n".join(head)
                                + "\n" + text + "\n")
        return 0

    if args.split_seeds:
        pos = load(args.data)
        text, rows = run_splits(pos[pos["rating"] >= 4], args.split_seeds, log)
        log(text)
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows}, indent=1, default=str))
        if args.out:
            args.out.write_text("## The random protocol on other splits\n\n" + "\n".join(head) + "\n"
                                + text + "\n")
        return 0

    import torch

    torch.set_num_threads(1)
    models = [m for m in args.models if m != "als" or has_implicit()]
    if "als" in args.models and "als" not in models:
        log("implicit is not installed: ALS skipped")
    pos = load(args.data)
    pos = pos[pos["rating"] >= 4]
    log(f"MovieLens-100K: {len(pos)} positives, {pos['user'].nunique()} users, {pos['item'].nunique()} items")
    out = {p: run_protocol(pos, p, models, args.seeds, log) for p in args.protocols}
    res = pd.DataFrame([r for p in out.values() for r in p["rows"]])
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"rows": res.to_dict(orient="records"),
                                     "chosen": {p: v["chosen"] for p, v in out.items()},
                                     "val": {p: v["val"] for p, v in out.items()}}, indent=1, default=str))
    text = ["## Recommendation benchmark (`benchmarks/recommend_bench.py`)", "", *head,
            f"MovieLens-100K, ratings >= 4 as positives ({len(pos)} interactions, {pos['user'].nunique()} "
            f"users, {pos['item'].nunique()} items). Medians over model seeds {args.seeds} "
            "(min-max in brackets; deterministic models run once). Seen (train) items excluded for every "
            "model. `default` is `Recommender()` with its defaults.", ""]
    for p, v in out.items():
        tr, te, f, va = v["sizes"]
        name = ("random 80/20 split per user (seed 0)" if p == "random"
                else "leave-last-out: each user's last interaction by time is the test item")
        text += [f"### Protocol `{p}`: {name}", "",
                 f"Train {tr}, test {te}; validation carved from train the same way (fit {f}, val {va}). "
                 "Chosen on validation NDCG@10:", ""]
        for m, params in v["chosen"].items():
            if m in GRIDS:
                vs = v["val"][m]
                text.append(f"- {m}: `{json.dumps(params)}` (val NDCG@10 {vs['ndcg@10']:.4f}, "
                            f"recall@10 {vs['recall@10']:.4f}; grid of {len(GRIDS[m])})")
        if "default" in v["val"]:
            vs = v["val"]["default"]
            text.append(f"- default (not tuned here): val NDCG@10 {vs['ndcg@10']:.4f}, "
                        f"recall@10 {vs['recall@10']:.4f}")
        sub = res[res["protocol"] == p]
        text += ["", table(sub), "", *ratios(sub), ""]
        log(table(sub))
        log("\n".join(ratios(sub)))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
