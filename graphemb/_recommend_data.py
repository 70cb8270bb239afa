"""Compatibility alias: the interaction tables live in :mod:`graphemb._recommend._data`."""

from ._recommend._data import Interactions, prepare_interactions, train_test_split_interactions

__all__ = ["Interactions", "prepare_interactions", "train_test_split_interactions"]
