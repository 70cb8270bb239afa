import numpy as np
import pandas as pd
import pytest

from graphemb import KGEmbedder, filtered_ranks, rank_metrics, read_triples
from nnstore import NotFittedError


def _kg(n=12, held=3):
    """Person i is married to person n+i (symmetric) and is parent of child 2n+i,
    with child_of the inverse of parent_of. Some reverse triples are held out."""
    train, test = [], []
    for i in range(n):
        a, b, c = f"p{i}", f"p{n + i}", f"c{i}"
        train.append((a, "married", b))
        train.append((a, "parent_of", c))
        (test if i < held else train).append((b, "married", a))
        (test if i < held else train).append((c, "child_of", a))
    cols = ["head", "relation", "tail"]
    return pd.DataFrame(train, columns=cols), pd.DataFrame(test, columns=cols)


def test_filtered_ranks_by_hand():
    scores = np.array([[0.9, 0.5, 0.7, 0.1],
                       [0.2, 0.2, 0.8, 0.2]])
    # row 0: target 1 (0.5); entities 0 (0.9) and 2 (0.7) score higher, but 0 is a known
    # true answer and is filtered -> rank 2.  row 1: target 0 (0.2) ties with 1 and 3,
    # entity 2 scores higher -> rank 1 + 1 + 2/2 = 3.
    ranks = filtered_ranks(scores, np.array([1, 0]), [{0, 1}, {0}])
    np.testing.assert_array_equal(ranks, [2.0, 3.0])
    m = rank_metrics(ranks)
    assert m["mrr"] == pytest.approx((1 / 2 + 1 / 3) / 2)
    assert m["hits@1"] == 0.0 and m["hits@3"] == 1.0


@pytest.mark.parametrize("model", ["complex", "rotate"])
def test_symmetry_and_inversion_are_learned(model):
    train, test = _kg()
    kge = KGEmbedder(model=model, dim=16, epochs=150, batch_size=64, learning_rate=0.02,
                     random_state=0).fit(train)
    res = kge.evaluate(test, known=[train])
    assert res["mrr"] > 0.6, res
    # the held-out reverse triple outranks a random wrong one
    good = kge.score(test)
    bad = kge.score(test.assign(tail=["p20", "p21", "p22", "c5", "c6", "c7"]))
    assert (good > bad).mean() >= 5 / 6


def test_distmult_is_symmetric_by_construction():
    train, _ = _kg(4, 0)
    kge = KGEmbedder(model="distmult", dim=8, epochs=2, random_state=0).fit(train)
    fwd = kge.score(train)
    back = kge.score(train.rename(columns={"head": "tail", "tail": "head"}))
    np.testing.assert_allclose(fwd, back, rtol=1e-5)


def test_predict_tail_store_agrees_with_exact_and_round_trip(tmp_path):
    train, test = _kg()
    kge = KGEmbedder(model="transe", dim=16, epochs=60, batch_size=64, learning_rate=0.02,
                     random_state=1).fit(train)
    exact = kge.predict_tail("p0", "parent_of", k=3, exact=True)
    approx = kge.predict_tail("p0", "parent_of", k=3)
    assert list(exact.columns) == ["rank", "entity", "score"]
    assert exact["entity"].iloc[0] == approx["entity"].iloc[0] == "c0"
    np.testing.assert_allclose(approx["score"].iloc[0], exact["score"].iloc[0], rtol=1e-4)
    heads = kge.predict_head("c0", "parent_of", k=1, exact=True)
    assert heads["entity"].iloc[0] == "p0"
    skipped = kge.predict_tail("p0", "parent_of", k=3, exact=True, exclude_known=train)
    assert "c0" not in set(skipped["entity"])
    kge.save(tmp_path / "kge")
    back = KGEmbedder.load(tmp_path / "kge")
    np.testing.assert_array_equal(back.score(test), kge.score(test))
    pd.testing.assert_frame_equal(back.entity_embeddings_, kge.entity_embeddings_)
    assert back.evaluate(test, known=[train]) == kge.evaluate(test, known=[train])


def test_same_seed_same_embeddings():
    train, _ = _kg(5, 0)
    a = KGEmbedder(model="complex", dim=8, epochs=3, dropout=0.2, random_state=3).fit(train)
    b = KGEmbedder(model="complex", dim=8, epochs=3, dropout=0.2, random_state=3).fit(train)
    pd.testing.assert_frame_equal(a.entity_embeddings_, b.entity_embeddings_)
    assert a.entity_embeddings_.shape == (15, 16)
    assert list(a.relation_embeddings_.index) == ["married", "parent_of", "child_of"]


