"""Stage 1 of :class:`graphemb.GNNEmbedder`: self-supervised pre-training (no labels).

- :func:`train_dgi`: Deep Graph Infomax (Velickovic et al., ICLR 2019): the
  encoder learns node embeddings that a bilinear discriminator can tell apart
  from the embeddings of a corrupted graph (node features shuffled across
  nodes), with respect to a graph summary vector;
- :func:`train_link`: the GraphSAGE unsupervised loss (Hamilton et al., 2017):
  linked nodes get a high dot product, ``n_negatives`` uniformly drawn nodes
  per positive arc a low one (binary cross-entropy on the logits).

Both run full-batch Adam steps under :func:`early_stopping`, which stops after
``patience`` epochs without a lower training loss and restores the weights of
the best epoch. Random draws (corruption permutations, arc batches, negatives)
come from the ``torch.Generator`` they are given.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from .._graph import Graph
from ._models import DGIHead, GNNEncoder

__all__ = ["PretrainSettings", "early_stopping", "train_dgi", "train_link"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PretrainSettings:
    """The stage-1 knobs (the estimator's constructor arguments, checked)."""

    epochs: int
    patience: int
    learning_rate: float
    l2: float
    n_negatives: int = 5
    link_batch_size: int = 8192


def early_stopping(encoder: GNNEncoder, params: Iterable[torch.nn.Parameter],
                   step: Callable[[], torch.Tensor], settings: PretrainSettings, bar) -> list[float]:
    """Adam on ``step()``'s loss until ``patience`` epochs bring no lower loss.

    Parameters
    ----------
    encoder : GNNEncoder
        Its best-epoch weights are restored at the end.
    params : iterable of Parameter
        What the optimiser trains (the encoder's and the objective's own).
    step : callable
        Computes one full-batch loss.
    settings : PretrainSettings
    bar : iterable
        ``range(epochs)`` or a tqdm bar over it.

    Returns
    -------
    list of float
        The loss of every epoch run.
    """
    opt = torch.optim.Adam(list(params), lr=settings.learning_rate, weight_decay=settings.l2)
    best, best_state, wait = float("inf"), None, 0
    history: list[float] = []
    for _ in bar:
        encoder.train()
        opt.zero_grad()
        loss = step()
        loss.backward()
        opt.step()
        value = float(loss.detach())
        history.append(value)
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{value:.4f}")
        if value < best - 1e-6:
            best, wait = value, 0
            best_state = copy.deepcopy(encoder.state_dict())
        else:
            wait += 1
            if wait >= settings.patience:
                logger.info("pre-training: early stop after %d epochs (best loss %.4f)", len(history), best)
                break
    if best_state is not None:
        encoder.load_state_dict(best_state)
    return history


def train_dgi(encoder: GNNEncoder, x: torch.Tensor, structure: torch.Tensor, settings: PretrainSettings,
              gen: torch.Generator, bar) -> list[float]:
    """Deep Graph Infomax; the corruption permutes the projected rows (= projecting permuted features).

    Shapes
    ------
    - ``x``: ``(|V|, F_in)`` dense or sparse CSR; ``structure``: from
      :func:`~graphemb._gnn._models.message_structure`.
    """
    dgi = DGIHead(encoder.out_dim).to(x.device)
    n = x.shape[0]

    def step() -> torch.Tensor:
        p = encoder.project(x)
        h = encoder(p, structure, projected=True)
        perm = torch.randperm(n, generator=gen, device=p.device)
        return dgi.loss(h, encoder(p[perm], structure, projected=True))

    return early_stopping(encoder, [*encoder.parameters(), *dgi.parameters()], step, settings, bar)


def train_link(encoder: GNNEncoder, g: Graph, x: torch.Tensor, structure: torch.Tensor,
               settings: PretrainSettings, gen: torch.Generator, bar) -> list[float]:
    """Link prediction with uniform negatives (self-loops are not positives).

    Raises
    ------
    ValueError
        The graph has no edge between distinct nodes.
    """
    n = g.n_nodes
    arcs = torch.from_numpy(g.edge_index()).to(x.device)
    keep = arcs[0] != arcs[1]
    src_all, dst_all = arcs[0][keep], arcs[1][keep]
    m = int(src_all.shape[0])
    if m == 0:
        raise ValueError("pretrain='link' needs edges between distinct nodes; this graph has only "
                         "self-loops")
    q, batch = settings.n_negatives, settings.link_batch_size
    bce = torch.nn.functional.binary_cross_entropy_with_logits

    def step() -> torch.Tensor:
        h = encoder(x, structure)
        if m > batch:
            idx = torch.randint(0, m, (batch,), generator=gen, device=h.device)
            s, d = src_all[idx], dst_all[idx]
        else:
            s, d = src_all, dst_all
        neg = torch.randint(0, n, (len(s) * q,), generator=gen, device=h.device)
        pos = (h[s] * h[d]).sum(-1)
        negl = (h[s.repeat_interleave(q)] * h[neg]).sum(-1)
        return bce(pos, torch.ones_like(pos)) + bce(negl, torch.zeros_like(negl))

    return early_stopping(encoder, encoder.parameters(), step, settings, bar)
