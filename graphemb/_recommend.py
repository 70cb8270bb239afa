"""The :class:`Recommender` estimator: user-item graph embeddings + the neighbour store.

Users and items become nodes of one bipartite graph and share one embedding
space (LightGCN/BPR or Node2Vec, see :mod:`graphemb._recommend_models`). The
item vectors go into an :class:`nnstore.NeighborStore`; a user's
recommendations are the items nearest to the user's vector (``dot`` for the
BPR-trained models, whose scores are inner products; ``cosine`` for
Node2Vec), with the user's seen items passed to the store's ``exclude`` and
any metadata filter to its ``filter``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nnstore import (
    ArtifactWriter,
    NeighborStore,
    NotFittedError,
    check_keys,
    check_random_state,
    check_vectors,
    evaluate_filter,
    read_artifact,
)
from nnstore import keys_from_frame as _keys_from_frame
from nnstore import keys_to_frame as _keys_frame

from ._recommend_data import prepare_interactions
from ._recommend_models import train_lightgcn, train_node2vec

__all__ = ["Recommender"]

logger = logging.getLogger(__name__)

_KIND = "recommender"
_MODELS = ("lightgcn", "bpr", "node2vec")


def _check_int(name: str, v: Any, minimum: int = 1) -> None:
    if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {v!r}")


def _check_float(name: str, v: Any, *, positive: bool = False) -> None:
    ok = isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and np.isfinite(v)
    if not ok or v < 0 or (positive and v == 0):
        raise ValueError(f"{name} must be a {'positive' if positive else 'non-negative'} number, got {v!r}")


class Recommender:
    """Top-k recommendations from user-item interactions (implicit feedback).

    Parameters
    ----------
    model : {"lightgcn", "bpr", "node2vec"}, default "lightgcn"
        ``"lightgcn"``: LightGCN propagation trained with the BPR ranking loss
        (plain torch); ``"bpr"``: the same with ``n_layers=0`` (BPR matrix
        factorisation); ``"node2vec"``: :class:`graphemb.Node2Vec` on the
        bipartite graph (users and items as nodes). Node2Vec's (input) vectors
        of the two sides of a bipartite graph are only indirectly comparable:
        its item-to-item similarities are good, its user-to-item rankings weak
        (below popularity on MovieLens-100K, see the benchmark); prefer lightgcn.
    dim : int, default 64
        Embedding dimension of users and items.
    n_layers : int, default 3
        LightGCN propagation layers.
    epochs : int, default 100
        BPR epochs (passes over the interactions). The defaults of ``n_layers``,
        ``epochs``, ``learning_rate`` and ``l2`` are the best of a grid on a
        MovieLens-100K validation split (benchmarks/recommend_bench.py).
    batch_size : int, default 4096
        (user, positive, negative) triples per Adam step.
    learning_rate : float, default 0.01
    l2 : float, default 1e-3
        L2 penalty on the batch's layer-0 embeddings (small data wants more).
    init_std : float, default 0.1
        Standard deviation of the normal initial embeddings.
    node2vec_params : dict, optional
        Keyword arguments for :class:`graphemb.Node2Vec` (model "node2vec";
        defaults ``walk_length=40, n_walks=10, window=5, n_jobs=1``).
    metric : {"dot", "cosine"}, optional
        Store metric; default ``"dot"`` for lightgcn/bpr, ``"cosine"`` for node2vec.
    ridge_alpha : float, default 1.0
        Ridge penalty of the cold-start map from item features to item vectors.
    exact : bool, optional
        True: the store searches exactly (blocked matrix products); False: Annoy.
        Default: exact for catalogues of at most ``EXACT_MAX_ITEMS`` items (then
        exact top-k is also the fastest), Annoy above. ``exact_`` says which runs.
    n_trees, search_k : int
        Annoy knobs of the store when it is not exact.
    random_state : int, Generator or None
    verbose : bool, default False
        Progress bar over training epochs.

    Attributes
    ----------
    users_ : pandas.Index
        Known users (those with interactions in ``fit``).
    items_ : pandas.Index
        Items in the store: warm items (with interactions) then cold items
        (from ``item_features`` only, or :meth:`add_items`).
    n_warm_items_ : int
    user_embeddings_ : DataFrame of shape (n_users, dim)
    item_embeddings_ : DataFrame of shape (n_items, dim)
    popularity_ : Series
        Share of the total interaction weight per warm item (the cold-user fallback).
    store_ : nnstore.NeighborStore
        Item vectors (+ ``item_metadata``) searched by :meth:`recommend`.
    exact_ : bool
    history_ : list of dict
        Training loss per epoch (lightgcn/bpr).

    Shapes
    ------
    interactions ``(n_interactions, >= 2)``; users ``(n_users, dim)``, items
    ``(n_items, dim)``; ``recommend(users, k)`` -> at most ``len(users) * k`` rows.

    Notes
    -----
    - **Seen items** (``exclude_seen=True``) are the user's interactions in ``fit``;
      they go to the store's per-query ``exclude`` and are never returned.
    - **Unknown (cold-start) users** get the most popular warm items (by share of
      interaction weight in ``fit``), filter honoured, ``score`` = that share; with
      ``unknown_users="error"`` they raise ``KeyError`` instead.
    - **Cold-start items**: ``item_features`` (a numeric DataFrame indexed by item,
      e.g. ``tabemb.TableEncoder().fit_transform(item_attributes)``) is mapped to
      the item space by ridge regression fitted on the warm items (centred
      features -> centred learned item vectors, penalty ``ridge_alpha``); items
      with features but no interactions get the mapped vector and are
      recommendable at once. :meth:`add_items` does the same after ``fit``.
    - **Duplicates** are merged (weights summed, repeats counted); negative weights
      raise ``ValueError`` naming the column; an empty frame raises ``ValueError``.
    - Determinism: same ``random_state`` and one torch/numba thread give the same
      embeddings and recommendations.
    """

    #: catalogues up to this size are searched exactly by default
    EXACT_MAX_ITEMS = 50_000

    def __init__(self, *, model: str = "lightgcn", dim: int = 64, n_layers: int = 3, epochs: int = 100,
                 batch_size: int = 4096, learning_rate: float = 0.01, l2: float = 1e-3,
                 init_std: float = 0.1, node2vec_params: dict | None = None, metric: str | None = None,
                 ridge_alpha: float = 1.0, exact: bool | None = None, n_trees: int = 50,
                 search_k: int | None = None, random_state: Any = None, verbose: bool = False) -> None:
        self.model = model
        self.dim = dim
        self.n_layers = n_layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.l2 = l2
        self.init_std = init_std
        self.node2vec_params = node2vec_params
        self.metric = metric
        self.ridge_alpha = ridge_alpha
        self.exact = exact
        self.n_trees = n_trees
        self.search_k = search_k
        self.random_state = random_state
        self.verbose = verbose

    _PARAMS = ("model", "dim", "n_layers", "epochs", "batch_size", "learning_rate", "l2", "init_std",
               "node2vec_params", "metric", "ridge_alpha", "exact", "n_trees", "search_k", "verbose")

    def get_params(self, deep: bool = True) -> dict:
        return {k: getattr(self, k) for k in (*self._PARAMS, "random_state")}

    def set_params(self, **params: Any) -> Recommender:
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"invalid parameter {k!r} for Recommender")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        return f"Recommender(model={self.model!r}, dim={self.dim})"

    def _validate(self) -> None:
        if self.model not in _MODELS:
            raise ValueError(f"model must be one of {_MODELS}, got {self.model!r}")
        _check_int("dim", self.dim)
        _check_int("n_layers", self.n_layers, 0)
        _check_int("epochs", self.epochs)
        _check_int("batch_size", self.batch_size)
        _check_float("learning_rate", self.learning_rate, positive=True)
        _check_float("l2", self.l2)
        _check_float("init_std", self.init_std, positive=True)
        _check_float("ridge_alpha", self.ridge_alpha)
        if self.metric not in (None, "dot", "cosine"):
            raise ValueError(f"metric must be None, 'dot' or 'cosine', got {self.metric!r}")
        if self.node2vec_params is not None and not isinstance(self.node2vec_params, dict):
            raise TypeError(f"node2vec_params must be a dict, got {type(self.node2vec_params).__name__}")

    # -- fitting ------------------------------------------------------------------------
    def fit(self, interactions: pd.DataFrame, *, user_col: str = "user", item_col: str = "item",
            weight_col: str | None = None, time_col: str | None = None,
            item_features: pd.DataFrame | None = None,
            item_metadata: pd.DataFrame | None = None) -> Recommender:
        """Learn user and item embeddings from ``interactions``; returns self.

        Parameters
        ----------
        interactions : DataFrame
            One row per (user, item) interaction.
        user_col, item_col : str
            Id columns (any hashable ids).
        weight_col : str, optional
            Interaction strength (count, rating, ...), >= 0; rows with 0 are dropped.
            Weights enter the normalised adjacency (LightGCN), the positive sampling
            (BPR: proportional to weight) and the walk transitions (Node2Vec).
        time_col : str, optional
            Only checked to exist and used for nothing else: the models are
            order-free (use it with ``train_test_split_interactions(method="leave_last")``).
        item_features : DataFrame of shape (n_items_with_features, n_features), optional
            Numeric item attributes indexed by item id (e.g. tabemb record
            embeddings); enables cold-start items (see the class notes).
        item_metadata : DataFrame indexed by item id, optional
            Columns the ``filter`` of :meth:`recommend` can test (genre, in stock...).
            Items without a row have missing values (never pass a comparison).
        """
        self._validate()
        data = prepare_interactions(interactions, user_col=user_col, item_col=item_col,
                                    weight_col=weight_col, time_col=time_col)
        rng = check_random_state(self.random_state)
        self.history_ = []
        if self.model == "node2vec":
            uvec, ivec = train_node2vec(data, dim=int(self.dim), params=dict(self.node2vec_params or {}),
                                        rng=rng, verbose=self.verbose)
            self._state = None
        else:
            uvec, ivec, self._state, self.history_ = train_lightgcn(
                data, dim=int(self.dim), n_layers=0 if self.model == "bpr" else int(self.n_layers),
                epochs=int(self.epochs), batch_size=int(self.batch_size),
                learning_rate=float(self.learning_rate), l2=float(self.l2), init_std=float(self.init_std),
                rng=rng, verbose=self.verbose)
        self.metric_ = self.metric or ("cosine" if self.model == "node2vec" else "dot")
        self.users_ = data.users
        self._user_vec = uvec
        self._item_vec = ivec
        self._items = data.items
        self.n_warm_items_ = data.n_items
        m = data.matrix()
        self._seen_indptr, self._seen_indices = m.indptr.astype(np.int64), m.indices.astype(np.int64)
        pop = np.bincount(data.item_rows, weights=data.weights, minlength=data.n_items)
        self._pop = (pop / pop.sum()).astype(np.float64)
        self.n_interactions_ = len(data.user_rows)
        self._ridge = None
        self._feature_names: list[str] | None = None
        if item_features is not None:
            self._fit_cold_start(item_features)
        self._metadata = self._check_metadata(item_metadata)
        self._build_store()
        return self

    @staticmethod
    def _check_metadata(meta: Any) -> pd.DataFrame | None:
        if meta is None:
            return None
        if not isinstance(meta, pd.DataFrame):
            raise TypeError(f"item_metadata must be a DataFrame indexed by item, got {type(meta).__name__}")
        check_keys(meta.index, name="item_metadata index")
        return meta

    def _features(self, features: Any, name: str) -> tuple[np.ndarray, pd.Index]:
        if not isinstance(features, pd.DataFrame):
            raise TypeError(f"{name} must be a DataFrame indexed by item id, got {type(features).__name__}")
        if self._feature_names is not None:
            missing = [c for c in self._feature_names if c not in features.columns]
            if missing:
                raise KeyError(f"{name} lacks feature column(s) {missing[:5]} seen in fit")
            features = features[self._feature_names]
        non_num = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
        if non_num:
            raise ValueError(f"{name} must be numeric (embed attributes first, e.g. with "
                             f"tabemb.TableEncoder); non-numeric columns: {non_num[:5]}")
        X, keys = check_vectors(features, name=name)
        check_keys(keys, name=f"{name} index")
        return X.astype(np.float64), keys

    def _fit_cold_start(self, item_features: pd.DataFrame) -> None:
        self._feature_names = None
        X, keys = self._features(item_features, "item_features")
        self._feature_names = [str(c) for c in item_features.columns]
        pos = self._items.get_indexer(keys)
        warm = pos >= 0
        if warm.sum() < 2:
            raise ValueError("item_features must cover at least 2 items that have interactions "
                             f"(to fit the cold-start map); it covers {int(warm.sum())}")
        Xw, Yw = X[warm], self._item_vec[pos[warm]].astype(np.float64)
        xm, ym = Xw.mean(0), Yw.mean(0)
        Xc, Yc = Xw - xm, Yw - ym
        G = Xc.T @ Xc + float(self.ridge_alpha) * np.eye(X.shape[1])
        W = np.linalg.solve(G, Xc.T @ Yc) if self.ridge_alpha > 0 else np.linalg.lstsq(Xc, Yc, rcond=None)[0]
        self._ridge = (W, xm, ym)
        resid = Yc - Xc @ W
        self.cold_start_r2_ = float(1.0 - (resid ** 2).sum() / max((Yc ** 2).sum(), 1e-12))
        cold = ~warm
        if cold.any():
            self._append_items(keys[cold], self._map(X[cold]))

    def _map(self, X: np.ndarray) -> np.ndarray:
        W, xm, ym = self._ridge
        return ((X - xm) @ W + ym).astype(np.float32)

    def _append_items(self, keys: pd.Index, vec: np.ndarray) -> None:
        pos = self._items.get_indexer(keys)
        old = pos >= 0
        if (pos[old] < self.n_warm_items_).any():
            bad = list(keys[old][pos[old] < self.n_warm_items_][:5])
            raise ValueError(f"items {bad} have interactions; only cold items can be added from features")
        self._item_vec[pos[old]] = vec[old]
        if (~old).any():
            self._items = self._items.append(pd.Index(keys[~old], tupleize_cols=False))
            self._item_vec = np.vstack([self._item_vec, vec[~old]])

    def _build_store(self) -> None:
        n = len(self._items)
        self.exact_ = bool(self.exact) if self.exact is not None else n <= self.EXACT_MAX_ITEMS
        store = NeighborStore(int(self._item_vec.shape[1]), metric=self.metric_, exact=self.exact_,
                              n_trees=int(self.n_trees), search_k=self.search_k, n_jobs=1,
                              random_state=0)
        meta = None
        if self._metadata is not None:
            meta = self._metadata.reindex(self._items)
        store.add(list(self._items), self._item_vec, metadata=meta)
        self.store_ = store
        self._sim_store = None

    def add_items(self, item_features: pd.DataFrame,
                  item_metadata: pd.DataFrame | None = None) -> Recommender:
        """Add (or update) cold-start items from their features after ``fit``; returns self.

        The features are mapped with the ridge map fitted in ``fit`` (which needs
        ``item_features`` there). Items that have interactions cannot be replaced.
        """
        self._check_fitted()
        if self._ridge is None:
            raise NotFittedError("add_items needs the cold-start map: pass item_features to fit")
        X, keys = self._features(item_features, "item_features")
        self._append_items(keys, self._map(X))
        if item_metadata is not None:
            meta = self._check_metadata(item_metadata)
            self._metadata = meta if self._metadata is None else meta.combine_first(self._metadata)
        self._build_store()
        return self

    # -- state -------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "store_"):
            raise NotFittedError("this Recommender is not fitted yet; call fit(interactions) first")

    @property
    def items_(self) -> pd.Index:
        self._check_fitted()
        return self._items

    @property
    def user_embeddings_(self) -> pd.DataFrame:
        from nnstore import embeddings_frame

        self._check_fitted()
        return embeddings_frame(self._user_vec, self.users_)

    @property
    def item_embeddings_(self) -> pd.DataFrame:
        from nnstore import embeddings_frame

        self._check_fitted()
        return embeddings_frame(self._item_vec, self._items)

    @property
    def popularity_(self) -> pd.Series:
        self._check_fitted()
        return pd.Series(self._pop, index=self._items[:self.n_warm_items_], name="popularity")

    def seen_items(self, user: Hashable) -> list:
        """The items ``user`` interacted with in ``fit`` (empty for an unknown user)."""
        self._check_fitted()
        r = self.users_.get_indexer([user])[0]
        if r < 0:
            return []
        return self._items[self._seen_indices[self._seen_indptr[r]:self._seen_indptr[r + 1]]].tolist()

    # -- recommending ---------------------------------------------------------------------
    def _score(self, dist: np.ndarray) -> np.ndarray:
        return (-dist if self.metric_ == "dot" else 1.0 - dist).astype(np.float32)

    def _popular(self, n: int, k: int, filter: Any) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(-self._pop, kind="stable")
        if filter is not None:
            meta = (self._metadata.reindex(self._items[:self.n_warm_items_]) if self._metadata is not None
                    else pd.DataFrame(index=self._items[:self.n_warm_items_]))
            ok = evaluate_filter(filter, meta)
            order = order[ok[order]]
        top = order[:k]
        keys = np.empty(len(top), dtype=object)
        keys[:] = list(self._items[top])
        return np.tile(keys, (n, 1)), np.tile(self._pop[top].astype(np.float32), (n, 1))

    def recommend(self, users: Iterable[Hashable] | Hashable, k: int = 10, *, filter: Any = None,
                  exclude_seen: bool = True, unknown_users: str = "popular") -> pd.DataFrame:
        """Top-``k`` items per user.

        Parameters
        ----------
        users : user id or iterable of user ids
        k : int
        filter : ``nnstore.col`` expression or callable(metadata) -> mask, optional
            Only items passing it are returned (evaluated on ``item_metadata``).
        exclude_seen : bool, default True
            Never return items the user interacted with in ``fit``.
        unknown_users : {"popular", "error"}
            Users absent from ``fit``: the most popular items, or ``KeyError``.

        Returns
        -------
        DataFrame with columns user, rank (0 = best), item, score (higher = better:
        the inner product for metric dot, cosine similarity for cosine, the
        popularity share for unknown users); fewer than k rows for a user when
        fewer items qualify.
        """
        self._check_fitted()
        if unknown_users not in ("popular", "error"):
            raise ValueError(f"unknown_users must be 'popular' or 'error', got {unknown_users!r}")
        if isinstance(users, (str, bytes)) or not isinstance(users, Iterable):
            users = [users]
        uidx = check_keys(users, name="users", unique=False)
        keys, scores = self._recommend_arrays(uidx, k, filter=filter, exclude_seen=exclude_seen,
                                              unknown_users=unknown_users)
        return _frame(uidx, keys, scores)

    def _recommend_arrays(self, uidx: pd.Index, k: int, *, filter: Any, exclude_seen: bool,
                          unknown_users: str) -> tuple[np.ndarray, np.ndarray]:
        _check_int("k", k)
        rows = self.users_.get_indexer(uidx)
        unknown = rows < 0
        if unknown.any() and unknown_users == "error":
            raise KeyError(f"unknown users (not in fit): {list(uidx[unknown][:5])}")
        nq = len(uidx)
        keys = np.full((nq, k), None, dtype=object)
        scores = np.full((nq, k), np.nan, dtype=np.float32)
        known = np.flatnonzero(~unknown)
        if len(known):
            r = rows[known]
            exclude = None
            if exclude_seen:
                ip, ix, items = self._seen_indptr, self._seen_indices, self._items
                exclude = [items[ix[ip[u]:ip[u + 1]]] for u in r]
            kk, dd, _ = self.store_.query_arrays(self._user_vec[r], k, filter=filter, exclude=exclude)
            keys[known] = kk
            scores[known] = np.where(kk == None, np.nan, self._score(dd))  # noqa: E711
        cold = np.flatnonzero(unknown)
        if len(cold):
            pk, ps = self._popular(len(cold), k, filter)
            keys[cold, :pk.shape[1]] = pk
            scores[cold, :ps.shape[1]] = ps
        return keys, scores

    def recommend_all(self, k: int = 10, path: str | os.PathLike | None = None, *, filter: Any = None,
                      exclude_seen: bool = True, batch_size: int = 4096,
                      verbose: bool = True) -> pd.DataFrame | Path:
        """Top-``k`` for every known user, in batches; to Parquet when ``path`` is given.

        Returns the DataFrame (user, rank, item, score), or the path written
        (one Parquet file written batch by batch to a temporary sibling and
        renamed into place). ``verbose`` shows a tqdm bar over batches.
        """
        from tqdm.auto import tqdm

        self._check_fitted()
        _check_int("batch_size", batch_size)
        n = len(self.users_)
        writer = tmp = None
        parts = []
        if path is not None:
            import uuid

            import pyarrow as pa
            import pyarrow.parquet as pq

            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.parent / f".{path.name}.tmp-{uuid.uuid4().hex[:12]}"
        try:
            for s in tqdm(range(0, n, batch_size), desc="recommend_all", disable=not verbose,
                          total=-(-n // batch_size), unit="batch"):
                uidx = self.users_[s:s + batch_size]
                keys, scores = self._recommend_arrays(uidx, k, filter=filter, exclude_seen=exclude_seen,
                                                      unknown_users="error")
                df = _frame(uidx, keys, scores)
                if path is None:
                    parts.append(df)
                    continue
                table = pa.Table.from_pandas(df, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                writer.write_table(table)
            if path is None:
                return pd.concat(parts, ignore_index=True)
            if writer is not None:
                writer.close()
                writer = None
                os.replace(tmp, path)
            return path
        finally:
            if writer is not None:
                writer.close()
            if tmp is not None and tmp.exists():
                tmp.unlink()

    def similar_items(self, items: Iterable[Hashable] | Hashable, k: int = 10, *,
                      filter: Any = None) -> pd.DataFrame:
        """The ``k`` items most similar (cosine of item vectors) to each given item.

        Returns a DataFrame with columns item, rank, similar_item, score (cosine
        similarity); the item itself is excluded. Unknown items raise ``KeyError``.
        """
        self._check_fitted()
        if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
            items = [items]
        if self._sim_store is None:
            if self.metric_ == "cosine":
                self._sim_store = self.store_
            else:
                s = NeighborStore(self._item_vec.shape[1], metric="cosine", exact=self.exact_,
                                  n_trees=int(self.n_trees), n_jobs=1, random_state=0)
                meta = self._metadata.reindex(self._items) if self._metadata is not None else None
                s.add(list(self._items), self._item_vec, metadata=meta)
                self._sim_store = s
        res = self._sim_store.query_keys(items, k, exclude_self=True, filter=filter)
        return pd.DataFrame({"item": res["query"], "rank": res["rank"], "similar_item": res["key"],
                             "score": (1.0 - res["distance"]).astype(np.float32)})

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> None:
        """Save as an artifact directory (kind ``"recommender"``); the store is rebuilt on load."""
        self._check_fitted()
        params = self.get_params()
        if not isinstance(self.random_state, (int, type(None))):
            params["random_state"] = None
        with ArtifactWriter(path, kind=_KIND, params=params, dim=int(self._user_vec.shape[1]),
                            metric=self.metric_, n_users=len(self.users_), n_items=len(self._items),
                            n_warm_items=int(self.n_warm_items_), exact=self.exact_,
                            n_interactions=int(self.n_interactions_),
                            cold_start=self._ridge is not None,
                            feature_names=self._feature_names) as w:
            w.save_frame("users", _keys_frame(np.asarray(list(self.users_), dtype=object)))
            w.save_frame("items", _keys_frame(np.asarray(list(self._items), dtype=object)))
            w.save_array("user_vectors", self._user_vec)
            w.save_array("item_vectors", self._item_vec)
            w.save_array("seen_indptr", self._seen_indptr)
            w.save_array("seen_indices", self._seen_indices)
            w.save_array("popularity", self._pop)
            w.save_json("history", self.history_)
            if self._ridge is not None:
                W, xm, ym = self._ridge
                w.save_array("ridge_W", W)
                w.save_array("ridge_x_mean", xm)
                w.save_array("ridge_y_mean", ym)
            if self._metadata is not None:
                meta = self._metadata.copy()
                meta.index = pd.RangeIndex(len(meta))
                w.save_frame("metadata", meta)
                mkeys = np.asarray(list(self._metadata.index), dtype=object)
                w.save_frame("metadata_keys", _keys_frame(mkeys))
            if self._state is not None:
                w.save_state_dict("model", self._state)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recommender:
        """Load a saved recommender (checks the manifest: kind, format, checksums)."""
        art = read_artifact(path, kind=_KIND)
        obj = cls(**{k: v for k, v in art.params.items() if k in (*cls._PARAMS, "random_state")})
        info = art.info
        obj.metric_ = info["metric"]
        obj.users_ = pd.Index(_keys_from_frame(art.load_frame("users")), tupleize_cols=False)
        obj._items = pd.Index(_keys_from_frame(art.load_frame("items")), tupleize_cols=False)
        obj._user_vec = art.load_array("user_vectors")
        obj._item_vec = art.load_array("item_vectors")
        obj._seen_indptr = art.load_array("seen_indptr")
        obj._seen_indices = art.load_array("seen_indices")
        obj._pop = art.load_array("popularity")
        obj.history_ = art.load_json("history")
        obj.n_warm_items_ = int(info["n_warm_items"])
        obj.n_interactions_ = int(info["n_interactions"])
        obj._feature_names = info.get("feature_names")
        obj._ridge = None
        if info.get("cold_start"):
            obj._ridge = (art.load_array("ridge_W"), art.load_array("ridge_x_mean"),
                          art.load_array("ridge_y_mean"))
        obj._metadata = None
        if "metadata.parquet" in art.files:
            meta = art.load_frame("metadata")
            meta.index = pd.Index(_keys_from_frame(art.load_frame("metadata_keys")), tupleize_cols=False)
            obj._metadata = meta
        obj._state = art.load_state_dict("model") if "model.pt" in art.files else None
        obj._build_store()
        return obj


def _frame(uidx: pd.Index, keys: np.ndarray, scores: np.ndarray) -> pd.DataFrame:
    nq, k = keys.shape
    ok = (keys != None).ravel()  # noqa: E711 - elementwise on an object array
    q = np.empty(nq, dtype=object)
    q[:] = list(uidx)
    return pd.DataFrame({
        "user": pd.Index(np.repeat(q, k)[ok].tolist(), tupleize_cols=False),
        "rank": np.tile(np.arange(k, dtype=np.int64), nq)[ok],
        "item": pd.Index(keys.ravel()[ok].tolist(), tupleize_cols=False),
        "score": scores.ravel()[ok],
    })
