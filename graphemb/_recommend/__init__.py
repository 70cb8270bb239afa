"""Recommendation over user-item interactions: the :class:`Recommender` estimator,
its encoders (iALS, LightGCN/BPR, Node2Vec), the closed-form and matrix
baselines, evaluation and splits.

Modules: ``_data`` (interaction tables, splits), ``_ials`` (implicit ALS with
conjugate gradient), ``_models`` (LightGCN/BPR, Node2Vec encoders),
``_estimator`` (:class:`Recommender`), ``_eval`` (baselines, evaluation,
comparison).
"""

from ._data import prepare_interactions, train_test_split_interactions
from ._estimator import Recommender
from ._eval import (
    ALSRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    compare_recommenders,
    evaluate_recommender,
)

__all__ = [
    "ALSRecommender",
    "EASERecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "Recommender",
    "compare_recommenders",
    "evaluate_recommender",
    "prepare_interactions",
    "train_test_split_interactions",
]
