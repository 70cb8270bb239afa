"""The estimator contract (nnstore.testing.check_estimator_contract) on every recommender."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from graphemb import ALSRecommender, EASERecommender, ItemKNNRecommender, PopularityRecommender, Recommender
from nnstore.testing import check_estimator_contract


def _interactions() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = [(f"u{g}_{u}", f"i{g}_{i}") for g in range(2) for u in range(6)
            for i in rng.choice(6, size=4, replace=False)]
    return pd.DataFrame(rows, columns=["user", "item"]).assign(ts=np.arange(len(rows)))


DF = _interactions()
USERS = ["u0_0", "u1_3", "stranger"]

CASES = {
    "ials": (Recommender(dim=4, epochs=3, random_state=0),
             {"dim": [0], "epochs": [0], "unobserved_weight": [0.0], "model": ["als"],
              "recency_half_life": [-1.0], "n_jobs": [0]}),
    "lightgcn": (Recommender(model="lightgcn", dim=4, epochs=2, batch_size=16, random_state=0),
                 {"learning_rate": [0.0], "n_layers": [-1]}),
    "node2vec": (Recommender(model="node2vec", dim=4, random_state=0,
                             node2vec_params={"walk_length": 5, "n_walks": 2, "window": 2}),
                 {"l2": [-1.0]}),
    "popularity": (PopularityRecommender(), {}),
    "itemknn": (ItemKNNRecommender(n_neighbors=3), {"n_neighbors": [0]}),
    "ease": (EASERecommender(l2=5.0), {"l2": [0.0, -1.0]}),
    "als": (ALSRecommender(dim=4, epochs=2, random_state=0), {"dim": [0], "epochs": [0], "n_jobs": [0]}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_recommender_contract(name, tmp_path):
    if name == "als":
        pytest.importorskip("implicit")
    est, bad = CASES[name]
    check_estimator_contract(
        est, lambda e: e.fit(DF, time_col="ts"),
        outputs=lambda e: e.recommend(USERS, k=3),
        unfitted=[lambda e: e.recommend(USERS, k=3)],
        bad_params=bad, tmp_path=tmp_path)
