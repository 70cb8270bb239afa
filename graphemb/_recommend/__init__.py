"""Recommendation over user-item interactions: the :class:`Recommender` estimator,
its encoders (iALS, LightGCN/BPR, Node2Vec), the closed-form and matrix
baselines, evaluation and splits.

Modules: ``_data`` (interaction tables, splits), ``_ials`` (implicit ALS with
conjugate gradient), ``_models`` (LightGCN/BPR, Node2Vec encoders),
``_estimator`` (:class:`Recommender`), ``_coldstart`` (item features -> item
vectors), ``_baselines`` (popularity, item-kNN, EASE, ALS), ``_eval``
(evaluation, comparison).
"""

from ._baselines import ALSRecommender, EASERecommender, ItemKNNRecommender, PopularityRecommender
from ._data import prepare_interactions, train_test_split_interactions
from ._estimator import Recommender
from ._eval import compare_recommenders, default_models, evaluate_recommender

__all__ = [
    "ALSRecommender",
    "EASERecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "Recommender",
    "compare_recommenders",
    "default_models",
    "evaluate_recommender",
    "prepare_interactions",
    "train_test_split_interactions",
]
