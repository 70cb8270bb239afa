"""Moved to :mod:`tabemb._matching` (kept until ``tabemb/__init__.py`` imports from there)."""

from ._matching import corrupt_records, generate_people

__all__ = ["corrupt_records", "generate_people"]
