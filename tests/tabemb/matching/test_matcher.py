"""tabemb._matching._matcher: RecordMatcher, link and dedupe end to end on tiny tables."""

import numpy as np
import pandas as pd
import pytest

from nnstore import NotFittedError
from tabemb import (
    RecordMatcher,
    clusters_to_pairs,
    corrupt_records,
    dedupe,
    generate_people,
    link,
    pair_metrics,
)
from tabemb._matching import _candidates

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


@pytest.mark.parametrize("approximate", ["ivf", "annoy"])
def test_dedupe_through_approximate_blocking_finds_duplicates(monkeypatch, approximate):
    rec, ent = corrupt_records(generate_people(150, random_state=0), random_state=1)
    monkeypatch.setattr(_candidates, "EXACT_MAX", 10)  # force the approximate path
    res = dedupe(rec, n_neighbors=5, approximate=approximate, random_state=0)
    m = pair_metrics(clusters_to_pairs(res.clusters), clusters_to_pairs(ent), unordered=True)
    assert m["f1"] >= 0.9
    with pytest.raises(ValueError, match="approximate"):
        dedupe(rec, approximate="hnsw")


def test_approximate_search_is_the_same_in_fit_every_predict_and_after_load(monkeypatch, tmp_path):
    rec, _ = corrupt_records(generate_people(100, random_state=0), random_state=1)
    monkeypatch.setattr(_candidates, "EXACT_MAX", 10)  # the seeded approximate (IVF) path
    first = RecordMatcher(n_neighbors=4, random_state=3).fit_predict(rec).candidates
    m = RecordMatcher(n_neighbors=4, random_state=3).fit(rec)
    pd.testing.assert_frame_equal(m.predict(rec).candidates, first)
    pd.testing.assert_frame_equal(m.predict(rec).candidates, first)
    loaded = RecordMatcher.load(m.save(tmp_path / "m"))
    assert loaded.search_seed_ == m.search_seed_
    pd.testing.assert_frame_equal(loaded.predict(rec).candidates, first)
