"""TableEncoder's training stages without pairs: self-supervised pre-training, the IDF anchor,
and fine-tuning on a target column (a linear head on the embedding).

Each stage is a function of the fitted encoder (its ``net_``, ``encoders_`` and parameters); it
trains ``encoder.net_`` in place and appends one entry per epoch to ``encoder.history_``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from nnstore import seed_from

from ._features import column_features, take_batch
from ._network import make_optimizers, optimizer_step, seeded_linear

__all__ = ["anchor_to_idf", "fine_tune_target", "pretrain"]

logger = logging.getLogger(__name__)


def pretrain(enc, df: pd.DataFrame, rng: np.random.Generator) -> None:
    """``enc.epochs`` epochs of self-supervised pre-training on the rows of ``df``.

    ``enc.objective == "contrastive"``: SCARF-style InfoNCE between two corrupted views of
    each row of a batch; ``"masked"``: masked-column reconstruction (each masked block
    predicted from the others by a small MLP head that is discarded afterwards).
    """
    feats = column_features(enc.encoders_, enc.row_columns_, df)
    n = len(df)
    gen = torch.Generator()
    gen.manual_seed(seed_from(rng))
    net = enc.net_
    head = None
    extra: list = []
    if enc.objective == "masked":
        head = torch.nn.Sequential(seeded_linear(net.dim, enc.hidden_dim, gen), torch.nn.GELU(),
                                   seeded_linear(enc.hidden_dim, net.dim, gen))
        extra = list(head.parameters())
    opts = make_optimizers(net, extra, lr=enc.learning_rate)
    bs = min(enc.batch_size, n)

    def view(rows, corrupt: bool):
        if not corrupt:
            return take_batch(enc.encoders_, feats, rows, sublinear_tf=enc.sublinear_tf)
        return take_batch(enc.encoders_, feats, rows, sublinear_tf=enc.sublinear_tf, rng=rng,
                          corruption=enc.corruption, ngram_dropout=enc.ngram_dropout)

    net.train()
    for epoch in tqdm(range(enc.epochs), disable=not enc.verbose, desc="pre-train"):
        order = torch.randperm(n, generator=gen).numpy()
        total, steps = 0.0, 0
        for start in range(0, n - 1, bs):
            rows = order[start:start + bs]
            if len(rows) < 2:
                continue
            if head is None:
                za, zb = net(view(rows, True)), net(view(rows, True))
                logits = za @ zb.T / enc.temperature
                target = torch.arange(len(rows))
                loss = 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))
            else:
                blocks = net.blocks(view(rows, False))
                masks = [(torch.rand(len(rows), generator=gen) < enc.corruption).float() for _ in blocks]
                masked = [blk * (1 - m)[:, None] for blk, m in zip(blocks, masks, strict=True)]
                pred = head(net.combine(masked))
                loss = 0.0
                off = 0
                for blk, m, d in zip(blocks, masks, net.dims, strict=True):
                    cos = F.cosine_similarity(pred[:, off:off + d], blk.detach(), dim=1)
                    loss = loss + ((1 - cos) * m).sum() / m.sum().clamp(min=1)
                    off += d
                loss = loss / len(blocks)
            total += optimizer_step(opts, loss)
            steps += 1
        enc.history_.append({"stage": "pretrain", "epoch": epoch, "loss": total / max(steps, 1)})
        logger.info("pre-train epoch %d loss %.4f", epoch, total / max(steps, 1))
    net.eval()


def anchor_to_idf(net, alpha: float) -> None:
    """Blend every n-gram weight with its IDF: ``w <- alpha * idf + (1 - alpha) * w``
    (in log space: ``logit <- log(alpha + (1 - alpha) * exp(logit))``)."""
    with torch.no_grad():
        for p in net.text_logit:
            p.copy_(torch.log(alpha + (1.0 - alpha) * torch.exp(p)))


def fine_tune_target(enc, df: pd.DataFrame, y: Any, *, task: str | None, epochs: int,
                     learning_rate: float | None, batch_size: int | None, rng: np.random.Generator) -> str:
    """Train ``enc.net_`` (with its residual MLP switched on) and a linear head on the target
    ``y`` of the rows of ``df`` (column-checked); returns the task."""
    y = pd.Series(np.asarray(y) if not isinstance(y, pd.Series) else y.to_numpy())
    if len(y) != len(df):
        raise ValueError(f"y has {len(y)} values but df has {len(df)} rows")
    if y.isna().any():
        raise ValueError(f"y has {int(y.isna().sum())} missing values; drop those rows first")
    if task is None:
        task = "regression" if pd.api.types.is_float_dtype(y.dtype) and y.nunique() > 20 else "classification"
    if task not in ("classification", "regression"):
        raise ValueError(f"task must be 'classification' or 'regression', got {task!r}")
    if task == "classification":
        classes, codes = np.unique(y.astype(str).to_numpy(), return_inverse=True)
        target = torch.from_numpy(codes.astype(np.int64))
        n_out = len(classes)
    else:
        v = y.to_numpy(dtype=np.float64)
        mu, sd = v.mean(), v.std() or 1.0
        target = torch.from_numpy(((v - mu) / sd).astype(np.float32))
        n_out = 1
    feats = column_features(enc.encoders_, enc.row_columns_, df)
    gen = torch.Generator()
    gen.manual_seed(seed_from(rng))
    head = seeded_linear(enc.dim_, n_out, gen)
    opts = make_optimizers(enc.net_, list(head.parameters()), lr=learning_rate or enc.learning_rate)
    n = len(df)
    bs = min(batch_size or enc.batch_size, n)
    scale = 10.0  # unit-length embeddings: let the head see a usable range
    net = enc.net_
    net.mlp_active.fill_(True)
    net.train()
    for epoch in tqdm(range(epochs), disable=not enc.verbose, desc="fine-tune"):
        order = torch.randperm(n, generator=gen).numpy()
        total = 0.0
        for start in range(0, n, bs):
            rows = order[start:start + bs]
            out = head(net(take_batch(enc.encoders_, feats, rows, sublinear_tf=enc.sublinear_tf)) * scale)
            if task == "classification":
                loss = F.cross_entropy(out, target[rows])
            else:
                loss = F.mse_loss(out[:, 0], target[rows])
            total += optimizer_step(opts, loss)
        enc.history_.append({"stage": "fine_tune", "epoch": epoch, "loss": total})
    net.eval()
    return task
