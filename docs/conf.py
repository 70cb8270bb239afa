"""Sphinx configuration of the graphtab docs site (built by ``make docs``).

Why Sphinx: every public docstring in graphtab is numpydoc (scikit-learn's
format), and Sphinx with the numpydoc extension renders those as they are
written, with autosummary generating one reference page per public name; MyST
lets the user guide and the benchmark results stay Markdown.

The build reads each package's ``__all__`` and writes the API index pages into
``_generated/`` before Sphinx starts, so the reference covers every public name
without a hand-kept list; the benchmark results pages are copied from
``benchmarks/results/*.md`` the same way, so they live in one place.
"""

from __future__ import annotations

import importlib
import re
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import _build_pages  # noqa: E402  (docs/_build_pages.py: the generated pages)

project = "graphtab"
author = "graphtab contributors"
copyright = "graphtab contributors"
release = version = importlib.import_module("nnstore").__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "myst_parser",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
templates_path = ["_templates"]
exclude_patterns = ["_build", "sections", "**/.ipynb_checkpoints"]
root_doc = "index"

# API reference: one page per public name (autosummary), numpydoc sections.
autosummary_generate = True
autosummary_imported_members = True
autodoc_member_order = "bysource"
autodoc_typehints = "none"            # the numpydoc "Parameters" section carries the types
autodoc_inherit_docstrings = False    # scikit-learn's inherited docstrings are not ours to render
numpydoc_show_class_members = False   # the class template lists members through autodoc
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()
numpydoc_xref_param_type = False

myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

html_theme = "alabaster"
html_title = f"graphtab {release}"
html_theme_options = {"description": "Graphs and tables to embeddings, and one neighbour store.",
                      "fixed_sidebar": True, "page_width": "1100px", "sidebar_width": "240px"}

_build_pages.write_all(ROOT, HERE / "_generated")


# -- docstrings written for the terminal as well as for Sphinx --------------------------------------
# Shapes like ``(|V|, F)`` and attribute names like ``trees_`` read naturally in ``help()`` but are
# reStructuredText syntax (substitutions, link targets); outside inline literals they are escaped
# here, so docstrings need not be written for the renderer. Members scikit-learn adds to every
# estimator (``set_fit_request``, ``set_output``, ...) are documented by scikit-learn, not here.
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")
_BARS = re.compile(r"\|(\w[^|\s]*)\|")
_TRAILING = re.compile(r"(?<![\w\\])([A-Za-z]\w*_)(?![\w`])")
_FIELD = re.compile(r"^(\s*[A-Za-z]\w*_?\s*:)(\s.*|)$")


def _escape(text: str, *, field: bool) -> str:
    parts = _LITERAL.split(text)
    for i in range(0, len(parts), 2):
        prefix = ""
        if field and i == 0:
            m = _FIELD.match(parts[0])
            if m:
                prefix, parts[0] = m.group(1), m.group(2)
        escaped = _BARS.sub(r"\\|\1\\|", parts[i])
        parts[i] = prefix + _TRAILING.sub(lambda m: m.group(1)[:-1] + "\\_", escaped)
    return "".join(parts)


_NUMPYDOC_SECTIONS = {"Parameters", "Returns", "Yields", "Receives", "Raises", "Warns", "Other Parameters",
                      "Attributes", "Methods", "See Also", "Notes", "Warnings", "References", "Examples"}


_TERM = re.compile(r"^([A-Za-z_][\w, ]*?) :(\s.*|)$")


# numpydoc also parses the raw class docstrings for its member tables and warns about the
# ``Shapes`` section there; the rendered page gets it through _fold_extra_sections below.
warnings.filterwarnings("ignore", message=r"Unknown section Shapes", category=UserWarning)


def _is_header(lines: list[str], i: int) -> bool:
    return (i + 1 < len(lines) and lines[i].strip() != "" and set(lines[i + 1].strip()) == {"-"}
            and len(lines[i + 1].strip()) >= len(lines[i].strip()) and not lines[i].startswith(" "))


def _fold_extra_sections(lines: list[str]) -> None:
    """Sections numpydoc does not know (``Shapes``, as in PyG's docstrings) would be dropped from the
    page; move each into ``Notes`` under a bold title instead."""
    extra = []
    i = 0
    while i < len(lines):
        if _is_header(lines, i) and lines[i].strip() not in _NUMPYDOC_SECTIONS:
            j = i + 2
            while j < len(lines) and not _is_header(lines, j):
                j += 1
            body = [f"``{m.group(1)}`` :{m.group(2)}" if (m := _TERM.match(line)) else line
                    for line in lines[i + 2:j]]  # "name : type" lines become literal terms of a list
            extra += ["", f"**{lines[i].strip()}**", "", *body]
            del lines[i:j]
        else:
            i += 1
    if not extra:
        return
    notes = next((k for k in range(len(lines)) if _is_header(lines, k) and lines[k].strip() == "Notes"), None)
    if notes is None:
        lines += ["", "Notes", "-----", *extra[1:], ""]
    else:
        end = notes + 2
        while end < len(lines) and not _is_header(lines, end):
            end += 1
        lines[end:end] = [*extra, ""]


def _process_docstring(app, what, name, obj, options, lines):
    if name.split(".")[0] not in {"nnstore", "graphemb", "tabemb", "anomaly", "graphtab"}:
        return
    _fold_extra_sections(lines)
    fence = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        if stripped.startswith(">>>") or stripped.startswith("..."):
            continue
        if stripped.endswith("::"):
            fence = True
        elif fence and stripped and not line.startswith(" "):
            fence = False
        if fence and line.startswith(" "):
            continue
        lines[i] = _escape(line, field=True)


def _skip_member(app, what, name, obj, skip, options):
    module = getattr(obj, "__module__", None) or ""
    qualname = getattr(obj, "__qualname__", "") or ""
    if module.startswith("sklearn") or qualname.startswith("_MetadataRequester"):
        return True
    if name.startswith("set_") and name.endswith("_request"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _process_docstring, priority=400)
    app.connect("autodoc-skip-member", _skip_member)
