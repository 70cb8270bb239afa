"""Compatibility alias: evaluation and baselines live in :mod:`graphemb._recommend._eval`."""

from ._recommend import (
    ALSRecommender,
    EASERecommender,
    ItemKNNRecommender,
    PopularityRecommender,
    compare_recommenders,
    evaluate_recommender,
)

__all__ = ["ALSRecommender", "EASERecommender", "ItemKNNRecommender", "PopularityRecommender",
           "compare_recommenders", "evaluate_recommender"]
