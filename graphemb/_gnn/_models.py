"""The torch modules behind :class:`graphemb.GNNEmbedder`.

- :class:`GNNEncoder`: a linear input projection followed by ``n_layers``
  torch_geometric convolutions (``SAGEConv``, ``GCNConv`` or ``GATConv``), each
  followed by a PReLU. For ``GCNConv`` the projection is the first layer's
  weight matrix; GCN and SAGE aggregate with sparse-dense products over an
  adjacency built once per graph (:func:`message_structure`).
- :class:`DGIHead`: Deep Graph Infomax's readout + bilinear discriminator.

Only pure-torch PyG code paths are used (no pyg-lib, torch-sparse or
torch-scatter): PyG's convolutions fall back to ``torch.scatter_reduce``.

Why an input projection: node features are often wide and sparse (bag of
words: Cora has 1433 binary columns, 1.3% non-zero). The projection is
computed as a sparse-dense product when the input is sparse, which is what
makes full-batch training of these models affordable on a CPU; it also lets
Deep Graph Infomax corrupt the graph by permuting the projected rows (the
same as projecting permuted features) instead of projecting twice. For a
GCN the projection followed by the first convolution is still one linear map
per layer (a factorised weight), so the model class is the usual one.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

__all__ = ["DGIHead", "GNNEncoder", "message_structure"]

ENCODERS = ("sage", "gcn", "gat")


class GNNEncoder(nn.Module):
    """Input projection + ``n_layers`` message-passing layers.

    Parameters
    ----------
    in_dim : int
        Input feature width.
    hidden_dim : int
        Width of the projection and of the hidden layers.
    dim : int
        Output width (the embedding dimension).
    n_layers : int
        Number of convolutions (>= 1).
    encoder : {"sage", "gcn", "gat"}
    dropout : float
        Dropout on the input of every convolution (training only).
    heads : int
        Attention heads for ``"gat"`` (hidden layers concatenate heads,
        the last layer averages them).

    Shapes
    ------
    - input ``x``: ``(|V|, in_dim)`` dense or sparse (COO or CSR) float32, or the
      projected ``(|V|, hidden_dim)`` with ``projected=True``;
    - ``edge_index``: from :func:`message_structure`: a sparse ``(|V|, |V|)``
      CSR matrix for ``"gcn"``/``"sage"``, the ``(2, |E|)`` int64 edge index for ``"gat"``;
    - output: ``(|V|, dim)``.
    """

    def __init__(self, in_dim: int, hidden_dim: int, dim: int, n_layers: int, encoder: str,
                 dropout: float = 0.0, heads: int = 4) -> None:
        super().__init__()
        from torch_geometric.nn import GATConv, GCNConv, SAGEConv

        self.dropout = float(dropout)
        self.encoder = encoder
        self.out_dim = int(dim)
        # GCN: the projection *is* the first layer's weight (A_hat (X P) = A_hat X P), so the first
        # convolution gets no linear map of its own and the projection has that layer's width.
        first = (dim if n_layers == 1 else hidden_dim) if encoder == "gcn" else hidden_dim
        # GCN: no projection bias (the layer's bias is added after aggregation, as in Kipf & Welling and
        # the DGI encoder: PReLU(A_hat X W + b)); a bias before aggregation would add A_hat 1 b, which is
        # not constant across nodes.
        self.proj = nn.Linear(in_dim, first, bias=encoder != "gcn")
        if encoder == "gcn":
            nn.init.xavier_uniform_(self.proj.weight)  # Glorot, as in Kipf & Welling and DGI
        self.convs = nn.ModuleList()
        self.acts = nn.ModuleList()
        for i in range(n_layers):
            d_in = first if i == 0 else hidden_dim
            d_out = dim if i == n_layers - 1 else hidden_dim
            if encoder == "sage":
                conv = SAGEConv(d_in, d_out, aggr="mean")
            elif encoder == "gcn":
                # normalisation is computed once per graph by message_structure()
                conv = GCNConv(d_in, d_out, add_self_loops=False, normalize=False, bias=i == 0)
                if i == 0:
                    conv.lin = nn.Identity()
            elif encoder == "gat":
                last = i == n_layers - 1
                if last:
                    conv = GATConv(d_in, d_out, heads=heads, concat=False, dropout=self.dropout)
                else:
                    if d_out % heads:
                        raise ValueError(f"hidden_dim ({d_out}) must be divisible by the {heads} GAT heads")
                    conv = GATConv(d_in, d_out // heads, heads=heads, concat=True, dropout=self.dropout)
            else:  # pragma: no cover - checked by the estimator
                raise ValueError(f"encoder must be one of {ENCODERS}, got {encoder!r}")
            self.convs.append(conv)
            self.acts.append(nn.PReLU())  # one shared slope, as in DGI

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """The input projection; a sparse-dense product for a sparse ``x``.

        Parameters
        ----------
        x : Tensor of shape (n_nodes, in_dim)
            Dense, or sparse COO / CSR.

        Returns
        -------
        Tensor of shape (n_nodes, width of the first layer)
        """
        if x.layout != torch.strided:  # sparse COO or CSR
            out = torch.sparse.mm(x, self.proj.weight.t())
            return out if self.proj.bias is None else out + self.proj.bias
        return self.proj(x)

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, *, projected: bool = False) -> torch.Tensor:
        """Node embeddings ``(n_nodes, dim)``; ``projected=True`` skips the input projection
        (``x`` is already ``project(x)``, as Deep Graph Infomax's corruption passes it)."""
        h = x if projected else self.project(x)
        for conv, act in zip(self.convs, self.acts, strict=True):
            h = nn.functional.dropout(h, p=self.dropout, training=self.training)
            h = act(conv(h, edge_index))
        return h


def message_structure(edge_index: torch.Tensor, n_nodes: int, encoder: str) -> torch.Tensor:
    """What the encoder's convolutions read for one graph, computed once per graph.

    - ``"gcn"``: the transposed adjacency ``D^-1/2 (A + I) D^-1/2`` as a torch
      sparse CSR matrix (rows = receiving nodes);
    - ``"sage"``: the transposed 0/1 adjacency as a sparse CSR matrix (PyG
      then aggregates with a sparse-dense product, ``reduce="mean"``);
    - ``"gat"``: the ``(2, |E|)`` edge index itself (attention is per edge).

    Sparse products need no compiled extension (see ``benchmarks/results/gnn.md``
    for their cost against PyG's gather/scatter path).

    Parameters
    ----------
    edge_index : Tensor of shape (2, n_arcs), int64
        Arcs ``src -> dst`` (an undirected edge listed both ways).
    n_nodes : int
    encoder : {"gcn", "sage", "gat"}

    Returns
    -------
    Tensor
        A sparse CSR ``(n_nodes, n_nodes)`` matrix, or ``edge_index`` for ``"gat"``.
    """
    if encoder == "gat":
        return edge_index
    w = None
    if encoder == "gcn":
        from torch_geometric.nn.conv.gcn_conv import gcn_norm

        edge_index, w = gcn_norm(edge_index, None, n_nodes, improved=False, add_self_loops=True)
    if w is None:
        w = torch.ones(edge_index.shape[1], device=edge_index.device)
    adj_t = torch.sparse_coo_tensor(torch.stack([edge_index[1], edge_index[0]]), w, (n_nodes, n_nodes),
                                    check_invariants=False).coalesce()
    with warnings.catch_warnings():  # "Sparse CSR tensor support is in beta state"
        warnings.simplefilter("ignore", UserWarning)
        return adj_t.to_sparse_csr()


class DGIHead(nn.Module):
    """Deep Graph Infomax (Velickovic et al., 2019) readout and discriminator.

    The summary is ``s = sigmoid(mean(h))``; the discriminator is bilinear,
    ``D(h_i, s) = h_i^T W s + b`` (``W`` Xavier-uniform, ``b`` zero at start).
    Positive pairs are the real graph's node embeddings, negative ones a
    corrupted graph's (node features shuffled across nodes); the loss is the
    binary cross-entropy averaged over all ``2 |V|`` pairs.

    Shapes
    ------
    - ``h``, ``h_corrupt``: ``(|V|, dim)``; output loss: scalar.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(dim, dim))
        self.bias = nn.Parameter(torch.zeros(()))
        nn.init.xavier_uniform_(self.weight)

    def loss(self, h: torch.Tensor, h_corrupt: torch.Tensor) -> torch.Tensor:
        """Binary cross-entropy of telling ``h`` (real) from ``h_corrupt`` against the summary of ``h``."""
        s = torch.sigmoid(h.mean(dim=0))
        ws = self.weight @ s
        logits = torch.cat([h @ ws, h_corrupt @ ws]) + self.bias
        target = torch.cat([torch.ones(h.shape[0], device=h.device),
                            torch.zeros(h_corrupt.shape[0], device=h.device)])
        return nn.functional.binary_cross_entropy_with_logits(logits, target)
