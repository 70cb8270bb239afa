"""tabemb._network: the untrained network is the IDF sketch; seeded layers follow random_state."""

import numpy as np
import pandas as pd
import torch

from tabemb import TableEncoder
from tabemb._network import seeded_linear


def test_untrained_net_weights_buckets_by_idf_and_skips_the_mlp():
    df = pd.DataFrame({"name": [f"item {i} of {i % 4}" for i in range(30)], "tag": ["a", "b", "c"] * 10})
    enc = TableEncoder(text_dim=16, row_text_dim=64, n_buckets=1 << 12, random_state=0).fit(df)
    net = enc.net_
    text = [e for e in enc.encoders_ if e.kind == "text"]
    for t, e in enumerate(text):
        torch.testing.assert_close(net.bucket_weight(t), torch.from_numpy(e.idf))
    assert not bool(net.mlp_active)
    assert net.dim == sum(e.dim for e in enc.encoders_) == enc.dim_
    w = net.scales().detach().numpy()
    row = next(i for i, e in enumerate(enc.encoders_) if e.name == "__row__")
    np.testing.assert_allclose(w[row] / w[0], 3.0, rtol=1e-6)  # row_text_weight against a column block


def test_seeded_linear_depends_on_the_generator_only():
    torch.manual_seed(1)
    a = seeded_linear(5, 3, torch.Generator().manual_seed(7))
    torch.manual_seed(2)
    b = seeded_linear(5, 3, torch.Generator().manual_seed(7))
    c = seeded_linear(5, 3, torch.Generator().manual_seed(8))
    assert torch.equal(a.weight, b.weight) and torch.equal(a.bias, b.bias)
    assert not torch.equal(a.weight, c.weight)
    assert float(a.weight.detach().abs().max()) <= 1 / np.sqrt(5)
