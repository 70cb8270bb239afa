"""Baseline recommenders with the surface of :class:`graphemb.Recommender`.

:class:`PopularityRecommender` (most interacted items),
:class:`ItemKNNRecommender` (item-item cosine on the interaction matrix),
:class:`EASERecommender` (Steck's closed-form item-item model, written here)
and :class:`ALSRecommender` (implicit's alternating least squares; needs
``pip install implicit``, a benchmark extra). Each scores users densely in
batches, excludes seen items when asked, gives unknown users the most
popular items, and saves as an artifact directory.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Hashable, Iterable
from numbers import Integral, Real
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from nnstore import (
    DEPRECATED,
    N_JOBS,
    RANDOM_STATE,
    ArtifactWriter,
    Interval,
    check_is_fitted,
    check_keys,
    check_random_state,
    effective_n_jobs,
    read_artifact,
    renamed_param,
    seed_from,
    validate_params,
)
from nnstore import keys_from_frame as _keys_from_frame
from nnstore import keys_to_frame as _keys_frame

from ._data import prepare_interactions

__all__ = ["ALSRecommender", "EASERecommender", "ItemKNNRecommender", "PopularityRecommender"]


class _MatrixRecommender(BaseEstimator):
    """Shared surface: dense scores per user batch -> top-k, seen items excluded.

    Subclasses set ``_kind`` and implement ``_fit_matrix(R)`` (learn from the
    CSR user-item matrix), ``_scores(rows)`` (dense scores of those user rows),
    and ``_state()`` / ``_set_state(arrays)`` (the learned arrays, for save/load).
    """

    _kind = "matrix_recommender"
    _parameter_constraints: ClassVar[dict] = {}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_R")

    def fit(self, interactions: pd.DataFrame, *, user_col: str = "user", item_col: str = "item",
            weight_col: str | None = None, time_col: str | None = None, **_: Any):
        """Learn from ``interactions`` (validated as in :class:`graphemb.Recommender`); returns self.

        Parameters
        ----------
        interactions : DataFrame
            One row per (user, item) interaction.
        user_col, item_col : str
            Id columns.
        weight_col : str, optional
            Interaction strength (>= 0).
        time_col : str, optional
            Checked to exist; not used.
        **_
            Other keyword arguments of ``Recommender.fit`` (item features,
            metadata) are accepted and not used, so one call fits every model.

        Returns
        -------
        self
        """
        validate_params(self)
        data = prepare_interactions(interactions, user_col=user_col, item_col=item_col,
                                    weight_col=weight_col, time_col=time_col)
        self.users_, self.items_ = data.users, data.items
        R = data.matrix()
        pop = np.asarray(R.sum(axis=0)).ravel()
        self.popularity_ = pd.Series(pop / pop.sum(), index=self.items_, name="popularity")
        self._fit_matrix(R)
        self._R = R
        return self

    def _fit_matrix(self, R: sp.csr_matrix) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> dict[str, np.ndarray]:
        return {}

    def _set_state(self, arrays: dict[str, np.ndarray]) -> None:
        pass

    def recommend(self, users: Iterable[Hashable] | Hashable, k: int = 10, *,
                  exclude_seen: bool = True, batch_size: int = 1024) -> pd.DataFrame:
        """Top-``k`` per user.

        Parameters
        ----------
        users : user id or iterable of user ids
            Unknown users get the most popular items.
        k : int
        exclude_seen : bool, default True
            Never return items the user interacted with in ``fit``.
        batch_size : int, default 1024
            Users scored per dense block.

        Returns
        -------
        DataFrame
            Columns user, rank (0 = best), item, score.
        """
        check_is_fitted(self, hint="fit(interactions)")
        if isinstance(k, bool) or not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        if isinstance(users, (str, bytes)) or not isinstance(users, Iterable):
            users = [users]
        uidx = check_keys(users, name="users", unique=False)
        rows = self.users_.get_indexer(uidx)
        k = min(int(k), len(self.items_))
        pop = self.popularity_.to_numpy(dtype=np.float32)
        top = np.zeros((len(rows), k), dtype=np.int64)
        val = np.zeros((len(rows), k), dtype=np.float32)
        for s in range(0, len(rows), batch_size):
            r = rows[s:s + batch_size]
            sc = np.tile(pop, (len(r), 1))
            known = r >= 0
            if known.any():
                sc[known] = self._scores(r[known])
                if exclude_seen:
                    sub = self._R[r[known]]
                    rr = np.repeat(np.flatnonzero(known), np.diff(sub.indptr))
                    sc[rr, sub.indices] = -np.inf
            part = np.argpartition(-sc, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(sc, part, 1), axis=1, kind="stable")
            top[s:s + len(r)] = np.take_along_axis(part, order, 1)
            val[s:s + len(r)] = np.take_along_axis(sc, top[s:s + len(r)], 1)
        ok = np.isfinite(val).ravel()
        return pd.DataFrame({
            "user": pd.Index(np.repeat(np.asarray(list(uidx), dtype=object), k)[ok].tolist(),
                             tupleize_cols=False),
            "rank": np.tile(np.arange(k), len(rows))[ok],
            "item": pd.Index(np.asarray(self.items_, dtype=object)[top.ravel()[ok]].tolist(),
                             tupleize_cols=False),
            "score": val.ravel()[ok],
        })

    def save(self, path: str | os.PathLike) -> Path:
        """Save as an artifact directory; returns its ``Path``."""
        check_is_fitted(self, hint="fit(interactions)")
        params = self.get_params(deep=False)
        if "random_state" in params and not isinstance(params["random_state"], (Integral, type(None))):
            params["random_state"] = None
        with ArtifactWriter(path, kind=self._kind, params=params, n_users=len(self.users_),
                            n_items=len(self.items_)) as w:
            w.save_frame("users", _keys_frame(np.asarray(list(self.users_), dtype=object)))
            w.save_frame("items", _keys_frame(np.asarray(list(self.items_), dtype=object)))
            w.save_array("popularity", self.popularity_.to_numpy(dtype=np.float64))
            w.save_array("R_indptr", self._R.indptr.astype(np.int64))
            w.save_array("R_indices", self._R.indices.astype(np.int64))
            w.save_array("R_data", self._R.data.astype(np.float32))
            for name, arr in self._state().items():
                w.save_array(name, arr)
        return Path(path)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Load a model written by :meth:`save` (checks kind, format and checksums)."""
        art = read_artifact(path, kind=cls._kind)
        names = cls._get_param_names()
        obj = cls(**{k: v for k, v in art.params.items() if k in names})
        obj.users_ = pd.Index(_keys_from_frame(art.load_frame("users")), tupleize_cols=False)
        obj.items_ = pd.Index(_keys_from_frame(art.load_frame("items")), tupleize_cols=False)
        obj.popularity_ = pd.Series(art.load_array("popularity"), index=obj.items_, name="popularity")
        obj._R = sp.csr_matrix((art.load_array("R_data"), art.load_array("R_indices"),
                                art.load_array("R_indptr")), shape=(len(obj.users_), len(obj.items_)))
        arrays = {f[:-4]: art.load_array(f[:-4]) for f in art.files
                  if f.endswith(".npy") and f[:-4] not in {"popularity", "R_indptr", "R_indices", "R_data"}}
        obj._set_state(arrays)
        return obj


