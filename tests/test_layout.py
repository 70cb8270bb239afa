"""The distribution's shape: public APIs, py.typed, and the import rule of DESIGN.md."""

import ast
import importlib
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARIES = ["nnstore", "graphemb", "tabemb", "anomaly"]
PACKAGES = [*LIBRARIES, "graphtab"]


@pytest.mark.parametrize("pkg", PACKAGES)
def test_public_api_is_explicit_and_importable(pkg):
    mod = importlib.import_module(pkg)
    assert mod.__all__, f"{pkg} has no __all__"
    for name in mod.__all__:
        assert hasattr(mod, name), f"{pkg}.__all__ names {name!r} which it does not define"
    assert (ROOT / pkg / "py.typed").exists()


def _imports(pkg):
    """(imported module, file) for every absolute import in ``pkg``, lazy ones included."""
    found = set()
    for path in (ROOT / pkg).rglob("*.py"):
        rel = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update((a.name, rel) for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((node.module, rel))
                found.update((f"{node.module}.{a.name}", rel) for a in node.names
                             if a.name.startswith("_") and not a.name.startswith("__"))
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr == "import_module" and node.args
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
                  and not node.args[0].value.startswith(".")):
                found.add((node.args[0].value, rel))
    return found


@pytest.mark.parametrize("pkg", PACKAGES)
def test_import_rule(pkg):
    """nnstore imports none of the others; graphemb, tabemb and anomaly import nnstore's public
    names only and never each other nor graphtab; graphtab may import all four (public names)."""
    allowed = {"nnstore": set(), "graphtab": set(LIBRARIES)}.get(pkg, {"nnstore"})
    bad = []
    for module, where in _imports(pkg):
        top, *rest = module.split(".")
        if top not in PACKAGES or top == pkg:
            continue
        if top not in allowed:
            bad.append(f"{where}: imports {module} (upward or sideways)")
        elif any(part.startswith("_") for part in rest):
            bad.append(f"{where}: imports the private {module}")
    assert not bad, "\n".join(sorted(bad))


def test_import_rule_catches_private_and_upward_imports(tmp_path, monkeypatch):
    """The rule itself: a private nnstore import and an upward import are both reported."""
    pkg = tmp_path / "graphemb"
    pkg.mkdir()
    (pkg / "m.py").write_text("from nnstore._store import x\nimport graphtab\nfrom nnstore import col\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    found = _imports("graphemb")
    assert ("nnstore._store", "graphemb/m.py") in found and ("graphtab", "graphemb/m.py") in found
    with pytest.raises(AssertionError, match="private nnstore._store"):
        test_import_rule("graphemb")


def test_graphtab_namespace_is_lazy_and_complete():
    """``import graphtab`` imports no torch; every advertised name resolves."""
    import subprocess

    code = ("import sys, graphtab as gt\n"
            "assert 'torch' not in sys.modules\n"
            "assert 'graphemb' not in sys.modules and 'tabemb' not in sys.modules\n"
            "gt.NeighborStore; gt.Node2Vec; gt.KNNDetector; gt.map_parquet\n"
            "assert 'torch' not in sys.modules, 'a torch-free name imported torch'\n"
            "missing = [n for n in gt.__all__ if not hasattr(gt, n)]\n"
            "assert not missing, missing\n"
            "print('ok')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stdout + r.stderr


def test_library_code_does_not_print():
    offenders = []
    for pkg in PACKAGES:
        for path in (ROOT / pkg).rglob("*.py"):
            if "cli" in path.relative_to(ROOT).parts:  # the command line prints by design
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


def test_every_results_page_is_merged_into_results_md():
    """A new benchmarks/results/<topic>.md must be listed in docs/merge_sections.py's table."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("merge_sections", ROOT / "docs" / "merge_sections.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    listed = {fname for fname, _, _ in mod.RESULTS}
    pages = {p.name for p in (ROOT / "benchmarks" / "results").glob("*.md")}
    assert pages <= listed, sorted(pages - listed)


def test_results_pages_link_to_tracked_files():
    """A results page's relative Markdown link ([x](file)) points to a file in the repository."""
    import re
    import subprocess

    tracked = set(subprocess.run(["git", "ls-files", "benchmarks/results"], cwd=ROOT, capture_output=True,
                                 text=True, check=True).stdout.split())
    if not tracked:  # not a git checkout (an sdist): nothing to compare with
        return
    missing = []
    for page in sorted((ROOT / "benchmarks" / "results").glob("*.md")):
        for target in re.findall(r"\]\(([^)#:\s]+)\)", page.read_text()):
            if f"benchmarks/results/{target}" not in tracked:
                missing.append(f"{page.name} -> {target}")
    assert not missing, missing
