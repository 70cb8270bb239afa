"""tabemb benchmark: record retrieval (FEBRL 4, DeepMatcher sets) against the TF-IDF baseline,
mixed-type classification, transform throughput and pre-training time.

    .venv/bin/python benchmarks/tabemb_bench.py --data /work/shared/data [--only febrl,dm,clf,speed]
    .venv/bin/python benchmarks/tabemb_bench.py --data /work/shared/data --defaults train+valid|test

``--defaults``: issue 19's comparison only: ``TableEncoder()`` with no arguments and no labels
against ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)`` over the
record's columns joined, both searched by plain cosine, on the label-1 pairs of the given splits.

Retrieval: for each record of table B that has a true match, rank all records of
table A by cosine similarity (exact, numpy); top-1 / top-10 = share whose match is
the nearest / within the 10 nearest. Baseline: TF-IDF over character 2-4-grams of
the concatenated row text (scikit-learn), exact cosine neighbours.
Writes benchmarks/results/tabemb.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

DM_SETS = ["dblp_acm", "abt_buy", "amazon_google", "walmart_amazon"]


def row_text(df: pd.DataFrame) -> pd.Series:
    return df.astype("string").fillna("").agg(" ".join, axis=1)


def tfidf_embed(a: pd.DataFrame, b: pd.DataFrame):
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char", ngram_range=(2, 4), lowercase=True)
    vec.fit(pd.concat([row_text(a), row_text(b)]))
    return vec.transform(row_text(a)), vec.transform(row_text(b))


def tfidf_wb_embed(a: pd.DataFrame, b: pd.DataFrame):
    """The issue-19 baseline: ``TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4),
    sublinear_tf=True)`` over each record's columns joined, fitted on both tables."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
    x = vec.fit_transform(pd.concat([row_text(a), row_text(b)]))
    return x[:len(a)], x[len(a):]


def bench_defaults(root: Path, sets: list[str], out: dict, splits: tuple = ("train", "valid"),
                   variants: dict | None = None, seeds: tuple = (0,)) -> None:
    """``TableEncoder()`` with no arguments (``random_state`` only) and no labels, fitted on
    both tables stacked, against the char_wb TF-IDF baseline: for each B record of a label-1
    pair of ``splits``, is its nearest A record by plain cosine (exact) a match? ``variants``:
    more encoders (name -> keyword arguments) measured the same way; every encoder runs once per
    seed of ``seeds`` (labels get `` rs=<seed>`` for seeds other than 0)."""
    from tabemb import TableEncoder

    variants = {"TableEncoder()": {}, **(variants or {})}
    res = out.setdefault("defaults", {}).setdefault("+".join(splits), {})
    for name in sets:
        a, b, sp = load_dm(root, name)
        qb, truth = truth_for(a, b, pd.concat([sp[s] for s in splits]))
        ta, tb = tfidf_wb_embed(a, b)
        row = {"queries": len(qb), "tfidf_char_wb": topk_hits(ta, tb[qb], truth)}
        for (base, kw), seed in itertools.product(variants.items(), seeds):
            label = base if seed == 0 else f"{base} rs={seed}"
            t = time.perf_counter()
            emb = TableEncoder(random_state=seed, **kw).fit_transform(pd.concat([a, b])).to_numpy()
            row[label] = topk_hits(emb[:len(a)], emb[len(a):][qb], truth)
            row[label + " seconds"] = time.perf_counter() - t
            row[label + " dim"] = emb.shape[1]
        res[name] = row
        print(f"defaults ({'+'.join(splits)}) {name}: " + ", ".join(
            f"{k} {v[0]:.4f}" for k, v in row.items() if isinstance(v, tuple)), flush=True)


def topk_hits(A, B, truth: list[set], k: int = 10) -> tuple[float, float]:
    """A: (n_a, d) rows of table A, B: (n_q, d) query rows; truth[i] = positions in A matching query i."""
    hits1 = hits10 = 0
    for start in range(0, B.shape[0], 1024):
        S = B[start:start + 1024] @ A.T
        S = S.toarray() if hasattr(S, "toarray") else np.asarray(S)
        top = np.argpartition(-S, min(k, S.shape[1] - 1), axis=1)[:, :k]
        order = np.take_along_axis(S, top, axis=1).argsort(axis=1)[:, ::-1]
        top = np.take_along_axis(top, order, axis=1)
        for i, row in enumerate(top):
            t = truth[start + i]
            hits1 += int(row[0] in t)
            hits10 += int(any(j in t for j in row))
    return hits1 / len(truth), hits10 / len(truth)


