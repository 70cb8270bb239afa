"""Evaluation of recommenders: ranking metrics on held-out interactions, side-by-side comparison.

- :func:`evaluate_recommender`: top-k lists for the test users, scored with
  :mod:`nnstore.metrics` (precision@k, recall@k, NDCG@k, hit rate, MAP@k, MRR)
  plus catalogue coverage (distinct recommended items / items in training).
- :func:`compare_recommenders`: fit several models on one split, evaluate
  each, with fit and recommend times; by default ``Recommender()`` against
  the baselines of :mod:`graphemb._recommend._baselines` (EASE, ALS, item-kNN,
  popularity).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

from nnstore import metrics

from ._baselines import ALSRecommender, EASERecommender, ItemKNNRecommender, PopularityRecommender

__all__ = ["compare_recommenders", "default_models", "evaluate_recommender"]

_METRICS = ("precision", "recall", "ndcg", "hit_rate", "average_precision", "mrr")


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


def default_models(random_state: Any = 0) -> dict[str, Any]:
    """The models :func:`compare_recommenders` compares when given none.

    ``Recommender()`` (the default model), EASE, ALS (when ``implicit`` is
    installed), item-kNN and popularity, each with its default parameters.
    """
    models: dict[str, Any] = {}
    from ._estimator import Recommender

    models["recommender"] = Recommender(random_state=random_state)
    models["ease"] = EASERecommender()
    try:
        import implicit  # noqa: F401
    except ImportError:
        pass
    else:
        models["als"] = ALSRecommender(random_state=random_state)
    models["itemknn"] = ItemKNNRecommender()
    models["popularity"] = PopularityRecommender()
    return models


def compare_recommenders(models: Mapping[str, Any] | None, train: pd.DataFrame, test: pd.DataFrame, *,
                         k: int = 10, user_col: str = "user", item_col: str = "item",
                         weight_col: str | None = None, time_col: str | None = None) -> pd.DataFrame:
    """Fit each model on ``train`` and evaluate it on ``test``: one row per model name.

    Parameters
    ----------
    models : mapping name -> unfitted recommender, or None
        None: :func:`default_models` (``Recommender()``, EASE, ALS when
        ``implicit`` is installed, item-kNN, popularity).
    train, test : DataFrame
        Interactions (e.g. from :func:`graphemb.train_test_split_interactions`).
    k : int, default 10
    user_col, item_col, weight_col, time_col : str
        Passed to every model's ``fit`` (and the id columns to the evaluation).

    Returns
    -------
    DataFrame
        The metrics of :func:`evaluate_recommender` per model, plus ``fit_s``
        (fit seconds) and ``recommend_s`` (top-k for every test user).
    """
    import time

    if models is None:
        models = default_models()
    rows = {}
    for name, m in models.items():
        t0 = time.perf_counter()
        m.fit(train, user_col=user_col, item_col=item_col, weight_col=weight_col, time_col=time_col)
        t1 = time.perf_counter()
        scores = evaluate_recommender(m, test, k=k, user_col=user_col, item_col=item_col)
        t2 = time.perf_counter()
        rows[name] = {**scores.to_dict(), "fit_s": t1 - t0, "recommend_s": t2 - t1}
    return pd.DataFrame.from_dict(rows, orient="index")
