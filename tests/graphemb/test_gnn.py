import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch

from graphemb import GNNEmbedder
from graphemb._features import MISSING_COLUMN, STRUCTURAL_COLUMNS, align_features, structural_features
from graphemb._graph import as_graph
from nnstore import ArtifactError, NotFittedError

torch.set_num_threads(1)

SMALL = dict(hidden_dim=16, dim=8, epochs=5)


def planted(n_blocks=4, size=25, seed=0, signal=1.0, n_features=12):
    G = nx.planted_partition_graph(n_blocks, size, 0.3, 0.01, seed=seed)
    G = nx.relabel_nodes(G, {i: f"n{i}" for i in G.nodes})
    y = np.repeat(np.arange(n_blocks), size)
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n_blocks * size, n_features))
    F[:, :n_blocks] += signal * np.eye(n_blocks)[y]
    return G, pd.DataFrame(F, index=list(G.nodes), columns=[f"f{i}" for i in range(n_features)]), y


@pytest.fixture(scope="module")
def data():
    return planted()


@pytest.mark.parametrize("encoder", ["sage", "gcn", "gat"])
@pytest.mark.parametrize("pretrain", ["dgi", "link", None])
def test_shapes_every_encoder_and_objective(data, encoder, pretrain):
    G, F, _ = data
    m = GNNEmbedder(encoder=encoder, pretrain=pretrain, random_state=0, **SMALL).fit(G, F)
    emb = m.transform()
    assert emb.shape == (100, 8) and list(emb.columns) == [f"emb_{i}" for i in range(8)]
    assert (emb.dtypes == np.float32).all() and list(emb.index) == list(G.nodes)
    assert np.isfinite(emb.to_numpy()).all()
    assert m.n_features_in_ == 13 and m.feature_columns_[-1] == MISSING_COLUMN
    assert len(m.pretrain_history_) == (5 if pretrain else 0)


def test_same_seed_same_embeddings_and_global_rng_untouched(data):
    G, F, y = data
    labels = pd.Series(y, index=list(G.nodes)).where(np.arange(100) % 5 == 0)
    state = torch.get_rng_state()
    a = GNNEmbedder(dropout=0.3, random_state=7, **SMALL).fit(G, F, labels=labels)
    b = GNNEmbedder(dropout=0.3, random_state=7, **SMALL).fit(G, F, labels=labels)
    c = GNNEmbedder(dropout=0.3, random_state=8, **SMALL).fit(G, F, labels=labels)
    assert torch.equal(state, torch.get_rng_state())
    pd.testing.assert_frame_equal(a.transform(), b.transform())
    assert not np.allclose(a.transform().to_numpy(), c.transform().to_numpy())
    pd.testing.assert_series_equal(a.predict(), b.predict())


def test_pretraining_beats_random_init_on_planted_partition():
    # 4 informative columns among 48; a 16-d embedding: a random encoder keeps less of the signal
    G, F, y = planted(signal=1.0, n_features=48)
    labelled = np.zeros(100, bool)
    for c in range(4):
        labelled[np.flatnonzero(y == c)[:3]] = True
    labels = pd.Series(y, index=list(G.nodes)).where(labelled)
    accs = {}
    for pre in ("dgi", None):
        m = GNNEmbedder(encoder="gcn", n_layers=1, hidden_dim=16, dim=16, pretrain=pre, epochs=100,
                        learning_rate=0.005, random_state=0)
        m.fit(G, F).fine_tune(G, labels, F, mode="probe", probe_epochs=300)
        accs[pre] = float((m.predict().to_numpy()[~labelled] == y[~labelled]).mean())
    print(accs)  # measured: dgi 0.83, random init 0.67
    assert accs["dgi"] >= 0.75
    assert accs["dgi"] > accs[None] + 0.1


