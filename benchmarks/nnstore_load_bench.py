"""What validating a store at load costs: the Annoy index check and the whole NeighborStore.load.

Builds (once, cached in ``--work``) a store of ``--n`` x ``--dim`` generated
vectors (a Gaussian mixture; euclidean, 50 trees, the defaults) and measures,
as medians of ``--repeats`` runs with the files in the page cache:

* ``map_s``: mapping the index file alone (a memmap and the roots, no check);
* ``validate_s``: :class:`nnstore._annoy_search.AnnoyFile`, which maps and
  validates the whole file (see that module's docstring);
* ``one_pass_s``: one ``isfinite`` pass over the whole file as float32, a yardstick
  for the machine's speed at the time (the check's cost in file passes is
  ``validate_s / one_pass_s``);
* ``load_noverify_s`` / ``load_verify_s``: ``NeighborStore.load(mmap=True)``
  with ``verify=False`` (content checks only) and ``verify=True`` (sha256 of
  every file as well).

Run::

    .venv/bin/python benchmarks/nnstore_load_bench.py --n 200000
    .venv/bin/python benchmarks/nnstore_load_bench.py --n 1000000
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

import numpy as np

from nnstore import NeighborStore
from nnstore._annoy_search import AnnoyFile, _find_roots


def median_time(fn, repeats: int) -> float:
    ts = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--work", default="/tmp/nnstore_load_bench")
    ap.add_argument("--data", default=None, help="unused (the data is generated)")
    args = ap.parse_args()
    path = Path(args.work) / f"store_{args.n}x{args.dim}"
    if not (path / "manifest.json").exists():
        rng = np.random.default_rng(0)
        centres = rng.normal(size=(2000, args.dim)).astype(np.float32)
        X = np.empty((args.n, args.dim), np.float32)
        for s in range(0, args.n, 100_000):
            e = min(args.n, s + 100_000)
            X[s:e] = centres[rng.integers(0, 2000, e - s)] \
                + np.float32(0.3) * rng.normal(size=(e - s, args.dim)).astype(np.float32)
        t = time.perf_counter()
        store = NeighborStore(args.dim, metric="euclidean").add(np.arange(args.n), X).rebuild()
        print(f"built in {time.perf_counter() - t:.0f} s", flush=True)
        store.save(path)
        del store, X
    ann = path / "index.ann"
    f = args.dim

    def map_only():
        raw = np.memmap(ann, dtype=np.int32, mode="r").reshape(-1, f + 4)
        _find_roots(raw, 2)

    raw = np.memmap(ann, dtype=np.int32, mode="r")
    res = {
        "n": args.n, "dim": args.dim, "index_mb": round(ann.stat().st_size / 2**20),
        "map_s": median_time(map_only, args.repeats),
        "validate_s": median_time(lambda: AnnoyFile(ann, f, "euclidean"), args.repeats),
        "one_pass_s": median_time(lambda: np.isfinite(raw.view(np.float32)).sum(), args.repeats),
        "load_noverify_s": median_time(lambda: NeighborStore.load(path, verify=False), args.repeats),
        "load_verify_s": median_time(lambda: NeighborStore.load(path), args.repeats),
    }
    res["validate_in_passes"] = res["validate_s"] / res["one_pass_s"]
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in res.items()}))


if __name__ == "__main__":
    main()
