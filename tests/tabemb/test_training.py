"""tabemb._training: self-supervised pre-training, the IDF anchor, fine-tuning on a target."""

import numpy as np
import pandas as pd
import pytest

from tabemb import TableEncoder

FIRST = ["james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william",
         "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica"]
LAST = ["smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "wilson",
        "anderson", "taylor", "thomas", "moore", "martin", "jackson", "thompson"]
KW = {"epochs": 1, "text_dim": 16, "row_text_dim": 32, "n_buckets": 1 << 12, "batch_size": 32,
      "random_state": 0}


def people(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "first": rng.choice(FIRST, n), "last": rng.choice(LAST, n),
        "city": rng.choice(["paris", "rome", "oslo"], n),
        "age": rng.integers(20, 80, n).astype(float),
        "joined": pd.date_range("2020-01-01", periods=n, freq="7D"),
    }, index=pd.Index([f"p{i}" for i in range(n)], name="key"))


def typo(df, seed=1):
    rng = np.random.default_rng(seed)
    out = df.copy()
    for i in range(len(out)):
        v = out.iloc[i, 1]
        j = rng.integers(1, len(v))
        out.iloc[i, 1] = v[:j] + v[j + 1:]  # drop a letter of the surname
    return out


def test_fine_tune_classification_and_regression():
    df = people(120)
    y = (df["city"] == "rome").to_numpy().astype(int)
    enc = TableEncoder(**KW).fit(df)
    enc.fine_tune(df, y, epochs=5)
    assert enc.task_ == "classification"
    emb = enc.transform(df).to_numpy()
    from sklearn.linear_model import LogisticRegression

    # training accuracy: 1.0 in most runs, 119/120 seen once in a fresh-clone CI run
    assert LogisticRegression().fit(emb, y).score(emb, y) >= 0.97
    enc.fine_tune(df, df["age"].to_numpy() * 1.5, epochs=2)
    assert enc.task_ == "regression"
    with pytest.raises(ValueError, match="y has 3 values"):
        enc.fine_tune(df, [1, 2, 3])


def test_masked_objective_runs():
    df = people()
    enc = TableEncoder(**{**KW, "objective": "masked"}).fit(df)
    assert enc.history_[0]["stage"] == "pretrain" and np.isfinite(enc.history_[0]["loss"])
    with pytest.raises(ValueError, match="'objective' parameter of tabemb.TableEncoder"):
        TableEncoder(objective="nope").fit(df)


def test_idf_anchor_blends_pretrained_weights_with_idf():
    import torch

    df = people()
    raw = TableEncoder(**{**KW, "idf_anchor": 0.0}).fit(df)
    half = TableEncoder(**KW).fit(df)  # default idf_anchor=0.5
    assert half.idf_anchor == 0.5
    for p_raw, p_half in zip(raw.net_.text_logit, half.net_.text_logit, strict=True):
        # weight = 0.5 * idf + 0.5 * pre-trained weight, i.e. exp(logit) = 0.5 + 0.5 * exp(raw logit)
        torch.testing.assert_close(torch.exp(p_half.detach()), 0.5 + 0.5 * torch.exp(p_raw.detach()))
        assert float(p_raw.detach().abs().max()) > 0  # pre-training moved the weights
    full = TableEncoder(**{**KW, "idf_anchor": 1.0}).fit(df)
    assert all(float(p.detach().abs().max()) < 1e-6 for p in full.net_.text_logit)  # back to IDF
    untrained = TableEncoder(**{**KW, "epochs": 0}).fit(df)  # nothing trained: nothing blended
    assert all(float(p.detach().abs().max()) == 0 for p in untrained.net_.text_logit)
    with pytest.raises(ValueError, match=r"'idf_anchor' parameter of tabemb.TableEncoder must be a float in "
                                         r"the range \[0.0, 1.0\]. Got 2"):
        TableEncoder(idf_anchor=2).fit(df)


@pytest.mark.parametrize("objective", ["contrastive", "masked"])
def test_same_seed_same_result_whatever_torch_global_seed(objective):
    import torch

    df = people(80)
    y = (df["city"] == "rome").to_numpy().astype(int)
    outs = []
    for global_seed in (1, 2):
        torch.manual_seed(global_seed)  # the heads are initialised from random_state, not from this
        enc = TableEncoder(**{**KW, "objective": objective}).fit(df)
        enc.fine_tune(df, y, epochs=2)
        outs.append(enc.transform(df))
    pd.testing.assert_frame_equal(outs[0], outs[1])
