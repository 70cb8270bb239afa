"""graphemb.Recommender, the interaction splits, the evaluation helper, the baselines, the CLI."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from graphemb import (
    ItemKNNRecommender,
    PopularityRecommender,
    Recommender,
    evaluate_recommender,
    train_test_split_interactions,
)
from graphemb._recommend._data import prepare_interactions
from nnstore import ArtifactError, NotFittedError, col

N_GROUPS, ITEMS_PER_GROUP, USERS_PER_GROUP, SEEN = 3, 10, 12, 7
FAST = dict(dim=16, epochs=10)
FAST_GCN = dict(dim=16, epochs=40, batch_size=128, learning_rate=0.02)


def planted(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Users of group g interact with SEEN of the ITEMS_PER_GROUP items of genre g."""
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(N_GROUPS):
        for u in range(USERS_PER_GROUP):
            for i in rng.choice(ITEMS_PER_GROUP, size=SEEN, replace=False):
                rows.append((f"u{g}_{u}", f"i{g}_{i}", int(rng.integers(1, 4)), int(rng.integers(0, 1000))))
    df = pd.DataFrame(rows, columns=["user", "item", "weight", "ts"])
    items = pd.DataFrame({"genre": [f"g{g}" for g in range(N_GROUPS) for _ in range(ITEMS_PER_GROUP)]},
                         index=[f"i{g}_{i}" for g in range(N_GROUPS) for i in range(ITEMS_PER_GROUP)])
    return df, items


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.fixture(scope="module")
def fitted(data):
    df, items = data
    return Recommender(random_state=0, **FAST).fit(df, item_metadata=items)


def group(key: str) -> str:
    return key.split("_")[0][1:]


# -- recommendations ----------------------------------------------------------------------
def test_recommends_own_group_and_never_seen_items(fitted, data):
    df, _ = data
    rec = fitted.recommend_all(3, verbose=False)
    assert len(rec) == N_GROUPS * USERS_PER_GROUP * 3
    assert list(rec.columns) == ["user", "rank", "item", "score"]
    seen = set(zip(df["user"], df["item"], strict=True))
    assert not any((u, i) in seen for u, i in zip(rec["user"], rec["item"], strict=True))
    # each user has exactly 3 unseen items of their own genre: they are the top 3
    assert (rec["user"].map(group) == rec["item"].map(group)).mean() == 1.0
    assert (rec.groupby("user")["score"].apply(lambda s: s.is_monotonic_decreasing)).all()
    assert rec.groupby("user")["rank"].apply(list).map(lambda r: r == [0, 1, 2]).all()


def test_annoy_store_agrees_with_exact(data, fitted):
    df, items = data
    approx = Recommender(random_state=0, exact=False, search_k=2000, **FAST).fit(df, item_metadata=items)
    assert fitted.exact_ and not approx.exact_
    a, e = approx.recommend_all(3, verbose=False), fitted.recommend_all(3, verbose=False)
    # the same top-3 per user with the same scores (near-ties may swap ranks)
    assert a.groupby("user")["item"].apply(set).equals(e.groupby("user")["item"].apply(set))
    np.testing.assert_allclose(a["score"], e["score"], rtol=1e-4, atol=1e-5)
    rec = approx.recommend(["u0_0"], k=4, filter=col("genre") == "g1")
    assert len(rec) == 4 and set(rec["item"].map(group)) == {"1"}


def test_include_seen_returns_seen_items(fitted, data):
    df, _ = data
    rec = fitted.recommend(["u0_0"], k=ITEMS_PER_GROUP, exclude_seen=False)
    assert set(df.loc[df["user"] == "u0_0", "item"]) <= set(rec["item"])
    assert fitted.seen_items("u0_0") == sorted(fitted.seen_items("u0_0"), key=fitted.items_.get_loc)
    assert set(fitted.seen_items("u0_0")) == set(df.loc[df["user"] == "u0_0", "item"])


