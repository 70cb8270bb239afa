"""The exceptions graphtab raises on purpose.

Hierarchy (every package uses these; none defines a parallel one)::

    GraphtabError                 base class: ``except GraphtabError`` catches all of ours
     +-- ArtifactError            a saved artifact was refused at load (see ``reason``)
     +-- NotFittedError           a method that needs ``fit`` was called before it
                                  (also a ``sklearn.exceptions.NotFittedError``)

Bad arguments raise the builtin ``ValueError`` / ``TypeError`` / ``KeyError``
that scikit-learn users already catch, with a message that names the argument
or column, what was expected and what arrived.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = ["ArtifactError", "GraphtabError", "NotFittedError"]


class GraphtabError(Exception):
    """Base class of the exceptions graphtab raises on purpose."""


class ArtifactError(GraphtabError):
    """A saved artifact directory was refused.

    Attributes
    ----------
    reason : str
        One of ``"not_found"``, ``"malformed_manifest"``, ``"wrong_kind"``,
        ``"newer_format"``, ``"missing_file"``, ``"checksum_mismatch"`` (a file's
        or the manifest's own sha256 differs), ``"invalid_content"`` (the files
        are intact but what they hold is inconsistent: an index whose node ids
        are out of range, arrays whose shapes disagree, repeated keys).
    path : str
        The directory or file the refusal is about.
    """

    REASONS = (
        "not_found",
        "malformed_manifest",
        "wrong_kind",
        "newer_format",
        "missing_file",
        "checksum_mismatch",
        "invalid_content",
    )

    def __init__(self, message: str, *, reason: str, path: str) -> None:
        if reason not in self.REASONS:  # pragma: no cover - programming error
            raise ValueError(f"unknown ArtifactError reason {reason!r}")
        super().__init__(message)
        self.reason = reason
        self.path = path


class NotFittedError(GraphtabError, _SklearnNotFittedError):
    """Raised when an estimator is used before ``fit``."""
