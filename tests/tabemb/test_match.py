"""tabemb.match: comparators, metrics, scorers, clustering, RecordMatcher, link / dedupe, CLI."""

import numpy as np
import pandas as pd
import pytest

from nnstore import NotFittedError
from tabemb import (
    RecordMatcher,
    blocking_metrics,
    cluster_metrics,
    clusters_to_pairs,
    corrupt_records,
    dedupe,
    generate_people,
    jaro_winkler,
    link,
    pair_metrics,
)
from tabemb._match_clusters import average_linkage_clusters, mutual_best
from tabemb._match_comparators import compare, prepare
from tabemb._match_scorers import FellegiSunter, TreeEnsemble, to_levels


# -- comparators -------------------------------------------------------------------------------
def test_jaro_winkler_textbook_values():
    got = jaro_winkler(["MARTHA", "DWAYNE", "DIXON", "abc", "abc"],
                       ["MARHTA", "DUANE", "DICKSONX", "abc", "xyz"])
    np.testing.assert_allclose(got[:3], [0.9611, 0.84, 0.8133], atol=5e-4)
    assert got[3] == pytest.approx(1.0)
    assert got[4] == 0.0


def test_jaro_winkler_missing_and_case():
    got = jaro_winkler(["Martha", None, ""], ["MARHTA", "x", "y"])
    assert got[0] == pytest.approx(0.9611, abs=5e-4)
    assert np.isnan(got[1]) and np.isnan(got[2])
    with pytest.raises(ValueError, match="same length"):
        jaro_winkler(["a"], ["a", "b"])


def _cmp(a, b, kind):
    vocab = {}
    pa = prepare(pd.Series(a, dtype=object), kind, token_vocab=vocab)
    pb = prepare(pd.Series(b, dtype=object), kind, token_vocab=vocab)
    idx = np.arange(len(a))
    return compare(pa, pb, idx, idx, kind)


def test_other_comparators():
    np.testing.assert_allclose(_cmp(["john smith", "a b c", None], ["Smith, John", "a d", "x"], "token"),
                               [1.0, 0.25, np.nan])
    np.testing.assert_allclose(_cmp([1.0, 2.0, None, 0.0], ["1", "3", "4", 0], "numeric"),
                               [0.0, 1 / 3, np.nan, 0.0], rtol=1e-6)
    np.testing.assert_allclose(_cmp(["2001-02-03", "2001-02-03", "2001-02-03", None],
                                    ["2001-02-03", "2001-03-02", "2001-02-13", "2001-01-01"], "date"),
                               [0.0, 1.0, 10.0, np.nan])
    np.testing.assert_allclose(_cmp([" A", "b", None], ["a", "c", "d"], "exact"), [1.0, 0.0, np.nan])


# -- metrics -----------------------------------------------------------------------------------
def test_pair_metrics_hand_made():
    pred = [("a1", "b1"), ("a2", "b3"), ("a3", "b3")]
    true = [("a1", "b1"), ("a2", "b2")]
    m = pair_metrics(pred, true)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 2, 1)
    assert m["precision"] == pytest.approx(1 / 3) and m["recall"] == 0.5 and m["f1"] == pytest.approx(0.4)
    # unordered (dedup): (x, y) == (y, x); self pairs ignored
    m = pair_metrics(pd.DataFrame({"x": [2, 1, 3], "y": [1, 3, 3]}), [(1, 2), (2, 3)], unordered=True)
    assert (m["tp"], m["fp"], m["fn"]) == (1, 1, 1)
    assert pair_metrics([], [(1, 2)])["precision"] == 1.0


def test_blocking_metrics_hand_made():
    m = blocking_metrics([(1, 1), (1, 2), (2, 2)], [(1, 1), (2, 1)], n_a=2, n_b=4)
    assert m == {"pair_completeness": 0.5, "reduction_ratio": 1 - 3 / 8, "n_candidates": 3}
    m = blocking_metrics([(1, 2), (2, 1), (3, 4)], [(2, 1)], n_a=5)  # dedup: 10 possible pairs
    assert m == {"pair_completeness": 1.0, "reduction_ratio": 0.8, "n_candidates": 2}