def test_filter_is_honoured(fitted):
    users = ["u0_0", "u1_3", "nobody"]
    rec = fitted.recommend(users, k=5, filter=col("genre") == "g2")
    assert set(rec["item"].map(group)) == {"2"}
    assert rec.groupby("user").size().to_dict() == {"u0_0": 5, "u1_3": 5, "nobody": 5}
    rec = fitted.recommend(["u0_0"], k=5, filter=lambda m: m["genre"].isin(["g1"]))
    assert set(rec["item"].map(group)) == {"1"}


def test_unknown_users_get_popular_items(fitted, data):
    df, _ = data
    rec = fitted.recommend(["nobody", "u0_0"], k=4)
    cold = rec[rec["user"] == "nobody"]
    pop = df.groupby("item")["user"].size() / len(df)
    expected = pop.sort_values(ascending=False, kind="stable")
    np.testing.assert_allclose(cold["score"].to_numpy(), expected.to_numpy()[:4], rtol=1e-6)
    assert set(cold["item"]) <= set(expected.index[expected >= expected.iloc[3]])
    with pytest.raises(KeyError, match="unknown users"):
        fitted.recommend(["nobody"], unknown_users="error")


def test_similar_items_share_the_genre(fitted):
    sim = fitted.similar_items(["i0_0", "i2_5"], k=4)
    assert list(sim.columns) == ["item", "rank", "similar_item", "score"]
    assert (sim["item"].map(group) == sim["similar_item"].map(group)).all()
    assert not (sim["item"] == sim["similar_item"]).any()


@pytest.mark.parametrize("model", ["bpr", "lightgcn", "node2vec"])
def test_other_models_find_the_groups(data, model):
    df, _ = data
    kw = ({"dim": 16, "epochs": 5, "node2vec_params": {"walk_length": 20, "n_walks": 20, "window": 3}}
          if model == "node2vec" else FAST_GCN)
    r = Recommender(model=model, random_state=0, **kw).fit(df)
    rec = r.recommend_all(3, verbose=False)
    assert (rec["user"].map(group) == rec["item"].map(group)).mean() >= 0.9
    assert r.metric_ == "dot"


def test_cold_start_item_from_tabemb_features_is_recommended(data):
    tabemb = pytest.importorskip("tabemb")
    df, items = data
    items = pd.concat([items, pd.DataFrame({"genre": ["g0"]}, index=["new_g0"])])
    items["price"] = np.arange(len(items)) % 5
    enc = tabemb.TableEncoder(epochs=0, random_state=0)
    feats = enc.fit_transform(items)
    r = Recommender(random_state=0, **FAST).fit(df, item_features=feats, item_metadata=items)
    assert "new_g0" in r.items_ and r.n_warm_items_ == N_GROUPS * ITEMS_PER_GROUP
    assert 0.0 < r.cold_start_r2_ <= 1.0
    top = r.recommend([f"u0_{u}" for u in range(USERS_PER_GROUP)], k=4)
    share = top.groupby("user")["item"].apply(lambda s: "new_g0" in set(s)).mean()
    assert share >= 0.8
    other = r.recommend([f"u1_{u}" for u in range(USERS_PER_GROUP)], k=3)
    assert "new_g0" not in set(other["item"])
    # a later cold item, added after fit, is recommendable too
    later = pd.DataFrame({"genre": ["g1"], "price": [2]}, index=["new_g1"])
    r.add_items(enc.transform(later), item_metadata=later)
    top1 = r.recommend([f"u1_{u}" for u in range(USERS_PER_GROUP)], k=4)
    assert top1.groupby("user")["item"].apply(lambda s: "new_g1" in set(s)).mean() >= 0.8
    got = r.recommend(["u1_0"], k=4, filter=col("genre") == "g1")["item"]
    assert set(got) <= {*items.index[items["genre"] == "g1"], "new_g1"} and len(got) == 4


def test_determinism(data):
    df, _ = data
    a = Recommender(random_state=3, **FAST).fit(df)
    b = Recommender(random_state=3, **FAST).fit(df)
    pd.testing.assert_frame_equal(a.user_embeddings_, b.user_embeddings_)
    pd.testing.assert_frame_equal(a.recommend_all(5, verbose=False), b.recommend_all(5, verbose=False))
    c = Recommender(random_state=4, **FAST).fit(df)
    assert not np.allclose(a.item_embeddings_.to_numpy(), c.item_embeddings_.to_numpy())


