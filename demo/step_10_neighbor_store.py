"""Neighbour store: Annoy speed, any keys, upsert/delete/filter, measured recall"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from nnstore import NeighborStore, col


def clustered(rng, n, dim=32, clusters=50):
    centres = rng.normal(size=(clusters, dim)).astype(np.float32)
    bases = rng.normal(size=(clusters, 6, dim)).astype(np.float32) * np.float32(0.35 / np.sqrt(6))
    c = rng.integers(0, clusters, n)
    z = rng.normal(size=(n, 6)).astype(np.float32)
    x = centres[c] + np.einsum("nr,nrd->nd", z, bases[c]) + 0.05 * rng.normal(size=(n, dim))
    return x.astype(np.float32), c


def run(workdir: Path) -> None:
    rng = np.random.default_rng(0)
    X, cluster = clustered(rng, 10_000)
    Q, _ = clustered(np.random.default_rng(1), 200)
    keys = [f"item-{i}" for i in range(len(X))]
    meta = pd.DataFrame({"cluster": cluster, "price": rng.integers(1, 100, len(X))}, index=keys)

    t = time.perf_counter()
    store = NeighborStore(X.shape[1], metric="cosine", n_trees=50, random_state=0)
    store.add(keys, X, metadata=meta).rebuild()
    print(f"built {store!r} in {time.perf_counter() - t:.1f} s")
    print("neighbours of item-0:")
    print(store.query_keys(["item-0"], k=5).to_string(index=False))
    print(f"recall@10 against exact search (200 held-out queries): {store.recall_at_k(Q, k=10):.3f} "
          f"at the default search_k (n_trees * k), {store.recall_at_k(Q, k=10, search_k=2000):.3f} "
          "at search_k=2000")

    store.add(["item-0"], X[1:2] + 0.001)  # upsert: item-0 now sits on item-1
    store.add(["new-item"], X[2:3])
    res = store.query_keys(["item-1", "item-2"], k=1)
    print(f"after upsert: nearest to item-1 is {res['key'].iloc[0]}, to item-2 is {res['key'].iloc[1]} "
          f"(delta buffer: {store.n_delta} vectors, searched exactly)")
    store.delete(["item-0", "new-item"])
    res = store.query(X[:3], k=10)
    print(f"after delete: deleted keys returned? {bool(res['key'].isin(['item-0', 'new-item']).any())}")

    f = (col("cluster") == int(cluster[5])) & col("price").between(10, 50)
    res = store.query(Q[:20], k=10, filter=f)
    passing = meta[(meta["cluster"] == cluster[5]) & meta["price"].between(10, 50)].index
    print(f"filter {f!r}: {len(passing)} items pass; {len(res)} results, "
          f"all pass: {bool(res['key'].isin(passing).all())}")

    path = workdir / "store"
    store.save(path)
    loaded = NeighborStore.load(path, mmap=True)
    same = loaded.query(Q, k=10).equals(store.query(Q, k=10))
    print(f"saved to {path.name}/ ({sorted(p.name for p in path.iterdir())}); "
          f"loaded (memory-mapped) answers identical: {same}")
    loaded.add(["late"], X[3:4]).delete(["item-3"])
    print(f"loaded store still mutable: 'late' in store = {'late' in loaded}, len = {len(loaded)}")
