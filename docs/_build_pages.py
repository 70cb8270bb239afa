"""Pages the docs build writes before Sphinx reads its sources (called from ``conf.py``).

- ``_generated/api/<package>.rst``: one autosummary table per package over its
  ``__all__``, so every public name gets a reference page and a new one cannot
  be forgotten;
- ``_generated/vocabulary.rst``: the vocabulary table, taken from
  ``nnstore._contract``'s docstring (the one place it is written);
- ``_generated/cli.md``: the CLI grammar (``graphtab.cli`` and
  ``graphtab.cli._common`` docstrings) and every command's ``--help``;
- ``_generated/results/<topic>.md``: ``benchmarks/results/<topic>.md`` with
  links to repository files written as their paths (the site holds no source files).

Only files whose content changes are rewritten, so incremental builds stay quick.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
from pathlib import Path

PACKAGES = {
    "nnstore": "The base: the neighbour store and all neighbour search, retrieval metrics, "
               "the artifact format, the estimator contract every package follows.",
    "graphemb": "Graphs to node embeddings: graph input, Node2Vec, GNN encoders, "
                "knowledge-graph embeddings, recommendation.",
    "tabemb": "Table rows to embeddings, record linkage and deduplication.",
    "anomaly": "Distance-based anomaly detection over any embeddings.",
    "graphtab": "The application layer: batch and scale-out pipeline, table input/output, "
                "plotting helpers and the command line.",
}


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def _kind(obj) -> str:
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "data"


def public_names(package: str) -> dict[str, list[str]]:
    """``kind -> sorted public names`` of ``package`` (its own, for graphtab)."""
    mod = importlib.import_module(package)
    names = [n for n in mod.__all__ if not n.startswith("__")]
    if package == "graphtab":  # graphtab re-exports the four packages; list only its own names
        names = [n for n in names if mod._NAMES.get(n, "graphtab").startswith("graphtab")]
    out: dict[str, list[str]] = {"class": [], "function": [], "data": [], "module": []}
    for n in names:
        out[_kind(getattr(mod, n))].append(n)
    return {k: sorted(v, key=str.lower) for k, v in out.items()}


def api_page(package: str) -> str:
    groups = public_names(package)
    title = f"``{package}``"
    lines = [title, "=" * len(title), "", PACKAGES[package], "", f".. currentmodule:: {package}", ""]
    heads = {"class": "Classes", "function": "Functions", "data": "Constants", "module": "Modules"}
    for kind in ("class", "function", "module", "data"):
        names = groups[kind]
        if package == "graphtab" and kind == "module":
            names = sorted({*names, "plot"})
        if not names:
            continue
        lines += [heads[kind], "-" * len(heads[kind]), "", ".. autosummary::", "   :toctree: generated",
                  "   :nosignatures:", ""]
        lines += [f"   {n}" for n in names] + [""]
    if package == "graphtab":
        lines += ["Re-exported names", "-----------------", "",
                  "``import graphtab as gt`` also gives every public name of the four packages "
                  "(``gt.Node2Vec``, ``gt.NeighborStore``, ...), imported on first use; they are "
                  "documented with their package above.", ""]
    return "\n".join(lines)


def vocabulary_page() -> str:
    doc = inspect.getdoc(importlib.import_module("nnstore._contract")) or ""
    table = doc[doc.index("The vocabulary"):]
    return "\n".join([
        "Vocabulary", "==========", "",
        "Every estimator in graphtab follows scikit-learn's contract (``BaseEstimator``, "
        "``get_params``/``set_params``, ``fit`` returns ``self``, learned state ends in ``_``, "
        "``save(path)`` returns the artifact ``Path``, ``load`` is a classmethod) and uses the same "
        "word for the same thing. Old spellings (``lr``, ``weight_decay``, ``regularization``, "
        "``factors``, ``iterations``, ``num_threads``) still work for one release and warn with a "
        "``FutureWarning`` naming the new one.", "",
        table, "",
        "The table is written once, in the docstring of ``nnstore._contract``; the helpers that "
        "enforce it (:func:`nnstore.validate_params`, :func:`nnstore.check_is_fitted`, "
        ":func:`nnstore.effective_n_jobs`, :func:`nnstore.renamed_param`) are in the "
        ":doc:`api/nnstore` reference.", ""])


def _leaves(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


def cli_page() -> str:
    cli = importlib.import_module("graphtab.cli")
    common = importlib.import_module("graphtab.cli._common")
    parser = cli.build_parser()
    out = ["# Command line", "",
           "One command, one grammar: `graphtab NOUN VERB INPUT... --out PATH [options]`. "
           "Run `graphtab --help`, `graphtab NOUN --help` or `graphtab NOUN VERB --help` for "
           "the same text as below.", "",
           "## Nouns and verbs", "", "```{eval-rst}", inspect.getdoc(cli).split("\n", 2)[2].strip(),
           "```", "", "## The grammar", "", "```{eval-rst}",
           inspect.getdoc(common).split("\n", 2)[2].strip(), "```", "",
           "## Every command", ""]
    out += ["```text", parser.format_help().rstrip(), "```", ""]
    for path, leaf in _leaves(parser):
        leaf.prog = "graphtab " + " ".join(path)
        out += [f"### `graphtab {' '.join(path)}`", "", "```text", leaf.format_help().rstrip(), "```", ""]
    return "\n".join(out)


_LINK = re.compile(r"\[([^\]]+)\]\((?!https?://|#)([^)\s]+)\)")


def results_page(src: Path, root: Path) -> str:
    text = src.read_text()

    def repo_link(m: re.Match) -> str:  # a link to a repository file: the text and the file's path
        target = (src.parent / m.group(2).split("#")[0]).resolve()
        if target.parent == src.parent and target.suffix == ".md":
            return m.group(0)  # another results page: also on the site
        try:
            rel = target.relative_to(root).as_posix()
        except ValueError:
            rel = m.group(2)
        return m.group(1) if m.group(1).strip("`") == rel else f"{m.group(1)} (`{rel}`)"

    text = _LINK.sub(repo_link, text)
    lines = text.split("\n")
    if lines[0].startswith("## "):  # a page starts at H1: promote every heading one level
        fence = False
        for i, line in enumerate(lines):
            if line.startswith("```"):
                fence = not fence
            if not fence and line.startswith("##"):
                lines[i] = line[1:]
    return "\n".join(lines)


def write_all(root: Path, out: Path) -> None:
    for package in PACKAGES:
        _write(out / "api" / f"{package}.rst", api_page(package))
    _write(out / "vocabulary.rst", vocabulary_page())
    _write(out / "cli.md", cli_page())
    sources = sorted((root / "benchmarks" / "results").glob("*.md"))
    for src in sources:
        _write(out / "results" / src.name, results_page(src, root))
    for stale in (out / "results").glob("*.md"):
        if not (root / "benchmarks" / "results" / stale.name).exists():
            stale.unlink()
