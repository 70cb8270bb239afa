"""The detectors' neighbour search: nnstore's, through :func:`nnstore.kneighbors`.

The detectors ask two questions of their training rows: "the k nearest
training rows of each training row, itself excluded" (at fit) and "the k
nearest training rows of each new row" (at scoring). Both are answered by
:func:`nnstore.kneighbors` with the Euclidean metric; this module only picks
the method and keeps what scoring needs between calls:

- ``"exact"``: exact answers, from nnstore's k-d tree (identical rows searched
  once) below :data:`EXACT_KDTREE_MAX_FEATURES` features and from its blocked
  exact search above (a k-d tree stops pruning in many dimensions);
- ``"annoy"``: a :class:`nnstore.NeighborStore` built once at fit (Annoy
  trees, approximate, fast on large data), saved with the detector and
  memory-mapped at load;
- ``"auto"``: ``"annoy"`` from :data:`AUTO_ANNOY_MIN_SAMPLES` training rows
  and :data:`AUTO_ANNOY_MIN_FEATURES` features on, ``"exact"`` otherwise.

The measurements behind the thresholds are in ``benchmarks/results/anomaly.md``.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from nnstore import NeighborStore, kneighbors

logger = logging.getLogger(__name__)

__all__ = ["AUTO_ANNOY_MIN_FEATURES", "AUTO_ANNOY_MIN_SAMPLES", "BACKENDS",
           "EXACT_KDTREE_MAX_FEATURES", "NeighborIndex", "exact_method", "resolve_backend"]

#: ``backend="auto"`` uses the Annoy-backed NeighborStore from this many training rows on ...
AUTO_ANNOY_MIN_SAMPLES = 50_000
#: ... and from this many features (below it the k-d tree is exact and fast).
AUTO_ANNOY_MIN_FEATURES = 6
#: ``backend="exact"`` searches with the k-d tree below this many features, else by blocks
EXACT_KDTREE_MAX_FEATURES = 48

#: The accepted ``backend`` values.
BACKENDS = ("auto", "exact", "annoy")


def resolve_backend(backend: str, n_samples: int, n_features: int) -> str:
    """The concrete backend (``"exact"`` or ``"annoy"``) for the training data's shape.

    Parameters
    ----------
    backend : {"auto", "exact", "annoy"}
    n_samples, n_features : int
        The training data's shape.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        An unknown ``backend``.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend != "auto":
        return backend
    if n_samples >= AUTO_ANNOY_MIN_SAMPLES and n_features >= AUTO_ANNOY_MIN_FEATURES:
        return "annoy"
    return "exact"


def exact_method(n_features: int) -> str:
    """nnstore's exact method for ``backend="exact"``: ``"kdtree"`` or ``"exact"`` (blocked)."""
    return "kdtree" if n_features < EXACT_KDTREE_MAX_FEATURES else "exact"


