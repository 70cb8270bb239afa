"""nnstore: the shared base of graphtab.

The neighbour store, the retrieval metrics, the on-disk artifact format every
package saves with, and the few helpers all packages share (random state,
input checks, the embeddings-frame convention). nnstore imports none of the
other graphtab packages.
"""

import logging

from . import metrics
from ._artifact import FORMAT_VERSION, Artifact, ArtifactWriter, read_artifact
from ._contract import (
    DEPRECATED,
    DEVICE,
    N_JOBS,
    RANDOM_STATE,
    VERBOSE,
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    check_device,
    check_is_fitted,
    effective_n_jobs,
    public_name,
    renamed_param,
    set_public_module,
    validate_params,
)
from ._errors import ArtifactError, GraphtabError, NotFittedError
from ._filters import col, evaluate_filter
from ._keys import keys_from_frame, keys_to_frame
from ._knn import cross_kneighbors, kneighbors
from ._store import NeighborStore
from ._validation import (
    check_keys,
    check_random_state,
    check_storable_keys,
    check_vectors,
    embedding_columns,
    embeddings_frame,
    seed_from,
    torch_generator,
)
from ._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "DEPRECATED",
    "DEVICE",
    "FORMAT_VERSION",
    "N_JOBS",
    "RANDOM_STATE",
    "VERBOSE",
    "Artifact",
    "ArtifactError",
    "ArtifactWriter",
    "GraphtabError",
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "NeighborStore",
    "NotFittedError",
    "Options",
    "StrOptions",
    "__version__",
    "check_device",
    "check_is_fitted",
    "check_keys",
    "check_random_state",
    "check_storable_keys",
    "check_vectors",
    "col",
    "cross_kneighbors",
    "effective_n_jobs",
    "embedding_columns",
    "embeddings_frame",
    "evaluate_filter",
    "keys_from_frame",
    "keys_to_frame",
    "kneighbors",
    "metrics",
    "public_name",
    "read_artifact",
    "renamed_param",
    "seed_from",
    "set_public_module",
    "torch_generator",
    "validate_params",
]
