"""The :class:`Recommender` estimator: user and item vectors + the neighbour store.

Users and items share one embedding space, learned by one of the encoders
(iALS, LightGCN/BPR, or Node2Vec item vectors with users solved from their
items; see :mod:`graphemb._recommend._ials` and
:mod:`graphemb._recommend._models`). The item vectors go into an
:class:`nnstore.NeighborStore`; a user's recommendations are the items nearest
to the user's vector under the inner product, with the user's seen items
passed to the store's ``exclude`` and any metadata filter to its ``filter``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Hashable, Iterable
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from nnstore import (
    DEPRECATED,
    N_JOBS,
    RANDOM_STATE,
    VERBOSE,
    ArtifactWriter,
    Interval,
    NeighborStore,
    NotFittedError,
    StrOptions,
    check_is_fitted,
    check_keys,
    check_random_state,
    effective_n_jobs,
    evaluate_filter,
    read_artifact,
    renamed_param,
    validate_params,
)
from nnstore import keys_from_frame as _keys_from_frame
from nnstore import keys_to_frame as _keys_frame

from ._coldstart import apply_feature_map, check_features, fit_feature_map
from ._data import prepare_interactions
from ._ials import numba_threads, solve_users, train_ials
from ._models import train_lightgcn, train_node2vec

__all__ = ["Recommender"]

logger = logging.getLogger(__name__)

_KIND = "recommender"

#: per-model defaults of the parameters whose default is None
MODEL_DEFAULTS = {
    "ials": {"dim": 128, "epochs": 16, "l2": 0.4, "frequency_exponent": 0.5},
    "lightgcn": {"dim": 64, "epochs": 100, "l2": 1e-3, "frequency_exponent": 1.0},
    "bpr": {"dim": 64, "epochs": 100, "l2": 1e-3, "frequency_exponent": 1.0},
    "node2vec": {"dim": 64, "epochs": 1, "l2": 0.02, "frequency_exponent": 1.0},
}


def _check_k(k: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}")
    return int(k)


class Recommender(BaseEstimator):
    """Top-k recommendations from user-item interactions (implicit feedback).

    Parameters
    ----------
    model : {"ials", "lightgcn", "bpr", "node2vec"}, default "ials"
        The encoder of users and items:

        - ``"ials"``: implicit alternating least squares with the
          frequency-scaled regularisation of Rendle et al. (2022), solved by
          conjugate gradient (numba); see :mod:`graphemb._recommend._ials`.
        - ``"lightgcn"``: LightGCN propagation trained with the BPR ranking
          loss (plain torch); ``"bpr"``: the same without propagation (BPR
          matrix factorisation).
        - ``"node2vec"``: :class:`graphemb.Node2Vec` item vectors from walks on
          the bipartite graph; a user's vector is then solved from the vectors
          of the items they interacted with (the iALS user step with the items
          fixed, using ``l2``, ``unobserved_weight`` and
          ``frequency_exponent``), so users are scored by their items, in the
          items' space.

        The benchmark page ``benchmarks/results/recommend.md`` compares them.
    dim : int, optional
        Embedding dimension of users and items (default 128 for ials, 64 for
        the others).
    epochs : int, optional
        Passes over the data: iALS alternations (default 16), BPR epochs for
        lightgcn/bpr (default 100), Node2Vec skip-gram epochs (default 1).
    l2 : float, optional
        L2 penalty. iALS and node2vec: the coefficient of the
        frequency-scaled penalty (default 0.4 for ials, 0.02 for node2vec's
        user step); lightgcn/bpr: the penalty on
        the batch's layer-0 embeddings (default 1e-3).
    unobserved_weight : float, default 0.1
        iALS (and node2vec's user step): the weight of every (user, item) pair
        pushed towards a score of 0, relative to an observed interaction's
        weight of 1. Larger values favour less popular items.
    frequency_exponent : float, optional
        iALS (and node2vec's user step): the penalty of a user (item) row is
        ``l2 * (n + unobserved_weight * n_items) ** frequency_exponent`` with
        ``n`` its number of interactions; 0 gives the classic constant penalty
        (default 0.5 for ials, 1.0 for node2vec's user step).
    cg_steps : int, default 3
        iALS: conjugate-gradient steps per row and half step.
    recency_half_life : float or None, default 5.0
        Only when ``fit`` gets a ``time_col``: an interaction followed by ``n``
        later interactions of the same user has its weight multiplied by
        ``1 + recency_boost * 0.5 ** (n / recency_half_life)``, so a user's
        recent interactions count more (every model). None: no recency weighting.
    recency_boost : float, default 5.0
        The extra weight of a user's latest interaction (0: none).
    n_layers : int, default 3
        LightGCN propagation layers.
    batch_size : int, default 4096
        lightgcn/bpr: (user, positive, negative) triples per Adam step.
    learning_rate : float, default 0.01
        lightgcn/bpr: Adam's step size.
    init_std : float, default 0.1
        Scale of the normal initial embeddings (iALS divides it by ``sqrt(dim)``).
    node2vec_params : dict, optional
        Keyword arguments for :class:`graphemb.Node2Vec` (model "node2vec";
        defaults ``walk_length=40, n_walks=10, window=5``).
    metric : {"dot", "cosine"}, optional
        Store metric of :meth:`recommend`; default ``"dot"`` (every model's user
        and item vectors are fitted for inner-product scores).
    cold_start_l2 : float, default 1.0
        Ridge penalty of the cold-start map from item features to item vectors.
    exact : bool, optional
        True: the store searches exactly (blocked matrix products); False: Annoy.
        Default: exact for catalogues of at most ``EXACT_MAX_ITEMS`` items (then
        exact top-k is also the fastest), Annoy above. ``exact_`` says which runs.
    n_trees : int, default 50
        Annoy trees of the store when it is not exact.
    search_k : int, optional
        Annoy's search budget when the store is not exact.
    n_jobs : int, optional
        Threads of the iALS solver (``None``: 1, ``-1``: all cores).
    random_state : int, Generator or None
        Seeds the initial factors, the samplers and the store.
    verbose : bool, default False
        Progress bar over training epochs.
    ridge_alpha : float
        Deprecated name of ``cold_start_l2``.

    Attributes
    ----------
    users_ : pandas.Index
        Known users (those with interactions in ``fit``).
    items_ : pandas.Index
        Items in the store: warm items (with interactions) then cold items
        (from ``item_features`` only, or :meth:`add_items`).
    n_warm_items_ : int
    n_interactions_ : int
        Distinct (user, item) pairs after merging duplicates.
    user_embeddings_ : DataFrame of shape (n_users, dim)
    item_embeddings_ : DataFrame of shape (n_items, dim)
    popularity_ : Series
        Share of the total interaction weight per warm item (the cold-user fallback).
    metric_ : str
        The store metric in use.
    store_ : nnstore.NeighborStore
        Item vectors (+ ``item_metadata``) searched by :meth:`recommend`.
    exact_ : bool
    history_ : list of dict
        Training loss per epoch (lightgcn/bpr; iALS: the last epoch, or every
        epoch with ``verbose``).
    cold_start_r2_ : float
        R^2 of the cold-start map on the warm items (only with ``item_features``).

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
      features -> centred learned item vectors, penalty ``cold_start_l2``); items
      with features but no interactions get the mapped vector and are
      recommendable at once. :meth:`add_items` does the same after ``fit``.
    - **Duplicates** are merged (weights summed, repeats counted); negative weights
      raise ``ValueError`` naming the column; an empty frame raises ``ValueError``.
    - **Weights** scale an interaction's confidence (iALS: its weight in the
      squared loss, divided by the mean weight; BPR: how often it is sampled).
    - Determinism: same ``random_state`` and one thread (``n_jobs=None``, one
      torch thread) give the same embeddings and recommendations.

    Examples
    --------
    >>> import pandas as pd
    >>> from graphemb import Recommender
    >>> df = pd.DataFrame({"user": ["a", "a", "b", "b", "c"], "item": ["x", "y", "x", "z", "y"]})
    >>> rec = Recommender(dim=4, random_state=0).fit(df)
    >>> rec.recommend(["c"], k=2)["item"].tolist()  # doctest: +SKIP
    ['x', 'z']
    """

    #: catalogues up to this size are searched exactly by default
    EXACT_MAX_ITEMS = 50_000

    _parameter_constraints: ClassVar[dict] = {
        "model": [StrOptions({"ials", "lightgcn", "bpr", "node2vec"})],
        "dim": [Interval(Integral, 1, None, closed="left"), None],
        "epochs": [Interval(Integral, 1, None, closed="left"), None],
        "l2": [Interval(Real, 0, None, closed="left"), None],
        "unobserved_weight": [Interval(Real, 0, None, closed="neither")],
        "frequency_exponent": [Interval(Real, 0, None, closed="left"), None],
        "cg_steps": [Interval(Integral, 1, None, closed="left")],
        "recency_half_life": [Interval(Real, 0, None, closed="neither"), None],
        "recency_boost": [Interval(Real, 0, None, closed="left")],
        "n_layers": [Interval(Integral, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [Interval(Real, 0, None, closed="neither")],
        "init_std": [Interval(Real, 0, None, closed="neither")],
        "node2vec_params": [dict, None],
        "metric": [StrOptions({"dot", "cosine"}), None],
        "cold_start_l2": [Interval(Real, 0, None, closed="left")],
        "exact": ["boolean", None],
        "n_trees": [Interval(Integral, 1, None, closed="left")],
        "search_k": [Interval(Integral, 1, None, closed="left"), None],
        "n_jobs": N_JOBS,
        "random_state": RANDOM_STATE,
        "verbose": VERBOSE,
        "ridge_alpha": [Interval(Real, 0, None, closed="left"), *DEPRECATED],
    }

    def __init__(self, *, model: str = "ials", dim: int | None = None, epochs: int | None = None,
                 l2: float | None = None, unobserved_weight: float = 0.1,
                 frequency_exponent: float | None = None,
                 cg_steps: int = 3, recency_half_life: float | None = 5.0, recency_boost: float = 5.0,
                 n_layers: int = 3, batch_size: int = 4096, learning_rate: float = 0.01,
                 init_std: float = 0.1, node2vec_params: dict | None = None, metric: str | None = None,
                 cold_start_l2: float = 1.0, exact: bool | None = None, n_trees: int = 50,
                 search_k: int | None = None, n_jobs: int | None = None, random_state: Any = None,
                 verbose: bool = False, ridge_alpha: Any = "deprecated") -> None:
        self.model = model
        self.dim = dim
        self.epochs = epochs
        self.l2 = l2
        self.unobserved_weight = unobserved_weight
        self.frequency_exponent = frequency_exponent
        self.cg_steps = cg_steps
        self.recency_half_life = recency_half_life
        self.recency_boost = recency_boost
        self.n_layers = n_layers
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.init_std = init_std
        self.node2vec_params = node2vec_params
        self.metric = metric
        self.cold_start_l2 = cold_start_l2
        self.exact = exact
        self.n_trees = n_trees
        self.search_k = search_k
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose
        self.ridge_alpha = ridge_alpha

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "store_")

    def _check_fitted(self) -> None:
        check_is_fitted(self, "store_", hint="fit(interactions)")

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
            Timestamps: with ``recency_half_life`` set, a user's recent
            interactions weigh more (see the parameter); the models are
            otherwise order-free.

        Returns
        -------
        self : Recommender

        Raises
        ------
        ValueError
            A bad parameter value (naming it), an empty frame, a missing id or a
            negative / non-finite weight.
        KeyError
            A column that ``interactions`` lacks.
        item_features : DataFrame of shape (n_items_with_features, n_features), optional
            Numeric item attributes indexed by item id (e.g. tabemb record
            embeddings); enables cold-start items (see the class notes).
        item_metadata : DataFrame indexed by item id, optional
            Columns the ``filter`` of :meth:`recommend` can test (genre, in stock...).
            Items without a row have missing values (never pass a comparison).
        """
        validate_params(self)
        self._cold_l2 = float(renamed_param(self, "ridge_alpha", "cold_start_l2"))
        data = prepare_interactions(interactions, user_col=user_col, item_col=item_col,
                                    weight_col=weight_col, time_col=time_col,
                                    recency_half_life=self.recency_half_life,
                                    recency_boost=float(self.recency_boost))
        rng = check_random_state(self.random_state)
        self._store_seed = int(rng.integers(2**31 - 1))
        uvec, ivec, self._state, self.history_ = self._encode(data, rng)
        self.metric_ = self.metric or "dot"
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

    def _setting(self, name: str) -> Any:
        value = getattr(self, name)
        return MODEL_DEFAULTS[self.model][name] if value is None else value

    def _encode(self, data, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, dict | None, list]:
        """Run the chosen encoder: (user vectors, item vectors, torch state or None, history)."""
        epochs, l2 = int(self._setting("epochs")), float(self._setting("l2"))
        dim = int(self._setting("dim"))
        threads = effective_n_jobs(self.n_jobs)
        if self.model == "ials":
            with numba_threads(threads):
                uvec, ivec, history = train_ials(
                    data, dim=dim, epochs=epochs, l2=l2, alpha0=float(self.unobserved_weight),
                    nu=float(self._setting("frequency_exponent")), init_std=float(self.init_std),
                    cg_steps=int(self.cg_steps), rng=rng, verbose=bool(self.verbose))
            return uvec, ivec, None, history
        if self.model == "node2vec":
            params = {"epochs": epochs, **dict(self.node2vec_params or {})}
            ivec = train_node2vec(data, dim=dim, params=params, rng=rng, verbose=bool(self.verbose))
            with numba_threads(threads):
                uvec = solve_users(data, ivec, l2=l2, alpha0=float(self.unobserved_weight),
                                   nu=float(self._setting("frequency_exponent")))
            return uvec, ivec, None, []
        return train_lightgcn(
            data, dim=dim, n_layers=0 if self.model == "bpr" else int(self.n_layers), epochs=epochs,
            batch_size=int(self.batch_size), learning_rate=float(self.learning_rate), l2=l2,
            init_std=float(self.init_std), rng=rng, verbose=bool(self.verbose))

    @staticmethod
    def _check_metadata(meta: Any) -> pd.DataFrame | None:
        if meta is None:
            return None
        if not isinstance(meta, pd.DataFrame):
            raise TypeError(f"item_metadata must be a DataFrame indexed by item, got {type(meta).__name__}")
        check_keys(meta.index, name="item_metadata index")
        return meta

    def _features(self, features: Any, name: str) -> tuple[np.ndarray, pd.Index]:
        return check_features(features, name, self._feature_names)

    def _fit_cold_start(self, item_features: pd.DataFrame) -> None:
        self._feature_names = None
        X, keys = self._features(item_features, "item_features")
        self._feature_names = [str(c) for c in item_features.columns]
        pos = self._items.get_indexer(keys)
        warm = pos >= 0
        if warm.sum() < 2:
            raise ValueError("item_features must cover at least 2 items that have interactions "
                             f"(to fit the cold-start map); it covers {int(warm.sum())}")
        self._ridge, self.cold_start_r2_ = fit_feature_map(
            X[warm], self._item_vec[pos[warm]].astype(np.float64), self._cold_l2)
        cold = ~warm
        if cold.any():
            self._append_items(keys[cold], self._map(X[cold]))

    def _map(self, X: np.ndarray) -> np.ndarray:
        return apply_feature_map(self._ridge, X)

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
                              random_state=self._store_seed)
        meta = None
        if self._metadata is not None:
            meta = self._metadata.reindex(self._items)
        store.add(list(self._items), self._item_vec, metadata=meta)
        self.store_ = store
        self._sim_store = None

    def add_items(self, item_features: pd.DataFrame,
                  item_metadata: pd.DataFrame | None = None) -> Recommender:
        """Add (or update) cold-start items from their features after ``fit``.

        The features are mapped with the ridge map fitted in ``fit`` (which needs
        ``item_features`` there). Items that have interactions cannot be replaced.

        Parameters
        ----------
        item_features : DataFrame indexed by item id
            The columns seen in ``fit``.
        item_metadata : DataFrame indexed by item id, optional
            Metadata of the new items (merged over the existing rows).

        Returns
        -------
        self : Recommender

        Raises
        ------
        NotFittedError
            Not fitted, or fitted without ``item_features``.
        ValueError
            An item that has interactions.
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
        """The items ``user`` interacted with in ``fit``.

        Parameters
        ----------
        user : hashable

        Returns
        -------
        list
            Item ids (empty for an unknown user).
        """
        self._check_fitted()
        r = self.users_.get_indexer([user])[0]
        if r < 0:
            return []
        return self._items[self._seen_indices[self._seen_indptr[r]:self._seen_indptr[r + 1]]].tolist()

    # -- recommending ---------------------------------------------------------------------
    def _pair_scores(self, rows: np.ndarray, keys: np.ndarray) -> np.ndarray:
        """Scores of (user row, item key) pairs, one row-wise product each, so that a user's
        scores do not depend on which other users share the batch (the store's blocked
        products round differently for different batch shapes); NaN where no item."""
        found = keys != None  # noqa: E711 - elementwise on an object array
        out = np.full(keys.shape, np.nan, dtype=np.float32)
        if not found.any():
            return out
        u = self._user_vec[np.repeat(rows, found.sum(1))]
        v = self._item_vec[self._items.get_indexer(pd.Index(keys[found].tolist(), tupleize_cols=False))]
        if self.metric_ == "cosine":
            u = u / np.maximum(np.linalg.norm(u, axis=1, keepdims=True), 1e-12)
            v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
        out[found] = np.einsum("ij,ij->i", u, v)
        return out

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
        k = _check_k(k)
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
            kk, _, _ = self.store_.query_arrays(self._user_vec[r], k, filter=filter, exclude=exclude)
            keys[known] = kk
            scores[known] = self._pair_scores(r, kk)
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

        Parameters
        ----------
        k : int, default 10
        path : str or Path, optional
            A Parquet file to write, batch by batch, to a temporary sibling
            renamed into place (a crash never leaves a partial file there).
        filter : ``nnstore.col`` expression or callable, optional
            As in :meth:`recommend`.
        exclude_seen : bool, default True
        batch_size : int, default 4096
            Users per store query.
        verbose : bool, default True
            A tqdm bar over batches.

        Returns
        -------
        DataFrame or Path
            Columns user, rank, item, score; or the path written.
        """
        from tqdm.auto import tqdm

        self._check_fitted()
        if isinstance(batch_size, bool) or not isinstance(batch_size, Integral) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
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

        Parameters
        ----------
        items : item id or iterable of item ids
        k : int, default 10
        filter : ``nnstore.col`` expression or callable, optional
            Only items passing it (on ``item_metadata``) are returned.

        Returns
        -------
        DataFrame
            Columns item, rank, similar_item, score (cosine similarity); the
            item itself is excluded.

        Raises
        ------
        KeyError
            An unknown item.
        """
        self._check_fitted()
        if isinstance(items, (str, bytes)) or not isinstance(items, Iterable):
            items = [items]
        if self._sim_store is None:
            if self.metric_ == "cosine":
                self._sim_store = self.store_
            else:
                s = NeighborStore(self._item_vec.shape[1], metric="cosine", exact=self.exact_,
                                  n_trees=int(self.n_trees), n_jobs=1, random_state=self._store_seed)
                meta = self._metadata.reindex(self._items) if self._metadata is not None else None
                s.add(list(self._items), self._item_vec, metadata=meta)
                self._sim_store = s
        res = self._sim_store.query_keys(items, k, exclude_self=True, filter=filter)
        return pd.DataFrame({"item": res["query"], "rank": res["rank"], "similar_item": res["key"],
                             "score": (1.0 - res["distance"]).astype(np.float32)})

    # -- persistence ----------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Save as an artifact directory (kind ``"recommender"``); the store is rebuilt on load.

        Parameters
        ----------
        path : str or Path
            The directory to write (replaced atomically when it exists).

        Returns
        -------
        Path
            The artifact directory.
        """
        self._check_fitted()
        params = self.get_params(deep=False)
        if not isinstance(self.random_state, (Integral, type(None))):
            params["random_state"] = None
        with ArtifactWriter(path, kind=_KIND, params=params, dim=int(self._item_vec.shape[1]),
                            metric=self.metric_, n_users=len(self.users_), n_items=len(self._items),
                            n_warm_items=int(self.n_warm_items_), exact=self.exact_,
                            n_interactions=int(self.n_interactions_),
                            cold_start=self._ridge is not None, store_seed=int(self._store_seed),
                            cold_start_l2=float(self._cold_l2),
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
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Recommender:
        """Load a saved recommender (checks the manifest: kind, format, checksums).

        Parameters
        ----------
        path : str or Path
            A directory written by :meth:`save`.

        Returns
        -------
        Recommender
            Fitted, with the same recommendations as the saved one.

        Raises
        ------
        nnstore.ArtifactError
            Not a recommender artifact, a newer format, a missing file or a checksum mismatch.
        """
        art = read_artifact(path, kind=_KIND)
        names = cls._get_param_names()
        obj = cls(**{k: v for k, v in art.params.items() if k in names})
        info = art.info
        obj._store_seed = int(info.get("store_seed", 0))
        obj._cold_l2 = float(info.get("cold_start_l2", art.params.get("cold_start_l2", 1.0)))
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
