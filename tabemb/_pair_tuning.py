"""TableEncoder's training on pairs of records: fine-tuning on labelled match / no-match pairs
of two tables, and self-training on mutual nearest neighbours (no labels).

Stages of :meth:`tabemb.TableEncoder.fine_tune_pairs`: :func:`pair_positions` (keys -> row
positions), the InfoNCE epochs of :func:`fine_tune_pairs`, :func:`pair_hits` (validation
top-1 / top-10 after each epoch, for early stopping and the choice of the kept state).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F
from tqdm.auto import tqdm

from nnstore import kneighbors, seed_from

from ._features import column_features, embed_rows, take_batch
from ._network import make_optimizers, optimizer_step

__all__ = ["fine_tune_pairs", "nearest_other", "pair_hits", "pair_positions", "self_train"]

logger = logging.getLogger(__name__)


def nearest_other(emb: np.ndarray, rng: np.random.Generator, groups: np.ndarray | None = None) -> np.ndarray:
    """Position of each row's nearest other row by cosine (:func:`nnstore.kneighbors`); with
    ``groups`` (a code per row) its nearest row of another group (-1 if there is none).
    Exact up to 5,000 rows, above that the store's automatic choice at recall 0.99."""
    method = "exact" if len(emb) <= 5000 else "auto"
    idx, _ = kneighbors(emb, k=1, metric="cosine", method=method, recall=0.99, groups=groups,
                        random_state=rng)
    return idx[:, 0]