def test_unseen_node_lands_near_its_neighbours(data):
    G, F, y = data
    m = GNNEmbedder(encoder="sage", n_layers=2, pretrain="link", hidden_dim=32, dim=16, epochs=60,
                    random_state=0).fit(G, F)
    H = G.copy()
    block0 = [n for n, c in zip(G.nodes, y, strict=True) if c == 0]
    H.add_edges_from(("new", b) for b in block0[:6])
    F2 = pd.concat([F, pd.DataFrame([F.loc[block0].mean()], index=["new"])])
    emb = m.transform(H, F2)
    assert emb.shape == (101, 16) and emb.index[-1] == "new"

    def unit(v):
        return v / np.linalg.norm(v, axis=-1, keepdims=True)

    E = unit(emb.to_numpy())
    sims = E[:-1] @ E[-1]
    block_mean = [sims[y == c].mean() for c in range(4)]
    assert int(np.argmax(block_mean)) == 0
    assert block_mean[0] > max(block_mean[1:]) + 0.1


def test_fine_tune_modes_and_predict(data):
    G, F, y = data
    labels = pd.Series(y, index=list(G.nodes)).astype(object).map(lambda c: f"class{c}")
    labels[np.arange(100) % 4 != 0] = np.nan
    m = GNNEmbedder(encoder="gcn", n_layers=2, hidden_dim=32, dim=16, epochs=30,
                    random_state=0).fit(G, F)
    before = m.transform()
    m.fine_tune(G, labels, F, mode="probe")
    pd.testing.assert_frame_equal(before, m.transform())  # frozen encoder
    assert list(m.classes_) == ["class0", "class1", "class2", "class3"]
    m.fine_tune(G, labels, F, mode="finetune", epochs=100)
    assert not np.allclose(before.to_numpy(), m.transform().to_numpy())
    proba = m.predict_proba()
    assert proba.shape == (100, 4) and np.allclose(proba.sum(axis=1), 1.0, atol=1e-5)
    truth = np.array([f"class{c}" for c in y])
    assert (m.predict().to_numpy() == truth).mean() >= 0.8


def test_fine_tune_with_validation_keeps_the_best_epoch(data):
    G, F, y = data
    full = pd.Series(y, index=list(G.nodes))
    train, val = full.where(np.arange(100) % 10 == 0), full.where(np.arange(100) % 10 == 5)
    m = GNNEmbedder(encoder="gcn", n_layers=1, hidden_dim=16, dim=16, epochs=30, random_state=0).fit(G, F)
    knobs = dict(probe_epochs=40, epochs=300, patience=10)
    vidx = val.dropna().index

    def val_acc():
        return float((m.predict()[vidx] == val[vidx].astype(int)).mean())

    for mode in ("probe", "finetune"):
        m.fine_tune(G, train, F, mode=mode, validation=val, **knobs)
        hist = [h for h in m.finetune_history_ if h["stage"] == mode]
        assert hist and all("val_accuracy" in h for h in hist)
        assert [h["stage"] for h in m.finetune_history_].count("probe") == 40  # warm start for finetune
        if m.best_epoch_:  # the kept weights are those of the best validation epoch
            assert val_acc() == pytest.approx(hist[m.best_epoch_ - 1]["val_accuracy"])
            assert val_acc() == pytest.approx(max(h["val_accuracy"] for h in hist))
    assert len(hist) < 300 and len(hist) - m.best_epoch_ == 10  # early stop after 10 epochs w/o gain
    m.fine_tune(G, train, F, mode="probe", **knobs)
    assert m.best_epoch_ is None and "val_accuracy" not in m.finetune_history_[-1]


def test_bad_validation(data):
    G, F, y = data
    m = GNNEmbedder(**SMALL).fit(G, F)
    labels = pd.Series(y, index=list(G.nodes)).where(np.arange(100) % 4 == 0)
    with pytest.raises(ValueError, match=r"validation has 1 node id\(s\) not in the graph.*\['ghost'\]"):
        m.fine_tune(G, labels, F, validation=pd.Series([1], index=["ghost"]))
    with pytest.raises(ValueError, match=r"validation has classes that labels does not have: \[9\]"):
        m.fine_tune(G, labels, F, validation=pd.Series([9], index=["n1"]))
    with pytest.raises(TypeError, match="validation must be a pandas Series"):
        m.fine_tune(G, labels, F, validation=[1, 2])
    with pytest.raises(ValueError, match="'dropout' parameter"):
        m.fine_tune(G, labels, F, dropout=1.0)


