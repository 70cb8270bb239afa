"""Evaluation of recommenders, and the baselines it compares against.

- :func:`evaluate_recommender`: top-k lists for the test users, scored with
  :mod:`nnstore.metrics` (precision@k, recall@k, NDCG@k, hit rate, MAP@k, MRR)
  plus catalogue coverage (distinct recommended items / items in training).
- Baselines with the same ``fit`` / ``recommend`` surface as
  :class:`graphemb.Recommender`:
  :class:`PopularityRecommender` (most interacted items),
  :class:`ItemKNNRecommender` (item-item cosine on the interaction matrix,
  ``n_neighbors`` kept per item, score = sum of the similarities to the user's
  items), :class:`ALSRecommender` (implicit's alternating least squares; needs
  ``pip install implicit``, a benchmark-only extra).

All baselines exclude seen items when asked and give unknown users the most
popular items, like :class:`graphemb.Recommender`.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from nnstore import NotFittedError, check_keys, metrics

from ._recommend_data import prepare_interactions

__all__ = ["ALSRecommender", "ItemKNNRecommender", "PopularityRecommender", "compare_recommenders",
           "evaluate_recommender"]

_METRICS = ("precision", "recall", "ndcg", "hit_rate", "average_precision", "mrr")


class _MatrixRecommender:
    """Shared surface: dense scores per user batch -> top-k, seen items excluded."""

    def fit(self, interactions: pd.DataFrame, *, user_col: str = "user", item_col: str = "item",
            weight_col: str | None = None, time_col: str | None = None, **_: Any):
        data = prepare_interactions(interactions, user_col=user_col, item_col=item_col,
                                    weight_col=weight_col, time_col=time_col)
        self.users_, self.items_ = data.users, data.items
        self._R = data.matrix()
        pop = np.asarray(self._R.sum(axis=0)).ravel()
        self._pop = pop / pop.sum()
        self._fit_matrix(self._R)
        return self

    def _fit_matrix(self, R: sp.csr_matrix) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _scores(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def recommend(self, users: Iterable[Hashable] | Hashable, k: int = 10, *,
                  exclude_seen: bool = True, batch_size: int = 1024) -> pd.DataFrame:
        """Top-``k`` per user: DataFrame (user, rank, item, score)."""
        if not hasattr(self, "_R"):
            raise NotFittedError(f"this {type(self).__name__} is not fitted yet")
        if isinstance(users, (str, bytes)) or not isinstance(users, Iterable):
            users = [users]
        uidx = check_keys(users, name="users", unique=False)
        rows = self.users_.get_indexer(uidx)
        k = min(int(k), len(self.items_))
        top = np.zeros((len(rows), k), dtype=np.int64)
        val = np.zeros((len(rows), k), dtype=np.float32)
        for s in range(0, len(rows), batch_size):
            r = rows[s:s + batch_size]
            sc = np.tile(self._pop.astype(np.float32), (len(r), 1))
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


class PopularityRecommender(_MatrixRecommender):
    """The most interacted-with items (share of the total weight), the same for everyone."""

    def _fit_matrix(self, R):
        pass

    def _scores(self, rows):
        return np.tile(self._pop.astype(np.float32), (len(rows), 1))


class ItemKNNRecommender(_MatrixRecommender):
    """Item-based k-nearest neighbours: cosine similarity between item columns.

    Parameters
    ----------
    n_neighbors : int, default 100
        Similarities kept per item (the largest); the rest are set to 0.
    """

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
        if kk < S.shape[0] - 1:
            thresh = -np.partition(-S, kk - 1, axis=0)[kk - 1]
            S[S < thresh[None, :]] = 0.0
        self._S = sp.csr_matrix(S)
        self._X = X.tocsr()

    def _scores(self, rows):
        return np.asarray((self._X[rows] @ self._S).todense(), dtype=np.float32)


class ALSRecommender(_MatrixRecommender):
    """implicit's ``AlternatingLeastSquares`` (Hu, Koren, Volinsky 2008) behind the same surface.

    Needs the optional package ``implicit`` (``pip install implicit``; a benchmark
    extra, not a graphtab dependency). Confidence = ``1 + alpha * weight``.
    """

    def __init__(self, *, factors: int = 64, regularization: float = 0.05, alpha: float = 1.0,
                 iterations: int = 15, num_threads: int = 1, random_state: int | None = 0) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.num_threads = num_threads
        self.random_state = random_state

    def _fit_matrix(self, R):
        try:
            from implicit.als import AlternatingLeastSquares
        except ImportError as e:  # pragma: no cover - depends on the environment
            raise ImportError("ALSRecommender needs the optional package 'implicit' "
                              "(pip install implicit)") from e
        model = AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                        alpha=self.alpha, iterations=self.iterations,
                                        num_threads=self.num_threads, random_state=self.random_state,
                                        calculate_training_loss=False)
        model.fit(R.astype(np.float32), show_progress=False)
        self._U = np.asarray(model.user_factors, dtype=np.float32)
        self._V = np.asarray(model.item_factors, dtype=np.float32)

    def _scores(self, rows):
        return self._U[rows] @ self._V.T


def _relevant(test: pd.DataFrame, user_col: str, item_col: str) -> dict:
    if not isinstance(test, pd.DataFrame) or len(test) == 0:
        raise ValueError("test must be a non-empty DataFrame of held-out interactions")
    for c in (user_col, item_col):
        if c not in test.columns:
            raise KeyError(f"test has no column {c!r}; columns: {list(test.columns)[:20]}")
    return test.groupby(user_col, sort=False)[item_col].agg(list).to_dict()


def evaluate_recommender(model: Any, test: pd.DataFrame | Mapping, *, k: int = 10,
                         user_col: str = "user", item_col: str = "item",
                         catalogue: int | Iterable | None = None, per_user: bool = False,
                         **recommend_kw: Any) -> pd.Series | pd.DataFrame:
    """Score a fitted recommender's top-``k`` lists on held-out interactions.

    Parameters
    ----------
    model : a fitted :class:`graphemb.Recommender` or baseline (anything with
        ``recommend(users, k, exclude_seen=...)`` returning user, rank, item)
    test : DataFrame of held-out interactions, or mapping user -> relevant items
    k : int
    catalogue : int or collection, optional
        For coverage; default the model's ``items_``.
    per_user : bool
        Return the per-user metric frame instead of the means.
    **recommend_kw
        Passed to ``model.recommend`` (e.g. ``exclude_seen=True``, the default there).

    Returns
    -------
    Series: ``precision@k, recall@k, ndcg@k, hit_rate@k, map@k, mrr@k, coverage@k``
    (means over test users; recall skips users without relevant items).
    """
    rel = dict(test) if isinstance(test, Mapping) else _relevant(test, user_col, item_col)
    users = list(rel)
    rec = model.recommend(users, k, **recommend_kw)
    res = rec.rename(columns={"user": "query", "item": "key"})
    per = metrics.evaluate(res, rel, k=k, metrics=_METRICS, per_query=True)
    per = per.rename(columns={f"average_precision@{k}": f"map@{k}"})
    if per_user:
        return per
    out = per.mean(skipna=True)
    cat = catalogue if catalogue is not None else list(model.items_)
    out[f"coverage@{k}"] = metrics.catalogue_coverage(res, cat, k=k)
    return out


def compare_recommenders(models: Mapping[str, Any], train: pd.DataFrame, test: pd.DataFrame, *,
                         k: int = 10, user_col: str = "user", item_col: str = "item",
                         weight_col: str | None = None) -> pd.DataFrame:
    """Fit each model on ``train`` and evaluate it on ``test``: one row per model name.

    Adds ``fit_s`` (fit seconds) and ``recommend_s`` (top-k for every test user).
    """
    import time

    rows = {}
    for name, m in models.items():
        t0 = time.perf_counter()
        m.fit(train, user_col=user_col, item_col=item_col, weight_col=weight_col)
        t1 = time.perf_counter()
        scores = evaluate_recommender(m, test, k=k, user_col=user_col, item_col=item_col)
        t2 = time.perf_counter()
        rows[name] = {**scores.to_dict(), "fit_s": t1 - t0, "recommend_s": t2 - t1}
    return pd.DataFrame.from_dict(rows, orient="index")
