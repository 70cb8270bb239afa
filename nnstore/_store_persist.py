"""Saving and loading a NeighborStore's state, with every check a loaded artifact needs.

A store artifact (kind ``"neighbor_store"``) holds ``vectors.npy`` (every
slot), ``keys.parquet`` (the key of each slot, through the one key
serialiser, and an ``alive`` flag), ``state.json`` (indexed count, the dot
augmentation's M, the index dimension), ``metadata.parquet`` (if any) and
``index.ann`` (when vectors are indexed). The first three are required.

Loading checks, besides the manifest: every array's dtype and shape against
the others and against the manifest's counts; the vectors are finite and
small enough for float32 distances; alive keys are unique; the Annoy file
passes :class:`~nnstore._annoy_search.AnnoyFile`'s validation, holds the
indexed count of items, stores the same vectors as ``vectors.npy`` (sampled),
and the compiled search answers one query exactly as Annoy's own binding does.
Any failure is an :class:`~nnstore.ArtifactError` with reason
``invalid_content`` naming the file and what is wrong.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ._annoy_search import POST_NONE, POST_SQRT, AnnoyFile, search_one
from ._artifact import Artifact
from ._errors import ArtifactError
from ._graph_search import GraphIndex
from ._keys import keys_from_frame
from ._store_state import KeyMap, StoreState, stored_magnitude

__all__ = ["GRAPH_FILES", "REQUIRED", "annoy_self_check", "load_state", "write_index_file"]

REQUIRED = ("vectors.npy", "keys.parquet", "state.json")
#: a store searched by its graph also has these (required when state.json says "graph": true)
GRAPH_FILES = ("graph.npy", "graph_order.npy")
ANNOY_METRIC = {"cosine": "angular", "euclidean": "euclidean", "dot": "euclidean",
                "manhattan": "manhattan"}


def _bad(art: Artifact, name: str, msg: str) -> ArtifactError:
    return ArtifactError(f"store artifact {str(art.path)!r}: {name}: {msg}", reason="invalid_content",
                         path=str(art.path / name))


def annoy_self_check(index: Any, afile: AnnoyFile, vec: np.ndarray, metric: str, n_indexed: int,
                     search_k_per_k: int) -> bool:
    """Whether the compiled search and Annoy's binding agree on a query (an indexed vector).

    Both answer in Annoy's own distance (the kernel with no post-processing
    but the square root Annoy's binding takes; compared squared). Agreement:
    the same number of results, distances equal to float32 rounding, and the
    same ids, or ids
    that differ only among distances tied to rounding (the kernel sums floats
    in another order). Up to three indexed vectors are tried: a walk can
    diverge at a margin within rounding of zero; a layout the kernel misreads
    disagrees on all of them.
    """
    k = min(10, n_indexed)
    post = POST_NONE if metric == "manhattan" else POST_SQRT
    dot = metric == "dot"
    for i in sorted({0, n_indexed // 2, n_indexed - 1}):
        q = np.ascontiguousarray(vec[i], dtype=np.float32)
        ids = np.empty(k, dtype=np.int64)
        dist = np.empty(k, dtype=np.float32)
        sk = search_k_per_k * k
        found = search_one(afile.nodes, afile.roots, afile.kind, afile.n_items, q, k, sk, ids, dist,
                           post, 0.0, math.inf)
        row = q.tolist() + ([0.0] if dot else [])
        want_ids, want_d = index.get_nns_by_vector(row, k, sk, True)
        if found != len(want_ids):
            continue
        got_d, want_d = dist[:found].astype(np.float64), np.asarray(want_d, dtype=np.float64)
        if post == POST_SQRT:  # compare before the square root, which magnifies rounding near 0
            got_d, want_d = np.square(got_d), np.square(want_d)
        tol = 1e-5 * max(1.0, float(np.max(np.abs(want_d), initial=0.0)))
        if not np.allclose(got_d, want_d, rtol=1e-4, atol=tol):
            continue
        got = ids[:found].tolist()
        if got == want_ids:
            return True
        if sorted(got) == sorted(want_ids):
            swapped = np.flatnonzero(np.array(got) != np.array(want_ids))
            if np.all(np.abs(want_d[swapped] - got_d[swapped]) <= tol + 1e-4 * np.abs(want_d[swapped])):
                return True
    return False


def write_index_file(state: StoreState, dst: Path, binding_lock: Any) -> None:
    """Write ``state``'s Annoy index to ``dst`` without touching the live index.

    The bytes come from the compiled search's mapping of the index file (which
    is that file). Only without one (no temporary space when it was built) is
    Annoy's ``save`` used, which re-maps the live index onto ``dst``; queries
    through Annoy's binding are held off meanwhile by ``binding_lock``.
    """
    if state.afile is not None:
        with open(dst, "wb") as f:
            state.afile.nodes.tofile(f)
        return
    with binding_lock:
        state.index.save(str(dst))


def load_state(art: Artifact, *, dim: int, metric: str, exact: bool, n_trees: int, mmap: bool,
               search_k_factor: int) -> StoreState:
    """The store state of ``art``, every array checked (see the module docstring)."""
    vec = art.load_array("vectors", mmap=mmap)
    if vec.dtype != np.float32 or vec.ndim != 2 or vec.shape[1] != dim:
        raise _bad(art, "vectors.npy", f"dtype {vec.dtype} and shape {vec.shape}; expected float32 "
                                       f"(n, {dim})")
    n = len(vec)
    if n and not (np.isfinite(vec.max()) and np.isfinite(vec.min())):
        raise _bad(art, "vectors.npy", "holds NaN or infinite values")
    try:
        norm_max = stored_magnitude(vec, metric, None, name="vectors.npy")
    except ValueError as e:
        raise _bad(art, "vectors.npy", str(e)) from e
    kf = art.load_frame("keys")
    try:
        keys = keys_from_frame(kf)
    except ValueError as e:
        raise _bad(art, "keys.parquet", str(e)) from e
    if "alive" not in kf.columns or kf["alive"].dtype != bool:
        raise _bad(art, "keys.parquet", "needs a bool column 'alive'")
    alive = kf["alive"].to_numpy(dtype=bool).copy()
    if len(keys) != n:
        raise _bad(art, "keys.parquet", f"{len(keys)} keys for {n} vectors in vectors.npy")
    state = art.load_json("state")
    if not isinstance(state, dict):
        raise _bad(art, "state.json", f"expected a JSON object, got {type(state).__name__}")
    n_idx, dot_max, annoy_dim = state.get("n_indexed"), state.get("dot_max"), state.get("annoy_dim")
    if not (isinstance(n_idx, int) and not isinstance(n_idx, bool) and 0 <= n_idx <= n):
        raise _bad(art, "state.json", f"n_indexed must be an int in [0, {n}], got {n_idx!r}")
    if not (isinstance(dot_max, (int, float)) and not isinstance(dot_max, bool) and math.isfinite(dot_max)
            and dot_max >= 0):
        raise _bad(art, "state.json", f"dot_max must be a finite float >= 0, got {dot_max!r}")
    if annoy_dim != dim + (metric == "dot"):
        raise _bad(art, "state.json", f"annoy_dim {annoy_dim!r} does not fit dim {dim} and metric "
                                      f"{metric!r}")
    alive_keys = keys[alive]
    keymap = KeyMap.from_slots(alive_keys.tolist(), np.flatnonzero(alive).tolist())
    if len(keymap.base) != len(alive_keys):
        seen: set = set()
        dup = next(k for k in alive_keys.tolist() if k in seen or seen.add(k))
        raise _bad(art, "keys.parquet", f"key {dup!r} is alive in more than one slot")
    n_alive_indexed = int(alive[:n_idx].sum())
    n_alive_delta = int(alive[n_idx:].sum())
    counts = art.info.get("counts")
    want = {"n": n_alive_indexed + n_alive_delta, "slots": n, "indexed": n_idx,
            "delta": n_alive_delta, "tombstones": n_idx - n_alive_indexed}
    if isinstance(counts, dict) and any(counts.get(c) != v for c, v in want.items()):
        raise _bad(art, "manifest.json", f"counts {counts} do not match the files ({want})")
    meta = None
    if "metadata.parquet" in art.files:
        meta = art.load_frame("metadata")
        if len(meta) != n:
            raise _bad(art, "metadata.parquet", f"{len(meta)} rows for {n} slots")
        meta = meta.reset_index(drop=True)
    if dot_max and metric == "dot" and n_idx:
        sq = np.einsum("ij,ij->i", vec[:n_idx], vec[:n_idx], dtype=np.float64)
        if math.sqrt(float(sq.max())) > dot_max * (1 + 1e-5):
            raise _bad(art, "state.json", f"dot_max {dot_max} is below the largest indexed norm "
                                          f"{math.sqrt(float(sq.max())):.6g}")
    has_index = "index.ann" in art.files
    index = afile = None
    if exact or n_idx == 0:
        if has_index or n_idx:
            raise _bad(art, "index.ann", "an exact (or unindexed) store has no Annoy index and "
                                         f"n_indexed 0; got index.ann={has_index}, n_indexed={n_idx}")
    else:
        if not has_index:
            raise _bad(art, "index.ann", f"missing, but state.json says {n_idx} vectors are indexed")
        index, afile = _load_index(art, vec, dim, metric, n_idx, n_trees, mmap, search_k_factor)
    graph = _load_graph(art, state, vec, metric, n_idx, afile, mmap)
    return StoreState(metric=metric, vec=vec, keys=keys, alive=alive, n=n, keymap=keymap, meta=meta,
                      index=index, afile=afile, n_indexed=n_idx, n_alive_indexed=n_alive_indexed,
                      n_alive_delta=n_alive_delta, dot_max=float(dot_max), norm_max=norm_max,
                      graph=graph)


def _load_graph(art: Artifact, state: dict, vec: np.ndarray, metric: str, n_idx: int, afile: Any,
                mmap: bool):
    """The checked neighbour graph of ``art`` (None when it has none: older stores, trees only)."""
    flag = state.get("graph", False)
    if not isinstance(flag, bool):
        raise _bad(art, "state.json", f"graph must be true or false, got {flag!r}")
    present = [f for f in GRAPH_FILES if f in art.files]
    if not flag:
        if present:
            raise _bad(art, present[0], "present, but state.json says the store has no graph")
        return None
    missing = [f for f in GRAPH_FILES if f not in art.files]
    if missing:
        raise _bad(art, missing[0], "missing, but state.json says the store has a graph")
    if afile is None:
        raise _bad(art, "graph.npy", "a graph needs the Annoy index (its entry points)")
    graph = art.load_array("graph", mmap=mmap)
    order = art.load_array("graph_order", mmap=mmap)
    try:
        return GraphIndex(graph, order, vec[:n_idx], metric)
    except ValueError as e:
        raise _bad(art, "graph.npy", str(e)) from e


def _load_index(art: Artifact, vec: np.ndarray, dim: int, metric: str, n_idx: int, n_trees: int,
                mmap: bool, search_k_factor: int):
    from annoy import AnnoyIndex

    path = art.file_path("index.ann")
    f = dim + (metric == "dot")
    try:
        afile = AnnoyFile(path, f, ANNOY_METRIC[metric])
    except ValueError as e:
        raise _bad(art, "index.ann", str(e)) from e
    if afile.n_items != n_idx:
        raise _bad(art, "index.ann", f"holds {afile.n_items} items, state.json says {n_idx}")
    index = AnnoyIndex(f, ANNOY_METRIC[metric])
    index.load(str(path), prefault=not mmap)  # safe: the file passed the validation above
    if index.get_n_items() != n_idx:
        raise _bad(art, "index.ann", f"Annoy reads {index.get_n_items()} items, state.json says {n_idx}")
    for i in sorted({0, n_idx // 2, n_idx - 1}):
        stored = np.asarray(index.get_item_vector(i)[:dim], dtype=np.float32)
        if not np.array_equal(stored, vec[i]):
            raise _bad(art, "index.ann", f"item {i} differs from row {i} of vectors.npy: the index "
                                         "belongs to other vectors")
    factor = search_k_factor if metric == "dot" else 1
    if not annoy_self_check(index, afile, vec, metric, n_idx, n_trees * factor):
        raise _bad(art, "index.ann", "the compiled search and Annoy's own binding answer a "
                                     "self-check query differently: the file's layout is not the "
                                     "one the kernel reads (annoy 1.17)")
    return index, afile
