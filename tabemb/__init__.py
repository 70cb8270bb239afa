"""tabemb: pandas records to embeddings.

Column-aware entity encoders, self-supervised pre-training then supervised
fine-tuning, and record matching on top of the neighbour store. Imports
nnstore only.
"""

import logging

from nnstore import __version__, set_public_module

from ._hubness import hub_corrected, hub_penalties
from ._matching import (
    MatchResult,
    RecordMatcher,
    blocking_metrics,
    cluster_metrics,
    clusters_to_pairs,
    corrupt_records,
    dedupe,
    generate_people,
    jaro_winkler,
    link,
    pair_metrics,
)
from ._schema import KINDS, ColumnSpec, Schema, infer_schema
from ._table_encoder import TableEncoder

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["KINDS", "ColumnSpec", "MatchResult", "RecordMatcher", "Schema", "TableEncoder", "__version__",
           "blocking_metrics", "cluster_metrics", "clusters_to_pairs", "corrupt_records", "dedupe",
           "generate_people", "hub_corrected", "hub_penalties", "infer_schema", "jaro_winkler", "link",
           "pair_metrics"]

set_public_module(globals(), __all__)
