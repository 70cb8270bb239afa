"""anomaly: distance-based anomaly detection over any embeddings.

k-th / mean neighbour distance and LOF with a PyOD-style surface, on the
neighbour store. Imports nnstore only.
"""

import logging

from nnstore import __version__

from ._base import BaseDetector, check_contamination, load_detector
from ._distance import fit_scaler
from ._ensemble import EnsembleDetector
from ._knn import KNNDetector
from ._lof import LOFDetector
from ._neighbors import AUTO_ANNOY_MIN_FEATURES, AUTO_ANNOY_MIN_SAMPLES

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "AUTO_ANNOY_MIN_FEATURES",
    "AUTO_ANNOY_MIN_SAMPLES",
    "BaseDetector",
    "EnsembleDetector",
    "KNNDetector",
    "LOFDetector",
    "__version__",
    "check_contamination",
    "fit_scaler",
    "load_detector",
]