def test_save_load_round_trip(tmp_path, data):
    tabemb = pytest.importorskip("tabemb")
    df, items = data
    feats = tabemb.TableEncoder(epochs=0, random_state=0).fit_transform(
        pd.concat([items, pd.DataFrame({"genre": ["g2"]}, index=["cold"])]))
    df = df.assign(user=df["user"].where(df["user"] != "u0_0", 7))  # mixed str/int user ids
    r = Recommender(random_state=0, **FAST).fit(df, weight_col="weight", item_features=feats,
                                                 item_metadata=items)
    r.save(tmp_path / "rec")
    r2 = Recommender.load(tmp_path / "rec")
    users = [7, "u1_1", "nobody"]
    pd.testing.assert_frame_equal(r.recommend(users, 5), r2.recommend(users, 5))
    f = col("genre") == "g1"
    pd.testing.assert_frame_equal(r.recommend(users, 3, filter=f), r2.recommend(users, 3, filter=f))
    pd.testing.assert_frame_equal(r.similar_items(["cold", "i0_1"], 3), r2.similar_items(["cold", "i0_1"], 3))
    pd.testing.assert_frame_equal(r.item_embeddings_, r2.item_embeddings_)
    assert r2.get_params() == r.get_params() and r2.history_ == r.history_
    with pytest.raises(ArtifactError, match="holds a 'recommender' artifact"):
        from graphemb import Node2Vec

        Node2Vec.load(tmp_path / "rec")


def test_recommend_all_to_parquet(tmp_path, fitted):
    path = fitted.recommend_all(4, tmp_path / "out" / "recs.parquet", verbose=False)
    got = pd.read_parquet(path)
    # scores agree to float32 rounding whatever the batch size (the BLAS blocking differs); the
    # planted groups' items are exchangeable, so near-tied items may swap ranks, nothing else
    other = fitted.recommend_all(4, verbose=False, batch_size=7)
    pd.testing.assert_frame_equal(got.drop(columns="item"), other.drop(columns="item"),
                                  check_exact=False, rtol=1e-5, atol=1e-6)
    diff = got["item"].to_numpy() != other["item"].to_numpy()
    assert diff.mean() < 0.2
    U, V = fitted.user_embeddings_, fitted.item_embeddings_
    for u, a, b in zip(got["user"][diff], got["item"][diff], other["item"][diff], strict=True):
        assert np.isclose(U.loc[u] @ V.loc[a], U.loc[u] @ V.loc[b], rtol=1e-5, atol=1e-6)
    assert got["user"].nunique() == N_GROUPS * USERS_PER_GROUP


@pytest.mark.parametrize("model", ["ials", "node2vec"])
def test_beats_popularity_on_planted_groups(data, model):
    df, _ = data
    train, test = train_test_split_interactions(df, random_state=0)
    kw = FAST if model == "ials" else {"dim": 16, "epochs": 5,
                                       "node2vec_params": {"walk_length": 20, "n_walks": 20, "window": 3}}
    ours = evaluate_recommender(Recommender(model=model, random_state=0, **kw).fit(train), test, k=5)
    pop = evaluate_recommender(PopularityRecommender().fit(train), test, k=5)
    knn = evaluate_recommender(ItemKNNRecommender(n_neighbors=20).fit(train), test, k=5)
    assert ours["ndcg@5"] > pop["ndcg@5"] + 0.1
    assert ours["recall@5"] > 0.5 and knn["recall@5"] > 0.5


# -- metrics through the recommenders ---------------------------------------------------------
class _Fixed:
    """A recommender returning hand-made rankings."""

    def __init__(self, lists):
        self.lists = lists
        self.items_ = ["a", "b", "c", "d", "e"]

    def recommend(self, users, k, **_):
        rows = [(u, r, i, 1.0) for u in users for r, i in enumerate(self.lists.get(u, [])[:k])]
        return pd.DataFrame(rows, columns=["user", "rank", "item", "score"])


