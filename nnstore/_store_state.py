"""The neighbour store's versions: one immutable state object per version (copy-on-write).

Concurrency design
------------------
Every query reads ``store._state`` once and uses only that :class:`StoreState`
(arrays, key map, metadata, Annoy index and its compiled view) from start to
end, so it answers for exactly one version of the store, whatever the
writers do meanwhile. Writers (``add``, ``delete``, ``rebuild``, the swap
after ``save``) are serialised by one lock; each builds the next state off
to the side, where nothing can see it, and publishes it with one reference
assignment (atomic in CPython). A writer that raises has published nothing,
so a failed ``add`` changes nothing.

What a new version shares with the old one, and why that is safe:

* the vector, key and alive buffers are longer than ``n`` (room for appends):
  an append writes rows ``n..n+m`` of the *same* buffers, past the old
  version's ``n``, where the old version never reads. A write that clears an
  alive flag (upsert, delete) copies the alive buffer first.
* the key -> slot map (:class:`KeyMap`) is a large base dict, never changed
  once built, plus a small overlay dict copied on every write; the overlay
  is folded into a new base once it grows past about ``sqrt(n)`` entries, so
  a single-key write costs O(sqrt(n)), not O(n).
* metadata frames are replaced, never changed in place.
* the Annoy index and its mapped file are immutable once built.

Readers never take a lock; the single-query fast path reads one attribute
more than it did without versions.
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from typing import Any

import numpy as np
import pandas as pd

from ._validation import FLOAT32_MAX

__all__ = ["KeyMap", "StoreState", "merge_metadata", "query_bound", "stored_magnitude"]

#: stored vectors' L2 norm limit for cosine, euclidean and dot: squared distances between two
#: such vectors, ``(|q| + |x|)^2 <= 2^126``, stay below the float32 maximum (~2^128)
NORM_LIMIT = 2.0 ** 62
#: stored vectors' L1 norm limit for manhattan: ``|q|_1 + |x|_1 <= 2^126``
L1_LIMIT = 2.0 ** 125


class KeyMap:
    """key -> slot, immutable: a shared base dict plus a small overlay (-1 = deleted)."""

    __slots__ = ("base", "over")

    def __init__(self, base: dict, over: dict | None = None) -> None:
        self.base = base
        self.over = over or {}

    @classmethod
    def from_slots(cls, keys: list, slots: list) -> KeyMap:
        return cls(dict(zip(keys, slots, strict=True)))

    def get(self, key: Hashable) -> int:
        """The key's slot, -1 when absent (TypeError for an unhashable key)."""
        s = self.over.get(key)
        return self.base.get(key, -1) if s is None else s

    def slots(self, keys: list) -> np.ndarray:
        """Slots of ``keys`` (int64, -1 where absent)."""
        if not self.over:
            get = self.base.get
            return np.fromiter((get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
        oget, bget = self.over.get, self.base.get
        return np.fromiter(((s if (s := oget(k)) is not None else bget(k, -1)) for k in keys),
                           dtype=np.int64, count=len(keys))

    def changed(self, changes: dict) -> KeyMap:
        """A new map with ``changes`` (key -> slot, or -1 to remove) applied; self unchanged."""
        over = dict(self.over)
        over.update(changes)
        if len(over) <= max(1024, 4 * math.isqrt(len(self.base))):
            return KeyMap(self.base, over)
        base = dict(self.base)
        for k, s in over.items():
            if s < 0:
                base.pop(k, None)
            else:
                base[k] = s
        return KeyMap(base)


class StoreState:
    """One version of a store's contents; never changed once published.

    Attributes
    ----------
    vec, keys, alive : buffers of at least ``n`` rows (float32 (cap, dim), object, bool)
    n : slots in use (indexed ones first, then the delta buffer)
    keymap : KeyMap of the alive keys
    meta : DataFrame of ``n`` rows or None
    index, afile : the Annoy index and the compiled search's view of its file (or None)
    graph : the neighbour graph over the indexed vectors (:class:`~nnstore._graph_search.GraphIndex`)
        or None (Annoy's tree search only)
    n_indexed, n_alive_indexed, n_alive_delta : counts
    dot_max : the dot augmentation's M (max norm of the indexed vectors)
    norm_max : an upper bound of the stored vectors' L2 norms
    fast : ``afile`` when a plain query can go straight to the kernel (no delta,
        no tombstones), else None
    max_qq : the largest ``|q|^2`` a query may have (see :func:`query_bound`)
    post_c : ``dot_max ** 2``, the kernel's constant for ``dot``
    fastcall : what the store's single-query fast path passes to the kernels, built on first use
        (``NeighborStore._fastcall_for``; never copied by :meth:`evolve`)
    """

    __slots__ = ("afile", "alive", "dot_max", "fast", "fastcall", "graph", "index", "keymap", "keys",
                 "max_qq", "meta", "metric", "n", "n_alive_delta", "n_alive_indexed", "n_indexed", "norm_max",
                 "pos", "post_c", "vec")

    _FIELDS = ("afile", "alive", "dot_max", "graph", "index", "keymap", "keys", "meta", "metric", "n",
               "n_alive_delta", "n_alive_indexed", "n_indexed", "norm_max", "vec")

    def __init__(self, *, metric: str, vec: np.ndarray, keys: np.ndarray, alive: np.ndarray, n: int,
                 keymap: KeyMap, meta: pd.DataFrame | None = None, index: Any = None,
                 afile: Any = None, n_indexed: int = 0, n_alive_indexed: int = 0,
                 n_alive_delta: int = 0, dot_max: float = 0.0, norm_max: float = 0.0,
                 graph: Any = None) -> None:
        self.metric = metric
        self.vec, self.keys, self.alive, self.n = vec, keys, alive, int(n)
        self.keymap, self.meta = keymap, meta
        self.index, self.afile = index, afile
        self.graph = graph if afile is not None else None
        self.n_indexed = int(n_indexed)
        self.n_alive_indexed = int(n_alive_indexed)
        self.n_alive_delta = int(n_alive_delta)
        self.dot_max = float(dot_max)
        self.norm_max = float(norm_max)
        self.fast = afile if (afile is not None and self.n == self.n_indexed == self.n_alive_indexed) \
            else None
        self.max_qq = query_bound(metric, vec.shape[1], self.norm_max)
        self.post_c = self.dot_max ** 2
        self.pos = None  # slot -> position among the alive keys, built on first use
        self.fastcall = None  # the store's single-query fast path's arguments, built on first use

    @classmethod
    def empty(cls, dim: int, metric: str) -> StoreState:
        return cls(metric=metric, vec=np.empty((0, dim), dtype=np.float32),
                   keys=np.empty(0, dtype=object), alive=np.zeros(0, dtype=bool), n=0,
                   keymap=KeyMap({}))

    def evolve(self, **changes: Any) -> StoreState:
        """A new state with ``changes``; the derived fields are recomputed."""
        fields = {f: getattr(self, f) for f in self._FIELDS}
        fields.update(changes)
        return StoreState(**fields)

    @property
    def n_alive(self) -> int:
        return self.n_alive_indexed + self.n_alive_delta

    def positions(self) -> np.ndarray:
        """Slot -> position among the alive keys (``store.keys`` order); cached per state."""
        pc = self.pos
        if pc is None:
            pc = np.cumsum(self.alive[:self.n], dtype=np.int64) - 1
            self.pos = pc  # a benign race: every thread computes the same array
        return pc


# -- magnitudes ------------------------------------------------------------------------
def query_bound(metric: str, dim: int, norm_max: float) -> float:
    """The largest ``|q|^2`` (float64) for which no float32 distance to this state overflows.

    euclidean and dot: ``|q| <= 2^62`` (stored norms are below 2^62 too, so
    ``(|q| + |x|)^2 <= 2^126``); manhattan: ``|q|_1 <= sqrt(dim) |q| <= 2^125``;
    cosine: ``|q| |x| <= 2^126`` for the largest stored ``|x|`` (cosine is
    scale-free, so only the dot product in float32 can overflow).
    """
    if metric in ("euclidean", "dot"):
        return NORM_LIMIT ** 2
    if metric == "manhattan":
        return L1_LIMIT ** 2 / max(dim, 1)
    if norm_max <= 0.0:
        return math.inf
    return (2.0 ** 126 / norm_max) ** 2


def stored_magnitude(vec: np.ndarray, metric: str, keys: Any, name: str = "vectors") -> float:
    """An upper bound of the rows' L2 norms; ``ValueError`` for rows whose distances would overflow.

    One min/max pass in the usual case; the exact norms only when that pass
    cannot rule an overflow out.
    """
    if not len(vec):
        return 0.0
    d = vec.shape[1]
    amax = float(max(vec.max(), -vec.min()))
    bound = amax * math.sqrt(d)
    if metric == "manhattan":
        if amax * d <= L1_LIMIT:
            return bound
        size = np.abs(vec).sum(axis=1, dtype=np.float64)
        limit, what = L1_LIMIT, "L1 norm"
    else:
        if bound <= NORM_LIMIT:
            return bound
        size = np.sqrt(np.einsum("ij,ij->i", vec, vec, dtype=np.float64))
        limit, what = NORM_LIMIT, "norm"
    over = np.flatnonzero(size > limit)
    if len(over):
        where = [keys[i] for i in over[:5]] if keys is not None else over[:5].tolist()
        raise ValueError(
            f"{name}: {len(over)} row(s) have a {what} above {limit:.4g} (largest {size.max():.4g}; "
            f"first {'keys' if keys is not None else 'rows'}: {where}): their {metric} distances "
            f"would overflow float32 (max {FLOAT32_MAX:.4g}); rescale the vectors"
        )
    return float(np.sqrt(np.einsum("ij,ij->i", vec, vec, dtype=np.float64)).max())


def check_query_magnitude(q: np.ndarray, state: StoreState, name: str = "vectors") -> None:
    """``ValueError`` for query rows whose distances to ``state``'s vectors would overflow float32.

    Slightly stricter than the kernel's own test (``|q|^2 > max_qq``), so that a
    query this accepts is never refused by the kernel for a rounding difference.
    """
    if not len(q):
        return
    limit = state.max_qq * (1.0 - 1e-6)
    amax = float(max(q.max(), -q.min()))
    if amax * amax * q.shape[1] <= limit:
        return
    qq = np.einsum("ij,ij->i", q, q, dtype=np.float64)
    over = np.flatnonzero(qq > limit)
    if len(over):
        raise ValueError(
            f"{name}: {len(over)} query row(s) have a norm above {math.sqrt(limit):.4g} (largest "
            f"{math.sqrt(float(qq.max())):.4g}; first rows: {over[:5].tolist()}): their "
            f"{state.metric} distances to the stored vectors would overflow float32; rescale "
            "the queries"
        )


# -- metadata ----------------------------------------------------------------------------
def nullable_dtype(dtype: Any) -> Any:
    """A dtype that can hold a missing value next to ``dtype``'s values, exactly.

    numpy ints -> pandas ``Int64``/``UInt8``/..., bool -> ``boolean``; other
    dtypes already hold missing values (NaN, None, NaT, ``pd.NA``).
    """
    if isinstance(dtype, np.dtype):
        if dtype.kind == "b":
            return pd.BooleanDtype()
        if dtype.kind in "iu":
            return pd.api.types.pandas_dtype(f"{'U' if dtype.kind == 'u' else ''}Int{dtype.itemsize * 8}")
    return dtype


def _missing_column(dtype: Any, n: int) -> pd.Series:
    """``n`` missing values of (the nullable form of) ``dtype``."""
    dt = nullable_dtype(dtype)
    if isinstance(dt, np.dtype) and dt.kind in "fc":
        return pd.Series(np.full(n, np.nan, dtype=dt))
    if isinstance(dt, np.dtype) and dt.kind in "mM":
        return pd.Series(np.full(n, np.datetime64("NaT"), dtype=dt) if dt.kind == "M"
                         else np.full(n, np.timedelta64("NaT"), dtype=dt))
    if isinstance(dt, np.dtype):  # object
        return pd.Series([None] * n, dtype=object)
    return pd.Series([None] * n, dtype=dt)


def _with_missing(rows: pd.DataFrame, missing: np.ndarray) -> pd.DataFrame:
    """``rows`` with the rows in ``missing`` set to missing values (columns made nullable)."""
    out = {}
    for c in rows.columns:
        s = rows[c]
        dt = nullable_dtype(s.dtype)
        if dt is not s.dtype and dt != s.dtype:
            s = s.astype(dt)
        out[c] = s.mask(missing)
    return pd.DataFrame(out, index=rows.index)


def merge_metadata(meta: pd.DataFrame | None, n: int, rows: pd.DataFrame | None, old: np.ndarray,
                   m: int) -> pd.DataFrame | None:
    """The metadata of ``n + m`` slots after appending ``m`` slots (a new frame).

    ``rows`` (``m`` rows, positional) replace the metadata of the keys; without
    them an upserted key keeps its row (``old`` = its previous slot) and a new
    key gets missing values. Columns present on one side only get missing values
    on the other; int and bool columns that need a missing value become the
    nullable ``Int64``/``boolean`` dtypes, so no int is cast to float.
    """
    if rows is None and meta is None:
        return None
    if rows is None:
        new_keys = old < 0
        if new_keys.all():
            rows = pd.DataFrame({c: _missing_column(meta[c].dtype, m) for c in meta.columns},
                                index=pd.RangeIndex(m))
        else:
            rows = meta.iloc[np.where(new_keys, 0, old)].reset_index(drop=True)
            if new_keys.any():
                rows = _with_missing(rows, new_keys)
    rows = rows.reset_index(drop=True)
    rows.index = pd.RangeIndex(n, n + m)
    if meta is None:
        meta = pd.DataFrame(index=pd.RangeIndex(n))
    base = meta
    extra_base = [c for c in rows.columns if c not in base.columns]
    extra_rows = [c for c in base.columns if c not in rows.columns]
    if extra_base:
        base = base.assign(**{c: _missing_column(rows[c].dtype, n).set_axis(base.index)
                              for c in extra_base})
    if extra_rows:
        rows = rows.assign(**{c: _missing_column(base[c].dtype, m).set_axis(rows.index)
                              for c in extra_rows})
    rows = rows[list(base.columns)]
    if n == 0:
        return rows.set_axis(pd.RangeIndex(m))
    for c in base.columns:  # one common dtype per column, chosen here, not by concat
        b, r = base[c].dtype, rows[c].dtype
        if b != r and nullable_dtype(b) == r:
            base = base.assign(**{c: base[c].astype(r)})
        elif b != r and nullable_dtype(r) == b:
            rows = rows.assign(**{c: rows[c].astype(b)})
    return pd.concat([base, rows])