def test_bad_input():
    train, _ = _kg(3, 0)
    with pytest.raises(NotFittedError):
        KGEmbedder().score(train)
    with pytest.raises(ValueError, match="'model' parameter of graphemb.KGEmbedder must be a str among"):
        KGEmbedder(model="transh").fit(train)
    with pytest.raises(ValueError, match="'dim' parameter"):
        KGEmbedder(dim=0).fit(train)
    with pytest.raises(KeyError, match="missing column"):
        KGEmbedder().fit(pd.DataFrame({"head": ["a"], "rel": ["r"], "tail": ["b"]}))
    with pytest.raises(ValueError, match="missing values in column"):
        KGEmbedder().fit(pd.DataFrame({"head": ["a"], "relation": [None], "tail": ["b"]}))
    with pytest.raises(ValueError, match="triples is empty"):
        KGEmbedder().fit(train.iloc[:0])
    kge = KGEmbedder(dim=4, epochs=1, random_state=0).fit(train)
    with pytest.raises(KeyError, match=r"tail value\(s\) unknown.*'nobody'"):
        kge.score(pd.DataFrame([("p0", "married", "nobody")], columns=["head", "relation", "tail"]))
    with pytest.raises(KeyError, match="relation 'likes' is unknown"):
        kge.predict_tail("p0", "likes")
    with pytest.raises(ValueError, match="k must be a positive int"):
        kge.predict_tail("p0", "married", k=0)


def test_regularization_is_renamed_n3_with_a_future_warning(tmp_path):
    train, _ = _kg(3, 0)
    new = KGEmbedder(dim=4, epochs=2, n3=0.05, random_state=0).fit(train)
    with pytest.warns(FutureWarning, match="'regularization' is renamed 'n3'"):
        old = KGEmbedder(dim=4, epochs=2, regularization=0.05, random_state=0).fit(train)
    pd.testing.assert_frame_equal(old.entity_embeddings_, new.entity_embeddings_)
    none = KGEmbedder(dim=4, epochs=2, random_state=0).fit(train)
    assert not none.entity_embeddings_.equals(new.entity_embeddings_)  # the penalty acts
    with pytest.raises(ValueError, match="both regularization= .* and n3="):
        KGEmbedder(dim=4, epochs=1, n3=0.1, regularization=0.2).fit(train)
    back = KGEmbedder.load(old.save(tmp_path / "m"))
    assert back.n3 == 0.05 and back.regularization == "deprecated"  # loads under the new name


def test_transform_and_set_output_keep_entity_ids():
    train, _ = _kg(3, 0)
    kge = KGEmbedder(model="transe", dim=4, epochs=1, random_state=0).set_output(transform="pandas")
    emb = kge.fit_transform(train)
    pd.testing.assert_frame_equal(emb, kge.entity_embeddings_)
    assert list(kge.get_feature_names_out()) == ["emb_0", "emb_1", "emb_2", "emb_3"]
    assert kge.transform("p0").index.tolist() == ["p0"]
    with pytest.raises(KeyError, match="unknown to the model"):
        kge.transform(["nobody"])


def test_neighbor_store_follows_random_state(tmp_path):
    train, _ = _kg(5, 0)
    a = KGEmbedder(model="distmult", dim=8, epochs=2, random_state=1).fit(train)
    b = KGEmbedder(model="distmult", dim=8, epochs=2, random_state=2).fit(train)
    assert a._neighbor_store().random_state == a._store_seed != b._store_seed
    back = KGEmbedder.load(a.save(tmp_path / "m"))
    assert back._neighbor_store().random_state == a._store_seed
    pd.testing.assert_frame_equal(back.predict_tail("p0", "married", k=3),
                                  a.predict_tail("p0", "married", k=3))


@pytest.mark.parametrize(("text", "match"), [
    ("a\tr\tb\nc\td\n", r"line 2: expected 3 non-empty tab-separated fields .* got 2"),
    ("a\tr\tb\tx\n", r"line 1: .* got 4 tab-separated"),
    ("a\tr\tb\n\nc\t\td\n", r"line 3: .* got an empty field"),
    ("\n\n", "holds no triple"),
])
def test_read_triples_names_the_bad_line(tmp_path, text, match):
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match):
        read_triples(path)


def test_read_triples_keeps_strings(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("00123\tNA\tnull\n\n007\tr\t1.0\n", encoding="utf-8")
    df = read_triples(path)
    assert df.values.tolist() == [["00123", "NA", "null"], ["007", "r", "1.0"]]
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_triples(tmp_path / "none.txt")
