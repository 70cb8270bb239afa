"""The docs build's generated pages cover every public name, the vocabulary, every command and every
results page (the Sphinx build itself runs in `make docs`, warnings as errors)."""

import importlib
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))
pages = importlib.import_module("_build_pages")


@pytest.mark.parametrize("package", list(pages.PACKAGES))
def test_api_page_lists_every_public_name(package):
    text = pages.api_page(package)
    listed = set(re.findall(r"^   (\w+)$", text, flags=re.M))
    mod = importlib.import_module(package)
    own = [n for n in mod.__all__ if not n.startswith("__")]
    if package == "graphtab":
        own = [n for n in own if mod._NAMES[n].startswith("graphtab")] + ["plot"]
    assert set(own) <= listed, sorted(set(own) - listed)


def test_vocabulary_page_carries_the_contract_table():
    text = pages.vocabulary_page()
    for word in ("learning_rate", "l2", "n_jobs", "random_state", "verbose", "device", "dim", "epochs",
                 "n_neighbors"):
        assert f"``{word}``" in text, word


def test_cli_page_has_every_leaf_command():
    from graphtab.cli import build_parser

    text = pages.cli_page()
    leaves = [" ".join(path) for path, _ in pages._leaves(build_parser())]
    assert len(leaves) >= 15
    for leaf in leaves:
        assert f"### `graphtab {leaf}`" in text, leaf
    assert "graphtab NOUN VERB INPUT... --out PATH" in text


def test_results_pages_are_written_with_repository_links_as_paths(tmp_path):
    pages.write_all(ROOT, tmp_path)
    sources = sorted(p.name for p in (ROOT / "benchmarks" / "results").glob("*.md"))
    assert sorted(p.name for p in (tmp_path / "results").glob("*.md")) == sources
    for name in sources:
        text = (tmp_path / "results" / name).read_text()
        assert text.startswith("# "), name  # each page starts at H1
        assert not re.search(r"\]\(\.\./", text), name  # no link that leaves the site