def csls_hits(A, B, qb: np.ndarray, truth: list[set], k: int = 3) -> tuple[float, float]:
    """topk_hits by CSLS (``2 cos - r_B(a)``; ``r_A(b)`` is constant per query) for any unit
    rows, dense or sparse (the TF-IDF baseline; the library's ``hub_corrected`` needs dense
    rows). ``r_B(a)``: mean cosine of A row ``a`` to its ``k`` most similar rows of all of B."""
    n_a = A.shape[0]
    r_a = np.empty(n_a, dtype=np.float64)
    for s in range(0, n_a, 512):
        blk = A[s:s + 512] @ B.T
        blk = blk.toarray() if hasattr(blk, "toarray") else np.asarray(blk)
        r_a[s:s + 512] = -np.partition(-blk, k - 1, axis=1)[:, :k].mean(axis=1)
    hits1 = hits10 = 0
    for s in range(0, len(qb), 512):
        S = B[qb[s:s + 512]] @ A.T
        S = 2 * (S.toarray() if hasattr(S, "toarray") else np.asarray(S)) - r_a[None, :]
        top = np.argsort(-S, axis=1, kind="stable")[:, :10]
        for i, row in enumerate(top):
            t = truth[s + i]
            hits1 += int(row[0] in t)
            hits10 += int(any(j in t for j in row))
    return hits1 / len(truth), hits10 / len(truth)


def load_dm(root: Path, name: str):
    d = root / "entity_matching" / name
    a = pd.read_csv(d / "tableA.csv", dtype=str).set_index("id")
    b = pd.read_csv(d / "tableB.csv", dtype=str).set_index("id")
    a.index, b.index = a.index.astype(int), b.index.astype(int)
    splits = {s: pd.read_csv(d / f"{s}.csv") for s in ("train", "valid", "test")}
    return a, b, splits


def groups_of(a: pd.DataFrame, b: pd.DataFrame) -> np.ndarray:
    """The table of each row of ``pd.concat([a, b])`` (self-training pairs across tables only)."""
    return np.array(["a"] * len(a) + ["b"] * len(b))


def truth_for(a, b, pairs: pd.DataFrame):
    pos = pairs[pairs["label"] == 1]
    qb = sorted(pos["rtable_id"].unique())
    apos = a.index.get_indexer
    m = {q: set() for q in qb}
    for la, rb in zip(pos["ltable_id"], pos["rtable_id"], strict=True):
        m[rb].add(int(apos([la])[0]))
    return b.index.get_indexer(qb), [m[q] for q in qb]


def matcher_top1(a, b, enc, train: pd.DataFrame, queries: list[tuple]) -> list[float]:
    """Record matching on top of the fine-tuned encoder (not an embedding): a supervised
    ``RecordMatcher(encoder=enc)`` fitted on the train pairs blocks with ``enc`` (10 nearest
    neighbours each way) and scores every candidate pair; each query's answer is its
    best-scoring candidate (a query without candidates counts as a miss). ``queries``:
    ``(qb, truth)`` per query set, as from :func:`truth_for`; one top-1 per set."""
    from tabemb import RecordMatcher

    m = RecordMatcher(random_state=0, encoder=enc).fit(a, b, labels=train)
    c = m.predict(a, b).candidates
    best = (c.sort_values("score", ascending=False, kind="stable").drop_duplicates("index_b")
            .set_index("index_b")["index_a"])
    pos_a = pd.Series(np.arange(len(a)), index=a.index)
    return [float(np.mean([int(pos_a[best[k]]) in t if k in best.index else False
                           for k, t in zip(b.index[qb], truth, strict=True)])) for qb, truth in queries]


