"""Saving and loading a fitted :class:`~tabemb.RecordMatcher` as an artifact directory.

Kind ``record_matcher``: the constructor parameters (all but ``encoder``; a
``random_state`` that is not an int is saved as None), the compared
columns, mapping, comparators and threshold in the manifest; the
Fellegi-Sunter parameters as JSON, or the boosted trees as flat ``.npy``
arrays; the encoder as a nested artifact in the sub-directory ``encoder``.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any

from nnstore import ArtifactWriter, read_artifact

from ._scorers import FellegiSunter, TreeEnsemble

__all__ = ["KIND", "load_matcher", "save_matcher"]

KIND = "record_matcher"
_TREE_ARRAYS = ("feature", "threshold", "missing_left", "left", "right", "is_leaf", "value", "roots")


def save_matcher(m: Any, path) -> Path:
    """Write fitted matcher ``m`` to ``path``; return the artifact's ``Path``."""
    params = {k: v for k, v in m.get_params(deep=False).items() if k not in ("encoder", "random_state")}
    rs = m.random_state
    params["random_state"] = int(rs) if isinstance(rs, numbers.Integral) and not isinstance(rs, bool) \
        else None
    info = {"mode": m.mode_, "columns": m.columns_, "mapping": m.mapping_,
            "comparators": [list(c) for c in m.comparators_], "context": m.context_,
            "threshold_": m.threshold_, "search_seed": m.search_seed_, "diagnostics": m.diagnostics_}
    with ArtifactWriter(path, kind=KIND, params=params, **info) as w:
        if m.mode_ == "fellegi_sunter":
            w.save_json("fellegi_sunter", {**m.fs_.state(), "embedding_edges": m.embedding_edges_})
        else:
            w.save_json("trees", {"baseline": m.trees_.baseline})
            for name, arr in m.trees_.arrays.items():
                w.save_array(f"tree_{name}", arr)
        # a nested artifact with its own manifest and checksums (checked by its load)
        m.encoder_.save(w.file_path("encoder"))
    return w.path


def load_matcher(cls: type, path, encoder_cls: type) -> Any:
    """Read an artifact written by :func:`save_matcher` into a new ``cls`` instance.

    Raises
    ------
    nnstore.ArtifactError
        Wrong kind, newer format, a missing file or a checksum mismatch.
    """
    art = read_artifact(path, kind=KIND)
    m = cls(**art.params)
    info = art.info
    m.mode_ = info["mode"]
    m.columns_ = list(info["columns"])
    m.mapping_ = dict(info["mapping"])
    m.comparators_ = [tuple(c) for c in info["comparators"]]
    m.context_ = bool(info.get("context", False))
    m.threshold_ = float(info["threshold_"])
    seed = info.get("search_seed")
    m.search_seed_ = None if seed is None else int(seed)
    m.diagnostics_ = dict(info.get("diagnostics") or {"mode": m.mode_})
    if m.mode_ == "fellegi_sunter":
        s = art.load_json("fellegi_sunter")
        m.fs_ = FellegiSunter.from_state(s)
        m.embedding_edges_ = list(s["embedding_edges"])
    else:
        t = art.load_json("trees")
        m.trees_ = TreeEnsemble({n: art.load_array(f"tree_{n}") for n in _TREE_ARRAYS}, t["baseline"])
    m.encoder_ = encoder_cls.load(art.path / "encoder")
    m._finish_fitted()
    return m
