"""Is the unsupervised scorer trustworthy on these tables? A check on its score distribution.

A Fellegi-Sunter model that separates matches from non-matches gives a
*bimodal* distribution of match probabilities over the candidate pairs:
most pairs near 0, the matches near 1, few in between. When the comparison
features do not tell matches apart (product titles that differ in a word,
one camera in two colours), EM leaves many pairs in the middle, and both
precision and recall suffer. The check measures the middle against the top
mode:

``unsure_share = n_unsure / (n_unsure + n_sure)``

with ``n_sure`` the candidates scored at least ``0.95`` and ``n_unsure`` those
strictly between ``0.05`` and ``0.95``. The model is called *weak* when
``unsure_share > WEAK_SHARE``: most pairs it does not reject, it cannot
decide. The limit lies between the shares of public sets where the
unsupervised model works and where it does not (the measured table is in
``benchmarks/results/matching.md``). Labelled pairs (``labels=``) train the
supervised scorer instead, which reads the same features without the
conditional-independence assumption.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SURE", "UNSURE", "WEAK_SHARE", "score_diagnostics", "weak_message"]

#: a candidate scored at least this is a confident match
SURE = 0.95
#: a candidate scored above this (and below SURE) is undecided
UNSURE = 0.05
#: the unsure share above which the unsupervised scorer is called weak
WEAK_SHARE = 0.4


def score_diagnostics(score: np.ndarray) -> dict:
    """Figures of the unsupervised scorer's match probabilities over the candidate pairs.

    Parameters
    ----------
    score : ndarray of shape (n_candidates,)

    Returns
    -------
    dict
        ``mode`` ("fellegi_sunter"), ``n_candidates``, ``n_sure`` (score >= 0.95),
        ``n_unsure`` (0.05 < score < 0.95), ``unsure_share`` (``n_unsure / (n_unsure
        + n_sure)``, 0 when both are 0), ``weak`` (``unsure_share > 0.4``) and
        ``message`` (empty unless weak).
    """
    s = np.asarray(score, dtype=np.float64)
    n_sure = int((s >= SURE).sum())
    n_unsure = int(((s > UNSURE) & (s < SURE)).sum())
    share = n_unsure / (n_unsure + n_sure) if n_unsure + n_sure else 0.0
    weak = share > WEAK_SHARE
    out = {"mode": "fellegi_sunter", "n_candidates": len(s), "n_sure": n_sure, "n_unsure": n_unsure,
           "unsure_share": float(share), "weak": bool(weak)}
    out["message"] = weak_message(out) if weak else ""
    return out


def weak_message(d: dict) -> str:
    """The warning text for weak diagnostics ``d``."""
    return (f"the unsupervised scorer (Fellegi-Sunter) cannot separate matches from non-matches on "
            f"these tables: {d['unsure_share']:.0%} of the candidate pairs it does not reject score "
            f"between {UNSURE} and {SURE} ({d['n_unsure']} undecided, {d['n_sure']} confident "
            f"matches), so expect low precision and recall. Label a few hundred candidate pairs "
            f"(index_a, index_b, label) and pass labels= to train the supervised scorer "
            f"(RecordMatcher.fit(..., labels=...), link(..., labels=...), or --labels FILE in the CLI).")
