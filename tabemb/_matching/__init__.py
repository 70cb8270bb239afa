"""Record matching: link two tables or deduplicate one (private subpackage of :mod:`tabemb`).

Modules, one per stage of :class:`RecordMatcher` (see :mod:`._matcher`):
``_inputs`` (table, column and label checks), ``_candidates`` (blocking),
``_features`` (comparator choice, pair features, levels), ``_comparators``
and ``_context`` (the feature functions), ``_fit`` and ``_scorers``
(Fellegi-Sunter by EM, boosted trees), ``_diagnostics`` (is the unsupervised
scorer weak?), ``_assemble`` and ``_clusters`` (threshold, clusters,
result frames), ``_persist`` (artifact), plus ``_eval`` (pair, blocking and
cluster metrics), ``_corrupt`` (generated person records) and ``_knn``
(neighbour search). :mod:`tabemb` re-exports the public names.
"""

from nnstore import set_public_module

from ._comparators import jaro_winkler
from ._corrupt import corrupt_records, generate_people
from ._eval import blocking_metrics, cluster_metrics, clusters_to_pairs, pair_metrics
from ._matcher import RecordMatcher, dedupe, link
from ._result import MatchResult

__all__ = ["MatchResult", "RecordMatcher", "blocking_metrics", "cluster_metrics", "clusters_to_pairs",
           "corrupt_records", "dedupe", "generate_people", "jaro_winkler", "link", "pair_metrics"]

# the public home of these names is tabemb (reprs and errors say tabemb.RecordMatcher)
set_public_module({"__name__": "tabemb", **{n: globals()[n] for n in __all__}}, __all__)
