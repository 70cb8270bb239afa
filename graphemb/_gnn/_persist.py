"""Saving and loading :class:`graphemb.GNNEmbedder` as a ``gnn_embedder`` artifact.

The artifact (see ``nnstore.ArtifactWriter``) holds the constructor
parameters, the encoder's and the head's state dicts, the classes, the feature
schema with its normalisation statistics, the training histories and the
training graph's embeddings. Nothing loaded runs code: state dicts load with
``weights_only=True``.
"""

from __future__ import annotations

import os
from numbers import Integral
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import nnstore

from ._inputs import FeatureSchema
from ._params import MOVED, RENAMED

__all__ = ["KIND", "load_model", "save_model"]

KIND = "gnn_embedder"


def save_model(est: Any, path: str | os.PathLike) -> Path:
    """Write ``self`` (a fitted GNNEmbedder) to ``path``; returns the artifact ``Path``."""
    schema = {**est._schema.to_json(),
              "finetune_mode": est.finetune_mode_,
              "pretrain_history": [float(v) for v in est.pretrain_history_],
              "finetune_history": list(est.finetune_history_),
              "best_epoch": est.best_epoch_}
    params = est.get_params()
    if not isinstance(params["random_state"], Integral | None):
        params["random_state"] = None
    with nnstore.ArtifactWriter(path, kind=KIND, params=params, dim=int(est.dim),
                                counts={"nodes": len(est.embedding_)}) as w:
        w.save_state_dict("encoder", est.encoder_.state_dict())
        if est.head_ is not None:
            w.save_state_dict("head", est.head_.state_dict())
            w.save_frame("classes", pd.DataFrame({"class": est.classes_}))
        w.save_json("schema", schema)
        w.save_frame("embeddings", est.embedding_)
    return Path(path)


def load_model(cls: type, path: str | os.PathLike, *, device: str | None = None) -> Any:
    """A ``cls`` instance read from the artifact at ``path`` (optionally onto ``device``)."""
    import torch

    from ._models import GNNEncoder

    art = nnstore.read_artifact(path, kind=KIND)
    params = dict(art.params)
    for old, new in RENAMED.items():
        if old in params and not (isinstance(params[old], str) and params[old] == "deprecated"):
            params[new] = params.pop(old)
    for old in MOVED:  # fine-tuning knobs of older artifacts: fine_tune() arguments now
        if old in params and not (isinstance(params[old], str) and params[old] == "deprecated"):
            params.pop(old)
    params.setdefault("normalize", None)  # artifacts from before the input normalisation
    if device is not None:
        params["device"] = device
    est = cls(**params)
    schema = art.load_json("schema")
    dev = est._torch_device
    est._set_schema(FeatureSchema.from_json(schema))
    est.finetune_mode_ = schema["finetune_mode"]
    est.pretrain_history_ = list(schema["pretrain_history"])
    est.finetune_history_ = list(schema.get("finetune_history", []))
    est.best_epoch_ = schema.get("best_epoch")
    est.encoder_ = GNNEncoder(est.n_features_in_, int(est.hidden_dim), int(est.dim), int(est.n_layers),
                              est.encoder, float(est.dropout), int(est.heads))
    est.encoder_.load_state_dict(art.load_state_dict("encoder"))
    est.encoder_.to(dev).eval()
    est.head_, est.classes_ = None, None
    if "head.pt" in art.files:
        state = art.load_state_dict("head")
        head = torch.nn.Linear(state["weight"].shape[1], state["weight"].shape[0])
        head.load_state_dict(state)
        est.head_ = head.to(dev).eval()
        est.classes_ = art.load_frame("classes")["class"].to_numpy()
    emb = art.load_frame("embeddings")
    est.embedding_ = nnstore.embeddings_frame(emb.to_numpy(dtype=np.float32), emb.index)
    return est