def test_evaluate_on_hand_made_rankings():
    model = _Fixed({"x": ["a", "b", "c"], "y": ["d", "a", "e"]})
    test = pd.DataFrame({"user": ["x", "x", "y"], "item": ["b", "e", "c"]})
    s = evaluate_recommender(model, test, k=3)
    # x: hit at rank 2 of 2 relevant; y: no hit
    assert s["precision@3"] == pytest.approx((1 / 3 + 0) / 2)
    assert s["recall@3"] == pytest.approx((1 / 2 + 0) / 2)
    assert s["hit_rate@3"] == pytest.approx(0.5)
    assert s["mrr@3"] == pytest.approx(0.25)
    ndcg_x = (1 / np.log2(3)) / (1 + 1 / np.log2(3))
    assert s["ndcg@3"] == pytest.approx(ndcg_x / 2)
    assert s["map@3"] == pytest.approx((0.5 / 2) / 2)
    assert s["coverage@3"] == pytest.approx(5 / 5)
    per = evaluate_recommender(model, {"x": ["a"]}, k=1, per_user=True)
    assert per.loc["x", "precision@1"] == 1.0


def test_popularity_metrics_exact():
    train = pd.DataFrame({"user": ["u1", "u2", "u3", "u3", "u4"], "item": ["a", "a", "a", "b", "c"]})
    test = pd.DataFrame({"user": ["u1", "u4"], "item": ["b", "a"]})
    pop = PopularityRecommender().fit(train)
    rec = pop.recommend(["u1", "u4"], k=2)
    assert rec.groupby("user")["item"].apply(list).to_dict() == {"u1": ["b", "c"], "u4": ["a", "b"]}
    s = evaluate_recommender(pop, test, k=2)
    assert s["recall@2"] == 1.0 and s["ndcg@2"] == pytest.approx(1.0) and s["precision@2"] == 0.5
    assert s["coverage@2"] == pytest.approx(1.0)


def test_item_knn_scores_by_cosine():
    train = pd.DataFrame({"user": ["u1", "u1", "u2", "u2", "u3", "u4"],
                          "item": ["a", "b", "a", "b", "c", "a"]})
    knn = ItemKNNRecommender(n_neighbors=5).fit(train)
    rec = knn.recommend(["u4"], k=1)
    # a's cosine to b is 2/sqrt(3*2), to c is 0
    assert rec["item"].tolist() == ["b"] and rec["score"].iloc[0] == pytest.approx(2 / np.sqrt(6), rel=1e-6)


def test_als_baseline_when_installed(data):
    pytest.importorskip("implicit")
    from graphemb import ALSRecommender

    df, _ = data
    als = ALSRecommender(dim=8, epochs=5, random_state=0).fit(df)
    rec = als.recommend(["u0_0"], k=3)
    assert not set(rec["item"]) & set(df.loc[df["user"] == "u0_0", "item"])
    assert als.user_factors_.shape == (N_GROUPS * USERS_PER_GROUP, 8)


def test_als_old_parameter_names_warn_and_keep_working(data):
    pytest.importorskip("implicit")
    from graphemb import ALSRecommender

    df, _ = data
    new = ALSRecommender(dim=8, l2=0.1, epochs=5, n_jobs=1, random_state=0).fit(df)
    with pytest.warns(FutureWarning, match="'factors' is renamed 'dim'"):
        old = ALSRecommender(factors=8, regularization=0.1, iterations=5, num_threads=1,
                             random_state=0).fit(df)
    np.testing.assert_allclose(old.item_factors_, new.item_factors_)
    with pytest.raises(ValueError, match="both factors="):
        ALSRecommender(factors=8, dim=16).fit(df)


