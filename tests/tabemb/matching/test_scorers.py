"""tabemb._matching._scorers: Fellegi-Sunter EM, comparison levels, exported trees."""

import numpy as np
import pytest

from tabemb._matching._scorers import FellegiSunter, TreeEnsemble, to_levels


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
