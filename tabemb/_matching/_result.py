"""What record matching returns: :class:`MatchResult`."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = ["MatchResult"]


@dataclass
class MatchResult:
    """What :meth:`RecordMatcher.predict`, :func:`link` and :func:`dedupe` return.

    Attributes
    ----------
    pairs : DataFrame
        The matched pairs: ``index_a``, ``index_b`` (keys of table A and B; for
        deduplication both from the one table, ``index_a`` the earlier row),
        ``score`` (match probability), then one column per pair feature.
    clusters : DataFrame
        Column ``cluster`` (int) per record. Deduplication: index = the
        table's index. Linkage: a MultiIndex (``table`` in {"a", "b"}, ``key``).
    candidates : DataFrame
        Every scored candidate pair (same columns as ``pairs`` plus ``match``).
    diagnostics : dict
        How far the scorer can be trusted on these tables (see
        :attr:`RecordMatcher.diagnostics_`): for the unsupervised scorer
        ``weak`` (bool), ``separation`` and the figures it is computed from,
        ``message`` (what to do when weak); for the supervised scorer
        ``{"mode": "supervised"}``.
    """

    pairs: pd.DataFrame
    clusters: pd.DataFrame
    candidates: pd.DataFrame
    diagnostics: dict = field(default_factory=dict)

    @property
    def weak(self) -> bool:
        """True when the unsupervised scorer was found weak on these tables (see ``diagnostics``)."""
        return bool(self.diagnostics.get("weak", False))
