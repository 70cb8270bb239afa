"""The torch network of :class:`tabemb.TableEncoder`: column blocks -> one unit-length embedding.

Imported lazily (by ``fit``, ``load`` and the training stages), so that ``import tabemb``
does not import torch.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from nnstore import seed_from

from ._encoders import ROW, CategoricalEncoder, NumericEncoder, TextEncoder, ValueEncoder
from ._text import N_KINDS

__all__ = ["TableNet", "init_net", "make_optimizers", "optimizer_step", "seeded_linear"]


class TableNet(nn.Module):
    """Column blocks -> weighted concatenation -> residual MLP -> unit-length embedding.

    A text block is the signed hashed sketch of the value's n-gram bag, each bucket weighted
    by one learned scalar (``idf_t * exp(text_logit[t] + kind_logit[t][kind])``: the IDF at
    the start); a categorical block is an entity embedding; a numeric or datetime block a
    linear map of its features (a learned vector when the value is missing); the exact-values
    block (one for all numeric columns) the fixed hashed one-hots of the values. Each block is
    L2-normalised and scaled by its learned block weight. The residual MLP's last layer
    starts at zero and is used only once :meth:`tabemb.TableEncoder.fine_tune` has run, so
    until then the embedding is the weighted concatenation of the column blocks.

    Parameters
    ----------
    encoders : list of column encoders
        Fitted (see ``tabemb._encoders``), in block order; the row-text block is the
        :class:`~tabemb._encoders.TextEncoder` named ``ROW``.
    hidden_dim : int
        Width of the residual MLP.
    row_text_weight : float
        Initial weight of the row-text block (every other block starts at 1).

    Shapes
    ------
    Input (one batch of ``B`` rows, see :meth:`blocks`): per text block a flat batch of
    ``(row * dim + column, signed sublinear tf, bucket id)`` triples; categorical codes
    ``(B,)``; numeric and datetime features ``(B, f_c)``; the exact-values block ``(B, d_v)``.
    Output ``(B, D)``, ``D`` the sum of the block sizes, rows of unit length.
    """

    def __init__(self, encoders: list, *, hidden_dim: int, row_text_weight: float) -> None:
        super().__init__()
        self.kinds = ["row" if e.name == ROW else e.kind for e in encoders]
        text = [e for e in encoders if isinstance(e, TextEncoder)]
        # bucket weight = idf * exp(text_logit): IDF learned in fit, reweighted by training
        self.text_logit = nn.ParameterList([nn.Parameter(torch.zeros(e.n_buckets)) for e in text])
        # one more log-weight per block and bucket kind (token kind x document-frequency bin,
        # tabemb._text.token_kinds), shared by all buckets of the kind: trained only by
        # fine_tune_pairs(weights="kinds"); the kind of each bucket is a fixed buffer, saved
        # with the encoders (not in the state dict)
        self.kind_logit = nn.ParameterList([nn.Parameter(torch.zeros(N_KINDS)) for _ in text])
        for t, e in enumerate(text):
            self.register_buffer(f"idf_{t}", torch.ones(e.n_buckets))
            self.register_buffer(f"kind_{t}", torch.zeros(e.n_buckets, dtype=torch.long), persistent=False)
        self.cols = nn.ModuleList()
        for e in encoders:
            if isinstance(e, (TextEncoder, ValueEncoder)):
                self.cols.append(nn.Identity())
            elif isinstance(e, CategoricalEncoder):
                self.cols.append(nn.Embedding(len(e.vocabulary) + 2, e.dim, padding_idx=0))
            else:
                self.cols.append(nn.Linear(e.n_features, e.dim, bias=False))
        self.dims = [e.dim for e in encoders]
        self.dim = int(sum(self.dims))
        self.log_weight = nn.Parameter(torch.tensor(
            [math.log(row_text_weight) if e.name == ROW else 0.0 for e in encoders]))
        # numeric / datetime: a missing value's block is missing_vec (0 at start: a missing
        # value adds nothing to similarity until training learns otherwise)
        self.missing_vec = nn.ParameterList(
            [nn.Parameter(torch.zeros(e.dim)) for e in encoders
             if not isinstance(e, (TextEncoder, CategoricalEncoder, ValueEncoder))])
        # the residual MLP is used (and trained) only once fine_tune has run
        self.register_buffer("mlp_active", torch.zeros((), dtype=torch.bool))
        self.mlp = nn.Sequential(nn.Linear(self.dim, hidden_dim), nn.GELU(), nn.Linear(hidden_dim, self.dim))

    def blocks(self, inputs: dict, *, skip_text: bool = False, row_exact: bool = False) -> list:
        """The blocks of one batch, each unit length (before the block weights).

        ``inputs``: ``{"n": B, "cols": [per column: (flat, signed_tf, ids) for text, else a
        tensor]}``. With ``skip_text`` the text blocks are None (filled elsewhere). With
        ``row_exact`` the numeric projections are computed in float64 (then rounded), so that
        a row's block does not depend on the other rows of the batch (float32 matrix products
        round differently at different positions of a batch).
        """
        b = inputs["n"]
        out, t, m = [], 0, 0
        for kind, mod, dim, x in zip(self.kinds, self.cols, self.dims, inputs["cols"], strict=True):
            if kind in ("text", "row"):
                blk = None
                if not skip_text:
                    flat, val, ids = x
                    v = val * self.bucket_weight(t)[ids]
                    blk = torch.zeros(b * dim, dtype=v.dtype).index_add(0, flat, v).view(b, dim)
                    blk = F.normalize(blk, dim=1, eps=1e-6)
                t += 1
            elif isinstance(mod, nn.Embedding):
                blk = F.normalize(mod(x), dim=1, eps=1e-6)
            elif kind == "values":  # fixed: the hashed one-hots of the exact values, unit length
                blk = F.normalize(x, dim=1, eps=1e-6)
            else:  # numeric / datetime: the missing indicator is the feature at -1 resp. 1
                miss = x[:, -1:] if kind == "datetime" else x[:, 1:2]
                proj = F.linear(x.double(), mod.weight.double()).float() if row_exact else mod(x)
                blk = F.normalize(proj, dim=1, eps=1e-6) * (1 - miss) + miss * self.missing_vec[m]
                m += 1
            out.append(blk)
        return out

    def bucket_weight(self, t: int) -> torch.Tensor:
        """The weight of every bucket of text block ``t``: IDF x exp(bucket logit + kind logit)."""
        logit = self.text_logit[t] + self.kind_logit[t][getattr(self, f"kind_{t}")]
        return getattr(self, f"idf_{t}") * torch.exp(logit)

    def set_kinds(self, encoders: list) -> None:
        """Copy each text encoder's bucket kinds into the net (all 0 when it has none)."""
        text = [e for e in encoders if isinstance(e, TextEncoder)]
        with torch.no_grad():
            for t, e in enumerate(text):
                buf = getattr(self, f"kind_{t}")
                buf.zero_()
                if getattr(e, "kinds", None) is not None:
                    buf.copy_(torch.from_numpy(e.kinds.astype(np.int64)))

    def scales(self) -> torch.Tensor:
        """The block weights: ``exp(log_weight) / sqrt(n_blocks)``."""
        return torch.exp(self.log_weight) / math.sqrt(len(self.dims))

    def combine(self, blocks: list) -> torch.Tensor:
        """Weighted concatenation of the blocks, the residual MLP once active, unit length."""
        w = self.scales()
        z = torch.cat([b * w[i] for i, b in enumerate(blocks)], dim=1)
        if bool(self.mlp_active):
            z = z + self.mlp(z)
        return F.normalize(z, dim=1, eps=1e-6)

    def forward(self, inputs: dict) -> torch.Tensor:
        return self.combine(self.blocks(inputs))