def bench_febrl(root: Path, encoder_kw: dict, out: dict) -> None:
    """FEBRL 4, pre-training only (no labels); ``encoder_kw`` includes the self-training rounds."""
    from tabemb import TableEncoder

    d = root / "febrl"
    a = pd.read_csv(d / "dataset4a.csv", skipinitialspace=True, dtype=str, index_col="rec_id")
    b = pd.read_csv(d / "dataset4b.csv", skipinitialspace=True, dtype=str, index_col="rec_id")
    ea = a.index.str.extract(r"rec-(\d+)")[0].to_numpy()
    eb = b.index.str.extract(r"rec-(\d+)")[0].to_numpy()
    pos = {e: i for i, e in enumerate(ea)}
    truth = [{pos[e]} for e in eb]
    ta, tb = tfidf_embed(a, b)
    base = topk_hits(ta, tb, truth)
    enc0 = TableEncoder(**{**encoder_kw, "epochs": 0, "self_training": 0}).fit(pd.concat([a, b]))
    init = topk_hits(enc0.transform(a).to_numpy(), enc0.transform(b).to_numpy(), truth)
    t = time.perf_counter()
    enc = TableEncoder(**encoder_kw).fit(pd.concat([a, b]), groups=groups_of(a, b))
    fit_s = time.perf_counter() - t
    pre = topk_hits(enc.transform(a).to_numpy(), enc.transform(b).to_numpy(), truth)
    out["febrl"] = {"tfidf": base, "init": init, "pretrained": pre, "pretrain_s": fit_s,
                    "rows": len(a) + len(b), "dim": enc.dim_}
    print(f"FEBRL4: tfidf {base}, init {init}, pre-trained {pre} ({fit_s:.1f} s)", flush=True)


def bench_dm(root: Path, encoder_kw: dict, out: dict, sets: list[str], tune_epochs: int,
             tune_lr: float | None, tune_weights: str = "kinds") -> None:
    from tabemb import TableEncoder, hub_corrected

    for name in sets:
        a, b, splits = load_dm(root, name)
        allp = pd.concat(splits.values())
        qb, truth = truth_for(a, b, allp)
        ta, tb = tfidf_embed(a, b)
        base = topk_hits(ta, tb[qb], truth)
        qt, truth_t = truth_for(a, b, splits["test"])
        base_t = topk_hits(ta, tb[qt], truth_t)
        enc0 = TableEncoder(**{**encoder_kw, "epochs": 0, "self_training": 0}).fit(pd.concat([a, b]))
        init = topk_hits(enc0.transform(a).to_numpy(), enc0.transform(b).to_numpy()[qb], truth)
        t = time.perf_counter()
        enc = TableEncoder(**encoder_kw).fit(pd.concat([a, b]), groups=groups_of(a, b))
        fit_s = time.perf_counter() - t
        ea, eb = enc.transform(a).to_numpy(), enc.transform(b).to_numpy()
        pre = topk_hits(ea, eb[qb], truth)
        pre_t = topk_hits(ea, eb[qt], truth_t)
        ha, hb = hub_corrected(ea, eb, 3)  # = enc.link_embeddings(a, b) (tested), without a second transform
        pre_h, pre_ht = topk_hits(ha, hb[qb], truth), topk_hits(ha, hb[qt], truth_t)
        base_h, base_ht = csls_hits(ta, tb, qb, truth), csls_hits(ta, tb, qt, truth_t)
        tr, va = splits["train"], splits["valid"]
        t = time.perf_counter()
        enc.fine_tune_pairs(a, b, tr[["ltable_id", "rtable_id"]], tr["label"],
                            valid_pairs=va[["ltable_id", "rtable_id"]], valid_labels=va["label"],
                            epochs=tune_epochs, learning_rate=tune_lr, weights=tune_weights)
        tune_s = time.perf_counter() - t
        ea, eb = enc.transform(a).to_numpy(), enc.transform(b).to_numpy()
        tuned_t = topk_hits(ea, eb[qt], truth_t)
        ha, hb = hub_corrected(ea, eb, 3)  # = enc.link_embeddings(a, b) (tested), without a second transform
        tuned_ht = topk_hits(ha, hb[qt], truth_t)
        t = time.perf_counter()
        matcher_v, matcher_t = matcher_top1(a, b, enc, tr, [truth_for(a, b, va), (qt, truth_t)])
        matcher_s = time.perf_counter() - t
        out.setdefault("dm", {})[name] = {
            "tfidf_all": base, "untrained_all": init, "pretrained_all": pre, "tfidf_test": base_t,
            "pretrained_test": pre_t,
            "fine_tuned_test": tuned_t, "hub": {"tfidf_all": base_h, "tfidf_test": base_ht,
                                                "pretrained_all": pre_h, "pretrained_test": pre_ht,
                                                "fine_tuned_test": tuned_ht},
            "matcher_test_top1": matcher_t, "matcher_valid_top1": matcher_v,
            "matcher_s": matcher_s,
            "pretrain_s": fit_s, "fine_tune_s": tune_s,
            "valid_top1_per_epoch": enc.pair_valid_top1_, "valid_top10_per_epoch": enc.pair_valid_top10_,
            "best_epoch": enc.pair_best_epoch_,
            "schema": enc.schema_.to_frame()["kind"].to_dict()}
        print(f"{name}: all label-1: tfidf {base} untrained {init} pre {pre} | test: tfidf {base_t} "
              f"pre {pre_t} "
              f"tuned {tuned_t} | CSLS: tfidf {base_h} / test {base_ht}, pre {pre_h} / test {pre_ht}, "
              f"tuned test {tuned_ht} | matcher top-1 valid {matcher_v:.4f} test {matcher_t:.4f} "
              f"({fit_s:.1f} s + {tune_s:.1f} s; valid top-1 per epoch "
              f"{np.round(enc.pair_valid_top1_, 3).tolist()}, kept epoch {enc.pair_best_epoch_})", flush=True)