def pair_positions(a: pd.DataFrame, b: pd.DataFrame, pairs: Any, labels: Any,
                   name: str = "pairs") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Row positions in ``a`` / ``b`` of each pair, and the labels as int."""
    if isinstance(pairs, pd.DataFrame):
        ka, kb = pairs.iloc[:, 0].to_numpy(), pairs.iloc[:, 1].to_numpy()
    elif isinstance(pairs, pd.MultiIndex):
        ka, kb = pairs.get_level_values(0).to_numpy(), pairs.get_level_values(1).to_numpy()
    else:
        arr = list(pairs)
        ka = np.array([p[0] for p in arr], dtype=object)
        kb = np.array([p[1] for p in arr], dtype=object)
    labels = np.asarray(labels).astype(int)
    if len(labels) != len(ka):
        raise ValueError(f"labels has {len(labels)} values but {name} has {len(ka)}")
    ia, ib = a.index.get_indexer(ka), b.index.get_indexer(kb)
    if (ia < 0).any() or (ib < 0).any():
        bad = [k for k, i in zip(ka, ia, strict=True) if i < 0][:3] + \
              [k for k, i in zip(kb, ib, strict=True) if i < 0][:3]
        raise KeyError(f"{name} name keys that are not in df_a / df_b: {bad}")
    return ia, ib, labels


def pair_hits(enc, a: pd.DataFrame, b: pd.DataFrame, ia: np.ndarray, ib: np.ndarray) -> tuple[float, float]:
    """Shares of the B records of the matched pairs ``(ia, ib)`` whose nearest A record
    (cosine, exact, over all of ``a``) is one of their matches (top-1), and that have a match
    among their 10 nearest (top-10)."""
    qb = np.unique(ib)
    match = set(zip(ib.tolist(), ia.tolist(), strict=True))
    ea = embed_rows(enc.net_, enc.encoders_, enc.row_columns_, a, sublinear_tf=enc.sublinear_tf)
    eb = embed_rows(enc.net_, enc.encoders_, enc.row_columns_, b.iloc[qb], sublinear_tf=enc.sublinear_tf)
    top, _ = kneighbors(ea, eb, k=min(10, len(a)), metric="dot", method="exact")
    hits1 = sum((int(q), int(t[0])) in match for q, t in zip(qb, top, strict=True))
    hits10 = sum(any((int(q), int(j)) in match for j in t) for q, t in zip(qb, top, strict=True))
    return hits1 / len(qb), hits10 / len(qb)


def fine_tune_pairs(enc, a: pd.DataFrame, b: pd.DataFrame, pairs: Any, labels: Any, *, valid_pairs: Any,
                    valid_labels: Any, epochs: int, learning_rate: float, batch_size: int,
                    temperature: float, patience: int, weights: str, rng: np.random.Generator) -> None:
    """The body of :meth:`tabemb.TableEncoder.fine_tune_pairs` (``a``, ``b`` column-checked,
    with unique indexes); sets ``enc.pair_valid_top1_``, ``pair_valid_top10_`` and
    ``pair_best_epoch_``."""
    ia, ib, labels = pair_positions(a, b, pairs, labels)
    pos = np.flatnonzero(labels == 1)
    if len(pos) == 0:
        raise ValueError("labels has no match (label 1); fine_tune_pairs needs matches")
    valid = None
    if valid_pairs is not None:
        if valid_labels is None:
            raise ValueError("valid_pairs needs valid_labels")
        va, vb, vl = pair_positions(a, b, valid_pairs, valid_labels, "valid_pairs")
        if (vl == 1).any():
            valid = (va[vl == 1], vb[vl == 1])
    neg_of: dict[int, list[int]] = {}
    for i in np.flatnonzero(labels == 0):
        neg_of.setdefault(int(ib[i]), []).append(int(ia[i]))
    net = enc.net_
    fa = column_features(enc.encoders_, enc.row_columns_, a)
    fb = column_features(enc.encoders_, enc.row_columns_, b)
    gen = torch.Generator()
    gen.manual_seed(seed_from(rng))
    opts = make_optimizers(net, lr=learning_rate, weights=weights)
    scores: list[tuple[float, float]] = []
    best = (-1.0, 0, None)
    if valid is not None:
        scores.append(pair_hits(enc, a, b, *valid))
        best = (sum(scores[0]), 0, {k: v.clone() for k, v in net.state_dict().items()})
    since = 0
    for epoch in tqdm(range(epochs), disable=not enc.verbose, desc="fine-tune pairs"):
        net.train()
        order = pos[torch.randperm(len(pos), generator=gen).numpy()]
        total = 0.0
        for start in range(0, len(order), batch_size):
            sel = order[start:start + batch_size]
            ra, rb = ia[sel], ib[sel]
            hard = sorted({j for r in rb for j in neg_of.get(int(r), [])} - set(ra.tolist()))
            rows_a = np.concatenate([ra, np.array(hard, dtype=np.int64)])
            za = net(take_batch(enc.encoders_, fa, rows_a, sublinear_tf=enc.sublinear_tf))
            zb = net(take_batch(enc.encoders_, fb, rb, sublinear_tf=enc.sublinear_tf))
            logits = zb @ za.T / temperature
            # a B record may match several A records of the batch: only its own pair is the target,
            # the others are masked out of its negatives
            same = torch.from_numpy((rb[:, None] == rb[None, :]) & ~np.eye(len(sel), dtype=bool))
            logits[:, :len(sel)] = logits[:, :len(sel)].masked_fill(same, -1e4)
            target = torch.arange(len(sel))
            loss = F.cross_entropy(logits, target) + F.cross_entropy(logits[:, :len(sel)].T, target)
            total += optimizer_step(opts, loss)
        net.eval()
        entry = {"stage": "fine_tune_pairs", "epoch": epoch, "loss": total}
        if valid is not None:
            hits = pair_hits(enc, a, b, *valid)
            scores.append(hits)
            entry["valid_top1"], entry["valid_top10"] = hits
            score = sum(hits)
            if score > best[0]:
                best = (score, epoch + 1, {k: v.clone() for k, v in net.state_dict().items()})
                since = 0
            else:
                since += 1
        enc.history_.append(entry)
        logger.info("fine_tune_pairs epoch %d loss %.4f%s", epoch, total,
                    f" valid top-1 / top-10 {scores[-1][0]:.4f} / {scores[-1][1]:.4f}"
                    if valid is not None else "")
        if valid is not None and since >= patience:
            break
    if best[2] is not None:
        net.load_state_dict(best[2])
    net.eval()
    enc.pair_valid_top1_ = [h[0] for h in scores]
    enc.pair_valid_top10_ = [h[1] for h in scores]
    enc.pair_best_epoch_ = best[1] if valid is not None else epochs


def self_train(enc, df: pd.DataFrame, round_: int, rng: np.random.Generator,
               groups: np.ndarray | None = None) -> None:
    """One round of self-training: every pair of mutual nearest neighbours (each row's nearest
    other row, cosine) is taken as a match and trained on for 2 epochs as in
    :func:`fine_tune_pairs` (no labels are used). With ``groups`` (a code per row) a row's
    nearest row is sought among the other groups only."""
    emb = embed_rows(enc.net_, enc.encoders_, enc.row_columns_, df, sublinear_tf=enc.sublinear_tf)
    nn = nearest_other(emb, rng, groups=groups)
    i = np.arange(len(emb))
    keep = i[(nn >= 0) & (nn[nn] == i) & (i < nn)]
    logger.info("self-training round %d: %d mutual nearest-neighbour pairs", round_, len(keep))
    if len(keep) == 0:
        return
    pos = df.reset_index(drop=True)
    n_hist = len(enc.history_)
    enc.fine_tune_pairs(pos, pos, list(zip(keep.tolist(), nn[keep].tolist(), strict=True)),
                        np.ones(len(keep), dtype=int), epochs=2, learning_rate=0.05, weights="buckets")
    for h in enc.history_[n_hist:]:
        h["stage"] = "self_training"
        h["round"] = round_
    for attr in ("pair_valid_top1_", "pair_valid_top10_", "pair_best_epoch_"):
        enc.__dict__.pop(attr, None)
