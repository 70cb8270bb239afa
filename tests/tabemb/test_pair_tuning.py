"""tabemb._pair_tuning: fine-tuning on record pairs, self-training, the nearest-other search."""

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


def test_fine_tune_pairs():
    a = people(50)
    b = typo(a).rename(index=lambda k: "b" + k)
    enc = TableEncoder(**KW).fit(pd.concat([a, b]))
    pairs = pd.DataFrame({"a": a.index, "b": b.index})
    enc.fine_tune_pairs(a, b, pairs, np.ones(50), epochs=3)
    ea, eb = enc.transform(a).to_numpy(), enc.transform(b).to_numpy()
    assert ((eb @ ea.T).argmax(axis=1) == np.arange(50)).mean() >= 0.9
    with pytest.raises(KeyError, match="nope"):
        enc.fine_tune_pairs(a, b, [("nope", "bp0")], [1])
    with pytest.raises(ValueError, match="no match"):
        enc.fine_tune_pairs(a, b, pairs, np.zeros(50))


def test_self_training_on_mutual_nearest_neighbours():
    df = people()
    both = pd.concat([df, typo(df).rename(index=lambda k: k + "-dup")])
    enc = TableEncoder(**{**KW, "self_training": 1}).fit(both)
    assert {h["stage"] for h in enc.history_} == {"pretrain", "self_training"}
    assert not hasattr(enc, "pair_best_epoch_")
    a, b = enc.transform(df).to_numpy(), enc.transform(both.iloc[60:]).to_numpy()
    assert ((b @ a.T).argmax(axis=1) == np.arange(60)).mean() >= 0.9
    with pytest.raises(ValueError, match=r"'self_training' parameter of tabemb.TableEncoder must be an int "
                                         r"in the range \[0, inf\)"):
        TableEncoder(self_training=-1).fit(df)


def test_nearest_other_exact_and_projected():
    from tabemb._pair_tuning import nearest_other as _nearest_other

    rng = np.random.default_rng(0)
    for n, d in ((50, 8), (5002, 200)):  # the second takes the 128-dim projection + exact re-rank
        x = rng.standard_normal((n // 2, d))
        emb = np.concatenate([x, x + 0.05 * rng.standard_normal(x.shape)]).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        nn = _nearest_other(emb, np.random.default_rng(1))
        half = n // 2
        assert (nn == np.concatenate([np.arange(half, n), np.arange(half)])).all()


def test_nearest_other_groups():
    from tabemb._pair_tuning import nearest_other as _nearest_other

    rng = np.random.default_rng(0)
    for n, d in ((40, 8), (5004, 200)):  # exact, and the 128-dim projection + exact re-rank
        x = rng.standard_normal((n // 4, d))
        # rows 0..q-1 and q..2q-1: near-duplicates within group 0; 2q..: group 1, further away
        emb = np.concatenate([x, x + 0.01 * rng.standard_normal(x.shape),
                              x + 0.2 * rng.standard_normal(x.shape),
                              x + 0.2 * rng.standard_normal(x.shape)]).astype(np.float32)
        emb /= np.linalg.norm(emb, axis=1, keepdims=True)
        q = n // 4
        groups = np.repeat([0, 0, 1, 1], q)
        plain = _nearest_other(emb, np.random.default_rng(1))
        assert (plain[:q] == np.arange(q, 2 * q)).all()  # without groups: the twin in the same group
        nn = _nearest_other(emb, np.random.default_rng(1), groups=groups)
        assert (groups[nn] != groups).all()
        assert (nn[2 * q:3 * q] % q == np.arange(q)).all()  # group 1's rows find their own entity
    # a single group: no row has a nearest row of another group
    one = np.zeros(10, dtype=np.int64)
    assert (_nearest_other(emb[:10], np.random.default_rng(1), groups=one) == -1).all()


def test_self_training_across_groups(monkeypatch):
    a = people()
    b = typo(a).rename(index=lambda k: k + "-b")
    twin = a.iloc[:30].rename(index=lambda k: k + "-twin")  # exact copies inside table A
    both = pd.concat([a, twin, b])
    groups = np.array(["a"] * (len(a) + len(twin)) + ["b"] * len(b))
    seen = []
    orig = TableEncoder.fine_tune_pairs

    def record(self, df_a, df_b, pairs, labels, **kw):
        seen.append(list(pairs))
        return orig(self, df_a, df_b, pairs, labels, **kw)

    monkeypatch.setattr(TableEncoder, "fine_tune_pairs", record)
    TableEncoder(**{**KW, "self_training": 1}).fit(both)
    within = [p for p in seen[-1] if groups[p[0]] == groups[p[1]]]
    assert len(within) >= 25  # without groups the twins pair up with each other
    enc = TableEncoder(**{**KW, "self_training": 1}).fit(both, groups=groups)
    assert len(seen[-1]) >= 55 and all(groups[i] != groups[j] for i, j in seen[-1])
    ea, eb = enc.transform(a).to_numpy(), enc.transform(b).to_numpy()
    assert ((eb @ ea.T).argmax(axis=1) == np.arange(60)).mean() >= 0.9
    with pytest.raises(ValueError, match="groups has 3 values but X has 150 rows"):
        TableEncoder(**KW).fit(both, groups=["a", "b", "a"])
    with pytest.raises(ValueError, match="groups has missing values"):
        TableEncoder(**KW).fit(both, groups=[None] * len(both))


def test_fine_tune_pairs_kind_weights_only(tmp_path):
    import torch

    a = people(50)
    b = typo(a).rename(index=lambda k: "b" + k)
    enc = TableEncoder(**KW).fit(pd.concat([a, b]))
    before = {k: v.clone() for k, v in enc.net_.state_dict().items()}
    pairs = pd.DataFrame({"a": a.index, "b": b.index})
    enc.fine_tune_pairs(a, b, pairs, np.ones(50), epochs=3)  # default: weights="kinds"
    after = enc.net_.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("kind_logit") or k == "log_weight" for k in changed)
    assert any(k.startswith("kind_logit") for k in changed)
    ea, eb = enc.transform(a).to_numpy(), enc.transform(b).to_numpy()
    assert ((eb @ ea.T).argmax(axis=1) == np.arange(50)).mean() >= 0.9
    # the kind of every bucket is saved with the model: the loaded encoder embeds identically
    enc.save(tmp_path / "m")
    back = TableEncoder.load(tmp_path / "m")
    pd.testing.assert_frame_equal(back.transform(a), enc.transform(a))
    for t in range(len(enc.net_.kind_logit)):
        assert torch.equal(getattr(back.net_, f"kind_{t}"), getattr(enc.net_, f"kind_{t}"))
        assert int(getattr(back.net_, f"kind_{t}").max()) > 0
    # weights="buckets" trains the per-bucket weights and leaves the kind weights alone
    kl = [p.detach().clone() for p in enc.net_.kind_logit]
    enc.fine_tune_pairs(a, b, pairs, np.ones(50), epochs=1, weights="buckets")
    assert all(torch.equal(x, p) for x, p in zip(kl, enc.net_.kind_logit, strict=True))
    with pytest.raises(ValueError, match="weights must be 'kinds', 'buckets' or 'both', got 'ngrams'"):
        enc.fine_tune_pairs(a, b, pairs, np.ones(50), weights="ngrams")
