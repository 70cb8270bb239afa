"""Moved to :mod:`tabemb._matching` (kept until ``tabemb/__init__.py`` imports from there)."""

from ._matching import blocking_metrics, cluster_metrics, clusters_to_pairs, pair_metrics

__all__ = ["blocking_metrics", "cluster_metrics", "clusters_to_pairs", "pair_metrics"]
