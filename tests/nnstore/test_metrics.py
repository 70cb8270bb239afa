import math

import numpy as np
import pandas as pd
import pytest

from nnstore import metrics

RANKED = ["a", "b", "c", "d", "e"]
REL = {"b", "d", "z"}


def test_precision_recall_hand_values():
    # top-3 = a, b, c -> one hit (b)
    assert metrics.precision_at_k(RANKED, REL, 3) == pytest.approx(1 / 3)
    assert metrics.recall_at_k(RANKED, REL, 3) == pytest.approx(1 / 3)
    # top-5 -> hits b, d
    assert metrics.precision_at_k(RANKED, REL, 5) == pytest.approx(2 / 5)
    assert metrics.recall_at_k(RANKED, REL, 5) == pytest.approx(2 / 3)
    # k beyond the list: precision divides by k
    assert metrics.precision_at_k(["b"], REL, 4) == pytest.approx(1 / 4)
    assert math.isnan(metrics.recall_at_k(RANKED, set(), 3))


def test_hit_rate_top_k_accuracy_mrr():
    assert metrics.hit_rate(RANKED, REL, 1) == 0.0
    assert metrics.hit_rate(RANKED, REL, 2) == 1.0
    assert metrics.top_k_accuracy(RANKED, "c", 3) == 1.0
    assert metrics.top_k_accuracy(RANKED, "c", 2) == 0.0
    assert metrics.mrr(RANKED, REL) == pytest.approx(1 / 2)
    assert metrics.mrr(RANKED, {"e"}) == pytest.approx(1 / 5)
    assert metrics.mrr(RANKED, {"e"}, k=4) == 0.0


def test_ndcg_hand_value():
    # hits at ranks 2 and 4; ideal: 3 relevant -> ranks 1,2,3
    dcg = 1 / math.log2(3) + 1 / math.log2(5)
    idcg = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert metrics.ndcg_at_k(RANKED, REL, 5) == pytest.approx(dcg / idcg)
    # graded gains
    g = {"a": 3.0, "c": 1.0}
    dcg = 3.0 / 1 + 1.0 / math.log2(4)
    idcg = 3.0 + 1.0 / math.log2(3)
    assert metrics.ndcg_at_k(RANKED, g, 3) == pytest.approx(dcg / idcg)
    assert metrics.ndcg_at_k(["a", "c"], {"a", "c"}, 2) == pytest.approx(1.0)


def test_average_precision_hand_value():
    # hits at 2 (P=1/2) and 4 (P=2/4): (0.5 + 0.5) / 3
    assert metrics.average_precision(RANKED, REL) == pytest.approx(1 / 3)
    # at k=2: one hit at rank 2 (P=1/2) / min(3, 2)
    assert metrics.average_precision(RANKED, REL, k=2) == pytest.approx(0.25)
    assert metrics.average_precision(["x", "y"], ["x", "y"]) == pytest.approx(1.0)


def test_duplicates_and_none_ignored():
    assert metrics.precision_at_k(["b", "b", None, "d"], REL, 2) == pytest.approx(1.0)
    assert metrics.precision_at_k(np.array([1, 2, 3]), {2}, 3) == pytest.approx(1 / 3)


def test_catalogue_coverage():
    lists = [["a", "b"], ["b", "c"], ["a"]]
    assert metrics.catalogue_coverage(lists, 10) == pytest.approx(0.3)
    assert metrics.catalogue_coverage(lists, ["a", "b", "c", "d"]) == pytest.approx(0.75)
    assert metrics.catalogue_coverage(lists, 10, k=1) == pytest.approx(0.2)  # a, b
    df = pd.DataFrame({"query": [0, 0, 1], "rank": [0, 1, 0], "key": ["a", "b", "c"]})
    assert metrics.catalogue_coverage(df, 6, k=1) == pytest.approx(2 / 6)


def test_evaluate_batch_matches_per_query():
    res = pd.DataFrame({"query": [0, 0, 0, 1, 1, 1], "rank": [0, 1, 2, 0, 1, 2],
                        "key": ["a", "b", "c", "x", "y", "z"], "distance": 0.0})
    rel = {0: {"b"}, 1: {"q"}, 2: {"a"}}
    out = metrics.evaluate(res, rel, k=2, per_query=True)
    assert out.loc[0, "precision@2"] == pytest.approx(0.5)
    assert out.loc[1, "hit_rate@2"] == 0.0
    assert out.loc[2, "recall@2"] == 0.0  # query 2 returned nothing
    assert out.loc[0, "mrr@2"] == pytest.approx(0.5)
    means = metrics.evaluate(res, pd.DataFrame({"query": [0, 1, 2], "key": ["b", "q", "a"]}), k=2)
    assert means["precision@2"] == pytest.approx(0.5 / 3)
    assert means["hit_rate@2"] == pytest.approx(1 / 3)


def test_bad_input():
    with pytest.raises(ValueError, match="k must be a positive int"):
        metrics.precision_at_k(RANKED, REL, 0)
    with pytest.raises(TypeError, match="not a string"):
        metrics.hit_rate("abc", REL, 1)
    with pytest.raises(ValueError, match="unknown metrics"):
        metrics.evaluate(pd.DataFrame({"query": [], "rank": [], "key": []}), {}, k=1, metrics=["f1"])
    with pytest.raises(ValueError, match="gains must be >= 0"):
        metrics.ndcg_at_k(RANKED, {"a": -1}, 2)
