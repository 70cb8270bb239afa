"""tabemb._features: the compiled embedding pass equals the network's torch forward."""

import numpy as np
import pandas as pd
import torch

from tabemb import TableEncoder
from tabemb._features import column_features, embed_rows, take_batch


def frame(n=40, seed=0):
    rng = np.random.default_rng(seed)
    words = ["red", "blue", "green", "apple", "pear", "plum", "oak", "elm"]
    return pd.DataFrame({"title": [" ".join(rng.choice(words, 3)) + f" x{i}" for i in range(n)],
                         "maker": rng.choice(["acme", "globex", "initech"], n),
                         "price": rng.uniform(1, 100, n).round(2),
                         "when": pd.date_range("2021-01-01", periods=n, freq="3D")})


def test_compiled_pass_equals_torch_forward_trained_or_not():
    df = frame()
    enc = TableEncoder(text_dim=16, row_text_dim=64, n_buckets=1 << 12, epochs=1, random_state=0).fit(df)
    for _ in range(2):  # pre-trained weights, then also kind weights trained on pairs
        fast = embed_rows(enc.net_, enc.encoders_, enc.row_columns_, df, sublinear_tf=True)
        feats = column_features(enc.encoders_, enc.row_columns_, df)
        with torch.no_grad():
            slow = enc.net_(take_batch(enc.encoders_, feats, np.arange(len(df)), sublinear_tf=True)).numpy()
        np.testing.assert_allclose(fast, slow, rtol=0, atol=2e-6)
        np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, rtol=1e-5)
        b = df.set_axis([f"b{i}" for i in range(len(df))])
        enc.fine_tune_pairs(df, b, list(zip(df.index, b.index, strict=True)), np.ones(len(df)), epochs=1)


def test_corrupted_view_replaces_cells_from_other_rows():
    df = frame()
    enc = TableEncoder(text_dim=16, row_text_dim=64, n_buckets=1 << 12, random_state=0).fit(df)
    feats = column_features(enc.encoders_, enc.row_columns_, df)
    rows = np.arange(20)
    clean = take_batch(enc.encoders_, feats, rows, sublinear_tf=True)
    noisy = take_batch(enc.encoders_, feats, rows, sublinear_tf=True, rng=np.random.default_rng(0),
                       corruption=0.5)
    cat = next(i for i, e in enumerate(enc.encoders_) if e.kind == "categorical")
    a, b = clean["cols"][cat].numpy(), noisy["cols"][cat].numpy()
    assert (a != b).any() and set(b) <= set(a)  # replaced by values of other rows of the batch
    same = take_batch(enc.encoders_, feats, rows, sublinear_tf=True, rng=np.random.default_rng(0),
                      corruption=0.0)
    assert (same["cols"][cat].numpy() == a).all()