def make_classification_data(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """Mixed types, high-cardinality categoricals and a known rule (with 5% label noise)."""
    rng = np.random.default_rng(seed)
    n_city, n_prod = 250, 200  # HistGradientBoosting handles at most 255 categories natively
    city_risk = rng.normal(size=n_city)
    prod_group = rng.integers(0, 3, n_prod)
    city = rng.integers(0, n_city, n)
    prod = rng.zipf(1.3, n) % n_prod
    age = rng.uniform(18, 80, n)
    income = rng.lognormal(10, 0.5, n)
    channel = rng.choice(["web", "store", "phone"], n)
    member = rng.random(n) < 0.3
    score = (city_risk[city] + np.where(prod_group[prod] == 0, 1.0, -0.5)
             + 0.04 * (age - 50) * (channel == "web") + 0.8 * member - 0.5)
    y = (score > 0).astype(int)
    flip = rng.random(n) < 0.05
    y[flip] = 1 - y[flip]
    df = pd.DataFrame({"city": [f"city_{c}" for c in city], "product": [f"sku-{p:04d}" for p in prod],
                       "age": age.round(1), "income": income.round(2), "channel": channel,
                       "member": member})
    df.loc[rng.random(n) < 0.05, "income"] = np.nan
    return df, y


def bench_clf(encoder_kw: dict, out: dict) -> None:
    from sklearn.compose import make_column_transformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from tabemb import TableEncoder

    df, y = make_classification_data(12000, 0)
    tr, te = np.arange(8000), np.arange(8000, 12000)
    cats, nums = ["city", "product", "channel", "member"], ["age", "income"]
    onehot = make_pipeline(
        make_column_transformer((OneHotEncoder(handle_unknown="ignore"), cats),
                                (make_pipeline(StandardScaler()), nums)),
        LogisticRegression(max_iter=2000))
    X = df.copy()
    X["income"] = X["income"].fillna(X["income"].iloc[tr].median())
    X["member"] = X["member"].astype(str)
    onehot.fit(X.iloc[tr], y[tr])
    acc_oh = accuracy_score(y[te], onehot.predict(X.iloc[te]))
    Xh = df.copy()
    for c in cats:
        Xh[c] = Xh[c].astype("category")
    hgb = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=0)
    hgb.fit(Xh.iloc[tr], y[tr])
    acc_hgb = accuracy_score(y[te], hgb.predict(Xh.iloc[te]))
    t = time.perf_counter()
    enc = TableEncoder(**{**encoder_kw, "epochs": 2}).fit(df.iloc[tr])
    enc.fine_tune(df.iloc[tr], y[tr], epochs=15)
    tune_s = time.perf_counter() - t
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    lr.fit(enc.transform(df.iloc[tr]), y[tr])
    acc_emb = accuracy_score(y[te], lr.predict(enc.transform(df.iloc[te])))
    out["classification"] = {"fine_tuned_emb_lr": acc_emb, "onehot_lr": acc_oh, "hgb": acc_hgb,
                             "fit_s": tune_s, "schema": enc.schema_.to_frame()["kind"].to_dict()}
    print(f"classification acc: emb+LR {acc_emb:.4f}, one-hot+LR {acc_oh:.4f}, HGB {acc_hgb:.4f} "
          f"({tune_s:.1f} s)", flush=True)


