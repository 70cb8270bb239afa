"""One method of the search-curves benchmark, in its own process (see nnstore_bench.py --curves).

Run by ``nnstore_bench.py --curves``, once per (method, metric): with graphtab's Python for the
store (``store-annoy``, ``store-graph``) and with the peers' Python (``/work/venv-peers``) for
``annoy``, ``hnswlib``, ``faiss-hnsw`` and ``faiss-ivf``. Loads the data the driver saved,
builds the index on ``--build-threads`` threads (timed), saves it (file size), reads its peak
RSS (VmHWM, this process only), then for each value of the method's knob measures recall@k
against the driver's exact answers, single-query throughput (one query per call, one thread)
and batch throughput (all queries in one call on ``--batch-threads`` threads). Prints one JSON
object.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def dir_mb(path: Path) -> float:
    path = Path(path)
    if path.is_file():
        return path.stat().st_size / 2**20
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(np.intersect1d(f[f >= 0], t)) / k for f, t in zip(found, truth, strict=True)]))


def unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return (x / np.where(n > 0, n, 1)).astype(np.float32)


class Method:
    """build(X) -> None; save(dir) -> path; single(q, k, knob) -> ids; batch(Q, k, knob, threads)."""


def make_store(kind: str, metric: str, dim: int, n_trees: int, build_threads: int):
    from nnstore import NeighborStore

    class M(Method):
        def build(self, X):
            self.s = NeighborStore(dim, metric=metric, n_trees=n_trees, search=kind, random_state=0,
                                   n_jobs=build_threads)
            self.s.add(np.arange(len(X)), X)
            self.s.rebuild()

        def save(self, d):
            return self.s.save(Path(d) / "store")

        def single(self, q, k, knob):
            kw = {"ef": knob} if kind == "graph" else {"search_k": knob}
            return self.s.query_arrays(q, k, **kw)[2][0]

        def batch(self, Q, k, knob, threads):
            kw = {"ef": knob} if kind == "graph" else {"search_k": knob}
            return self.s.query_arrays(Q, k, n_jobs=threads, **kw)[2]

    return M()


def make_annoy(metric: str, dim: int, n_trees: int, build_threads: int):
    from annoy import AnnoyIndex

    class M(Method):
        def build(self, X):
            self.a = AnnoyIndex(dim, {"cosine": "angular", "euclidean": "euclidean"}[metric])
            self.a.set_seed(0)
            for i, row in enumerate(X.tolist()):
                self.a.add_item(i, row)
            self.a.build(n_trees, n_jobs=build_threads)

        def save(self, d):
            p = Path(d) / "annoy.ann"
            self.a.save(str(p))
            return p

        def single(self, q, k, knob):
            return np.array(self.a.get_nns_by_vector(q.tolist(), k, knob))

        def batch(self, Q, k, knob, threads):
            rows = Q.tolist()
            out = np.full((len(Q), k), -1, dtype=np.int64)

            def work(a, b):
                for i in range(a, b):
                    r = self.a.get_nns_by_vector(rows[i], k, knob)
                    out[i, :len(r)] = r

            bounds = np.linspace(0, len(Q), threads * 4 + 1).astype(int)
            with ThreadPoolExecutor(threads) as ex:
                list(ex.map(lambda ab: work(*ab), itertools.pairwise(bounds)))
            return out

    return M()


def make_hnswlib(metric: str, dim: int, M_: int, efc: int, build_threads: int):
    import hnswlib

    class M(Method):
        def build(self, X):
            self.p = hnswlib.Index(space={"cosine": "cosine", "euclidean": "l2"}[metric], dim=dim)
            self.p.init_index(max_elements=len(X), M=M_, ef_construction=efc, random_seed=0)
            self.p.set_num_threads(build_threads)
            self.p.add_items(X, np.arange(len(X)))

        def save(self, d):
            p = Path(d) / "hnsw.bin"
            self.p.save_index(str(p))
            return p

        def single(self, q, k, knob):
            self.p.set_ef(knob)
            return self.p.knn_query(q, k=k, num_threads=1)[0][0]

        def batch(self, Q, k, knob, threads):
            self.p.set_ef(knob)
            return self.p.knn_query(Q, k=k, num_threads=threads)[0].astype(np.int64)

    return M()


def make_faiss(kind: str, metric: str, dim: int, M_: int, efc: int, build_threads: int, seed: int = 0):
    import faiss

    ip = metric == "cosine"

    class M(Method):
        def build(self, X):
            faiss.omp_set_num_threads(build_threads)
            Xb = unit(X) if ip else X
            mt = faiss.METRIC_INNER_PRODUCT if ip else faiss.METRIC_L2
            if kind == "hnsw":
                self.f = faiss.IndexHNSWFlat(dim, M_, mt)
                self.f.hnsw.efConstruction = efc
            else:
                nlist = int(4 * np.sqrt(len(X)))
                q = faiss.IndexFlatIP(dim) if ip else faiss.IndexFlatL2(dim)
                self.f = faiss.IndexIVFFlat(q, dim, nlist, mt)
                self.f.cp.seed = seed
                self.f.train(Xb)
                self._q = q
            self.f.add(Xb)

        def _set(self, knob):
            if kind == "hnsw":
                self.f.hnsw.efSearch = knob
            else:
                self.f.nprobe = knob

        def save(self, d):
            p = Path(d) / "faiss.index"
            faiss.write_index(self.f, str(p))
            return p

        def single(self, q, k, knob):
            faiss.omp_set_num_threads(1)
            self._set(knob)
            return self.f.search((unit(q[None]) if ip else q[None]), k)[1][0]

        def batch(self, Q, k, knob, threads):
            faiss.omp_set_num_threads(threads)
            self._set(knob)
            return self.f.search(unit(Q) if ip else Q, k)[1].astype(np.int64)

    return M()


KNOBS = {
    "store-annoy": [125, 250, 500, 1000, 2000, 4000, 8000],
    "annoy": [125, 250, 500, 1000, 2000, 4000, 8000],
    "store-graph": [10, 12, 16, 20, 24, 32, 48, 64, 96],
    "hnswlib": [10, 12, 16, 20, 24, 32, 48, 64, 96],
    "faiss-hnsw": [10, 12, 16, 20, 24, 32, 48, 64, 96],
    "faiss-ivf": [1, 2, 4, 8, 16, 32, 64],
}


def single_threaded(m, Q, k: int, knob: int, threads: int, repeats: int) -> float:
    """Best seconds to answer every row of ``Q`` one query per call from ``threads`` threads at once
    (each thread takes every ``threads``-th row)."""
    def part(i):
        for r in range(i, len(Q), threads):
            m.single(Q[r], k, knob)

    best = float("inf")
    with ThreadPoolExecutor(threads) as ex:
        for _ in range(repeats):
            t = time.perf_counter()
            list(ex.map(part, range(threads)))
            best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="npz with X, Q, truth_<metric>")
    ap.add_argument("--method", required=True, choices=sorted(KNOBS))
    ap.add_argument("--metric", required=True)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--n-trees", type=int, default=50)
    ap.add_argument("--graph-trees", type=int, default=10)
    ap.add_argument("--hnsw-m", type=int, default=16)
    ap.add_argument("--hnsw-efc", type=int, default=200)
    ap.add_argument("--build-threads", type=int, default=1)
    ap.add_argument("--batch-threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--single-threads", type=int, default=1,
                    help="also time single queries (one per call) issued from this many threads at once")
    ap.add_argument("--knobs", type=int, nargs="+", default=None,
                    help="knob values to sweep instead of the method's default list")
    args = ap.parse_args()
    z = np.load(args.data)
    X, Q, truth = z["X"], z["Q"], z[f"truth_{args.metric}"][:, :args.k]
    dim, bt = X.shape[1], args.build_threads
    m = {"store-annoy": lambda: make_store("annoy", args.metric, dim, args.n_trees, bt),
         "store-graph": lambda: make_store("graph", args.metric, dim, args.graph_trees, bt),
         "annoy": lambda: make_annoy(args.metric, dim, args.n_trees, bt),
         "hnswlib": lambda: make_hnswlib(args.metric, dim, args.hnsw_m, args.hnsw_efc, bt),
         "faiss-hnsw": lambda: make_faiss("hnsw", args.metric, dim, args.hnsw_m, args.hnsw_efc, bt),
         "faiss-ivf": lambda: make_faiss("ivf", args.metric, dim, args.hnsw_m, args.hnsw_efc, bt),
         }[args.method]()
    base = rss_mb()
    t = time.perf_counter()
    m.build(X)
    build_s = time.perf_counter() - t
    grown = rss_mb() - base
    with tempfile.TemporaryDirectory(prefix="curves-") as d:
        size = dir_mb(m.save(d))
    out = {"method": args.method, "metric": args.metric, "n": len(X), "dim": dim,
           "build_s": build_s, "build_threads": bt, "rss_growth_mb": grown, "peak_rss_mb": peak_rss_mb(),
           "file_mb": size, "points": []}
    k = args.k
    for knob in args.knobs or KNOBS[args.method]:
        m.single(Q[0], k, knob)  # warm (loads compiled kernels on the first call)
        m.batch(Q[:32], k, knob, args.batch_threads)
        best1 = bestb = float("inf")
        for _ in range(args.repeats):
            t = time.perf_counter()
            found = np.array([np.asarray(m.single(Q[i], k, knob))[:k] for i in range(len(Q))])
            best1 = min(best1, time.perf_counter() - t)
            t = time.perf_counter()
            fb = m.batch(Q, k, knob, args.batch_threads)
            bestb = min(bestb, time.perf_counter() - t)
        pt = {"knob": knob, "recall": recall(found, truth), "recall_batch": recall(fb, truth),
              "qps_single": len(Q) / best1, "qps_batch": len(Q) / bestb}
        if args.single_threads > 1:
            pt["qps_single_mt"] = len(Q) / single_threaded(m, Q, k, knob, args.single_threads, args.repeats)
        out["points"].append(pt)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
