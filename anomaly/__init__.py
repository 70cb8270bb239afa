"""anomaly: distance-based anomaly detection over any embeddings.

k-th / mean neighbour distance and LOF with a PyOD-style surface, on the
neighbour store. Imports nnstore only.
"""

import logging

from nnstore._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
