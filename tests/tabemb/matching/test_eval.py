"""tabemb._matching._eval: pair, blocking and cluster metrics on hand-made pairs."""

import pandas as pd
import pytest

from tabemb import blocking_metrics, cluster_metrics, clusters_to_pairs, pair_metrics


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


