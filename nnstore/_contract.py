"""The estimator contract every graphtab estimator follows: scikit-learn's.

One place for what every package needs to keep it:

- :func:`validate_params` checks an estimator's constructor arguments against
  its declarative ``_parameter_constraints`` (scikit-learn's constraint
  language: :class:`Interval`, :class:`StrOptions`, types, ``None``, ...), plus
  the shared vocabulary constraints below (``RANDOM_STATE``, ``N_JOBS``,
  ``VERBOSE``, ``DEVICE``). A bad value raises ``InvalidParameterError`` (a
  ``ValueError`` and a ``TypeError``) naming the parameter, the estimator, what
  was expected and what arrived.
- :func:`check_is_fitted` raises the one :class:`~nnstore.NotFittedError`.
- :func:`effective_n_jobs` gives ``n_jobs`` its one meaning (scikit-learn's).
- :func:`check_device` reads ``device`` the same way everywhere.
- :func:`renamed_param` keeps an old parameter name working for one release
  with a ``FutureWarning``.
- :func:`public_name` and :func:`set_public_module` make classes report the
  package a user imports them from (``graphemb.Node2Vec``, not
  ``graphemb._node2vec.Node2Vec``).

The vocabulary (the same word for the same thing in every estimator):

==================  ===========================================================
``learning_rate``   optimiser step size
``l2``              L2 penalty coefficient (Adam's ``weight_decay`` for torch
                    models, the ridge term of closed forms)
``n_jobs``          threads: ``None`` means 1 (scikit-learn's meaning), ``-1``
                    all cores, ``-2`` all but one; ``0`` is refused
``random_state``    ``None`` (fresh entropy), an int >= 0, or a numpy
                    ``Generator``; reaches every random step, internal stores
                    included; the global seeds are never touched
``verbose``         ``False``/``0``: silent; ``True``/``1``: ``tqdm.auto`` bars
``device``          ``"cpu"``, ``"cuda"`` or ``"cuda:<i>"`` (torch models)
``dim``             embedding dimension
``epochs``          passes over the training data
``n_neighbors``     neighbours a model reads per point
==================  ===========================================================
"""

from __future__ import annotations

import inspect
import numbers
import os
import re
import warnings
from collections.abc import Iterable
from typing import Any

import numpy as np
from sklearn.utils._param_validation import (
    HasMethods,
    Hidden,
    Interval,
    InvalidParameterError,
    Options,
    StrOptions,
    validate_parameter_constraints,
)

from ._errors import NotFittedError

__all__ = [
    "DEPRECATED",
    "DEVICE",
    "N_JOBS",
    "RANDOM_STATE",
    "VERBOSE",
    "HasMethods",
    "Hidden",
    "Interval",
    "InvalidParameterError",
    "Options",
    "StrOptions",
    "check_device",
    "check_is_fitted",
    "effective_n_jobs",
    "public_name",
    "renamed_param",
    "set_public_module",
    "validate_params",
]

#: ``random_state``: None, an int >= 0, or a numpy Generator / SeedSequence / RandomState
RANDOM_STATE = [Interval(numbers.Integral, 0, None, closed="left"), np.random.Generator,
                np.random.SeedSequence, np.random.RandomState, None]
#: ``n_jobs``: None (1 thread) or a non-zero int (negative counts back from all cores)
N_JOBS = [Interval(numbers.Integral, None, -1, closed="right"),
          Interval(numbers.Integral, 1, None, closed="left"), None]
#: ``verbose``: bool or an int >= 0
VERBOSE = ["boolean", Interval(numbers.Integral, 0, None, closed="left")]
#: ``device``: a string, read by :func:`check_device`
DEVICE = [str]

_DEPRECATED = "deprecated"
_DEVICE_RE = re.compile(r"^(cpu|cuda(:\d+)?)$")


def public_name(obj: Any) -> str:
    """``package.Class`` for a class or an instance: the name users import it by.

    The package is the first component of the class's module (private
    submodules such as ``graphemb._node2vec`` are not shown).
    """
    cls = obj if isinstance(obj, type) else type(obj)
    module = (cls.__module__ or "").split(".")[0]
    return f"{module}.{cls.__qualname__}" if module and module != "builtins" else cls.__qualname__


def set_public_module(namespace: dict, names: Iterable[str]) -> None:
    """Give the classes and functions ``names`` of a package's ``namespace`` the package as
    ``__module__`` (so reprs, errors and the API reference show ``graphemb.Node2Vec``).

    Call it at the end of a package's ``__init__.py``: ``set_public_module(globals(), __all__)``.
    Names that are not (yet) in the namespace, such as lazily imported ones, are skipped.
    """
    module = namespace["__name__"]
    for name in names:
        obj = namespace.get(name)
        if (isinstance(obj, type) or inspect.isfunction(obj)) and \
                (obj.__module__ or "").split(".")[0] == module:
            obj.__module__ = module