def test_ease_closed_form_on_a_tiny_matrix():
    from graphemb import EASERecommender

    train = pd.DataFrame({"user": ["u1", "u1", "u2", "u2", "u3"], "item": ["a", "b", "b", "c", "a"]})
    ease = EASERecommender(l2=1.0).fit(train)
    X = np.array([[1, 1, 0], [0, 1, 1], [1, 0, 0]], dtype=float)  # items a, b, c in order
    P = np.linalg.inv(X.T @ X + np.eye(3))
    B = -P / np.diag(P)
    np.fill_diagonal(B, 0.0)
    np.testing.assert_allclose(ease.coef_, B, rtol=1e-5, atol=1e-6)
    rec = ease.recommend(["u3"], k=2)
    scores = X[2] @ B
    assert rec["item"].tolist() == [["a", "b", "c"][i] for i in np.argsort(-scores) if i != 0][:2]
    np.testing.assert_allclose(rec["score"], np.sort(scores[1:])[::-1], rtol=1e-5)


def test_ease_and_ials_beat_popularity_on_planted_groups(data):
    from graphemb import EASERecommender

    df, _ = data
    train, test = train_test_split_interactions(df, random_state=0)
    pop = evaluate_recommender(PopularityRecommender().fit(train), test, k=5)
    ease = evaluate_recommender(EASERecommender(l2=10.0).fit(train), test, k=5)
    ials = evaluate_recommender(Recommender(model="ials", random_state=0, **FAST).fit(train), test, k=5)
    assert ease["ndcg@5"] > pop["ndcg@5"] + 0.1 and ials["ndcg@5"] > pop["ndcg@5"] + 0.1


# -- splits --------------------------------------------------------------------------------------
def test_random_split_per_user(data):
    df, _ = data
    train, test = train_test_split_interactions(df, test_size=0.3, random_state=0)
    assert len(train) + len(test) == len(df) and not train.index.intersection(test.index).size
    n_test = test.groupby("user").size()
    assert (n_test == round(0.3 * SEEN)).all() and len(n_test) == N_GROUPS * USERS_PER_GROUP
    again, _ = train_test_split_interactions(df, test_size=0.3, random_state=0)
    pd.testing.assert_frame_equal(train, again)
    one = pd.DataFrame({"user": ["a", "b", "b"], "item": [1, 2, 3]})
    tr, te = train_test_split_interactions(one, test_size=0.5)
    assert tr["user"].tolist() == ["a", "b"] and te["user"].tolist() == ["b"]


def test_leave_last_split():
    df = pd.DataFrame({"user": ["a", "a", "a", "b", "b", "c"], "item": [1, 2, 3, 1, 4, 5],
                       "ts": [5, 9, 1, 3, 3, 0]})
    train, test = train_test_split_interactions(df, time_col="ts", method="leave_last")
    assert test[["user", "item"]].values.tolist() == [["a", 2], ["b", 4]]
    assert sorted(train["item"]) == [1, 1, 3, 5]
    with pytest.raises(ValueError, match="time_col"):
        train_test_split_interactions(df, method="leave_last")
    with pytest.raises(ValueError, match="method"):
        train_test_split_interactions(df, method="temporal")


# -- bad input -----------------------------------------------------------------------------------
def test_duplicates_are_merged_with_summed_weights():
    df = pd.DataFrame({"user": ["a", "a", "b", "a"], "item": ["x", "x", "y", "z"], "w": [1.0, 2.0, 1.0, 0.0]})
    d = prepare_interactions(df, weight_col="w")
    got = {(d.users[u], d.items[i]): w for u, i, w in zip(d.user_rows, d.item_rows, d.weights, strict=True)}
    assert got == {("a", "x"): 3.0, ("b", "y"): 1.0}  # zero weight dropped
    d = prepare_interactions(df)
    assert d.weighted and dict(zip(zip(d.users[d.user_rows], d.items[d.item_rows], strict=True),
                                   d.weights, strict=True))[("a", "x")] == 2.0
    r = Recommender(epochs=2, dim=4, random_state=0).fit(df)
    assert r.n_interactions_ == 3


