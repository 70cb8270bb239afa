"""Checks of the graphtab estimator contract, for the test suites of graphtab's
packages and of anyone who writes an estimator on top of them.

:func:`check_estimator_contract` runs the checks every public estimator must
pass (see the docs' "Estimator contract" page): it is a ``BaseEstimator``
whose class reports its public module, ``clone`` and ``get_params`` /
``set_params`` round-trip, using it before ``fit`` raises the one
:class:`~nnstore.NotFittedError`, ``fit`` returns ``self``, ``save`` returns
the artifact ``Path`` and the classmethod ``load`` gives back the same
outputs, and each bad parameter value gives a ``ValueError`` naming the
parameter.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone

from ._errors import NotFittedError

__all__ = ["check_estimator_contract"]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, pd.DataFrame | pd.Series):
        try:
            pd.testing.assert_frame_equal(pd.DataFrame(a), pd.DataFrame(b), check_exact=False,
                                          rtol=1e-5, atol=1e-6)
        except AssertionError:
            return False
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        if a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            return bool(np.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True))
        return bool(np.array_equal(a, b))
    return a == b


def check_estimator_contract(estimator: BaseEstimator, fit: Callable[[Any], Any], *,
                             outputs: Callable[[Any], Any],
                             unfitted: Iterable[Callable[[Any], Any]] = (),
                             bad_params: Mapping[str, Iterable[Any]] | None = None,
                             tmp_path: str | Path | None = None) -> None:
    """Assert that ``estimator`` keeps graphtab's estimator contract.

    Parameters
    ----------
    estimator : BaseEstimator
        An unfitted instance, with the (small) settings the check should use.
    fit : callable
        ``fit(est)`` fits ``est`` on the check's data and returns what
        ``est.fit`` returned.
    outputs : callable
        ``outputs(est)`` returns what a fitted estimator computes (an array or
        DataFrame, or a tuple of them); compared between the fitted estimator
        and the one loaded back from its artifact.
    unfitted : iterable of callable
        Calls that must raise :class:`~nnstore.NotFittedError` on an unfitted
        estimator (``lambda e: e.transform(X)``, ...).
    bad_params : mapping, optional
        ``name -> bad values``: each one set with ``set_params`` must make
        ``fit`` raise a ``ValueError`` whose message names ``name``.
    tmp_path : path, optional
        A directory for the save/load check; without it save/load is skipped.

    Raises
    ------
    AssertionError
        Naming the part of the contract that does not hold.
    """
    cls = type(estimator)
    name = cls.__name__
    assert isinstance(estimator, BaseEstimator), f"{name} is not a sklearn BaseEstimator"
    module = cls.__module__
    assert not any(part.startswith("_") for part in module.split(".")), \
        f"{name} reports a private module {module!r}"

    params = estimator.get_params(deep=False)
    signature = inspect.signature(cls.__init__)
    for key in params:
        assert key in signature.parameters, f"{name}.get_params() has {key!r}, not a constructor argument"
    twin = clone(estimator)
    assert twin is not estimator and type(twin) is cls
    assert twin.get_params(deep=False).keys() == params.keys(), f"clone({name}) changes its params"
    twin.set_params(**params)
    for key, value in params.items():
        assert twin.get_params(deep=False)[key] is value or \
            _same(twin.get_params(deep=False)[key], value), f"{name}.set_params({key}=...) not kept"

    for call in unfitted:
        try:
            call(clone(estimator))
        except NotFittedError:
            pass
        else:
            raise AssertionError(f"{name}: {call} did not raise NotFittedError before fit")

    fitted = clone(estimator)
    before = {k: v for k, v in fitted.get_params(deep=False).items()}
    returned = fit(fitted)
    assert returned is fitted, f"{name}.fit did not return self"
    after = fitted.get_params(deep=False)
    for key, value in before.items():
        assert after[key] is value or _same(after[key], value), \
            f"{name}.fit changed its constructor argument {key!r}"
    result = outputs(fitted)

    if tmp_path is not None:
        assert isinstance(inspect.getattr_static(cls, "load"), classmethod), \
            f"{name}.load is not a classmethod"
        saved = fitted.save(Path(tmp_path) / f"{name.lower()}_artifact")
        assert isinstance(saved, Path), f"{name}.save returned {type(saved).__name__}, not a Path"
        loaded = cls.load(saved)
        assert type(loaded) is cls
        again = outputs(loaded)
        pairs = zip(result, again, strict=True) if isinstance(result, tuple) else [(result, again)]
        for a, b in pairs:
            assert _same(a, b), f"{name}: outputs differ after save -> load"

    for key, values in (bad_params or {}).items():
        for value in values:
            bad = clone(estimator).set_params(**{key: value})
            try:
                fit(bad)
            except ValueError as exc:
                assert key in str(exc), f"{name}({key}={value!r}): the error does not name {key!r}: {exc}"
            else:
                raise AssertionError(f"{name}({key}={value!r}) was accepted by fit")
