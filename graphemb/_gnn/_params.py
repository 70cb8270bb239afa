"""The parameters of :class:`graphemb.GNNEmbedder`: constraints, renames, and the settings they give.

The constructor holds the pre-training knobs; the fine-tuning knobs are
arguments of :meth:`~graphemb.GNNEmbedder.fine_tune`. Names that changed keep
working for one release with a ``FutureWarning``: renamed constructor
arguments (:data:`RENAMED`) through :func:`nnstore.renamed_param`, fine-tuning
knobs that were constructor arguments (:data:`MOVED`) through
:func:`fine_tune_settings`.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real
from typing import Any

from nnstore import (
    DEPRECATED,
    DEVICE,
    RANDOM_STATE,
    VERBOSE,
    Interval,
    StrOptions,
    check_device,
    renamed_param,
    validate_params,
)

from ._finetune import FineTuneSettings
from ._inputs import NORMALIZE
from ._models import ENCODERS
from ._pretrain import PretrainSettings

__all__ = ["CONSTRAINTS", "FINE_TUNE_CONSTRAINTS", "MOVED", "RENAMED", "fine_tune_settings",
           "pretrain_settings"]

_POSITIVE_INT = [Interval(Integral, 1, None, closed="left")]
_RATE = Interval(Real, 0, None, closed="neither")
_PENALTY = Interval(Real, 0, None, closed="left")
_FRACTION = Interval(Real, 0, 1, closed="left")
_COUNT = Interval(Integral, 0, None, closed="left")

#: fine-tuning knobs that were constructor arguments: old name -> fine_tune() argument
MOVED = {
    "finetune_epochs": "epochs",
    "finetune_lr": "learning_rate",
    "finetune_encoder_lr": "encoder_learning_rate",
    "finetune_weight_decay": "l2",
    "finetune_dropout": "dropout",
    "finetune_patience": "patience",
    "warm_start": "probe_first",
    "probe_epochs": "probe_epochs",
    "probe_lr": "probe_learning_rate",
    "probe_weight_decay": "probe_l2",
}
#: constructor arguments renamed: old -> new
RENAMED = {"lr": "learning_rate", "weight_decay": "l2", "pretrain_epochs": "epochs"}
_DEFAULTS = FineTuneSettings()
FINE_TUNE_CONSTRAINTS = {
    "epochs": [_COUNT],
    "learning_rate": [_RATE],
    "encoder_learning_rate": [_RATE, None],
    "l2": [_PENALTY],
    "dropout": [_FRACTION, None],
    "patience": _POSITIVE_INT,
    "probe_first": ["boolean"],
    "probe_epochs": [_COUNT],
    "probe_learning_rate": [_RATE],
    "probe_l2": [_PENALTY],
}


#: the constructor's parameter constraints (``_parameter_constraints``)
CONSTRAINTS: dict[str, list] = {
    "encoder": [StrOptions(set(ENCODERS))],
    "dim": _POSITIVE_INT,
    "hidden_dim": _POSITIVE_INT,
    "n_layers": _POSITIVE_INT,
    "dropout": [_FRACTION],
    "heads": _POSITIVE_INT,
    "normalize": [StrOptions({k for k in NORMALIZE if k}), None],
    "pretrain": [StrOptions({"dgi", "link"}), None],
    "epochs": [_COUNT],
    "patience": _POSITIVE_INT,
    "learning_rate": [_RATE],
    "l2": [_PENALTY],
    "n_negatives": _POSITIVE_INT,
    "link_batch_size": _POSITIVE_INT,
    "device": DEVICE,
    "random_state": RANDOM_STATE,
    "verbose": VERBOSE,
    "lr": [_RATE, *DEPRECATED],
    "weight_decay": [_PENALTY, *DEPRECATED],
    "pretrain_epochs": [_COUNT, *DEPRECATED],
    **{old: [*FINE_TUNE_CONSTRAINTS[new], *DEPRECATED] for old, new in MOVED.items()},
}


def pretrain_settings(est: Any) -> PretrainSettings:
    """Validate ``est``'s constructor arguments (named errors); the pre-training settings.

    Raises
    ------
    ValueError
        A bad value (``InvalidParameterError`` names the parameter), a device
        torch does not see, or an old and a new name given together.
    """
    validate_params(est)
    check_device(est.device)
    return PretrainSettings(
        epochs=int(renamed_param(est, "pretrain_epochs", "epochs")),
        patience=int(est.patience),
        learning_rate=float(renamed_param(est, "lr", "learning_rate")),
        l2=float(renamed_param(est, "weight_decay", "l2")),
        n_negatives=int(est.n_negatives),
        link_batch_size=int(est.link_batch_size))


def fine_tune_settings(est: Any, given: dict) -> FineTuneSettings:
    """``fine_tune``'s arguments ``given``, checked; a deprecated constructor knob that was set
    applies where its ``fine_tune`` argument was left at its default (with a ``FutureWarning``).
    """
    values = dict(given)
    for old, new in MOVED.items():
        old_value = getattr(est, old)
        if isinstance(old_value, str) and old_value == "deprecated":
            continue
        warnings.warn(f"graphemb.GNNEmbedder: the constructor argument {old!r} moved to fine_tune("
                      f"{new}=...); {old}= stops working in graphtab 0.3.", FutureWarning, stacklevel=3)
        if values[new] == getattr(_DEFAULTS, new):
            values[new] = old_value
    validate_params(est, FINE_TUNE_CONSTRAINTS, values)
    if values["dropout"] is None:
        values["dropout"] = float(est.dropout)
    return FineTuneSettings(**{k: (float(v) if isinstance(v, Real) and not isinstance(v, bool | Integral)
                                   else v) for k, v in values.items()})
