"""Knowledge-graph embeddings: a tiny family graph, held-out facts recovered"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from graphemb import KGEmbedder


def run(workdir: Path) -> None:
    n, held = 20, 5
    train, test = [], []
    for i in range(n):  # married is symmetric; child_of is the inverse of parent_of
        a, b, c = f"person{i}", f"person{n + i}", f"child{i}"
        train += [(a, "married", b), (a, "parent_of", c)]
        (test if i < held else train).extend([(b, "married", a), (c, "child_of", a)])
    cols = ["head", "relation", "tail"]
    train, test = pd.DataFrame(train, columns=cols), pd.DataFrame(test, columns=cols)
    kge = KGEmbedder(model="complex", dim=16, epochs=150, batch_size=64, learning_rate=0.02,
                     random_state=0).fit(train)
    res = kge.evaluate(test, known=[train])
    print(f"{len(train)} training triples; {len(test)} held-out facts (reverse marriages, "
          f"child_of links never seen for those people)")
    print(f"filtered MRR {res['mrr']:.3f}, Hits@1 {res['hits@1']:.3f}, Hits@3 {res['hits@3']:.3f}")
    top = kge.predict_tail("child0", "child_of", k=3)
    print("child0 child_of ? ->", ", ".join(f"{e} ({s:.2f})" for e, s in zip(top["entity"], top["score"],
                                                                          strict=True)),
          "(true answer: person0)")
    kge.save(workdir / "kge")
    same = KGEmbedder.load(workdir / "kge").evaluate(test, known=[train]) == res
    print(f"saved and reloaded: identical evaluation {same}")