def test_save_load_round_trip(tmp_path, data):
    G, F, y = data
    labels = pd.Series(y, index=list(G.nodes)).where(np.arange(100) % 4 == 0)
    m = GNNEmbedder(encoder="gat", random_state=1, **SMALL).fit(G, F, labels=labels)
    m.save(tmp_path / "model")
    back = GNNEmbedder.load(tmp_path / "model")
    pd.testing.assert_frame_equal(m.transform(), back.transform())
    pd.testing.assert_frame_equal(m.transform(G, F), back.transform(G, F))
    pd.testing.assert_series_equal(m.predict(G, F), back.predict(G, F))
    assert back.get_params() == m.get_params()
    with pytest.raises(ArtifactError, match="expected 'node2vec'") as e:
        from nnstore import read_artifact
        read_artifact(tmp_path / "model", kind="node2vec")
    assert e.value.reason == "wrong_kind"


def test_structural_fallback_and_round_trip(tmp_path, data):
    G, _, _ = data
    with pytest.warns(UserWarning, match=r"node attributes \['block'\] are not used"):
        m = GNNEmbedder(random_state=0, **SMALL).fit(G)
    assert m.feature_source_ == "structural" and m.feature_columns_ == STRUCTURAL_COLUMNS
    m.save(tmp_path / "m")
    back = GNNEmbedder.load(tmp_path / "m")
    H = nx.relabel_nodes(nx.karate_club_graph(), str)
    pd.testing.assert_frame_equal(m.transform(H), back.transform(H))
    with pytest.raises(ValueError, match="trained on structural features"):
        m.transform(H, pd.DataFrame({"a": [1.0]}, index=["0"]))


def test_structural_features_values():
    # triangle a-b-c plus pendant d on c
    g = as_graph(pd.DataFrame({"src": ["a", "b", "c", "c"], "dst": ["b", "c", "a", "d"]}))
    S = pd.DataFrame(structural_features(g), index=g.nodes, columns=STRUCTURAL_COLUMNS)
    assert S.loc["c", "log_degree"] == pytest.approx(np.log(4))
    assert S.loc["a", "clustering"] == pytest.approx(1.0)
    assert S.loc["c", "clustering"] == pytest.approx(1 / 3)
    assert S.loc["d", "clustering"] == 0.0
    assert S.loc["d", "mean_neighbor_log_degree"] == pytest.approx(np.log(4))
    assert S.loc["d", "return_prob_2"] == pytest.approx(1 / 3)  # d -> c -> d
    assert S.loc["a", "return_prob_2"] == pytest.approx(0.5 * (1 / 2) + 0.5 * (1 / 3))
    assert S["log_pagerank"].idxmax() == "c"


def test_missing_feature_rows_get_zeros_and_indicator(data):
    G, F, _ = data
    X, cols, missing = align_features(as_graph(G), F.iloc[:90])
    assert cols == list(F.columns) and missing.sum() == 10 and missing[90:].all()
    assert (X[90:, :-1] == 0).all() and (X[90:, -1] == 1).all() and (X[:90, -1] == 0).all()
    m = GNNEmbedder(random_state=0, **SMALL).fit(G, F.iloc[:90])
    assert np.isfinite(m.transform().to_numpy()).all()
    # columns are matched by name at transform time
    pd.testing.assert_frame_equal(m.transform(G, F.iloc[:90]), m.transform(G, F.iloc[:90, ::-1]))


def test_node2vec_style_embeddings_as_features(data):
    G, _, _ = data
    emb = pd.DataFrame(np.random.default_rng(0).normal(size=(100, 4)).astype(np.float32),
                       index=list(G.nodes), columns=[f"emb_{i}" for i in range(4)])
    m = GNNEmbedder(random_state=0, **SMALL).fit(G, emb)
    assert m.feature_columns_ == ["emb_0", "emb_1", "emb_2", "emb_3", MISSING_COLUMN]


