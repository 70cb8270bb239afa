"""tabemb._matching._knn: exact two-sided top-k and inverted-list top-k against brute force."""

import numpy as np
import pytest

from tabemb._matching._knn import exact_topk, ivf_topk


def _brute(a, b, k, self_join=False):
    sim = a @ b.T
    if self_join:
        np.fill_diagonal(sim, -np.inf)
    out = []
    for row in sim:
        order = sorted(range(len(row)), key=lambda j: (-row[j], j))  # best first, ties: smaller row
        out.append(order[:k])
    return np.array(out, dtype=np.int64).reshape(len(a), -1)


@pytest.mark.parametrize("block_bytes", [64, 1 << 20])
def test_exact_topk_both_directions_match_brute_force(block_bytes):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(37, 5)).astype(np.float32)
    b = rng.normal(size=(23, 5)).astype(np.float32)
    b[5] = b[3]  # a tie: row 3 must come first
    nn_a, nn_b = exact_topk(a, b, 3, 2, block_bytes=block_bytes)
    np.testing.assert_array_equal(nn_a, _brute(a, b, 3))
    np.testing.assert_array_equal(nn_b, _brute(b, a, 2))


def test_exact_topk_self_join_never_returns_self_and_caps_k():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(9, 4)).astype(np.float32)
    nn, nn_b = exact_topk(a, None, 3, block_bytes=40)
    np.testing.assert_array_equal(nn, _brute(a, a, 3, self_join=True))
    assert nn_b.shape == (9, 0)
    assert not (nn == np.arange(9)[:, None]).any()
    nn, _ = exact_topk(a[:3], None, 10)  # only 2 others exist
    assert nn.shape == (3, 2)
    with pytest.raises(ValueError, match="same width"):
        exact_topk(a, a[:, :2], 1)
    with pytest.raises(ValueError, match="k_a and k_b"):
        exact_topk(a, a, -1)



def test_ivf_topk_one_cell_is_exact_and_more_cells_find_near_copies():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, 8)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ex, _ = exact_topk(x, None, 4)
    one = ivf_topk(x, None, 4, n_cells=1)
    np.testing.assert_array_equal(np.sort(one, axis=1), np.sort(ex, axis=1))
    y = x + 0.01 * rng.normal(size=x.shape).astype(np.float32)  # near copies
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    nn = ivf_topk(y, x, 1, n_probe=3, random_state=0)
    assert (nn[:, 0] == np.arange(300)).mean() >= 0.95
    np.testing.assert_array_equal(nn, ivf_topk(y, x, 1, n_probe=3, random_state=0))  # deterministic
    assert not (ivf_topk(x, None, 3, n_probe=2) == np.arange(300)[:, None]).any()
    with pytest.raises(ValueError, match="k must be"):
        ivf_topk(x, None, 0)

