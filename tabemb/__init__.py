"""tabemb: pandas records to embeddings.

Column-aware entity encoders, self-supervised pre-training then supervised
fine-tuning, and record matching on top of the neighbour store. Imports
nnstore only.
"""

import logging

from nnstore._version import __version__

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["__version__"]