def clustered(n: int, dim: int, rng: np.random.Generator, n_centers: int = 2000) -> np.ndarray:
    """Unit vectors around ``n_centers`` shared random centres (two tables drawn from it overlap)."""
    cent = rng.standard_normal((n_centers, dim)).astype(np.float32)
    x = cent[rng.integers(0, n_centers, n)] + 0.7 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def bench_hub(out: dict, sizes: tuple = (10_000, 50_000, 200_000), dim: int = 128) -> None:
    """Cost of the hubness penalties (``hub_penalties``, k = 3) on generated clustered tables of
    n x n rows, on the default path (exact up to 2.5e9 similarities, inverted lists above); at
    50,000 also the inverted lists forced, against the exact penalties."""
    import tabemb._hubness as hubness

    rng = np.random.default_rng(0)
    res = {}
    for n in sizes:
        a, b = clustered(n, dim, rng), clustered(n, dim, rng)
        t = time.perf_counter()
        ra, rb = hubness.hub_penalties(a, b, 3)
        row = {"seconds": time.perf_counter() - t,
               "path": "exact" if n * n <= hubness.EXACT_LIMIT else "ivf (n_probe 64)"}
        if n == 50_000:
            limit, hubness.EXACT_LIMIT = hubness.EXACT_LIMIT, 0
            t = time.perf_counter()
            ia, ib = hubness.hub_penalties(a, b, 3)
            row["ivf_seconds"] = time.perf_counter() - t
            hubness.EXACT_LIMIT = limit
            d = np.abs(np.concatenate([ia - ra, ib - rb]))
            row["mean_abs_diff"], row["max_abs_diff"] = float(d.mean()), float(d.max())
        res[n] = row
        print(f"hub penalties {n} x {n}: {row}", flush=True)
    out["hub"] = {"dim": dim, "sizes": res}


def bench_speed(root: Path, encoder_kw: dict, out: dict, threads: list[int], repeats: int = 5) -> None:
    import numba
    import torch

    from tabemb import TableEncoder

    d = root / "febrl"
    a = pd.read_csv(d / "dataset4a.csv", skipinitialspace=True, dtype=str, index_col="rec_id")
    b = pd.read_csv(d / "dataset4b.csv", skipinitialspace=True, dtype=str, index_col="rec_id")
    enc = TableEncoder(**{**encoder_kw, "epochs": 1}).fit(pd.concat([a, b]))
    big = pd.concat([a, b] * 5).iloc[:50000]  # 50,000 rows
    enc.transform(big.iloc[:1000])
    res = {}
    for nt in threads:
        torch.set_num_threads(nt)
        numba.set_num_threads(nt)
        enc.transform(big.iloc[:1000])
        wall, cpu = [], []
        for _ in range(repeats):
            t, c = time.perf_counter(), time.process_time()
            enc.transform(big)
            wall.append(time.perf_counter() - t)
            cpu.append(time.process_time() - c)
        res[nt] = {"median_s": float(np.median(wall)), "rows_per_s": len(big) / float(np.median(wall)),
                   "cpu_s": float(np.median(cpu)), "rows_per_cpu_s": len(big) / float(np.median(cpu)),
                   "load_avg": os.getloadavg()[0]}
        print(f"transform, {nt} thread(s): {res[nt]['rows_per_s']:,.0f} rows/s wall, "
              f"{res[nt]['rows_per_cpu_s']:,.0f} rows per CPU-second ({len(big)} FEBRL rows, dim {enc.dim_}, "
              f"median of {repeats}, load average {res[nt]['load_avg']:.1f})", flush=True)
    out["speed"] = {"rows": len(big), "dim": enc.dim_, "threads": res}


