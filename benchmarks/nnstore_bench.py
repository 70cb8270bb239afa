"""NeighborStore against raw Annoy, hnswlib, faiss and exact numpy, on generated data.

Data (generated, no download): a Gaussian mixture of ``--clusters`` components
in ``--dim`` dimensions. Centres ~ N(0, I); each component has a random
low-rank covariance (an 8-dimensional random subspace with scale 0.35 plus
isotropic noise 0.05), the way learned embeddings concentrate near
low-dimensional manifolds. ``--queries`` held-out queries come from the same
mixture. Two data sets by default: ``--n`` x ``--dim`` (1M x 64) and
``--n2`` x ``--dim2`` (200k x 128).

Measured, per data set, in one run (speed as medians of ``--repeats``
interleaved runs and as a ratio against raw Annoy measured in the same run):

* recall@10 against exact search, cosine and euclidean, at the store's defaults
  (n_trees=50, search_k=None -> n_trees * k);
* queries per second: single queries (a Python loop, one vector per call; on 1
  thread, and on 2 threads each looping over half of every block) and
  one batch of all queries at 1 and 2 threads, store vs raw Annoy querying the
  *same* Annoy index (same n_trees, same search_k) through Annoy's Python binding.
  The store walks that index with its own compiled kernel (Annoy's search; same
  answers), so the ratio is the store's whole query path against Annoy's; raw
  Annoy batches run the same chunked thread pool;
* time to add the vectors (``store.add``) and to build the index, raw Annoy's
  add+build, hnswlib and faiss build times; memory (RSS growth) and file size;
* filtered queries at 1%, 10% and 50% selectivity: recall@10 against exact
  filtered search, and batch throughput;
* peers: hnswlib (M=16, ef_construction=--hnsw-efc (100), ef=64), faiss IndexFlatL2 /
  IndexFlatIP (exact), faiss IndexHNSWFlat (M=16, efConstruction=100, efSearch=64), exact numpy
  (nnstore's blocked float32 search).

Run with the benchmark venv (hnswlib, faiss-cpu and graphtab installed)::

    benchmarks/.venv-bench/bin/python benchmarks/nnstore_bench.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import itertools
import json
import os
import platform
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from nnstore import NeighborStore, col
from nnstore._exact import exact_search


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def dir_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file()) / 2**20


def make_data(n: int, dim: int, clusters: int, n_queries: int, seed: int):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    rank = min(8, dim)
    bases = rng.normal(size=(clusters, rank, dim)).astype(np.float32) / np.sqrt(dim)
    bases *= np.float32(0.35 * np.sqrt(dim / rank))

    def sample(m: int) -> np.ndarray:
        out = np.empty((m, dim), dtype=np.float32)
        step = 100_000
        for s in range(0, m, step):
            e = min(m, s + step)
            c = rng.integers(0, clusters, e - s)
            z = rng.normal(size=(e - s, rank)).astype(np.float32)
            out[s:e] = centres[c] + np.einsum("nr,nrd->nd", z, bases[c]) \
                + np.float32(0.05) * rng.normal(size=(e - s, dim)).astype(np.float32)
        return out

    return sample(n), sample(n_queries)


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    vals = []
    for f, t in zip(found, truth, strict=True):
        t = t[t >= 0]
        if len(t):
            vals.append(len(np.intersect1d(f, t)) / len(t))
    return float(np.mean(vals))


def median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def raw_annoy_batch(index, Q: list, k: int, search_k: int, threads: int):
    out = [None] * len(Q)
    get = index.get_nns_by_vector

    def work(a, b):
        for i in range(a, b):
            out[i] = get(Q[i], k, search_k, True)

    if threads == 1:
        work(0, len(Q))
    else:
        b = np.linspace(0, len(Q), threads * 4 + 1).astype(int)
        with ThreadPoolExecutor(threads) as ex:
            for f in [ex.submit(work, int(x), int(y)) for x, y in itertools.pairwise(b)]:
                f.result()
    return out


def bench_exact(X, Q, metric, k, rows, tag):
    t = time.perf_counter()
    truth, _ = exact_search(Q, X, k, metric)
    t_exact = time.perf_counter() - t
    rows.append({"data": tag, "metric": metric, "tool": "exact numpy", "mode": "batch",
                 "recall@10": 1.0, "qps": round(len(Q) / t_exact)})
    return truth


def bench_store(X, Q, truth, metric, k, repeats, tmp: Path, rows: list, tag: str, filters: bool):
    n, dim = X.shape
    gc.collect()
    r0 = rss_mb()
    t = time.perf_counter()
    store = NeighborStore(dim, metric=metric)
    store.add(np.arange(n), X, metadata=pd.DataFrame({"bucket": (np.arange(n) * 7919) % 100}))
    t_add = time.perf_counter() - t
    t = time.perf_counter()
    store.rebuild()
    t_build = time.perf_counter() - t
    mem = rss_mb() - r0
    store.save(tmp / f"store-{metric}")
    size = dir_mb(tmp / f"store-{metric}")
    ann = (tmp / f"store-{metric}" / "index.ann").stat().st_size / 2**20
    found, _, _ = store.query_arrays(Q, k)
    found = np.array(found, dtype=np.int64)
    rec = recall(found, truth)
    # raw Annoy on the very same index, doing the equivalent work: from the same float32 numpy
    # rows to ids + distances at the same search_k (raw returns Python lists, the store arrays)
    index = store._index
    sk = store.n_trees * k
    dot = metric == "dot"

    def raw_rows(Qb):
        rows_ = Qb.tolist()
        if dot:  # the store's augmented index takes one more (zero) coordinate
            rows_ = [[*r, 0.0] for r in rows_]
        return rows_

    def raw_single(Qb):
        get = index.get_nns_by_vector
        for q in Qb:
            r = q.tolist()
            if dot:
                r.append(0.0)
            get(r, k, sk, True)

    def raw_single_mv(Qb):  # Annoy reading the float32 row through a memoryview, no list
        get = index.get_nns_by_vector
        if dot:
            Qb = np.hstack([Qb, np.zeros((len(Qb), 1), dtype=np.float32)])
        for q in Qb:
            get(memoryview(q), k, sk, True)

    def st_single(Qb):
        qa = store.query_arrays
        for q in Qb:
            qa(q, k)

    def timed(fn):
        w, c = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - w, time.process_time() - c

    # single queries on 2 threads: each thread loops over its half of a block, one vector per
    # call (Annoy releases the GIL inside its search; the Python around it does not)
    pool = ThreadPoolExecutor(2)

    def two_threads(fn, Qb):
        h = len(Qb) // 2
        for f in [pool.submit(fn, Qb[:h]), pool.submit(fn, Qb[h:])]:
            f.result()

    res = {"single": [], "single2": [], "batch1": [], "batch2": []}
    nq = len(Q)
    blocks = [Q[i:i + 100] for i in range(0, nq, 100)]
    for r in range(repeats):
        # single queries: interleaved in blocks of 100 queries (raw, store / store, raw
        # alternating), so both sides see the same machine load
        tot = np.zeros((3, 2))
        for j, Qb in enumerate(blocks):
            trio = [lambda Qb=Qb: raw_single(Qb), lambda Qb=Qb: st_single(Qb),
                    lambda Qb=Qb: raw_single_mv(Qb)]
            order = (0, 1, 2) if (j + r) % 2 == 0 else (2, 1, 0)
            for side in order:
                tot[side] += timed(trio[side])
        res["single"].append(tot)
        tot = np.zeros((2, 2))
        for j, Qb in enumerate(blocks):
            pair = [lambda Qb=Qb: two_threads(raw_single, Qb), lambda Qb=Qb: two_threads(st_single, Qb)]
            for side in ((0, 1) if (j + r) % 2 == 0 else (1, 0)):
                tot[side] += timed(pair[side])
        res["single2"].append(tot)
        for th in (1, 2):  # one batch of all queries, order alternating per repeat
            pair = [lambda th=th: raw_annoy_batch(index, raw_rows(Q), k, sk, th),
                    lambda th=th: store.query_arrays(Q, k, n_jobs=th)]
            tot = np.zeros((2, 2))
            for side in ((0, 1) if r % 2 == 0 else (1, 0)):
                tot[side] += timed(pair[side])
            res[f"batch{th}"].append(tot)
    pool.shutdown()
    for mode, tots in res.items():
        raw_t = statistics.median(t[0, 0] for t in tots)
        st_t = statistics.median(t[1, 0] for t in tots)
        ratio = statistics.median(t[0, 0] / t[1, 0] for t in tots)
        cpu_ratio = statistics.median(t[0, 1] / t[1, 1] for t in tots)
        row = {"data": tag, "metric": metric, "tool": "NeighborStore", "mode": mode,
               "recall@10": round(rec, 4), "qps": round(nq / st_t),
               "raw_annoy_qps": round(nq / raw_t), "qps_ratio_vs_raw": round(ratio, 3),
               "cpu_ratio_vs_raw": round(cpu_ratio, 3),
               "ratios": " ".join(f"{t[0, 0] / t[1, 0]:.3f}" for t in tots)}
        if mode == "single":  # raw Annoy fed a memoryview instead of q.tolist()
            row["raw_mv_qps"] = round(nq / statistics.median(t[2, 0] for t in tots))
            row["qps_ratio_vs_raw_mv"] = round(statistics.median(t[2, 0] / t[1, 0] for t in tots), 3)
        rows.append(row)
    rows.append({"data": tag, "metric": metric, "tool": "NeighborStore", "mode": "build",
                 "add_s": round(t_add, 2), "build_s": round(t_build, 2), "mem_mb": round(mem),
                 "file_mb": round(size), "index_file_mb": round(ann)})
    if filters:
        for sel in (0.01, 0.10, 0.50):
            f = col("bucket") < int(sel * 100)
            t = time.perf_counter()
            fk, _, _ = store.query_arrays(Q, k, filter=f)
            t_f = time.perf_counter() - t
            fk = np.array([[x if x is not None else -1 for x in r] for r in fk], dtype=np.int64)
            t = time.perf_counter()
            tk, _ = store._search(Q, k, filter=f, force_exact=True)
            t_fx = time.perf_counter() - t
            ok = bool((fk >= 0).all()) and bool(((np.arange(n) * 7919 % 100)[fk] < sel * 100).all())
            rows.append({"data": tag, "metric": metric, "tool": "NeighborStore", "mode": f"filter {sel:.0%}",
                         "recall@10": round(recall(fk, tk), 4), "qps": round(nq / t_f),
                         "exact_filtered_qps": round(nq / t_fx), "all_k_pass": ok})


def bench_search_k(X, Q, metric, k, rows, tag, factors=(1, 2, 4, 8, 16)):
    """recall@10 and batch throughput (all threads) against search_k = factor * n_trees * k."""
    n, dim = X.shape
    truth, _ = exact_search(Q, X, k, metric)
    t = time.perf_counter()
    store = NeighborStore(dim, metric=metric).add(np.arange(n), X).rebuild()
    t_build = time.perf_counter() - t
    runs = [("default", None)] + [(f"{f} x n_trees x k", f * store.n_trees * k) for f in factors]
    for label, sk in runs:
        store.query_arrays(Q[:50], k, search_k=sk)  # warm
        t = time.perf_counter()
        found, _, _ = store.query_arrays(Q, k, search_k=sk)
        tt = time.perf_counter() - t
        rec = recall(np.array(found, dtype=np.int64), truth)
        rows.append({"data": tag, "metric": metric, "tool": "NeighborStore",
                     "mode": f"search_k {label}" + ("" if sk is None else f" = {sk}"),
                     "recall@10": round(rec, 4), "qps": round(len(Q) / tt),
                     "build_s": round(t_build, 2) if sk is None else None})


def bench_raw_annoy_build(X, metric, rows, tag):
    from annoy import AnnoyIndex

    dim = X.shape[1]
    gc.collect()
    r0 = rss_mb()
    t = time.perf_counter()
    index = AnnoyIndex(dim, "angular" if metric == "cosine" else "euclidean")
    for i, r in enumerate(X.tolist()):
        index.add_item(i, r)
    t_add = time.perf_counter() - t
    t = time.perf_counter()
    index.build(50, n_jobs=-1)
    t_build = time.perf_counter() - t
    rows.append({"data": tag, "metric": metric, "tool": "raw Annoy", "mode": "build",
                 "add_s": round(t_add, 2), "build_s": round(t_build, 2),
                 "mem_mb": round(rss_mb() - r0)})


def bench_hnswlib(X, Q, truth, metric, k, repeats, tmp, rows, tag, efc):
    import hnswlib

    n, dim = X.shape
    gc.collect()
    r0 = rss_mb()
    t = time.perf_counter()
    index = hnswlib.Index(space="cosine" if metric == "cosine" else "l2", dim=dim)
    index.init_index(max_elements=n, M=16, ef_construction=efc, random_seed=0)
    index.add_items(X, np.arange(n), num_threads=2)
    t_build = time.perf_counter() - t
    mem = rss_mb() - r0
    index.set_ef(64)
    p = tmp / "hnsw.bin"
    index.save_index(str(p))
    size = p.stat().st_size / 2**20
    p.unlink()
    lab, _ = index.knn_query(Q, k=k, num_threads=1)
    rec = recall(lab.astype(np.int64), truth)
    t1 = median_time(lambda: [index.knn_query(q[None, :], k=k, num_threads=1) for q in Q], repeats)
    b1 = median_time(lambda: index.knn_query(Q, k=k, num_threads=1), repeats)
    b2 = median_time(lambda: index.knn_query(Q, k=k, num_threads=2), repeats)
    nq = len(Q)
    for mode, tt in (("single", t1), ("batch1", b1), ("batch2", b2)):
        rows.append({"data": tag, "metric": metric, "tool": "hnswlib", "mode": mode,
                     "recall@10": round(rec, 4), "qps": round(nq / tt)})
    rows.append({"data": tag, "metric": metric, "tool": "hnswlib", "mode": "build",
                 "build_s": round(t_build, 2), "mem_mb": round(mem), "file_mb": round(size)})


def bench_faiss(X, Q, truth, metric, k, repeats, rows, tag, hnsw: bool, efc: int, flat: bool = True):
    import faiss

    dim = X.shape[1]
    Xf, Qf = X, Q
    if metric == "cosine":
        Xf = X / np.linalg.norm(X, axis=1, keepdims=True)
        Qf = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    nq = len(Q)
    for name in (("flat",) if flat else ()) + (("hnsw",) if hnsw else ()):
        gc.collect()
        r0 = rss_mb()
        t = time.perf_counter()
        if name == "flat":
            index = faiss.IndexFlatIP(dim) if metric == "cosine" else faiss.IndexFlatL2(dim)
            label = "faiss IndexFlatIP" if metric == "cosine" else "faiss IndexFlatL2"
        else:
            index = faiss.IndexHNSWFlat(dim, 16, faiss.METRIC_INNER_PRODUCT if metric == "cosine"
                                        else faiss.METRIC_L2)
            index.hnsw.efConstruction = efc
            label = "faiss IndexHNSWFlat"
        faiss.omp_set_num_threads(2)
        index.add(Xf)
        t_build = time.perf_counter() - t
        mem = rss_mb() - r0
        if name == "hnsw":
            index.hnsw.efSearch = 64
        _, lab = index.search(Qf, k)
        rec = recall(lab.astype(np.int64), truth)
        times = {}
        for th in (1, 2):
            faiss.omp_set_num_threads(th)
            times[f"batch{th}"] = median_time(lambda index=index: index.search(Qf, k), repeats)
        if name == "hnsw":
            faiss.omp_set_num_threads(1)
            times["single"] = median_time(lambda index=index: [index.search(q[None, :], k) for q in Qf], 1)
        for mode, tt in times.items():
            rows.append({"data": tag, "metric": metric, "tool": label, "mode": mode,
                         "recall@10": round(rec, 4), "qps": round(nq / tt)})
        rows.append({"data": tag, "metric": metric, "tool": label, "mode": "build",
                     "build_s": round(t_build, 2), "mem_mb": round(mem)})


def to_markdown(df: pd.DataFrame) -> str:
    df = df.copy()
    cols = [c for c in df.columns if df[c].notna().any()]
    df = df[cols].astype(object).where(df[cols].notna(), "")
    head = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    return head + "\n".join("| " + " | ".join(str(v) for v in r) + " |" for r in df.to_numpy())


def write_results(rows: list[dict], args: argparse.Namespace) -> None:
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    meta = {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared)",
            "loadavg_1_5_15": [round(x, 2) for x in os.getloadavg()],
            "args": vars(args)}
    (out / "nnstore.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    (out / "nnstore_table.md").write_text(to_markdown(pd.DataFrame(rows)) + "\n")


# -- recall / throughput curves of the store's two searches and the peers (--curves) -------------
CURVE_METHODS = ["store-graph", "store-annoy", "annoy", "hnswlib", "faiss-hnsw", "faiss-ivf"]
PEER_METHODS = {"annoy", "hnswlib", "faiss-hnsw", "faiss-ivf"}


def _best_at(points: list, target: float, key: str, rkey: str = "recall") -> float:
    """The highest throughput among the knob values reaching ``target`` recall (nan if none)."""
    ok = [p[key] for p in points if p[rkey] >= target]
    return max(ok) if ok else float("nan")


def load_vectors(path: str, n_queries: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a 2-D .npy file as float32, ``n_queries`` random rows held out (seeded) as the queries."""
    V = np.load(path)
    if V.ndim != 2 or len(V) <= n_queries:
        raise ValueError(f"--vectors: expected a 2-D array with more than {n_queries} rows, "
                         f"got shape {V.shape}")
    V = np.ascontiguousarray(V, dtype=np.float32)
    held = np.zeros(len(V), dtype=bool)
    held[np.random.default_rng(seed).choice(len(V), n_queries, replace=False)] = True
    return np.ascontiguousarray(V[~held]), np.ascontiguousarray(V[held])


