"""tabemb: pandas records to embeddings.

Column-aware entity encoders, self-supervised pre-training then supervised
fine-tuning, and record matching on top of the neighbour store. Imports
nnstore only.
"""

import logging

from nnstore._version import __version__

from ._schema import KINDS, ColumnSpec, Schema, infer_schema
from ._table_encoder import TableEncoder

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = ["KINDS", "ColumnSpec", "Schema", "TableEncoder", "__version__", "infer_schema"]
