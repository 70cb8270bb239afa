"""GNNEmbedder inputs: feature containers, normalisation inside the model, PyG Data, labels."""

import warnings

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch

from graphemb import GNNEmbedder, as_graph
from graphemb._gnn._inputs import fit_normalizer, prepare_features

torch.set_num_threads(1)

SMALL = dict(hidden_dim=16, dim=8, epochs=5)


def bag_of_words(n_blocks=4, size=20, n_words=60, seed=0):
    """A planted-partition graph whose nodes carry a sparse 0/1 bag of words tied to their block."""
    G = nx.planted_partition_graph(n_blocks, size, 0.3, 0.02, seed=seed)
    y = np.repeat(np.arange(n_blocks), size)
    rng = np.random.default_rng(seed)
    B = (rng.random((n_blocks * size, n_words)) < 0.05).astype(np.float32)
    for c in range(n_blocks):  # block c uses words 10c..10c+4 often
        B[y == c, 10 * c:10 * c + 5] = (rng.random(((y == c).sum(), 5)) < 0.5)
    B[B.sum(axis=1) == 0, -1] = 1.0  # every document has a word
    return G, B, y


def scalings(B):
    rownorm = B / B.sum(axis=1, keepdims=True)
    mean, std = B.mean(axis=0), B.std(axis=0)
    standard = (B - mean) / np.where(std > 0, std, 1.0)
    return {"raw": B, "rownorm": rownorm, "standardised": standard}


def dense(M):
    return M.toarray() if sp.issparse(M) else np.asarray(M)


def test_every_container_gives_the_same_embeddings():
    G, B, _ = bag_of_words()
    g = as_graph(G)
    inputs = {
        "DataFrame": pd.DataFrame(B, index=list(G.nodes)),
        "ndarray": B,
        "csr": sp.csr_matrix(B),
        "coo": sp.coo_matrix(B),
        "tensor": torch.from_numpy(B),
        "sparse tensor": torch.from_numpy(B).to_sparse(),
    }
    embs = {k: GNNEmbedder(random_state=0, **SMALL).fit(G, v).transform() for k, v in inputs.items()}
    for k, e in embs.items():
        assert list(e.index) == list(g.nodes), k
        np.testing.assert_allclose(e.to_numpy(), embs["DataFrame"].to_numpy(), rtol=1e-5, atol=1e-6,
                                   err_msg=k)
    m = GNNEmbedder(random_state=0, **SMALL).fit(G, B)
    assert m.feature_columns_[:2] == ["feature_0", "feature_1"] and m.n_features_in_ == B.shape[1] + 1


def test_a_sparse_matrix_is_never_densified():
    G, B, _ = bag_of_words()
    X, schema = prepare_features(as_graph(G), sp.csr_matrix(B), None, "auto")
    assert sp.issparse(X) and schema.row == "l1"
    m = GNNEmbedder(random_state=0, **SMALL)
    _, x, _, _ = m._inputs(G, sp.csr_matrix(B), fitting=True)
    assert x.layout == torch.sparse_csr


def test_auto_normalisation_makes_raw_rownormalised_and_standardised_one_input():
    G, B, _ = bag_of_words()
    g = as_graph(G)
    prepared = {k: dense(prepare_features(g, v, None, "auto")[0]) for k, v in scalings(B).items()}
    for k, X in prepared.items():
        np.testing.assert_allclose(X, prepared["raw"], atol=1e-6, err_msg=k)
    # the row step: each row of the raw input sums to 1 (plus the 0 of the missing-row indicator)
    np.testing.assert_allclose(prepared["raw"].sum(axis=1), 1.0, rtol=1e-5)
    embs = [GNNEmbedder(random_state=0, **SMALL).fit(G, v).transform().to_numpy()
            for v in scalings(B).values()]
    for e in embs[1:]:
        np.testing.assert_allclose(e, embs[0], atol=1e-4)


def test_without_normalisation_the_scalings_differ():
    G, B, _ = bag_of_words()
    g = as_graph(G)
    raw, standard = (dense(prepare_features(g, v, None, None)[0]) for v in (B, scalings(B)["standardised"]))
    assert not np.allclose(raw, standard)