# -- bad input ---------------------------------------------------------------------
def test_bad_features(data):
    G, F, _ = data
    m = GNNEmbedder(**SMALL)
    with pytest.raises(ValueError, match=r"rows for 1 node id\(s\) that are not in the graph.*\['ghost'\]"):
        m.fit(G, pd.concat([F, pd.DataFrame([F.iloc[0]], index=["ghost"])]))
    bad = F.copy()
    bad.iloc[3, 2] = np.nan
    with pytest.raises(ValueError, match=r"NaN or infinite values in 1 row\(s\), first node ids: \['n3'\]"):
        m.fit(G, bad)
    with pytest.raises(ValueError, match="numeric columns only"):
        m.fit(G, F.assign(f0="x"))
    with pytest.raises(TypeError, match="must be a pandas DataFrame indexed by node id, a numpy array"):
        m.fit(G, F.to_numpy().tolist())
    with pytest.raises(ValueError, match="features has 99 rows but the graph has 100 nodes"):
        m.fit(G, F.to_numpy()[:99])
    m.fit(G, F)
    with pytest.raises(ValueError, match="features has 11 columns but the model was trained on 12"):
        m.transform(G, F.iloc[:, :11])
    with pytest.raises(ValueError, match="differ from the training columns"):
        m.transform(G, F.rename(columns={"f0": "other"}))
    with pytest.raises(ValueError, match="pass features"):
        m.transform(G)


def test_bad_labels(data):
    G, F, y = data
    m = GNNEmbedder(**SMALL).fit(G, F)
    labels = pd.Series(y, index=list(G.nodes))
    with pytest.raises(ValueError, match=r"labels has 1 node id\(s\) not in the graph.*\['ghost'\]"):
        m.fine_tune(G, pd.concat([labels, pd.Series([1], index=["ghost"])]), F)
    with pytest.raises(ValueError, match="at least 2 classes"):
        m.fine_tune(G, labels.where(labels == 0), F)
    with pytest.raises(TypeError, match="pandas Series"):
        m.fine_tune(G, list(y), F)
    with pytest.raises(ValueError, match=r"one value per node \(100"):
        m.fine_tune(G, y[:50], F)
    with pytest.raises(ValueError, match="mode must be one of"):
        m.fine_tune(G, labels, F, mode="linear")


def test_bad_params_and_not_fitted(data):
    G, F, _ = data
    with pytest.raises(NotFittedError, match="not fitted"):
        GNNEmbedder().transform()
    with pytest.raises(NotFittedError, match="classification head"):
        GNNEmbedder(**SMALL).fit(G, F).predict()
    with pytest.raises(ValueError, match="'encoder' parameter"):
        GNNEmbedder(encoder="gin").fit(G, F)
    with pytest.raises(ValueError, match="'pretrain' parameter"):
        GNNEmbedder(pretrain="mae").fit(G, F)
    with pytest.raises(ValueError, match="'dropout' parameter"):
        GNNEmbedder(dropout=1.5).fit(G, F)
    with pytest.raises(ValueError, match="needs a graph with edges"):
        GNNEmbedder(pretrain="link", **SMALL).fit(nx.empty_graph(5))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the no-CUDA error")
def test_cuda_without_gpu_is_a_clear_error(data):
    G, F, _ = data
    with pytest.raises(ValueError, match="torch sees no CUDA device"):
        GNNEmbedder(device="cuda", **SMALL).fit(G, F)


@pytest.mark.parametrize("encoder", ["sage", "gcn", "gat"])
def test_sparse_features_take_the_sparse_path(data, encoder):
    G, _, y = data
    rng = np.random.default_rng(0)
    B = (rng.random((100, 200)) < 0.02).astype(np.float32)  # bag-of-words-like: 2% non-zero
    B[np.arange(100), y] = 1.0
    F = pd.DataFrame(B, index=list(G.nodes))
    m = GNNEmbedder(encoder=encoder, normalize=None, random_state=0, **SMALL)
    _, x, _, _ = m._inputs(G, F, fitting=True)
    assert x.layout == torch.sparse_csr
    labels = pd.Series(y, index=list(G.nodes)).where(np.arange(100) % 4 == 0)
    m.fit(G, F, labels=labels)
    _, _, ei, _ = m._inputs(G, F, fitting=False)
    x_dense = torch.cat([torch.from_numpy(B), torch.zeros(100, 1)], 1)  # + the missing-row indicator
    m.encoder_.eval()
    with torch.no_grad():
        dense = m.encoder_(x_dense, ei).numpy()
    np.testing.assert_allclose(m.transform(G, F).to_numpy(), dense, rtol=1e-4, atol=1e-5)
