"""GNNEmbedder keeps the estimator contract (nnstore.testing) and the shared vocabulary."""

import networkx as nx
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from graphemb import GNNEmbedder
from nnstore import NotFittedError
from nnstore.testing import check_estimator_contract

torch.set_num_threads(1)

SMALL = dict(hidden_dim=16, dim=8, epochs=3)


@pytest.fixture(scope="module")
def data():
    G = nx.relabel_nodes(nx.karate_club_graph(), lambda i: f"n{i}")
    rng = np.random.default_rng(0)
    F = pd.DataFrame(rng.normal(size=(34, 5)), index=list(G.nodes), columns=list("abcde"))
    y = pd.Series([G.nodes[n]["club"] for n in G.nodes], index=list(G.nodes))
    return G, F, y


def test_contract(data, tmp_path):
    G, F, y = data
    labels = y.where(np.arange(34) % 3 == 0)
    check_estimator_contract(
        GNNEmbedder(random_state=0, **SMALL),
        fit=lambda e: e.fit(G, F, labels=labels),
        outputs=lambda e: (e.transform(), e.transform(G, F), e.predict_proba(G, F)),
        unfitted=[lambda e: e.transform(), lambda e: e.transform(G, F), lambda e: e.predict(),
                  lambda e: e.save(tmp_path / "never")],
        bad_params={"dim": [0, 1.5], "encoder": ["gin"], "dropout": [1.0, -0.1], "normalize": ["l3"],
                    "pretrain": ["mae"], "learning_rate": [0.0], "l2": [-1.0], "epochs": [-1],
                    "patience": [0], "device": ["tpu"], "random_state": [-1], "lr": [-1.0]},
        tmp_path=tmp_path)


def test_output_api(data):
    G, F, _ = data
    m = GNNEmbedder(random_state=0, **SMALL)
    assert m.set_output(transform="pandas") is m
    out = m.fit_transform(G, F)
    assert isinstance(out, pd.DataFrame) and list(out.index) == list(G.nodes)
    assert list(out.columns) == list(m.get_feature_names_out())
    assert list(m.get_feature_names_out()) == [f"emb_{i}" for i in range(8)]
    with pytest.raises(ValueError, match="transform must be 'default' or 'pandas'"):
        m.set_output(transform="polars")
    assert repr(GNNEmbedder(dim=8)) == "GNNEmbedder(dim=8)"


def test_renamed_parameters_warn_and_still_work(data):
    G, F, _ = data
    new = GNNEmbedder(learning_rate=0.01, l2=1e-4, epochs=4, random_state=0, **{"hidden_dim": 16, "dim": 8})
    old = GNNEmbedder(lr=0.01, weight_decay=1e-4, pretrain_epochs=4, random_state=0, hidden_dim=16, dim=8)
    with pytest.warns(FutureWarning, match="'lr' is renamed 'learning_rate'"):
        old.fit(G, F)
    new.fit(G, F)
    assert len(old.pretrain_history_) == 4
    pd.testing.assert_frame_equal(old.transform(), new.transform())
    with pytest.raises(ValueError, match="both lr= .* and learning_rate= were given"):
        GNNEmbedder(lr=0.01, learning_rate=0.1, **SMALL).fit(G, F)


def test_fine_tune_knobs_moved_to_fine_tune(data):
    G, F, y = data
    labels = y.where(np.arange(34) % 3 == 0)
    m = GNNEmbedder(probe_epochs=7, warm_start=False, random_state=0, **SMALL).fit(G, F)
    with pytest.warns(FutureWarning, match=r"'probe_epochs' moved to fine_tune\(probe_epochs=\.\.\.\)"):
        m.fine_tune(G, labels, F, mode="probe")
    assert len(m.finetune_history_) == 7
    with pytest.warns(FutureWarning, match=r"'warm_start' moved to fine_tune\(probe_first=\.\.\.\)"):
        m.fine_tune(G, labels, F, mode="finetune", epochs=2)
    assert [h["stage"] for h in m.finetune_history_] == ["finetune", "finetune"]  # no probe first
    fresh = GNNEmbedder(random_state=0, **SMALL).fit(G, F)
    fresh.fine_tune(G, labels, F, mode="finetune", epochs=2, probe_epochs=3)
    assert [h["stage"] for h in fresh.finetune_history_] == ["probe"] * 3 + ["finetune"] * 2
    with pytest.raises(ValueError, match="'probe_epochs' parameter"):
        fresh.fine_tune(G, labels, F, probe_epochs=-1)


def test_random_state_reaches_every_step(data):
    G, F, y = data
    labels = y.where(np.arange(34) % 3 == 0)

    def run(seed):
        m = GNNEmbedder(dropout=0.2, random_state=seed, **SMALL).fit(G, F)
        m.fine_tune(G, labels, F, epochs=3, probe_epochs=3)
        return m.transform(), m.predict_proba()

    a, b, c = run(3), run(3), run(4)
    for x, z in zip(a, b, strict=True):
        pd.testing.assert_frame_equal(x, z)
    assert not np.allclose(a[0].to_numpy(), c[0].to_numpy())
    gen = np.random.default_rng(5)
    m = GNNEmbedder(random_state=gen, **SMALL).fit(G, F)
    assert m.random_state is gen and np.isfinite(m.transform().to_numpy()).all()
    assert type(clone(m).random_state) is np.random.Generator


def test_not_fitted_message_names_the_class():
    with pytest.raises(NotFittedError, match="This graphemb.GNNEmbedder instance is not fitted yet"):
        GNNEmbedder().transform()
