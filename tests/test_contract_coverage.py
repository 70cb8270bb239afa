"""Every public estimator (every class with ``fit`` in a package's ``__all__``) keeps the
contract: it is a scikit-learn ``BaseEstimator`` that reports its public module, and a
package test runs ``nnstore.testing.check_estimator_contract`` on it."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from sklearn.base import BaseEstimator

PACKAGES = ["nnstore", "graphemb", "tabemb", "anomaly"]
TESTS = Path(__file__).parent


def _public_estimators():
    for package in PACKAGES:
        module = importlib.import_module(package)
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) and callable(getattr(obj, "fit", None)):
                yield package, name, obj


ESTIMATORS = list(_public_estimators())
CONTRACT_TESTS = "\n".join(p.read_text() for p in TESTS.rglob("test_contract*.py"))


def test_there_are_estimators():
    assert len(ESTIMATORS) >= 8


@pytest.mark.parametrize(("package", "name", "cls"), ESTIMATORS, ids=[e[1] for e in ESTIMATORS])
def test_public_estimator_keeps_the_contract(package, name, cls):
    assert issubclass(cls, BaseEstimator), f"{package}.{name} is not a BaseEstimator"
    assert cls.__module__ == package, f"{package}.{name} reports module {cls.__module__}"
    assert isinstance(inspect.getattr_static(cls, "load", classmethod(lambda c: c)), classmethod), \
        f"{package}.{name}.load is not a classmethod"
    assert f"{name}(" in CONTRACT_TESTS, f"no test_contract*.py runs the contract check on {name}"
    for bad in ("lr", "num_threads", "iterations", "factors", "weight_decay", "regularization"):
        param = inspect.signature(cls.__init__).parameters.get(bad)
        assert param is None or param.default == "deprecated", \
            f"{package}.{name} has the constructor argument {bad!r} outside the vocabulary"