def test_cluster_metrics_and_pairs_hand_made():
    pred = pd.Series([0, 0, 0, 1], index=list("abcd"))
    true = pd.Series([5, 5, 6, 6], index=list("abcd"))
    m = cluster_metrics(pred, true)
    # B-cubed precision: a, b: 2/3 each; c: 1/3; d: 1 -> 2.667 / 4
    assert m["bcubed_precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)
    assert m["bcubed_recall"] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert m["pair_precision"] == pytest.approx(1 / 3) and m["pair_recall"] == pytest.approx(0.5)
    pairs = clusters_to_pairs(pred)
    assert sorted(map(tuple, pairs.to_numpy().tolist())) == [("a", "b"), ("a", "c"), ("b", "c")]


# -- scorers and clustering -----------------------------------------------------------------
def test_fellegi_sunter_em_separates_two_classes():
    rng = np.random.default_rng(0)
    n_m, n_u = 300, 3000
    m_true, u_true = np.array([0.05, 0.15, 0.8]), np.array([0.7, 0.25, 0.05])
    lev = np.concatenate([
        np.stack([rng.choice(3, n_m, p=m_true) for _ in range(4)], 1),
        np.stack([rng.choice(3, n_u, p=u_true) for _ in range(4)], 1)]).astype(np.int8)
    lev[::17, 1] = -1  # missing values give no evidence
    rand = np.stack([rng.choice(3, 2000, p=u_true) for _ in range(4)], 1).astype(np.int8)
    fs = FellegiSunter([3, 3, 3, 3]).fit(lev, rand)
    assert fs.lambda_ == pytest.approx(n_m / (n_m + n_u), abs=0.03)
    np.testing.assert_allclose(fs.m_[0], m_true, atol=0.08)
    np.testing.assert_allclose(fs.u_[0], u_true, atol=0.05)
    p = fs.predict_proba(np.array([[2, 2, 2, 2], [0, 0, 0, 0]], dtype=np.int8))
    assert p[0] > 0.99 and p[1] < 0.01


def test_levels():
    np.testing.assert_array_equal(to_levels(np.array([0.1, 0.9, 1.0, np.nan]), [0.5, 0.99], True),
                                  [0, 1, 2, -1])
    np.testing.assert_array_equal(to_levels(np.array([0.0, 0.05, 1.0]), [1e-9, 0.1], False), [2, 1, 0])


def test_tree_export_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    X[::7, 1] = np.nan
    y = (X[:, 0] + np.nan_to_num(X[:, 1]) > 0).astype(int)
    te = TreeEnsemble.fit(X, y, random_state=0, max_iter=20)
    np.testing.assert_allclose(te.predict_proba(X), te.sklearn_model_.predict_proba(X)[:, 1], atol=1e-9)


def test_average_linkage_breaks_a_chain():
    # 0-1 and 1-2 strong, 0-2 known to be a non-match: a chain, not a clique
    i, j = np.array([0, 1, 0, 3]), np.array([1, 2, 2, 4])
    s = np.array([0.95, 0.9, 0.0, 0.99])
    lab = average_linkage_clusters(5, i, j, s, 0.5)
    assert lab[3] == lab[4]
    assert len({lab[0], lab[1], lab[2]}) == 2 and lab[0] == lab[1]
    # a clique stays whole
    lab = average_linkage_clusters(3, np.array([0, 1, 0]), np.array([1, 2, 2]), np.array([0.9, 0.9, 0.8]),
                                   0.5)
    assert len(set(lab)) == 1


def test_mutual_best():
    i, j, s = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]), np.array([0.9, 0.8, 0.85, 0.7])
    np.testing.assert_array_equal(mutual_best(i, j, s, 2, 2), [True, False, False, True])


# -- corruptor ----------------------------------------------------------------------------------
def test_corruptor_clusters_and_determinism():
    df = generate_people(200, random_state=0)
    assert df.shape == (200, 10) and df.index.is_unique
    rec, ent = corrupt_records(df, random_state=1)
    rec2, ent2 = corrupt_records(df, random_state=1)
    pd.testing.assert_frame_equal(rec, rec2)
    pd.testing.assert_series_equal(ent, ent2)
    sizes = ent.value_counts()
    assert sizes.min() >= 1 and sizes.max() <= 5 and (sizes == 1).sum() > (sizes == 5).sum()
    assert set(ent) == set(df.index) and rec.index.is_unique
    dup = [k for k in rec.index if "-dup-" in k]
    assert all(ent[k] == k.split("-dup-")[0] for k in dup)
    # every duplicate differs from its original somewhere
    diff = [not rec.loc[k].equals(df.loc[ent[k]].astype(object)) for k in dup]
    assert np.mean(diff) > 0.9


# -- the matcher ---------------------------------------------------------------------------------
PEOPLE = pd.DataFrame({
    "name": ["john smith", "mary jones", "peter brown", "linda white", "james black", "susan green",
             "robert king", "nancy hall", "jon smith", "mary jnoes", "robert kingg", "linda whyte"],
    "city": ["leeds", "york", "bath", "hull", "ely", "wells", "derby", "ripon", "leeds", "york", "derby",
             "hull"],
    "born": ["1970-01-02", "1981-05-06", "1990-07-08", "1965-03-04", "1977-11-12", "1988-09-10",
             "1959-12-01", "1992-02-14", "1970-01-02", "1981-05-06", "1959-12-01", "1965-04-03"],
    "income": [50.0, 61.0, 40.0, 75.0, 30.0, 45.0, 90.0, 20.0, 50.0, 61.0, 90.0, 75.0],
}, index=[f"p{i}" for i in range(12)])
DUPS = {("p0", "p8"), ("p1", "p9"), ("p6", "p10"), ("p3", "p11")}