@pytest.mark.parametrize(("frame", "kw", "exc", "match"), [
    (pd.DataFrame({"user": [], "item": []}), {}, ValueError, "empty"),
    (pd.DataFrame({"user": ["a"], "item": ["x"], "r": [-1.0]}), {"weight_col": "r"}, ValueError,
     "weight column 'r' must be >= 0"),
    (pd.DataFrame({"user": ["a"], "item": ["x"], "r": [np.nan]}), {"weight_col": "r"}, ValueError,
     "weight column 'r' must be finite"),
    (pd.DataFrame({"user": ["a"], "item": ["x"]}), {"weight_col": "r"}, KeyError, "no weight column 'r'"),
    (pd.DataFrame({"u": ["a"], "item": ["x"]}), {}, KeyError, "no user column 'user'"),
    (pd.DataFrame({"user": ["a", None], "item": ["x", "y"]}), {}, ValueError, "missing id"),
    ([("a", "x")], {}, TypeError, "DataFrame"),
])
def test_bad_interactions(frame, kw, exc, match):
    with pytest.raises(exc, match=match):
        Recommender(epochs=1).fit(frame, **kw)


def test_bad_parameters_and_state(data):
    df, items = data
    with pytest.raises(NotFittedError):
        Recommender().recommend(["u0_0"])
    with pytest.raises(ValueError, match="'model' parameter of graphemb.Recommender must be a str among"):
        Recommender(model="als").fit(df)
    with pytest.raises(ValueError, match="'epochs' parameter"):
        Recommender(epochs=0).fit(df)
    with pytest.raises(ValueError, match="TableEncoder"):
        Recommender(epochs=1).fit(df, item_features=items)
    r = Recommender(epochs=1, dim=4, random_state=0).fit(df)
    with pytest.raises(ValueError, match="k must be"):
        r.recommend(["u0_0"], k=0)
    with pytest.raises(NotFittedError, match="item_features"):
        r.add_items(pd.DataFrame({"x": [1.0]}, index=["q"]))
    with pytest.raises(KeyError, match="genre"):
        r.recommend(["u0_0"], filter=col("genre") == "g0")


# -- iALS and recency --------------------------------------------------------------------------
def test_ials_solver_reaches_the_ridge_solution():
    """With the items fixed, the user step is the closed-form ridge solution of the objective."""
    from graphemb._recommend._ials import solve_users

    rng = np.random.default_rng(0)
    df = pd.DataFrame({"user": ["a", "a", "a", "b", "b"], "item": [0, 1, 2, 2, 3]})
    d = prepare_interactions(df)
    H = rng.standard_normal((4, 3))
    l2, a0 = 0.5, 0.2
    W = solve_users(d, H, l2=l2, alpha0=a0, nu=1.0, cg_steps=10)
    for u, items in [(0, [0, 1, 2]), (1, [2, 3])]:
        Hu = H[items]
        A = a0 * H.T @ H + Hu.T @ Hu + l2 * (len(items) + a0 * 4) * np.eye(3)
        np.testing.assert_allclose(W[u], np.linalg.solve(A, Hu.sum(0)), rtol=1e-4, atol=1e-5)


def test_ials_loss_decreases_and_is_deterministic(data):
    df, _ = data
    a = Recommender(random_state=0, dim=8, epochs=6, verbose=True).fit(df)
    losses = [h["loss"] for h in a.history_]
    assert len(losses) == 6 and losses[-1] < losses[0]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(losses))
    b = Recommender(random_state=0, dim=8, epochs=6).fit(df)
    np.testing.assert_array_equal(a.item_embeddings_.to_numpy(), b.item_embeddings_.to_numpy())


def test_recency_weights_favour_a_users_latest_interactions():
    from graphemb._recommend._data import recency_factors

    f = recency_factors(np.array(["a", "a", "a", "b"]), np.array([3, 1, 2, 7]), half_life=1.0, boost=2.0)
    np.testing.assert_allclose(f, [3.0, 1.5, 2.0, 3.0])  # a: 0, 2, 1 later rows; b: latest
    df = pd.DataFrame({"user": ["a", "a"], "item": ["x", "y"], "ts": [1, 2]})
    d = prepare_interactions(df, time_col="ts", recency_half_life=1.0, recency_boost=2.0)
    got = dict(zip(d.items[d.item_rows], d.weights, strict=True))
    assert got == {"x": pytest.approx(2.0), "y": pytest.approx(3.0)}
    with pytest.raises(ValueError, match="time column 'ts' has a missing timestamp"):
        prepare_interactions(df.assign(ts=[1, None]), time_col="ts", recency_half_life=1.0, recency_boost=1.0)


