"""The neighbour search the detectors use (anomaly/_neighbors.py)."""

import numpy as np
import pytest

from anomaly import AUTO_ANNOY_MIN_FEATURES, AUTO_ANNOY_MIN_SAMPLES
from anomaly._neighbors import resolve_backend


def test_auto_backend_by_shape():
    assert resolve_backend("auto", 1000, 32) == "exact"
    assert resolve_backend("auto", AUTO_ANNOY_MIN_SAMPLES, AUTO_ANNOY_MIN_FEATURES) == "annoy"
    assert resolve_backend("auto", AUTO_ANNOY_MIN_SAMPLES, 2) == "exact"
    assert resolve_backend("annoy", 10, 2) == "annoy" and resolve_backend("exact", 10**7, 64) == "exact"
    with pytest.raises(ValueError, match="backend must be one of"):
        resolve_backend("faiss", 10, 2)
    assert np.isscalar(AUTO_ANNOY_MIN_SAMPLES)
