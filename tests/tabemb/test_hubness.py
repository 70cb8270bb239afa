"""Hubness-corrected linking embeddings (CSLS): penalties, the dot-product identity, a hub demoted."""

import numpy as np
import pandas as pd
import pytest

import tabemb._hubness as hubness
from tabemb import TableEncoder, hub_corrected, hub_penalties

from .test_table_encoder import KW, people, typo


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _brute(a, b, k):
    s = _unit(a) @ _unit(b).T
    return np.sort(s, axis=1)[:, -k:].mean(axis=1), np.sort(s.T, axis=1)[:, -k:].mean(axis=1)


@pytest.mark.parametrize("k", [1, 3, 70])
def test_penalties_are_mean_similarity_to_the_k_nearest_of_the_other_table(k):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(50, 8)).astype(np.float32), rng.normal(size=(60, 8)).astype(np.float32)
    r_a, r_b = hub_penalties(a, b, k)
    e_a, e_b = _brute(a, b, min(k, 60))
    np.testing.assert_allclose(r_a, e_a, atol=1e-6)
    np.testing.assert_allclose(r_b, _brute(a, b, min(k, 50))[1], atol=1e-6)
    if k <= 50:
        np.testing.assert_allclose(r_b, e_b, atol=1e-6)


def test_large_tables_take_the_inverted_lists_and_agree_when_every_cell_is_searched(monkeypatch):
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 6)).astype(np.float32), rng.normal(size=(400, 6)).astype(np.float32)
    exact = hub_penalties(a, b, 3)
    calls = []
    real = hubness.kneighbors
    monkeypatch.setattr(hubness, "kneighbors", lambda *x, **kw: calls.append(kw["method"]) or real(*x, **kw))
    monkeypatch.setattr(hubness, "EXACT_LIMIT", 0)
    approx = hub_penalties(a, b, 3, n_probe=1000)
    assert calls == ["ivf", "ivf"]  # both directions
    np.testing.assert_allclose(approx[0], exact[0], atol=1e-6)
    np.testing.assert_allclose(approx[1], exact[1], atol=1e-6)


def test_dot_product_of_the_corrected_rows_is_half_the_csls_score():
    rng = np.random.default_rng(2)
    a = pd.DataFrame(rng.normal(size=(30, 5)), index=[f"a{i}" for i in range(30)])
    b = pd.DataFrame(rng.normal(size=(40, 5)), index=pd.RangeIndex(100, 140, name="id"))
    ca, cb = hub_corrected(a, b, k=3)
    assert ca.shape == (30, 7) and cb.shape == (40, 7)
    assert ca.index.equals(a.index) and cb.index.equals(b.index)
    assert list(ca.columns) == [f"emb_{i}" for i in range(7)]
    r_a, r_b = _brute(a.to_numpy(), b.to_numpy(), 3)
    csls = 2 * _unit(a.to_numpy()) @ _unit(b.to_numpy()).T - r_a[:, None] - r_b[None, :]
    np.testing.assert_allclose(ca.to_numpy() @ cb.to_numpy().T, csls / 2, atol=1e-5)
    xa, xb = hub_corrected(a.to_numpy(), b.to_numpy(), k=3)  # arrays in, arrays out
    assert isinstance(xa, np.ndarray) and np.allclose(xa, ca.to_numpy()) and np.allclose(xb, cb.to_numpy())


def test_a_hub_stops_being_every_query_s_nearest_neighbour():
    e = np.eye(7, dtype=np.float32)
    b = np.stack([np.sqrt(0.5) * (e[0] + e[i]) for i in (1, 2, 3)])  # three variants of a product
    hub = e[0]  # the generic record: cosine 0.707 to every variant
    own = np.stack([0.2 * e[0] + e[i] + 0.8 * e[i + 3] for i in (1, 2, 3)])  # each variant's match: 0.654
    a = np.vstack([hub, own])
    assert ((_unit(b) @ _unit(a).T).argmax(axis=1) == 0).all()  # plain cosine: the hub, three times
    ca, cb = hub_corrected(a, b, k=3)
    assert (cb @ ca.T).argmax(axis=1).tolist() == [1, 2, 3]  # corrected: each its own match
    assert (ca @ cb.T)[1:].argmax(axis=1).tolist() == [0, 1, 2]  # and the other direction


def test_bad_input_names_the_argument():
    a, b = np.ones((4, 3)), np.ones((5, 3))
    with pytest.raises(ValueError, match="emb_b must have dimension 3"):
        hub_corrected(a, np.ones((5, 2)))
    with pytest.raises(ValueError, match="emb_a is empty"):
        hub_corrected(np.ones((0, 3)), b)
    with pytest.raises(ValueError, match="emb_b contains NaN"):
        hub_corrected(a, np.full((5, 3), np.nan))
    for k in (0, 2.5, True):
        with pytest.raises(ValueError, match="k must be an integer >= 1"):
            hub_corrected(a, b, k=k)


def test_table_encoder_link_embeddings():
    df = people()
    enc = TableEncoder(**KW).fit(df)
    other = typo(df).rename(index=lambda s: s.replace("p", "q"))
    ea, eb = enc.link_embeddings(df, other)
    assert ea.shape == (60, enc.dim_ + 2) and eb.shape == (60, enc.dim_ + 2)
    assert ea.index.equals(df.index) and eb.index.equals(other.index)
    pa, pb = hub_corrected(enc.transform(df), enc.transform(other), 3)
    np.testing.assert_allclose(ea.to_numpy(), pa.to_numpy())
    np.testing.assert_allclose(eb.to_numpy(), pb.to_numpy())
    top1 = (eb.to_numpy() @ ea.to_numpy().T).argmax(axis=1)
    assert (top1 == np.arange(60)).mean() >= 0.9
