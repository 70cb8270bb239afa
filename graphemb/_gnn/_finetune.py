"""Stage 2 of :class:`graphemb.GNNEmbedder`: a linear classification head on labelled nodes.

- :func:`fit_probe`: a linear probe, logistic regression on frozen embeddings
  (only the head is trained; cheap);
- :func:`fit_finetune`: encoder and head trained together (cross-entropy,
  dropout, Adam with one learning rate for the encoder and one for the head).

With validation labels each keeps the weights of its epoch with the best
validation accuracy (ties: lower validation loss), counting the starting point
as epoch 0; fine-tuning also stops after ``patience`` epochs without a better
one. Without validation labels the last epoch's weights are kept.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass

import torch

from ._models import GNNEncoder

__all__ = ["FineTuneSettings", "fit_finetune", "fit_probe", "score"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneSettings:
    """The knobs of :meth:`graphemb.GNNEmbedder.fine_tune`, checked."""

    epochs: int = 200
    learning_rate: float = 0.01
    encoder_learning_rate: float | None = 1e-3
    l2: float = 5e-4
    dropout: float = 0.5
    patience: int = 50
    probe_first: bool = True
    probe_epochs: int = 100
    probe_learning_rate: float = 0.01
    probe_l2: float = 0.0


def score(logits: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Accuracy and cross-entropy of ``logits`` against class indices ``y``."""
    loss = float(torch.nn.functional.cross_entropy(logits, y))
    return float((logits.argmax(1) == y).float().mean()), loss


def fit_probe(head: torch.nn.Linear, z: torch.Tensor, rows: torch.Tensor, y: torch.Tensor, val,
              settings: FineTuneSettings, history: list, bar) -> int | None:
    """Logistic regression of ``y`` on the frozen embeddings ``z[rows]``.

    Parameters
    ----------
    head : Linear
        Trained in place; the best validation epoch's weights are kept.
    z : Tensor of shape (|V|, dim)
    rows, y : Tensor of shape (n_labelled,)
    val : tuple of Tensor or None
        Validation rows and class indices.
    settings : FineTuneSettings
    history : list
        Appended one dict per epoch (``stage``, ``epoch``, ``loss`` and, with
        ``val``, ``val_accuracy`` and ``val_loss``).
    bar : iterable
        ``range(probe_epochs + 1)`` or a tqdm bar over it.

    Returns
    -------
    int or None
        The kept epoch (``None`` without ``val``).
    """
    opt = torch.optim.Adam(head.parameters(), lr=settings.probe_learning_rate, weight_decay=settings.probe_l2)
    zt = z[rows]
    best, best_state, best_epoch = None, None, None
    for epoch in bar:
        if epoch:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(head(zt), y)
            loss.backward()
            opt.step()
            history.append({"stage": "probe", "epoch": epoch, "loss": float(loss.detach())})
        if val is not None:
            with torch.no_grad():
                s = score(head(z[val[0]]), val[1])
            if epoch:
                history[-1].update(val_accuracy=s[0], val_loss=s[1])
            if best is None or (s[0], -s[1]) > best:
                best, best_epoch = (s[0], -s[1]), epoch
                best_state = copy.deepcopy(head.state_dict())
    if best_state is not None:
        head.load_state_dict(best_state)
    return best_epoch


def fit_finetune(encoder: GNNEncoder, head: torch.nn.Linear, x: torch.Tensor, structure: torch.Tensor,
                 rows: torch.Tensor, y: torch.Tensor, val, settings: FineTuneSettings, encoder_lr: float,
                 history: list, bar) -> int | None:
    """Encoder and head trained together on the labelled rows, full batch.

    ``encoder_lr`` is the encoder's Adam learning rate (the head's is
    ``settings.learning_rate``); ``settings.dropout`` replaces the encoder's
    dropout while training and applies before the head too. Other parameters
    and the return value are as in :func:`fit_probe`.
    """
    opt = torch.optim.Adam([{"params": encoder.parameters(), "lr": encoder_lr},
                            {"params": head.parameters(), "lr": settings.learning_rate}],
                           weight_decay=settings.l2)
    p = settings.dropout
    saved_dropout, encoder.dropout = encoder.dropout, p
    best, best_state, best_epoch, wait = None, None, None, 0
    try:
        for epoch in bar:
            if epoch:
                encoder.train()
                opt.zero_grad()
                h = torch.nn.functional.dropout(encoder(x, structure)[rows], p=p, training=True)
                loss = torch.nn.functional.cross_entropy(head(h), y)
                loss.backward()
                opt.step()
                history.append({"stage": "finetune", "epoch": epoch, "loss": float(loss.detach())})
            if val is None:
                continue
            encoder.eval()
            with torch.no_grad():
                s = score(head(encoder(x, structure)[val[0]]), val[1])
            if epoch:
                history[-1].update(val_accuracy=s[0], val_loss=s[1])
            if best is None or (s[0], -s[1]) > best:
                best, best_epoch, wait = (s[0], -s[1]), epoch, 0
                best_state = (copy.deepcopy(encoder.state_dict()), copy.deepcopy(head.state_dict()))
            else:
                wait += 1
                if wait >= settings.patience:
                    logger.info("fine-tune: early stop after %d epochs (best epoch %d, validation "
                                "accuracy %.4f)", epoch, best_epoch, best[0])
                    break
    finally:
        encoder.dropout = saved_dropout
    if best_state is not None:
        encoder.load_state_dict(best_state[0])
        head.load_state_dict(best_state[1])
    return best_epoch
