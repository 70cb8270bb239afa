"""`import graphemb` keeps torch out of processes that do not need it."""

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_and_node2vec_do_not_load_torch():
    code = (
        "import sys, networkx as nx, graphemb\n"
        "before = 'torch' in sys.modules\n"
        "graphemb.Node2Vec(dim=8, walk_length=5, n_walks=1, window=2, random_state=0)"
        ".fit(nx.karate_club_graph())\n"
        "print(before, 'torch' in sys.modules)\n"
    )
    assert _run(code) == "False False"


def test_lazy_names_resolve_and_are_listed():
    code = (
        "import sys, graphemb\n"
        "from graphemb import KGEmbedder, read_triples\n"
        "from graphemb._kge import KGEmbedder as K\n"
        "print(KGEmbedder is K, 'torch' in sys.modules, set(graphemb.__all__) <= set(dir(graphemb)))\n"
    )
    assert _run(code) == "True True True"


def test_unknown_attribute_is_an_attribute_error():
    import graphemb

    with pytest.raises(AttributeError, match="no attribute 'NoSuchThing'"):
        graphemb.NoSuchThing  # noqa: B018