def init_net(net: TableNet, rng: np.random.Generator, encoders: list) -> None:
    """Initialise ``net`` from ``rng``: every bucket weight at its IDF (logits 0), categorical
    embeddings at their codes' one-hots where the encoder asks for it, numeric projections at
    the selection of the soft bins where the block has room for them (else both, like the
    datetime projections, ~ N(0, 1 / fan_in)), the MLP's output layer at zero (so it starts as
    the identity), the bucket kinds from the encoders."""
    g = torch.Generator()
    g.manual_seed(seed_from(rng))
    with torch.no_grad():
        for name, p in net.named_parameters():
            if name == "log_weight":
                continue
            if name.startswith(("text_logit", "kind_logit", "missing_vec")) or \
                    name.endswith(("mlp.2.weight", "mlp.2.bias")) or name.endswith("bias"):
                p.zero_()
            else:
                p.normal_(0.0, 1.0 / math.sqrt(max(p.shape[-1], 1)), generator=g)
        text = [e for e in encoders if isinstance(e, TextEncoder)]
        for t, e in enumerate(text):
            getattr(net, f"idf_{t}").copy_(torch.from_numpy(e.idf))
        for mod, e in zip(net.cols, encoders, strict=True):
            if isinstance(mod, nn.Embedding):
                if getattr(e, "one_hot_init", False):  # code c >= 1 starts at the one-hot e_(c-1)
                    mod.weight[1:].copy_(torch.eye(e.dim, dtype=mod.weight.dtype))
                mod.weight[0].zero_()
            elif isinstance(e, NumericEncoder) and e.dim >= e.n_bins:
                # the block starts as the value's soft bins (features 2..): near values near,
                # far values orthogonal, the same at every seed
                mod.weight.zero_()
                mod.weight[torch.arange(e.n_bins), 2 + torch.arange(e.n_bins)] = 1.0
    net.set_kinds(encoders)


def seeded_linear(n_in: int, n_out: int, gen: torch.Generator) -> nn.Linear:
    """``nn.Linear(n_in, n_out)`` initialised as torch does (uniform in +-1/sqrt(n_in)), but from
    ``gen``: the layer depends on the estimator's ``random_state``, not on torch's global seed."""
    layer = nn.Linear(n_in, n_out)
    bound = 1.0 / math.sqrt(max(n_in, 1))
    with torch.no_grad():
        layer.weight.uniform_(-bound, bound, generator=gen)
        layer.bias.uniform_(-bound, bound, generator=gen)
    return layer


def make_optimizers(net: TableNet, extra_params=(), *, lr: float, weights: str = "buckets") -> list:
    """Adam over the network's parameters and ``extra_params``. ``weights="buckets"``: every
    parameter but the kind weights; ``"kinds"``: only the kind weights and the block weights;
    ``"both"``: all."""
    if weights == "kinds":
        params = [*net.kind_logit.parameters(), net.log_weight]
    elif weights == "both":
        params = list(net.parameters())
    else:
        params = [p for n, p in net.named_parameters() if not n.startswith("kind_logit")]
    return [torch.optim.Adam(params + list(extra_params), lr=lr)]


def optimizer_step(opts: list, loss: torch.Tensor) -> float:
    """One optimisation step over every optimiser; returns the loss value."""
    for o in opts:
        o.zero_grad()
    loss.backward()
    for o in opts:
        o.step()
    return float(loss.detach())
