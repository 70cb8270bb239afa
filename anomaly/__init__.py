"""anomaly: distance-based anomaly detection over any embeddings.

k-th / mean neighbour distance (:class:`KNNDetector`), the local outlier
factor (:class:`LOFDetector`) and score ensembles (:class:`EnsembleDetector`),
with PyOD's surface on scikit-learn estimators: ``decision_function`` is
higher for more anomalous rows, ``predict`` gives 1 for an anomaly and 0
otherwise, ``threshold_``, ``labels_`` and ``decision_scores_`` describe the
training rows. The neighbour search is nnstore's. Imports nnstore only.
"""

import logging

from nnstore import __version__, set_public_module

from ._base import BaseDetector, check_contamination, load_detector
from ._ensemble import EnsembleDetector
from ._knn import KNNDetector
from ._lof import LOFDetector
from ._neighbors import AUTO_ANNOY_MIN_FEATURES, AUTO_ANNOY_MIN_SAMPLES
from ._scaling import fit_scaler

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

set_public_module(globals(), __all__)
