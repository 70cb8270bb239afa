"""Query speed of this NeighborStore against an earlier one, in one process, on the same index.

The earlier nnstore is extracted from git into a folder and imported under
another name, e.g.::

    git archive main nnstore | tar -x -C /tmp/nnstore_main
    .venv/bin/python benchmarks/nnstore_ab_bench.py --old /tmp/nnstore_main/nnstore

Both stores index the same generated data (a Gaussian mixture, ``--n`` x
``--dim``, euclidean, 50 trees, random_state=0, so the same Annoy trees; the
answers are checked equal). Then, interleaved in blocks of queries (the order
alternating per block and per repeat, so both see the same machine load):
single queries (one 1-D vector per call, the fast path), single queries from
2 threads, and one-thread batches. Reported: the median over ``--repeats`` of
(earlier time / this time), so > 1 means this store is faster, and this
store's queries per second.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import nnstore


def load_old(path: str):
    spec = importlib.util.spec_from_file_location("nnstore_old", Path(path) / "__init__.py",
                                                  submodule_search_locations=[str(path)])
    mod = importlib.util.module_from_spec(spec)
    sys.modules["nnstore_old"] = mod
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--old", required=True, help="folder of the earlier nnstore package")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--data", default=None, help="unused (the data is generated)")
    args = ap.parse_args()
    old = load_old(args.old)
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(500, args.dim)).astype(np.float32)

    def sample(m):
        return (centres[rng.integers(0, 500, m)]
                + np.float32(0.3) * rng.normal(size=(m, args.dim)).astype(np.float32))

    X, Q = sample(args.n), sample(args.queries)
    stores = {}
    for name, mod in (("this", nnstore), ("earlier", old)):
        t = time.perf_counter()
        stores[name] = mod.NeighborStore(args.dim, metric="euclidean", n_trees=50, random_state=0)
        stores[name].add(np.arange(args.n), X).rebuild()
        print(f"{name}: add + build {time.perf_counter() - t:.1f} s", flush=True)
    a, b = (stores[s].query_arrays(Q[:100], 10)[2] for s in ("this", "earlier"))
    assert (a == b).all(), "the two stores answer differently"
    pool = ThreadPoolExecutor(2)

    def single(s, Qb):
        qa = s.query_arrays
        for q in Qb:
            qa(q, 10)

    def single2(s, Qb):
        h = len(Qb) // 2
        for f in [pool.submit(single, s, Qb[:h]), pool.submit(single, s, Qb[h:])]:
            f.result()

    def batch1(s, Qb):
        s.query_arrays(Qb, 10, n_jobs=1)

    print("| mode | earlier time / this time (median) | per repeat | this qps |")
    print("|---|---|---|---|")
    for mode, fn, bs in (("single", single, 100), ("single, 2 threads", single2, 100),
                         ("batch, 1 thread", batch1, 500)):
        ratios, qps = [], []
        for r in range(args.repeats):
            tot = {"this": 0.0, "earlier": 0.0}
            for j in range(0, len(Q), bs):
                order = ("this", "earlier") if (j // bs + r) % 2 == 0 else ("earlier", "this")
                for side in order:
                    t = time.perf_counter()
                    fn(stores[side], Q[j:j + bs])
                    tot[side] += time.perf_counter() - t
            ratios.append(tot["earlier"] / tot["this"])
            qps.append(len(Q) / tot["this"])
        print(f"| {mode} | {statistics.median(ratios):.3f} | {' '.join(f'{x:.3f}' for x in ratios)} "
              f"| {statistics.median(qps):.0f} |", flush=True)
    pool.shutdown()


if __name__ == "__main__":
    main()
