"""Moved to :mod:`tabemb._matching._knn` (kept until ``tabemb/_hubness.py`` uses ``nnstore.kneighbors``)."""

from ._matching._knn import exact_topk, ivf_topk

__all__ = ["exact_topk", "ivf_topk"]
