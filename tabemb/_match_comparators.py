"""Moved to :mod:`tabemb._matching` (kept until ``tabemb/__init__.py`` imports from there)."""

from ._matching import jaro_winkler

__all__ = ["jaro_winkler"]