class PopularityRecommender(_MatrixRecommender):
    """The most interacted-with items (share of the total weight), the same for everyone.

    Attributes
    ----------
    users_, items_ : pandas.Index
    popularity_ : Series
        Share of the total interaction weight per item.
    """

    _kind = "popularity_recommender"
    _parameter_constraints: ClassVar[dict] = {}

    def _fit_matrix(self, R):
        pass

    def _scores(self, rows):
        return np.tile(self.popularity_.to_numpy(dtype=np.float32), (len(rows), 1))


class ItemKNNRecommender(_MatrixRecommender):
    """Item-based k-nearest neighbours: cosine similarity between item columns.

    A user's score for item i is the sum of i's similarities to the user's items.

    Parameters
    ----------
    n_neighbors : int, default 100
        Similarities kept per item (the largest); the rest are set to 0.
    """

    _kind = "itemknn_recommender"
    _parameter_constraints: ClassVar[dict] = {"n_neighbors": [Interval(Integral, 1, None, closed="left")]}

    def __init__(self, *, n_neighbors: int = 100) -> None:
        self.n_neighbors = n_neighbors

    def _fit_matrix(self, R):
        X = (R > 0).astype(np.float32).tocsc()
        norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=0)).ravel())
        norms[norms == 0] = 1.0
        Xn = X @ sp.diags(1.0 / norms).astype(np.float32)
        S = (Xn.T @ Xn).toarray().astype(np.float32)
        np.fill_diagonal(S, 0.0)
        kk = min(int(self.n_neighbors), S.shape[0] - 1)
        if 0 < kk < S.shape[0] - 1:
            thresh = -np.partition(-S, kk - 1, axis=0)[kk - 1]
            S[S < thresh[None, :]] = 0.0
        self._S = sp.csr_matrix(S)
        self._X = X.tocsr()

    def _scores(self, rows):
        return np.asarray((self._X[rows] @ self._S).todense(), dtype=np.float32)

    def _state(self):
        S = self._S
        return {"S_indptr": S.indptr.astype(np.int64), "S_indices": S.indices.astype(np.int64),
                "S_data": S.data.astype(np.float32)}

    def _set_state(self, arrays):
        n = len(self.items_)
        self._S = sp.csr_matrix((arrays["S_data"], arrays["S_indices"], arrays["S_indptr"]), shape=(n, n))
        self._X = (self._R > 0).astype(np.float32).tocsr()