def run_curves(args: argparse.Namespace) -> None:
    """Every method of CURVE_METHODS in its own process on one generated data set, per metric."""
    import subprocess
    import sys

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.vectors:
        X, Q = load_vectors(args.vectors, args.queries, seed=0)
        args.curves_n, args.curves_dim = X.shape
    else:
        X, Q = make_data(args.curves_n, args.curves_dim, args.clusters, args.queries, seed=0)
    worker = Path(__file__).with_name("_nnstore_curves_worker.py")
    results = []
    with tempfile.TemporaryDirectory(prefix="nnstore-curves-") as tmp:
        arrays = {"X": X, "Q": Q}
        for metric in args.metrics:
            arrays[f"truth_{metric}"] = exact_search(Q, X, args.k, metric)[0]
        data = Path(tmp) / "data.npz"
        np.savez(data, **arrays)
        for metric in args.metrics:
            for method in args.curve_methods:
                py = args.peers_python if method in PEER_METHODS else sys.executable
                cmd = [py, str(worker), "--data", str(data), "--method", method, "--metric", metric,
                       "--k", str(args.k), "--n-trees", str(args.n_trees),
                       "--graph-trees", str(args.graph_trees), "--hnsw-efc", str(args.hnsw_efc),
                       "--build-threads", str(args.build_threads), "--batch-threads", "2",
                       "--repeats", str(args.repeats), "--single-threads", str(args.single_threads)]
                if args.curve_knobs:
                    cmd += ["--knobs", *map(str, args.curve_knobs)]
                t = time.perf_counter()
                load0 = os.getloadavg()[0]
                r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.worker_timeout)
                if r.returncode != 0:
                    print(f"[{method} {metric}] failed: {r.stderr[-2000:]}", flush=True)
                    continue
                res = json.loads(r.stdout.strip().splitlines()[-1])
                # the machine's 1-minute load average before and after (other jobs share it)
                res["loadavg"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
                results.append(res)
                print(f"[{method} {metric}] build {res['build_s']:.1f} s, done in "
                      f"{time.perf_counter() - t:.0f} s", flush=True)
                (out / "nnstore_search.json").write_text(json.dumps(results, indent=1))
    write_curves(results, args)


def write_curves(results: list, args: argparse.Namespace) -> None:
    out = Path(args.out)
    if getattr(args, "vectors", None):
        data_desc = (f"Data: `{args.vectors}`, {args.curves_n:,} x {args.curves_dim} rows after holding out "
                     f"{args.queries} random rows (seed 0) as the queries, k = {args.k}, recall@{args.k} ")
    else:
        data_desc = (f"Data: {args.curves_n:,} x {args.curves_dim} Gaussian mixture ({args.clusters} "
                     f"clusters, low-rank covariances; see `make_data`), {args.queries} held-out queries, "
                     f"k = {args.k}, recall@{args.k} ")
    lines = [
        "# nnstore search: recall vs queries/s (store's Annoy and graph search, raw Annoy, hnswlib, faiss)",
        "",
        f"Generated by `benchmarks/nnstore_bench.py --curves` on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores "
        "(shared with other jobs: compare ratios within this run).",
        data_desc
        + "against exact search. Every method runs in its own process (peak RSS = that process's VmHWM, "
        "data included).",
        f"Builds on {args.build_threads} thread(s); single = one query per call on 1 thread; batch = all "
        "queries in one call on 2 threads. Knobs: store-annoy / annoy: search_k "
        f"(n_trees={args.n_trees}); store-graph: ef (n_trees={args.graph_trees}); hnswlib and faiss-hnsw: "
        f"ef / efSearch (M=16, ef_construction={args.hnsw_efc}); faiss-ivf: nprobe (nlist = 4 sqrt(n)).",
        "",
    ]
    for metric in args.metrics:
        rows = [r for r in results if r["metric"] == metric]
        if not rows:
            continue
        ref = next((r for r in rows if r["method"] == "hnswlib"), None)
        lines += [f"## {metric}", "", "| method | build s | RSS growth MB | peak RSS MB | file MB | "
                  "single q/s @0.95 | batch q/s @0.95 | single q/s @0.99 | batch q/s @0.99 | "
                  "single vs hnswlib @0.95 / @0.99 | build vs hnswlib |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        if args.single_threads > 1:
            t = args.single_threads
            lines[-2] += (f" single q/s ({t} threads) @0.95 | @0.99 | single ({t} threads) vs hnswlib @0.95 |"
                          " @0.99 |")
            lines[-1] += "---|---|---|---|"
        for r in rows:
            p = r["points"]
            v = [_best_at(p, 0.95, "qps_single"), _best_at(p, 0.95, "qps_batch", "recall_batch"),
                 _best_at(p, 0.99, "qps_single"), _best_at(p, 0.99, "qps_batch", "recall_batch")]
            if ref is not None:
                rp = ref["points"]
                r95 = v[0] / _best_at(rp, 0.95, "qps_single")
                r99 = v[2] / _best_at(rp, 0.99, "qps_single")
                rel = f"{r95:.2f} / {r99:.2f}"
                brel = f"{r['build_s'] / ref['build_s']:.2f}"
            else:
                rel = brel = ""
            head = (f"| {r['method']} | {r['build_s']:.1f} | {r['rss_growth_mb']:.0f} | "
                    f"{r['peak_rss_mb']:.0f} | {r['file_mb']:.0f} | ")
            extra = ""
            if args.single_threads > 1:
                w = [_best_at(p, 0.95, "qps_single_mt"), _best_at(p, 0.99, "qps_single_mt")]
                if ref is not None:
                    w += [w[0] / _best_at(ref["points"], 0.95, "qps_single_mt"),
                          w[1] / _best_at(ref["points"], 0.99, "qps_single_mt")]
                extra = " " + " | ".join("-" if np.isnan(x) else (f"{x:,.0f}" if x > 50 else f"{x:.2f}")
                                         for x in w) + " |"
            lines.append(head + " | ".join("-" if np.isnan(x) else f"{x:,.0f}" for x in v)
                         + f" | {rel} | {brel} |" + extra)
        loads = [f"{r['method']} {r['loadavg'][0]:.1f}-{r['loadavg'][1]:.1f}" for r in rows if "loadavg" in r]
        if loads:
            lines += ["", "Load average (1 min) before-after each method: " + ", ".join(loads) + "."]
        lines += ["", "<details><summary>every point</summary>", "",
                  "| method | knob | recall (single) | recall (batch) | single q/s | batch q/s |",
                  "|---|---|---|---|---|---|"]
        mt = args.single_threads > 1
        if mt:
            lines[-2] += f" single q/s, {args.single_threads} threads |"
            lines[-1] += "---|"
        for r in rows:
            for pt in r["points"]:
                lines.append(f"| {r['method']} | {pt['knob']} | {pt['recall']:.4f} | "
                             f"{pt['recall_batch']:.4f} | {pt['qps_single']:,.0f} | {pt['qps_batch']:,.0f} |"
                             + (f" {pt.get('qps_single_mt', float('nan')):,.0f} |" if mt else ""))
        lines += ["", "</details>", ""]
    lines += ["![recall vs queries/s](nnstore_search.png)", "",
              "Command: `PYTHONPATH=. .venv/bin/python benchmarks/nnstore_bench.py --curves "
              + (f"--vectors {args.vectors} " if getattr(args, "vectors", None)
                 else f"--curves-n {args.curves_n} ")
              + f"--metrics {' '.join(args.metrics)} "
              f"--build-threads {args.build_threads}`", ""]
    (out / "nnstore_search.md").write_text("\n".join(lines))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return
    metrics = [m for m in args.metrics if any(r["metric"] == m for r in results)]
    fig, axes = plt.subplots(2, len(metrics), figsize=(6 * len(metrics), 9), squeeze=False)
    for j, metric in enumerate(metrics):
        for i, (key, rkey, title) in enumerate([("qps_single", "recall", "single query, 1 thread"),
                                                ("qps_batch", "recall_batch", "batch, 2 threads")]):
            ax = axes[i, j]
            for r in results:
                if r["metric"] != metric:
                    continue
                pts = sorted(r["points"], key=lambda p: p[rkey])
                ax.plot([p[rkey] for p in pts], [p[key] for p in pts], marker="o", ms=3,
                        lw=2.5 if r["method"].startswith("store") else 1.2, label=r["method"])
            ax.set_yscale("log")
            lo = min((pt[rkey] for r in results if r["metric"] == metric for pt in r["points"]), default=0.85)
            ax.set_xlim(max(0.85, lo - 0.005), 1.001)
            ax.axvspan(0.95, 0.99, color="0.92")
            ax.set_xlabel(f"recall@{args.k}")
            ax.set_ylabel("queries / s")
            ax.set_title(f"{metric}, {args.curves_n // 1000}k x {args.curves_dim}: {title}")
            ax.grid(True, which="both", lw=0.3)
            ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out / "nnstore_search.png", dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="benchmarks/results", help="folder for nnstore.json / nnstore.md")
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--n2", type=int, default=200_000, help="second data set size (0: skip)")
    ap.add_argument("--dim2", type=int, default=128)
    ap.add_argument("--clusters", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3,
                    help="interleaved repeats of the store-vs-raw-Annoy throughput runs")
    ap.add_argument("--peer-repeats", type=int, default=None,
                    help="timing repeats of the peers (default: --repeats)")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-store", action="store_true", help="peers only (raw Annoy build, hnswlib, faiss)")
    ap.add_argument("--hnsw-efc", type=int, default=100, help="ef_construction of the HNSW peers")
    ap.add_argument("--hnsw-max-n", type=int, default=10**9,
                    help="build the (slow) HNSW peers and raw Annoy only up to this n")
    ap.add_argument("--flat-max-n", type=int, default=10**9,
                    help="run faiss's exact Flat peer only up to this n")
    ap.add_argument("--metrics", nargs="+", default=["euclidean", "cosine"],
                    help="metrics run on every data set")
    ap.add_argument("--hnsw-metrics", nargs="+", default=None,
                    help="metrics on which the HNSW peers run (default: all of --metrics); "
                         "raw Annoy's build runs on every metric up to --hnsw-max-n")
    ap.add_argument("--search-k-sweep", nargs="*", default=[],
                    help="metrics for a recall/throughput sweep over search_k on the last data set")
    ap.add_argument("--data", default=None, help="unused (the data is generated)")
    ap.add_argument("--curves", action="store_true",
                    help="recall vs queries/s curves of the store's two searches and the peers "
                         "(writes nnstore_search.md/.json/.png) instead of the default run")
    ap.add_argument("--curves-n", type=int, default=200_000)
    ap.add_argument("--curves-dim", type=int, default=64)
    ap.add_argument("--curve-methods", nargs="+", default=CURVE_METHODS)
    ap.add_argument("--vectors", default=None, metavar="PATH.npy",
                    help="--curves on the rows of this 2-D .npy (e.g. real embeddings) instead of generated "
                         "data; --queries random rows (seed 0) are held out as the queries")
    ap.add_argument("--curve-knobs", type=int, nargs="+", default=None,
                    help="--curves: knob values for every method instead of each method's default list")
    ap.add_argument("--n-trees", type=int, default=50, help="--curves: trees of store-annoy and annoy")
    ap.add_argument("--graph-trees", type=int, default=10, help="--curves: trees of store-graph")
    ap.add_argument("--build-threads", type=int, default=1)
    ap.add_argument("--single-threads", type=int, default=1,
                    help="--curves: also time one-query calls from this many threads at once")
    ap.add_argument("--peers-python", default="/work/venv-peers/bin/python")
    ap.add_argument("--worker-timeout", type=int, default=1800)
    ap.add_argument("--curves-render", nargs="+", default=None, metavar="JSON",
                    help="write nnstore_search.md/.png from saved nnstore_search.json files (several "
                         "runs, e.g. one per metric) instead of running")
    args = ap.parse_args()
    if (args.curves or args.curves_render) and args.hnsw_efc == 100 and "--hnsw-efc" not in os.sys.argv:
        args.hnsw_efc = 200
    if args.curves_render:
        results = [r for f in args.curves_render for r in json.loads(Path(f).read_text())]
        args.metrics = list(dict.fromkeys(r["metric"] for r in results))
        Path(args.out).mkdir(parents=True, exist_ok=True)
        write_curves(results, args)
        return
    if args.curves:
        run_curves(args)
        return
    peer_rep = args.repeats if args.peer_repeats is None else args.peer_repeats
    hnsw_metrics = args.metrics if args.hnsw_metrics is None else args.hnsw_metrics
    rows: list[dict] = []
    sets = [(args.n, args.dim, True)] + ([(args.n2, args.dim2, False)] if args.n2 else [])
    with tempfile.TemporaryDirectory(prefix="nnstore-bench-") as tmp:
        tmp = Path(tmp)
        for n, dim, filters in sets:
            tag = f"{n // 1000}k x {dim}"
            t = time.perf_counter()
            X, Q = make_data(n, dim, args.clusters, args.queries, seed=0)
            print(f"[{tag}] data generated in {time.perf_counter() - t:.1f} s", flush=True)
            for metric in args.metrics:
                truth = bench_exact(X, Q, metric, args.k, rows, tag)
                if not args.no_store:
                    bench_store(X, Q, truth, metric, args.k, args.repeats, tmp, rows, tag,
                                filters=filters and metric == "euclidean")
                    print(f"[{tag}] store {metric} done", flush=True)
                    write_results(rows, args)
                if args.no_peers:
                    continue
                slow_ok = n <= args.hnsw_max_n
                if slow_ok:
                    bench_raw_annoy_build(X, metric, rows, tag)
                    print(f"[{tag}] raw annoy build {metric} done", flush=True)
                    write_results(rows, args)
                hnsw_ok = slow_ok and metric in hnsw_metrics
                if hnsw_ok:
                    bench_hnswlib(X, Q, truth, metric, args.k, peer_rep, tmp, rows, tag,
                                  args.hnsw_efc)
                    print(f"[{tag}] hnswlib {metric} done", flush=True)
                    write_results(rows, args)
                bench_faiss(X, Q, truth, metric, args.k, peer_rep, rows, tag,
                            hnsw=hnsw_ok, efc=args.hnsw_efc, flat=n <= args.flat_max_n)
                print(f"[{tag}] faiss {metric} done", flush=True)
                write_results(rows, args)
            if (n, dim) == sets[-1][:2]:
                for metric in args.search_k_sweep:
                    bench_search_k(X, Q, metric, args.k, rows, tag)
                    print(f"[{tag}] search_k sweep {metric} done", flush=True)
                    write_results(rows, args)
            del X, Q
            gc.collect()
    write_results(rows, args)
    print(to_markdown(pd.DataFrame(rows)))

if __name__ == "__main__":
    main()
