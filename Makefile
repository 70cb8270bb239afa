# The README's two commands. Each sets itself up on a fresh clone:
#   make demo   virtual environment + install + the end-to-end demo
#   make test   virtual environment + install + ruff + the whole pytest suite (notebooks included)
#   make docs   virtual environment + install + the docs site (Sphinx, warnings are errors) in docs/_build/html
# The environment is rebuilt when pyproject.toml or constraints.txt change.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.graphtab-installed

.PHONY: setup demo test lint docs clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $(STAMP)

demo: setup
	$(PY) -m demo

lint: setup
	$(VENV)/bin/ruff check .

# pytest exits 5 when it collected no test; make treats any non-zero exit as failure,
# so an empty run fails `make test` (and CI) instead of passing silently.
test: lint
	$(PY) -m pytest --nbmake -p no:cacheprovider

# -W --keep-going: every warning (a broken reference, a malformed docstring) is reported, then fails
docs: setup
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache docs/_build docs/_generated