def validate_params(estimator: Any, constraints: dict | None = None,
                    params: dict | None = None) -> None:
    """Check ``estimator``'s constructor arguments against its declared constraints.

    Parameters
    ----------
    estimator : estimator
        A ``BaseEstimator`` with a ``_parameter_constraints`` dict (or pass
        ``constraints``). Every parameter must have an entry.
    constraints : dict, optional
        ``name -> list of constraints``; default ``estimator._parameter_constraints``.
    params : dict, optional
        The values to check; default ``estimator.get_params(deep=False)``.

    Raises
    ------
    InvalidParameterError
        (A ``ValueError`` and ``TypeError``.) Names the parameter and the
        estimator, lists what is accepted and shows the value that arrived.
    """
    constraints = estimator._parameter_constraints if constraints is None else constraints
    params = estimator.get_params(deep=False) if params is None else params
    missing = sorted(set(params) - set(constraints))
    if missing:  # pragma: no cover - a programming error in the estimator
        raise RuntimeError(f"{public_name(estimator)} declares no constraint for {missing}")
    validate_parameter_constraints(constraints, params, caller_name=public_name(estimator))


def check_is_fitted(estimator: Any, attributes: str | Iterable[str] | None = None, *,
                    hint: str = "fit") -> None:
    """Raise :class:`~nnstore.NotFittedError` unless ``estimator`` is fitted.

    Parameters
    ----------
    estimator : estimator
    attributes : str or iterable of str, optional
        Fitted attributes that must all exist. Default: the estimator's
        ``__sklearn_is_fitted__()`` if it has one, else any public attribute
        ending in ``_``.
    hint : str, default "fit"
        What to call first, quoted in the message.

    Raises
    ------
    NotFittedError
        ``This <package.Class> instance is not fitted yet: call <hint> first``.
    """
    if attributes is not None:
        names = [attributes] if isinstance(attributes, str) else list(attributes)
        fitted = all(hasattr(estimator, a) for a in names)
    elif hasattr(estimator, "__sklearn_is_fitted__"):
        fitted = bool(estimator.__sklearn_is_fitted__())
    else:
        fitted = any(k.endswith("_") and not k.startswith("_") for k in vars(estimator))
    if not fitted:
        raise NotFittedError(f"This {public_name(estimator)} instance is not fitted yet: call "
                             f"{hint} first (or load a saved one).")


def effective_n_jobs(n_jobs: Any, *, name: str = "n_jobs") -> int:
    """The number of threads ``n_jobs`` means: ``None`` -> 1, ``-1`` -> all cores,
    ``-k`` -> all cores + 1 - k (at least 1), ``k > 0`` -> k.

    Raises
    ------
    ValueError
        For 0, a bool or a non-integer, naming ``name``.
    """
    if n_jobs is None:
        return 1
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, numbers.Integral) or n_jobs == 0:
        raise ValueError(f"{name} must be None, a positive int or a negative int (-1 = all cores), "
                         f"got {n_jobs!r}")
    n_jobs = int(n_jobs)
    if n_jobs > 0:
        return n_jobs
    return max(1, (os.cpu_count() or 1) + 1 + n_jobs)


def check_device(device: Any, *, name: str = "device", torch_needed: bool = True) -> str:
    """Validate a device string (``"cpu"``, ``"cuda"``, ``"cuda:<i>"``) and return it.

    With ``torch_needed`` a CUDA device is checked against what torch sees, so
    a machine without one gets a clear ``ValueError`` instead of a traceback
    from deep inside torch.
    """
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise ValueError(f"{name} must be 'cpu', 'cuda' or 'cuda:<index>', got {device!r}")
    if device.startswith("cuda") and torch_needed:
        import torch

        if not torch.cuda.is_available():
            raise ValueError(f"{name}={device!r} was requested but torch sees no CUDA device "
                             f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}); "
                             f"use {name}='cpu'")
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(f"{name}={device!r}: only {torch.cuda.device_count()} CUDA device(s) "
                             "are visible")
    return device


def renamed_param(estimator: Any, old: str, new: str, *, version: str = "0.3") -> Any:
    """The value of parameter ``new``, or of its old name ``old`` when a user set that.

    The estimator keeps ``old`` in its constructor with the default
    ``"deprecated"`` (declare ``Hidden(StrOptions({"deprecated"}))`` among its
    constraints); when it was set, this warns with a ``FutureWarning`` and
    returns its value (an error if ``new`` was set to a non-default value too).
    """
    old_value = getattr(estimator, old)
    if isinstance(old_value, str) and old_value == _DEPRECATED:
        return getattr(estimator, new)
    default = inspect.signature(type(estimator).__init__).parameters[new].default
    new_value = getattr(estimator, new)
    if new_value is not default and new_value != default:
        raise ValueError(f"{public_name(estimator)}: both {old}= (the old name) and {new}= were "
                         f"given; use {new}= only")
    warnings.warn(f"{public_name(estimator)}: the parameter {old!r} is renamed {new!r}; "
                  f"{old}= stops working in graphtab {version}. Use {new}={old_value!r}.",
                  FutureWarning, stacklevel=3)
    return old_value


#: the constraint for a renamed parameter's old name (its default is the string "deprecated")
DEPRECATED = [Hidden(StrOptions({_DEPRECATED}))]
