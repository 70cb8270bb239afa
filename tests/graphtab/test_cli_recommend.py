"""``graphtab recommend fit | top | similar | evaluate``."""

import json

import numpy as np
import pandas as pd

from graphemb import train_test_split_interactions
from graphtab.cli import main

N_GROUPS, ITEMS_PER_GROUP, USERS_PER_GROUP, SEEN = 3, 10, 12, 7


def _planted(seed: int = 0):
    """Users of group g interact with SEEN of the ITEMS_PER_GROUP items of genre g."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(N_GROUPS):
        for u in range(USERS_PER_GROUP):
            for i in rng.choice(ITEMS_PER_GROUP, size=SEEN, replace=False):
                rows.append((f"u{g}_{u}", f"i{g}_{i}", int(rng.integers(1, 4))))
    df = pd.DataFrame(rows, columns=["user", "item", "weight"])
    items = pd.DataFrame({"genre": [f"g{g}" for g in range(N_GROUPS) for _ in range(ITEMS_PER_GROUP)]},
                         index=[f"i{g}_{i}" for g in range(N_GROUPS) for i in range(ITEMS_PER_GROUP)])
    return df, items


def test_fit_top_similar_evaluate(tmp_path, capsys):
    df, items = _planted()
    train, test = train_test_split_interactions(df, random_state=0)
    train.to_csv(tmp_path / "train.csv", index=False)
    test.to_parquet(tmp_path / "test.parquet")
    items.rename_axis("item").reset_index().to_csv(tmp_path / "items.csv", index=False)
    model = tmp_path / "model"
    assert main(["recommend", "fit", str(tmp_path / "train.csv"), "--out", str(model), "--dim", "16",
                 "--epochs", "10", "--weight-col", "weight", "--item-metadata", str(tmp_path / "items.csv"),
                 "--seed", "0"]) == 0
    assert "fitted" in capsys.readouterr().out
    assert main(["recommend", "top", str(model), "--out", str(tmp_path / "all.parquet"), "--k", "3"]) == 0
    recs = pd.read_parquet(tmp_path / "all.parquet")
    assert len(recs) == 3 * N_GROUPS * USERS_PER_GROUP
    pd.DataFrame({"user": ["u0_0", "stranger"]}).to_csv(tmp_path / "users.csv", index=False)
    assert main(["recommend", "top", str(model), str(tmp_path / "users.csv"),
                 "--out", str(tmp_path / "some.csv"), "--k", "2"]) == 0
    assert pd.read_csv(tmp_path / "some.csv")["user"].tolist() == ["u0_0", "u0_0", "stranger", "stranger"]
    pd.DataFrame({"item": ["i0_0"]}).to_csv(tmp_path / "q.csv", index=False)
    assert main(["recommend", "similar", str(model), str(tmp_path / "q.csv"),
                 "--out", str(tmp_path / "sim.parquet"), "--k", "2"]) == 0
    assert len(pd.read_parquet(tmp_path / "sim.parquet")) == 2
    capsys.readouterr()
    assert main(["recommend", "evaluate", str(model), str(tmp_path / "test.parquet"), "--k", "5",
                 "--out", str(tmp_path / "m.json")]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["recall@5"] > 0.5 and set(scores) >= {"ndcg@5", "map@5", "coverage@5", "hit_rate@5"}
    assert json.loads((tmp_path / "m.json").read_text()) == scores


def test_errors(tmp_path, capsys):
    pd.DataFrame({"user": ["a"], "item": ["x"], "r": [-2]}).to_csv(tmp_path / "bad.csv", index=False)
    code = main(["recommend", "fit", str(tmp_path / "bad.csv"), "--out", str(tmp_path / "m"),
                 "--weight-col", "r"])
    assert code == 2 and "weight column 'r' must be >= 0" in capsys.readouterr().err


def test_fit_other_models_and_time_column(tmp_path, capsys):
    from graphemb import Recommender

    df, _ = _planted()
    df["ts"] = np.arange(len(df))
    df.to_csv(tmp_path / "train.csv", index=False)
    assert main(["recommend", "fit", str(tmp_path / "train.csv"), "--out", str(tmp_path / "gcn"),
                 "--model", "lightgcn", "--dim", "8", "--epochs", "3", "--batch-size", "64",
                 "--learning-rate", "0.02", "--seed", "0"]) == 0
    gcn = Recommender.load(tmp_path / "gcn")
    assert gcn.model == "lightgcn" and gcn.learning_rate == 0.02 and gcn.epochs == 3
    args = ["recommend", "fit", str(tmp_path / "train.csv"), "--dim", "8", "--epochs", "3", "--seed", "0"]
    assert main([*args, "--out", str(tmp_path / "a"), "--time-col", "ts", "--recency-half-life", "5"]) == 0
    assert main([*args, "--out", str(tmp_path / "b"), "--time-col", "ts", "--recency-half-life", "0"]) == 0
    assert main([*args, "--out", str(tmp_path / "c")]) == 0
    a, b, c = (Recommender.load(tmp_path / n).item_embeddings_.to_numpy() for n in "abc")
    np.testing.assert_array_equal(b, c)
    assert not np.allclose(a, c)
    assert Recommender.load(tmp_path / "a").recency_half_life == 5.0
    capsys.readouterr()
    code = main([*args, "--out", str(tmp_path / "d"), "--unobserved-weight", "0"])
    assert code == 2 and "unobserved_weight" in capsys.readouterr().err
