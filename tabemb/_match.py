"""Moved to :mod:`tabemb._matching` (kept until ``tabemb/__init__.py`` imports from there)."""

from ._matching import MatchResult, RecordMatcher, dedupe, link

__all__ = ["MatchResult", "RecordMatcher", "dedupe", "link"]