def test_auto_standardises_dense_signed_features_and_reuses_the_training_statistics():
    G, _, _ = bag_of_words()
    rng = np.random.default_rng(1)
    F = (rng.normal(size=(80, 6)) * [1, 5, 10, 1, 1, 1] + [3, -2, 0, 0, 100, 1]).astype(np.float32)
    shift, scale, row = fit_normalizer(F, np.ones(80, bool), "auto")
    assert row is None
    np.testing.assert_allclose(shift, F.mean(axis=0), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(scale, F.std(axis=0), rtol=1e-4)
    m = GNNEmbedder(random_state=0, **SMALL).fit(G, F)
    pd.testing.assert_frame_equal(m.transform(G, F), m.transform())  # same statistics at transform
    shifted = m.transform(G, F + 1.0)  # not re-measured on the new input
    assert not np.allclose(shifted.to_numpy(), m.transform().to_numpy())


def test_normalizer_options():
    X = np.array([[1.0, 0.0, 3.0], [0.0, 2.0, 2.0]], np.float32)
    present = np.ones(2, bool)
    assert fit_normalizer(X, present, None)[2] is None
    shift, scale, row = fit_normalizer(X, present, "row")
    assert row == "l1" and (shift == 0).all() and (scale == 1).all()
    shift, scale, row = fit_normalizer(X, present, "standard")
    np.testing.assert_allclose(shift, [0.5, 1.0, 2.5])
    np.testing.assert_allclose(scale, [0.5, 1.0, 0.5])
    # a standardised indicator (two values, one negative) goes back to {0, 1}
    ind = np.array([[-0.5], [2.0], [-0.5], [-0.5]], np.float32)
    shift, scale, row = fit_normalizer(ind, np.ones(4, bool), "auto")
    assert row == "l1"
    np.testing.assert_allclose((ind[:, 0] - shift) / scale, [0, 1, 0, 0])


def test_missing_rows_stay_zero_after_normalisation():
    G, B, _ = bag_of_words()
    nodes = list(G.nodes)
    F = pd.DataFrame(scalings(B)["standardised"], index=nodes).iloc[:70]
    X = dense(prepare_features(as_graph(G), F, None, "auto")[0])
    assert (X[70:, :-1] == 0).all() and (X[70:, -1] == 1).all() and (X[:70, -1] == 0).all()
    np.testing.assert_allclose(X[:70, :-1].sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("bad, match", [
    (np.full((80, 3), np.nan, np.float32), r"features contains NaN or infinite values in 80 row\(s\)"),
    (np.ones((80, 3), complex), "features must be numeric"),
    (np.array([["a"] * 3] * 80, object), "features must be numeric"),
    (np.ones(80), r"features must be 2-D \(one row per node\), got shape \(80,\)"),
    (np.ones((79, 3)), "features has 79 rows but the graph has 80 nodes"),
    (sp.csr_matrix(np.full((80, 3), np.inf)), "NaN or infinite"),
    ([[1.0]] * 80, "a numpy array, a scipy sparse matrix or a torch tensor"),
])
def test_bad_array_features_are_named_errors(bad, match):
    G, _, _ = bag_of_words()
    with pytest.raises((ValueError, TypeError), match=match):
        GNNEmbedder(**SMALL).fit(G, bad)


def test_transform_checks_the_array_width():
    G, B, _ = bag_of_words()
    m = GNNEmbedder(random_state=0, **SMALL).fit(G, B)
    with pytest.raises(ValueError, match="features has 59 columns but the model was trained on 60"):
        m.transform(G, B[:, :-1])
    with pytest.raises(ValueError, match="pass features"):
        m.transform(G)


def _pyg(G, B, y, train=None):
    from torch_geometric.data import Data

    g = as_graph(G)
    data = Data(x=torch.from_numpy(B), edge_index=torch.from_numpy(g.edge_index()), num_nodes=g.n_nodes,
                y=torch.from_numpy(y))
    if train is not None:
        data.train_mask = torch.from_numpy(train)
    return data


def test_pyg_data_x_is_used_and_y_is_not_ignored_silently():
    G, B, y = bag_of_words()
    G = nx.convert_node_labels_to_integers(G)
    data = _pyg(G, B, y)
    with pytest.warns(UserWarning, match=r"attributes \['y'\] are not used.*labels="):
        m = GNNEmbedder(random_state=0, **SMALL).fit(data)
    assert m.feature_source_ == "features" and m.n_features_in_ == B.shape[1] + 1
    ref = GNNEmbedder(random_state=0, **SMALL).fit(as_graph(G), B)
    np.testing.assert_allclose(m.transform().to_numpy(), ref.transform().to_numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="features were given and graph .* has x too"):
        GNNEmbedder(**SMALL).fit(data, B)


def test_pyg_data_y_on_train_mask_for_fine_tune():
    G, B, y = bag_of_words()
    G = nx.convert_node_labels_to_integers(G)
    train = np.zeros(len(y), bool)
    train[::4] = True
    data = _pyg(G, B, y, train)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # y and train_mask are used: no warning
        m = GNNEmbedder(random_state=0, **SMALL).fine_tune(data, mode="probe", probe_epochs=50)
    assert list(m.classes_) == [0, 1, 2, 3]
    ref = GNNEmbedder(random_state=0, **SMALL).fine_tune(
        data, pd.Series(y).where(train), mode="probe", probe_epochs=50)
    pd.testing.assert_frame_equal(m.predict_proba(), ref.predict_proba())
    with pytest.raises(ValueError, match="labels is required"):
        GNNEmbedder(**SMALL).fit(G, B).fine_tune(G, features=B)


def test_labels_as_an_array_in_node_order():
    G, B, y = bag_of_words()
    lab = np.where(np.arange(len(y)) % 4 == 0, y, np.nan)
    a = GNNEmbedder(random_state=0, **SMALL).fit(G, B).fine_tune(G, lab, B, mode="probe")
    b = GNNEmbedder(random_state=0, **SMALL).fit(G, B).fine_tune(
        G, pd.Series(lab, index=list(G.nodes)), B, mode="probe")
    pd.testing.assert_series_equal(a.predict(), b.predict())
    assert list(a.classes_) == [0, 1, 2, 3]


def test_networkx_node_attributes_are_not_ignored_silently():
    G = nx.karate_club_graph()  # nodes carry "club"
    with pytest.warns(UserWarning, match=r"node attributes \['club'\] are not used"):
        m = GNNEmbedder(random_state=0, **SMALL).fit(G)
    assert m.feature_source_ == "structural"
