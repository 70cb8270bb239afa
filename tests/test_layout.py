"""The distribution's shape: public APIs, py.typed, and the import rule of DESIGN.md."""

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ["nnstore", "graphemb", "tabemb", "anomaly"]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_public_api_is_explicit_and_importable(pkg):
    mod = importlib.import_module(pkg)
    assert mod.__all__, f"{pkg} has no __all__"
    for name in mod.__all__:
        assert hasattr(mod, name), f"{pkg}.__all__ names {name!r} which it does not define"
    assert (ROOT / pkg / "py.typed").exists()


def _imports(pkg):
    found = set()
    for path in (ROOT / pkg).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update((a.name.split(".")[0], path.name) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((node.module.split(".")[0], path.name))
    return found


@pytest.mark.parametrize("pkg", PACKAGES)
def test_import_rule(pkg):
    """graphemb, tabemb, anomaly may import nnstore, never each other; nnstore imports none."""
    forbidden = set(PACKAGES) - {pkg} - ({"nnstore"} if pkg != "nnstore" else set())
    bad = sorted((m, f) for m, f in _imports(pkg) if m in forbidden)
    assert not bad, f"{pkg} imports {bad}"


def test_library_code_does_not_print():
    offenders = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if path.name.startswith("_cli"):  # command-line modules print by design
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id == "print"):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders


def test_readme_and_results_match_their_sources():
    """README.md / benchmarks/RESULTS.md sections equal docs/sections/*.md / benchmarks/results/*.md."""
    import subprocess
    import sys

    r = subprocess.run([sys.executable, str(ROOT / "docs" / "merge_sections.py"), "--check"],
                       capture_output=True, text=True, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
