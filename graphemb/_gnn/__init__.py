"""GNN node embeddings: :class:`GNNEmbedder` and its stages.

- ``_inputs``: graph, node features (DataFrame, array, sparse matrix, PyG ``x``)
  and labels, checked and normalised;
- ``_models``: the torch modules (encoder, Deep Graph Infomax head);
- ``_pretrain``: self-supervised pre-training (DGI, link prediction);
- ``_finetune``: the linear probe and fine-tuning;
- ``_params``: parameter constraints, renamed and moved parameters;
- ``_persist``: the ``gnn_embedder`` artifact;
- ``_estimator``: the scikit-learn estimator that wires them.
"""

from ._estimator import GNNEmbedder

__all__ = ["GNNEmbedder"]

GNNEmbedder.__module__ = "graphemb"  # its public module (what graphemb's set_public_module sets too)