class NeighborIndex:
    """The (scaled) training rows and what searching them needs between calls.

    Parameters
    ----------
    backend : {"exact", "annoy"}
    n_jobs : int
        Threads (already resolved: >= 1).
    random_state : int or None
        Seeds the store's Annoy trees.
    n_trees, search_k : int or None
        The store's knobs (None: the store's defaults).
    """

    def __init__(self, backend: str, *, n_jobs: int = 1, random_state: int | None = None,
                 n_trees: int | None = None, search_k: int | None = None) -> None:
        self.backend = backend
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.n_trees = n_trees
        self.search_k = search_k
        self._X: np.ndarray | None = None
        self._store: NeighborStore | None = None

    # -- building ------------------------------------------------------------
    def fit(self, X: np.ndarray) -> NeighborIndex:
        """Keep ``X`` (float32, C-contiguous) and, for ``"annoy"``, build the store over it."""
        self._X = X
        if self.backend == "annoy":
            kwargs = {"metric": "euclidean", "n_jobs": self.n_jobs, "random_state": self.random_state}
            if self.n_trees is not None:
                kwargs["n_trees"] = int(self.n_trees)
            if self.search_k is not None:
                kwargs["search_k"] = int(self.search_k)
            store = NeighborStore(X.shape[1], **kwargs)
            store.add(np.arange(len(X), dtype=np.int64), X)
            store.rebuild()
            self._store = store
            self._check_store_rows()
        return self

    def _check_store_rows(self) -> None:
        """The store's positions must be the training rows (keys 0..n-1 in order)."""
        keys = np.asarray(self._store.keys)
        if len(keys) != len(self._X) or not np.array_equal(keys, np.arange(len(self._X))):
            from nnstore import ArtifactError

            raise ArtifactError(f"the detector's neighbour store holds {len(keys)} keys that are not "
                                f"its {len(self._X)} training rows 0..n-1 in order",
                                reason="invalid_content", path="store")

    # -- queries -------------------------------------------------------------
    def train_kneighbors(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest other training rows of every training row.

        Returns
        -------
        distances : ndarray of shape (n_samples, k), float64, ascending
        rows : ndarray of shape (n_samples, k), int64
            The row itself is excluded; identical rows elsewhere are kept (at
            distance 0), as in scikit-learn and PyOD.
        """
        if self._store is not None:
            rows, dist = kneighbors(self._store, k=k, metric="euclidean", n_jobs=self.n_jobs)
        else:
            rows, dist = kneighbors(self._X, k=k, metric="euclidean",
                                    method=exact_method(self._X.shape[1]), n_jobs=self.n_jobs)
        return self._checked(rows, dist, k)

    def kneighbors(self, Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k nearest training rows of each row of ``Q``: (float64 distances, int64 rows)."""
        if self._store is not None:
            rows, dist = kneighbors(self._store, Q, k=k, metric="euclidean", n_jobs=self.n_jobs)
        else:
            rows, dist = kneighbors(self._X, Q, k=k, metric="euclidean",
                                    method=exact_method(self._X.shape[1]), n_jobs=self.n_jobs)
        return self._checked(rows, dist, k)

    @staticmethod
    def _checked(rows: np.ndarray, dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if rows.shape[1] != k or (rows < 0).any():  # pragma: no cover - k < n is checked at fit
            raise RuntimeError(f"the neighbour search returned fewer than k={k} neighbours")
        return np.asarray(dist, dtype=np.float64), np.asarray(rows, dtype=np.int64)

    # -- pickling: the Annoy index travels as the bytes of the store's artifact ----------
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        if self._store is not None:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="anomaly-pickle-") as tmp:
                root = Path(tmp) / "store"
                self._store.save(root)
                state["_store"] = {str(p.relative_to(root)): p.read_bytes()
                                   for p in sorted(root.rglob("*")) if p.is_file()}
        return state

    def __setstate__(self, state: dict) -> None:
        files = state.get("_store")
        if isinstance(files, dict):
            import tempfile

            with tempfile.TemporaryDirectory(prefix="anomaly-unpickle-") as tmp:
                root = Path(tmp) / "store"
                for rel, data in files.items():
                    target = root / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                state["_store"] = NeighborStore.load(root, mmap=False)
        self.__dict__.update(state)

    # -- persistence ---------------------------------------------------------
    def save_store(self, path: Path) -> None:
        """Save the store (backend ``"annoy"``) as an artifact directory at ``path``."""
        if self._store is not None:
            self._store.save(path)

    @classmethod
    def restore(cls, backend: str, X: np.ndarray, store_path: Path | None, *, n_jobs: int = 1,
                random_state: int | None = None, n_trees: int | None = None,
                search_k: int | None = None) -> NeighborIndex:
        """The index of a loaded detector: its training rows and, for ``"annoy"``, its saved
        store (memory-mapped; validated by :meth:`nnstore.NeighborStore.load`)."""
        self = cls(backend, n_jobs=n_jobs, random_state=random_state, n_trees=n_trees,
                   search_k=search_k)
        self._X = X
        if backend == "annoy":
            self._store = NeighborStore.load(store_path, mmap=True)
            self._check_store_rows()
        return self
