"""Recommendation: planted taste groups recovered, seen items excluded, a cold-start item served"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from graphemb import PopularityRecommender, Recommender, evaluate_recommender, train_test_split_interactions
from nnstore import col


def run(workdir: Path) -> None:
    rng = np.random.default_rng(0)
    genres = ["drama", "comedy", "horror", "scifi"]
    items = pd.DataFrame({"genre": np.repeat(genres, 25), "in_stock": rng.random(100) < 0.8},
                         index=[f"m{i:03d}" for i in range(100)])
    rows = []
    for u in range(200):  # each user mostly watches one genre, sometimes anything
        g = u % 4
        for _ in range(12):
            pool = items.index[items["genre"] == genres[g]] if rng.random() < 0.85 else items.index
            rows.append((f"user{u}", rng.choice(pool)))
    df = pd.DataFrame(rows, columns=["user", "item"])
    train, test = train_test_split_interactions(df, random_state=0)
    print(f"{df['user'].nunique()} users, {len(items)} movies in 4 genres; {len(df)} interaction rows "
          "(repeats are merged in fit); 80/20 split per user")

    # item features for cold-start items: one-hot genre here; tabemb.TableEncoder embeddings of
    # richer attributes plug in the same way. "new_horror" has attributes but no interactions.
    catalogue = pd.concat([items, pd.DataFrame({"genre": ["horror"], "in_stock": [True]},
                                               index=["new_horror"])])
    feats = pd.get_dummies(catalogue["genre"]).astype(float)
    rec = Recommender(model="lightgcn", dim=32, epochs=40, batch_size=1024, learning_rate=0.03,
                      random_state=0).fit(train, item_features=feats, item_metadata=catalogue)
    ours = evaluate_recommender(rec, test, k=10)
    pop = evaluate_recommender(PopularityRecommender().fit(train), test, k=10)
    print(f"LightGCN   NDCG@10 {ours['ndcg@10']:.3f}  recall@10 {ours['recall@10']:.3f}")
    print(f"popularity NDCG@10 {pop['ndcg@10']:.3f}  recall@10 {pop['recall@10']:.3f}")

    top = rec.recommend(["user0"], k=5)
    share = (catalogue.loc[top["item"], "genre"] == "drama").mean()
    seen = set(rec.seen_items("user0")) & set(top["item"])
    print(f"user0 (a drama fan): top-5 {top['item'].tolist()}: {share:.0%} drama, {len(seen)} already seen")
    f = col("in_stock") == True  # noqa: E712 - a filter expression, not a truth test
    top = rec.recommend(["user0"], k=5, filter=f)
    print(f"with filter in_stock: all in stock {bool(catalogue.loc[top['item'], 'in_stock'].all())}")

    fans = [f"user{u}" for u in range(2, 200, 4)]  # horror fans
    got = rec.recommend(fans, k=10).groupby("user")["item"].apply(lambda s: "new_horror" in set(s)).mean()
    print(f"cold-start 'new_horror' is in the top-10 of {got:.0%} of horror fans")

    path = rec.recommend_all(10, workdir / "top10.parquet", verbose=False)
    print(f"top-10 for all {len(rec.users_)} users written to {path.name} "
          f"({len(pd.read_parquet(path))} rows)")
    rec.save(workdir / "model")
    same = Recommender.load(workdir / "model").recommend(fans[:5], 10).equals(rec.recommend(fans[:5], 10))
    print(f"saved and reloaded: identical recommendations {same}")