class EASERecommender(_MatrixRecommender):
    """EASE (Steck, "Embarrassingly Shallow Autoencoders", WWW 2019): a closed-form item-item model.

    ``B = argmin |X - X B|^2 + l2 |B|^2`` subject to ``diag(B) = 0``, with ``X``
    the binary user-item matrix; solved in closed form from ``P = (X^T X + l2
    I)^-1`` as ``B = -P / diag(P)`` (column-wise) with a zero diagonal. A
    user's scores are ``x_u B``. Memory and time grow with the square and the
    cube of the number of items (a dense item-item matrix).

    Parameters
    ----------
    l2 : float, default 500.0
        The ridge penalty (larger: smoother scores that lean towards popular items).

    Attributes
    ----------
    users_, items_ : pandas.Index
    popularity_ : Series
    coef_ : ndarray of shape (n_items, n_items), float32
        ``B``.
    """

    _kind = "ease_recommender"
    _parameter_constraints: ClassVar[dict] = {"l2": [Interval(Real, 0, None, closed="neither")]}

    def __init__(self, *, l2: float = 500.0) -> None:
        self.l2 = l2

    def _fit_matrix(self, R):
        X = (R > 0).astype(np.float64)
        G = (X.T @ X).toarray()
        G[np.diag_indices_from(G)] += float(self.l2)
        P = np.linalg.inv(G)
        B = -P / np.diag(P)[None, :]
        np.fill_diagonal(B, 0.0)
        self.coef_ = B.astype(np.float32)
        self._X = X.astype(np.float32).tocsr()

    def _scores(self, rows):
        return np.asarray(self._X[rows] @ self.coef_, dtype=np.float32)

    def _state(self):
        return {"coef": self.coef_}

    def _set_state(self, arrays):
        self.coef_ = arrays["coef"]
        self._X = (self._R > 0).astype(np.float32).tocsr()