def test_time_col_changes_the_fit_only_with_recency(data):
    df, _ = data
    a = Recommender(random_state=0, **FAST).fit(df, time_col="ts")
    b = Recommender(random_state=0, recency_half_life=None, **FAST).fit(df, time_col="ts")
    c = Recommender(random_state=0, **FAST).fit(df)
    np.testing.assert_array_equal(b.item_embeddings_.to_numpy(), c.item_embeddings_.to_numpy())
    assert not np.allclose(a.item_embeddings_.to_numpy(), c.item_embeddings_.to_numpy())


def test_ridge_alpha_is_renamed_cold_start_l2(data):
    pytest.importorskip("tabemb")
    df, items = data
    feats = pd.DataFrame({"f": np.arange(len(items), dtype=float)}, index=items.index)
    with pytest.warns(FutureWarning, match="'ridge_alpha' is renamed 'cold_start_l2'"):
        old = Recommender(ridge_alpha=3.0, random_state=0, **FAST).fit(df, item_features=feats)
    new = Recommender(cold_start_l2=3.0, random_state=0, **FAST).fit(df, item_features=feats)
    assert old.cold_start_r2_ == pytest.approx(new.cold_start_r2_)


@pytest.mark.parametrize("name", ["popularity", "itemknn", "ease", "als"])
def test_baseline_save_load_round_trip(tmp_path, data, name):
    from graphemb import ALSRecommender, EASERecommender

    if name == "als":
        pytest.importorskip("implicit")
    make = {"popularity": PopularityRecommender, "itemknn": lambda: ItemKNNRecommender(n_neighbors=5),
            "ease": lambda: EASERecommender(l2=5.0),
            "als": lambda: ALSRecommender(dim=4, epochs=3, random_state=0)}[name]
    df, _ = data
    m = make().fit(df)
    with pytest.raises(NotFittedError):
        make().save(tmp_path / "x")
    path = m.save(tmp_path / name)
    assert path == tmp_path / name
    back = type(m).load(path)
    users = ["u0_0", "u2_3", "nobody"]
    pd.testing.assert_frame_equal(m.recommend(users, 4), back.recommend(users, 4))
    assert back.get_params() == m.get_params()
    with pytest.raises(ArtifactError):
        Recommender.load(path)


def test_compare_recommenders_defaults_side_by_side(data):
    from graphemb import compare_recommenders

    df, _ = data
    train, test = train_test_split_interactions(df, random_state=0)
    res = compare_recommenders(None, train, test, k=5)
    expected = {"recommender", "ease", "itemknn", "popularity"}
    try:
        import implicit  # noqa: F401
    except ImportError:
        pass
    else:
        expected.add("als")
    assert set(res.index) == expected
    assert {"ndcg@5", "recall@5", "fit_s", "recommend_s"} <= set(res.columns)
    assert res.loc["recommender", "ndcg@5"] > res.loc["popularity", "ndcg@5"] + 0.1
    assert res.loc["ease", "ndcg@5"] > res.loc["popularity", "ndcg@5"] + 0.1


def test_ials_defaults_resolve_per_model(data):
    """frequency_exponent / l2 left at None take the model's defaults (ials: 0.5 / 0.4)."""
    df, _ = data
    rec = Recommender(random_state=0, **FAST)
    assert rec.get_params()["frequency_exponent"] is None and rec.get_params()["l2"] is None
    a = rec.fit(df).item_embeddings_
    b = Recommender(random_state=0, frequency_exponent=0.5, l2=0.4, **FAST).fit(df).item_embeddings_
    c = Recommender(random_state=0, frequency_exponent=1.0, l2=0.4, **FAST).fit(df).item_embeddings_
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a.to_numpy(), c.to_numpy())
