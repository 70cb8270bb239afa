"""Table embeddings: a people table, corrupted duplicates, nearest-neighbour retrieval"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

FIRST = ["james", "mary", "john", "patricia", "robert", "jennifer", "michael", "linda", "william",
         "elizabeth", "david", "barbara", "richard", "susan", "joseph", "jessica", "thomas", "sarah",
         "charles", "karen", "daniel", "nancy", "matthew", "lisa"]
LAST = ["smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis", "wilson",
        "anderson", "taylor", "thomas", "moore", "martin", "jackson", "thompson", "white", "harris",
        "clark", "lewis", "walker", "hall", "young", "king"]
STREETS = ["high street", "station road", "church lane", "park avenue", "mill road", "king street",
           "queens road", "victoria street", "green lane", "the crescent"]
CITIES = ["springfield", "riverside", "franklin", "greenville", "bristol", "clinton", "fairview",
          "salem", "madison", "georgetown"]


def make_people(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame({
        "first_name": rng.choice(FIRST, n), "last_name": rng.choice(LAST, n),
        "street": [f"{rng.integers(1, 200)} {s}" for s in rng.choice(STREETS, n)],
        "city": rng.choice(CITIES, n),
        "birth_date": pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 25000, n), "D"),
        "income": rng.lognormal(10, 0.4, n).round(0),
        "phone": [f"0{rng.integers(10**8, 10**9)}" for _ in range(n)],
    }, index=pd.Index([f"person-{i}" for i in range(n)], name="key"))


def corrupt(df: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One typo in a name or street, sometimes a missing city or income."""
    out = df.copy()
    for i in range(len(out)):
        col = rng.choice(["first_name", "last_name", "street"])
        v = out.iloc[i][col]
        j = int(rng.integers(1, len(v)))
        out.iloc[i, out.columns.get_loc(col)] = v[:j] + rng.choice(list("aeiourstn")) + v[j + 1:]
    out.loc[rng.random(len(out)) < 0.1, "city"] = np.nan
    out.loc[rng.random(len(out)) < 0.1, "income"] = np.nan
    return out.rename(index=lambda k: k + "-dup")


def run(workdir: Path) -> None:
    import torch

    from tabemb import TableEncoder

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    people = make_people(1000, rng)
    dups = corrupt(people, rng)
    enc = TableEncoder(epochs=1, random_state=0).fit(pd.concat([people, dups]))
    print("inferred schema:")
    print(enc.schema_.to_frame()[["kind", "n_unique", "reason"]].to_string())
    a, b = enc.transform(people).to_numpy(), enc.transform(dups).to_numpy()
    top1 = float(((b @ a.T).argmax(axis=1) == np.arange(len(b))).mean())
    print(f"embedding: {enc.dim_} float32 dims; top-1 retrieval of {len(b)} corrupted duplicates: "
          f"{top1:.3f}")
    enc.save(workdir / "people_encoder")
    back = TableEncoder.load(workdir / "people_encoder")
    same = np.array_equal(back.transform(dups).to_numpy(), b)
    print(f"saved to {workdir / 'people_encoder'}; reloaded encoder gives identical embeddings: {same}")