def markdown(out: dict, command: str) -> str:
    """The results as the markdown table of benchmarks/results/tabemb.md."""
    f = lambda t: f"{t[0]:.3f} / {t[1]:.3f}"  # noqa: E731
    lines = [f"## tabemb: benchmarks/tabemb_bench.py ({out['date']})", "",
             f"Machine: {out['machine']} (shared with other jobs: timings are noisy). "
             f"Command: `{command}`", ""]
    for split, rows in out.get("defaults", {}).items():
        first = next(iter(rows.values()))
        labels = [k for k in first if isinstance(first[k], list | tuple)]
        lines += [f"### No arguments, no labels: top-1 / top-10 by plain cosine, label-1 pairs of {split}",
                  "",
                  "| dataset | queries | " + " | ".join(labels) + " |",
                  "|---|---|" + "---|" * len(labels)]
        for name, r in rows.items():
            lines.append(f"| {name} | {r['queries']} | " + " | ".join(f(r[k]) for k in labels) + " |")
        lines.append("")
    if "febrl" in out:
        r = out["febrl"]
        lines += ["### Retrieval, FEBRL 4 (4b -> 4a, pre-training only, no labels), top-1 / top-10", "",
                  "| TF-IDF baseline | TableEncoder untrained | TableEncoder pre-trained "
                  "| pre-training time |",
                  "|---|---|---|---|",
                  f"| {f(r['tfidf'])} | {f(r['init'])} | {f(r['pretrained'])} | "
                  f"{r['pretrain_s']:.0f} s ({r['rows']} rows, {r['dim']} dims) |", ""]
    if "dm" in out:
        lines += ["### Retrieval, DeepMatcher sets (each B record of a label-1 pair: its A match), "
                  "top-1 / top-10", "",
                  "| dataset | TF-IDF, all label-1 | untrained, all label-1 | pre-trained, all label-1 "
                  "| TF-IDF, test | "
                  "pre-trained, test | fine_tune_pairs (train, valid early stop) -> test | kept epoch "
                  "| pre-train + fine-tune time |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for name, r in out["dm"].items():
            lines.append(f"| {name} | {f(r['tfidf_all'])} | {f(r['untrained_all'])} | "
                         f"{f(r['pretrained_all'])} | "
                         f"{f(r['tfidf_test'])} | "
                         f"{f(r['pretrained_test'])} | {f(r['fine_tuned_test'])} | {r['best_epoch']} | "
                         f"{r['pretrain_s']:.0f} s + {r['fine_tune_s']:.0f} s |")
        lines += ["", "Other retrieval criteria over the same encoders: hubness-corrected (CSLS, k = 3: "
                  "`TableEncoder.link_embeddings`; the TF-IDF baseline ranked the same way), and record "
                  "matching (`RecordMatcher(encoder=<fine-tuned encoder>)` fitted on the train pairs, each "
                  "query's best-scoring candidate; not an embedding). Top-1 / top-10, matcher top-1 only.",
                  "",
                  "| dataset | TF-IDF + CSLS, all label-1 | pre-trained + CSLS, all label-1 "
                  "| TF-IDF + CSLS, test | pre-trained + CSLS, test | fine-tuned + CSLS -> test "
                  "| RecordMatcher, valid / test |",
                  "|---|---|---|---|---|---|---|"]
        for name, r in out["dm"].items():
            h = r["hub"]
            lines.append(f"| {name} | {f(h['tfidf_all'])} | {f(h['pretrained_all'])} | "
                         f"{f(h['tfidf_test'])} | {f(h['pretrained_test'])} | {f(h['fine_tuned_test'])} | "
                         f"{r['matcher_valid_top1']:.3f} / {r['matcher_test_top1']:.3f} "
                         f"({r['matcher_s']:.0f} s) |")
        lines.append("")
    if "classification" in out:
        r = out["classification"]
        lines += ["### Mixed-type classification (generated: 250-level and 200-level categoricals, a known "
                  "rule with an interaction, 5% label noise; 8000 train / 4000 test), accuracy", "",
                  "| fine-tuned embeddings + LR | one-hot + LR | HistGradientBoosting "
                  "| encoder fit + fine-tune |",
                  "|---|---|---|---|",
                  f"| {r['fine_tuned_emb_lr']:.4f} | {r['onehot_lr']:.4f} | {r['hgb']:.4f} "
                  f"| {r['fit_s']:.0f} s |",
                  ""]
    if "hub" in out:
        r = out["hub"]
        lines += [f"### Hubness penalties (k = 3), generated clustered tables, {r['dim']} dims", "",
                  "| rows per table | default path | seconds | inverted lists forced: seconds "
                  "| their error against exact: mean / max |",
                  "|---|---|---|---|---|"]
        for n, x in r["sizes"].items():
            ivf = (f"{x['ivf_seconds']:.1f} | {x['mean_abs_diff']:.4f} / {x['max_abs_diff']:.4f}"
                   if "ivf_seconds" in x else " | ")
            lines.append(f"| {int(n):,} | {x['path']} | {x['seconds']:.1f} | {ivf} |")
        lines.append("")
    if "speed" in out:
        r = out["speed"]
        lines += ["### transform throughput (50,000 FEBRL rows, 10 columns, "
                  f"{r['dim']} dims, median of 5 runs)", "",
                  "| threads | rows/s (wall) | rows per CPU-second | load average |", "|---|---|---|---|"]
        for nt, x in r["threads"].items():
            lines.append(f"| {nt} | {x['rows_per_s']:,.0f} | {x['rows_per_cpu_s']:,.0f} "
                         f"| {x['load_avg']:.1f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--only", default="febrl,dm,clf,hub,speed")
    p.add_argument("--sets", default=",".join(DM_SETS))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--tune-epochs", type=int, default=15)
    p.add_argument("--tune-lr", type=float, default=None,
                   help="fine_tune_pairs learning rate (default: its own, 0.2 for kinds, 0.05 for buckets)")
    p.add_argument("--tune-weights", default="kinds", choices=["kinds", "buckets", "both"],
                   help="fine_tune_pairs(weights=...)")
    p.add_argument("--speed-threads", default="1,2")
    p.add_argument("--self-training", type=int, default=1,
                   help="TableEncoder(self_training=...) for the retrieval sets (FEBRL, DeepMatcher)")
    p.add_argument("--defaults", default=None, choices=["train+valid", "test"],
                   help="only the issue-19 comparison: TableEncoder() (no arguments, no labels) against "
                        "the char_wb TF-IDF baseline on the DeepMatcher sets, queries from these splits")
    p.add_argument("--variants", default="{}",
                   help="with --defaults: JSON {name: TableEncoder keyword arguments} measured too")
    p.add_argument("--seeds", default="0",
                   help="with --defaults: comma-separated random_state values, one run per encoder and seed")
    p.add_argument("--out", default=str(Path(__file__).parent / "results" / "tabemb.json"))
    args = p.parse_args()
    import numba
    import torch

    torch.set_num_threads(args.threads)
    numba.set_num_threads(args.threads)
    root = Path(args.data)
    kw = {"random_state": 0, **json.loads(os.environ.get("TABEMB_KW", "{}"))}
    if args.epochs is not None:
        kw["epochs"] = args.epochs
    only = args.only.split(",")
    out: dict = {"tune_epochs": args.tune_epochs, "tune_lr": args.tune_lr, "tune_weights": args.tune_weights,
                 "machine": f"{platform.machine()} {os.cpu_count()} cpus, torch threads {args.threads}",
                 "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "encoder": kw}
    match_kw = {**kw, "self_training": args.self_training}
    out["retrieval_encoder"] = match_kw
    if args.defaults:
        variants = {k: {kk: tuple(vv) if kk == "ngram_range" else vv for kk, vv in v.items()}
                    for k, v in json.loads(args.variants).items()}
        bench_defaults(root, args.sets.split(","), out, tuple(args.defaults.split("+")), variants,
                       tuple(int(x) for x in args.seeds.split(",")))
        only = []
    if "febrl" in only:
        bench_febrl(root, match_kw, out)
    if "dm" in only:
        bench_dm(root, match_kw, out, args.sets.split(","), args.tune_epochs, args.tune_lr, args.tune_weights)
    if "clf" in only:
        bench_clf(kw, out)
    if "hub" in only:
        bench_hub(out)
    if "speed" in only:
        bench_speed(root, kw, out, [int(x) for x in args.speed_threads.split(",")])
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=1, default=str))
    print(markdown(out, "benchmarks/tabemb_bench.py " + " ".join(os.sys.argv[1:])))


if __name__ == "__main__":
    main()