class ALSRecommender(_MatrixRecommender):
    """implicit's ``AlternatingLeastSquares`` (Hu, Koren, Volinsky 2008) behind the same surface.

    Needs the optional package ``implicit`` (``pip install implicit``; a benchmark
    extra, not a graphtab dependency). Confidence = ``1 + alpha * weight``.

    Parameters
    ----------
    dim : int, default 64
        Latent factors.
    l2 : float, default 0.05
        implicit's ``regularization``.
    alpha : float, default 1.0
        Confidence scaling of the weights.
    epochs : int, default 15
        ALS iterations.
    n_jobs : int, optional
        Threads (``None``: 1, ``-1``: all cores).
    random_state : int, Generator or None
        Seeds implicit's initial factors.
    factors, regularization, iterations, num_threads
        Deprecated names of ``dim``, ``l2``, ``epochs`` and ``n_jobs``.

    Attributes
    ----------
    users_, items_ : pandas.Index
    popularity_ : Series
    user_factors_ : ndarray of shape (n_users, dim)
    item_factors_ : ndarray of shape (n_items, dim)
    """

    _kind = "als_recommender"
    _parameter_constraints: ClassVar[dict] = {
        "dim": [Interval(Integral, 1, None, closed="left")],
        "l2": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": N_JOBS,
        "random_state": RANDOM_STATE,
        # the old names take what the new ones take, or their "deprecated" default
        "factors": [Interval(Integral, 1, None, closed="left"), *DEPRECATED],
        "regularization": [Interval(Real, 0, None, closed="left"), *DEPRECATED],
        "iterations": [Interval(Integral, 1, None, closed="left"), *DEPRECATED],
        "num_threads": [Interval(Integral, 0, None, closed="left"), *DEPRECATED],
    }

    def __init__(self, *, dim: int = 64, l2: float = 0.05, alpha: float = 1.0, epochs: int = 15,
                 n_jobs: int | None = None, random_state: Any = None, factors: Any = "deprecated",
                 regularization: Any = "deprecated", iterations: Any = "deprecated",
                 num_threads: Any = "deprecated") -> None:
        self.dim = dim
        self.l2 = l2
        self.alpha = alpha
        self.epochs = epochs
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.num_threads = num_threads

    def fit(self, interactions, **kw):
        validate_params(self)
        self._dim = int(renamed_param(self, "factors", "dim"))
        self._l2 = float(renamed_param(self, "regularization", "l2"))
        self._epochs = int(renamed_param(self, "iterations", "epochs"))
        nj = renamed_param(self, "num_threads", "n_jobs")
        self._threads = effective_n_jobs(None if nj == 0 else nj)
        return super().fit(interactions, **kw)

    fit.__doc__ = _MatrixRecommender.fit.__doc__

    def _fit_matrix(self, R):
        try:
            from implicit.cpu.als import AlternatingLeastSquares
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("ALSRecommender needs the optional package 'implicit' "
                              "(pip install implicit)") from e
        seed = seed_from(check_random_state(self.random_state))
        model = AlternatingLeastSquares(factors=self._dim, regularization=self._l2,
                                        alpha=float(self.alpha), iterations=self._epochs,
                                        num_threads=self._threads, random_state=seed,
                                        calculate_training_loss=False)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"), warnings.catch_warnings():
            # implicit's advice (its own threads, single-threaded BLAS) is followed here; its check
            # still reads the process-wide setting and warns
            warnings.filterwarnings("ignore", message="OpenBLAS is configured", category=RuntimeWarning)
            model.fit(R.astype(np.float32), show_progress=False)
        self.user_factors_ = np.asarray(model.user_factors, dtype=np.float32)
        self.item_factors_ = np.asarray(model.item_factors, dtype=np.float32)

    def _scores(self, rows):
        return self.user_factors_[rows] @ self.item_factors_.T

    def _state(self):
        return {"user_factors": self.user_factors_, "item_factors": self.item_factors_}

    def _set_state(self, arrays):
        self.user_factors_ = arrays["user_factors"]
        self.item_factors_ = arrays["item_factors"]
