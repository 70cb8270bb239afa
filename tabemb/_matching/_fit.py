"""The two scorers' fitting stages: Fellegi-Sunter by EM (no labels) and boosted trees (labels).

See :mod:`tabemb._matching._scorers` for the models themselves.
"""

from __future__ import annotations

import numpy as np

from ._features import PairFeatures
from ._scorers import FellegiSunter, TreeEnsemble

__all__ = ["DEFAULT_TREE_PARAMS", "EMB_QUANTILES", "fit_fellegi_sunter", "fit_trees", "random_pairs",
           "tree_matrix"]

#: percentiles of the candidates' embedding similarity that cut it into comparison levels
EMB_QUANTILES = [0.5, 0.8, 0.9, 0.95, 0.98]
#: default HistGradientBoostingClassifier settings of the supervised scorer (chosen on the
#: DeepMatcher valid splits: benchmarks/results/matching.md)
DEFAULT_TREE_PARAMS = {"max_iter": 500, "learning_rate": 0.05, "max_leaf_nodes": 15}
N_RANDOM_PAIRS = 20_000
MAX_EM_PAIRS = 1_000_000


def random_pairs(n_a: int, n_b: int, dedup: bool, rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray]:
    """Up to 20,000 random record pairs (almost all non-matches): the u-probabilities' start.

    For deduplication a record is never paired with itself.
    """
    r = min(N_RANDOM_PAIRS, n_a * n_b)
    ri = rng.integers(0, n_a, r)
    rj = rng.integers(0, n_b, r)
    if dedup:
        keep = ri != rj
        ri, rj = ri[keep], rj[keep]
    return ri, rj


def fit_fellegi_sunter(plan: PairFeatures, X: np.ndarray, X_random: np.ndarray, rng: np.random.Generator,
                       *, use_embedding_feature: bool, n_classes: int, max_iter: int
                       ) -> tuple[FellegiSunter, list[float]]:
    """Fit Fellegi-Sunter by EM on the candidate pairs' levels.

    Parameters
    ----------
    plan : PairFeatures
    X : ndarray of shape (n_candidates, n_features)
        Features of the candidate pairs (feature 0: embedding similarity).
    X_random : ndarray of shape (n_random, n_features)
        Features of random pairs (:func:`random_pairs`): the u start.
    rng : Generator
        Draws the subsample EM runs on when there are more than 1e6 candidates.
    use_embedding_feature, n_classes, max_iter
        As :class:`~tabemb.RecordMatcher`.

    Returns
    -------
    model : FellegiSunter
    embedding_edges : list of float
        The level edges of the embedding similarity (its 50/80/90/95/98th
        percentiles over the candidates).
    """
    edges = [float(v) for v in np.quantile(X[:, 0], EMB_QUANTILES)]
    emb = edges if use_embedding_feature else None
    lev = plan.levels(X, emb)
    lev_em = lev[rng.choice(len(lev), MAX_EM_PAIRS, replace=False)] if len(lev) > MAX_EM_PAIRS else lev
    model = FellegiSunter(plan.n_levels(emb), n_classes=n_classes, max_iter=max_iter)
    model.fit(lev_em, plan.levels(X_random, emb))
    return model, edges


def tree_matrix(X: np.ndarray, use_embedding_feature: bool) -> np.ndarray:
    """The columns of the feature matrix the trees read (all but the embedding similarity
    when ``use_embedding_feature`` is False)."""
    return X if use_embedding_feature else X[:, 1:]


def fit_trees(X: np.ndarray, y: np.ndarray, seed: int, tree_params: dict | None) -> TreeEnsemble:
    """Boosted trees on labelled pairs' features (``X`` as :func:`tree_matrix` gives it).

    A feature with no value on any pair (e.g. no codes anywhere) becomes the
    constant 0, so no tree splits on it.
    """
    X[:, np.isnan(X).all(axis=0)] = 0.0
    params = {**DEFAULT_TREE_PARAMS, **(tree_params or {})}
    return TreeEnsemble.fit(X, y, random_state=seed, **params)