def test_dedupe_finds_the_known_duplicates():
    res = dedupe(PEOPLE, n_neighbors=3, random_state=0)
    got = {frozenset(p) for p in res.pairs[["index_a", "index_b"]].itertuples(index=False)}
    assert got == {frozenset(p) for p in DUPS}
    cl = res.clusters["cluster"]
    assert list(res.clusters.index) == list(PEOPLE.index)
    assert cl.nunique() == 8
    assert all(cl[a] == cl[b] for a, b in DUPS)
    expected = {"score", "embedding", "name__jaro_winkler", "born__date", "income__numeric"}
    assert expected <= set(res.pairs.columns)


def test_link_with_mapping_and_one_to_one():
    a = PEOPLE.iloc[:8]
    b = PEOPLE.iloc[8:].rename(columns={"name": "full_name", "city": "town"})
    b = pd.concat([b, PEOPLE.iloc[[4]].rename(columns={"name": "full_name", "city": "town"},
                                               index={"p4": "x4"})])
    res = link(a, b, mapping={"name": "full_name", "city": "town"}, n_neighbors=3, one_to_one=True,
               random_state=0)
    got = set(res.pairs[["index_a", "index_b"]].itertuples(index=False, name=None))
    assert got == {("p0", "p8"), ("p1", "p9"), ("p6", "p10"), ("p3", "p11"), ("p4", "x4")}
    assert res.clusters.index.names == ["table", "key"] and len(res.clusters) == 13
    assert res.clusters.loc[("a", "p0"), "cluster"] == res.clusters.loc[("b", "p8"), "cluster"]


def test_determinism_and_save_load(tmp_path):
    m1 = RecordMatcher(n_neighbors=3, random_state=0)
    r1 = m1.fit_predict(PEOPLE)
    r2 = RecordMatcher(n_neighbors=3, random_state=0).fit_predict(PEOPLE)
    pd.testing.assert_frame_equal(r1.candidates, r2.candidates)
    m1.save(tmp_path / "m")
    m2 = RecordMatcher.load(tmp_path / "m")
    pd.testing.assert_frame_equal(m1.predict(PEOPLE).candidates, m2.predict(PEOPLE).candidates)
    pairs = [("p0", "p8"), ("p0", "p1")]
    pd.testing.assert_frame_equal(m1.score_pairs(PEOPLE, None, pairs), m2.score_pairs(PEOPLE, None, pairs))


def test_supervised_scorer_and_round_trip(tmp_path):
    labels = pd.DataFrame(
        [("p0", "p8", 1), ("p1", "p9", 1), ("p6", "p10", 1), ("p3", "p11", 1), ("p0", "p1", 0),
         ("p2", "p3", 0), ("p4", "p5", 0), ("p6", "p7", 0), ("p8", "p9", 0), ("p2", "p7", 0)],
        columns=["index_a", "index_b", "label"])
    m = RecordMatcher(n_neighbors=3, random_state=0,
                      tree_params={"max_iter": 20, "min_samples_leaf": 2}).fit(PEOPLE, labels=labels)
    assert m.mode_ == "supervised"
    s = m.score_pairs(PEOPLE, None, labels[["index_a", "index_b"]])["score"].to_numpy()
    assert (s[:4] > 0.5).all() and (s[4:] < 0.5).all()
    m.save(tmp_path / "sup")
    m2 = RecordMatcher.load(tmp_path / "sup")
    np.testing.assert_allclose(m2.score_pairs(PEOPLE, None, labels)["score"].to_numpy(), s)
    assert m.tune_threshold(PEOPLE, None, labels) == pytest.approx(m.threshold_)


def test_bad_inputs():
    m = RecordMatcher(random_state=0)
    with pytest.raises(NotFittedError):
        m.predict(PEOPLE)
    with pytest.raises(KeyError, match="nope"):
        RecordMatcher(columns=["name", "nope"]).fit(PEOPLE)
    with pytest.raises(ValueError, match="index must be unique"):
        dedupe(PEOPLE.set_axis(["k"] * 12))
    with pytest.raises(ValueError, match="df_b is empty"):
        link(PEOPLE, PEOPLE.iloc[:0])
    with pytest.raises(ValueError, match="share no columns"):
        link(PEOPLE, PEOPLE.rename(columns=str.upper))
    with pytest.raises(KeyError, match="not in df_b"):
        link(PEOPLE, PEOPLE, mapping={"name": "NAME"})
    with pytest.raises(ValueError, match=r"only missing values"):
        dedupe(PEOPLE.assign(city=np.nan))
    with pytest.raises(TypeError, match="DataFrame"):
        dedupe(PEOPLE.to_numpy())
    with pytest.raises(ValueError, match="threshold"):
        dedupe(PEOPLE, threshold=1.5)
    with pytest.raises(ValueError, match="comparators"):
        dedupe(PEOPLE, comparators={"name": "soundex"})
    with pytest.raises(ValueError, match="labels"):
        RecordMatcher().fit(PEOPLE, labels=pd.DataFrame({"index_a": ["p0"], "index_b": ["p8"],
                                                          "label": [1]}))
