"""tabemb._matching._clusters: average linkage against chaining, mutual best pairs."""

import numpy as np

from tabemb._matching._clusters import average_linkage_clusters, mutual_best


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
