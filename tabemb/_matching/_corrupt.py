"""Synthetic person records and a FEBRL-style record corruptor.

:func:`generate_people` draws person records (given name, surname, address,
date of birth, social security number) with realistic skew: names and
places are Zipf-distributed over generated vocabularies, so common names
repeat and two different people often share a name.

:func:`corrupt_records` turns each record into an entity with 1 to
``max_cluster_size`` records: the original plus corrupted duplicates, the
number of records per entity drawn from a truncated Zipf law
``P(size = s) ∝ s ** -zipf_exponent``. Each duplicate receives 1 to
``max_modifications`` modifications, each drawn among:

- ``typo``: one character inserted, deleted, substituted (a neighbour on a
  QWERTY keyboard) or two adjacent characters transposed, in a random
  string column;
- ``missing``: a random column set to missing;
- ``swap``: two values swapped (given name and surname, or the two address
  lines, or day and month of the date of birth);
- ``nickname``: the given name replaced by a nickname (or the reverse).

Everything is drawn from a local generator built from ``random_state``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nnstore import check_random_state

__all__ = ["corrupt_records", "generate_people"]

GIVEN = ("james john robert michael william david richard joseph thomas charles christopher daniel "
         "matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy "
         "ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin "
         "scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry "
         "tyler aaron jose adam nathan henry douglas zachary peter kyle walter ethan jeremy harold "
         "keith christian roger noah gerald carl terry sean austin arthur lawrence jesse dylan bryan "
         "joe jordan billy bruce albert willie gabriel logan alan juan wayne roy ralph randy eugene "
         "vincent russell elijah louis bobby philip johnny mary patricia jennifer linda elizabeth "
         "barbara susan jessica sarah karen lisa nancy betty margaret sandra ashley kimberly emily "
         "donna michelle carol amanda dorothy melissa deborah stephanie rebecca sharon laura cynthia "
         "kathleen amy angela shirley anna brenda pamela emma nicole helen samantha katherine "
         "christine debra rachel carolyn janet catherine maria heather diane ruth julie olivia joyce "
         "virginia victoria kelly lauren christina joan evelyn judith megan andrea cheryl hannah "
         "jacqueline martha gloria teresa ann sara madison frances kathryn janice jean abigail alice "
         "judy sophia grace denise amber doris marilyn danielle beverly isabella theresa diana "
         "natalie brittany charlotte marie kayla alexis lori").split()
NICKNAMES = {
    "james": "jim", "john": "jack", "robert": "bob", "michael": "mike", "william": "bill",
    "richard": "dick", "joseph": "joe", "thomas": "tom", "charles": "charlie", "christopher": "chris",
    "daniel": "dan", "matthew": "matt", "anthony": "tony", "donald": "don", "steven": "steve",
    "andrew": "andy", "kenneth": "ken", "timothy": "tim", "ronald": "ron", "edward": "ed",
    "jeffrey": "jeff", "nicholas": "nick", "jonathan": "jon", "stephen": "steve", "samuel": "sam",
    "gregory": "greg", "alexander": "alex", "patrick": "pat", "raymond": "ray", "benjamin": "ben",
    "lawrence": "larry", "gerald": "gerry", "peter": "pete", "zachary": "zach", "douglas": "doug",
    "elizabeth": "liz", "patricia": "pat", "jennifer": "jen", "margaret": "peggy", "susan": "sue",
    "jessica": "jess", "kimberly": "kim", "deborah": "debbie", "rebecca": "becky", "cynthia": "cindy",
    "kathleen": "kathy", "katherine": "kate", "christine": "chris", "pamela": "pam", "samantha": "sam",
    "victoria": "vicky", "abigail": "abby", "dorothy": "dot", "judith": "judy", "frances": "fran",
    "isabella": "bella", "alexis": "lexi", "theresa": "tess", "amanda": "mandy", "barbara": "barb",
}
_SYL = ("an ar ber bro cal car chen dal der don el fer gan gar hal har hen ing jon kel ken lan "
        "lee ley lin low mac mar mer mil mon mor nel ney ord par per ran ris rob ros sen son "
        "stan ter ton tor van ver wal war wel wick wood worth yar zel").split()
_STREET_TYPE = ["street", "road", "avenue", "place", "crescent", "drive", "lane", "court", "circuit",
                "parade"]
_STATES = ["nsw", "vic", "qld", "wa", "sa", "tas", "act", "nt"]
_PREFIX_2 = ["flat", "unit", "villa", "apartment", "rmb", "po box", "cottage", "block"]
_KEYS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def _keyboard_neighbours() -> dict[str, str]:
    pos = {c: (r, i) for r, row in enumerate(_KEYS) for i, c in enumerate(row)}
    out = {}
    for c, (r, i) in pos.items():
        out[c] = "".join(d for d, (r2, i2) in pos.items() if d != c and abs(r2 - r) <= 1 and abs(i2 - i) <= 1)
    for d in "0123456789":
        out[d] = "".join(e for e in "0123456789" if abs(int(e) - int(d)) == 1)
    return out


_NEIGH = _keyboard_neighbours()


def _zipf_choice(rng: np.random.Generator, vocab: np.ndarray, n: int, a: float = 1.0) -> np.ndarray:
    w = 1.0 / np.arange(1, len(vocab) + 1) ** a
    return vocab[rng.choice(len(vocab), size=n, p=w / w.sum())]


def _words(rng: np.random.Generator, n_words: int, lo: int, hi: int) -> np.ndarray:
    """``n_words`` distinct made-up words of ``lo..hi`` syllables."""
    out: list[str] = []
    seen: set[str] = set()
    syl = np.array(_SYL)
    while len(out) < n_words:
        k = rng.integers(lo, hi + 1, size=n_words)
        parts = [syl[rng.integers(0, len(syl), size=n_words)] for _ in range(hi)]
        for i in range(n_words):
            w = "".join(p[i] for p in parts[:k[i]])
            if w not in seen:
                seen.add(w)
                out.append(w)
                if len(out) == n_words:
                    break
    return np.array(out, dtype=object)


def generate_people(n: int, *, household_share: float = 0.25, random_state: Any = None) -> pd.DataFrame:
    """Draw ``n`` person records (different people) in FEBRL's columns.

    Parameters
    ----------
    n : int
        Number of records (>= 1).
    household_share : float, default 0.25
        Share of people who live with another generated person: they take
        that person's surname and whole address (hard non-matches: same
        surname and address, different given name, birth date and number).
    random_state : int, Generator or None

    Returns
    -------
    DataFrame of shape (n, 10), index ``"rec-<i>"``, string columns given_name,
    surname, street_number, address_1, address_2, suburb, postcode, state,
    date_of_birth (``YYYYMMDD``) and soc_sec_id (7 digits); address_2 is
    missing for 60% of the records.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    rng = check_random_state(random_state)
    n_sur = int(min(50_000, max(300, n // 4)))
    surnames = _words(rng, n_sur, 2, 3)
    suburbs = _words(rng, int(min(5000, max(100, n // 50))), 2, 3)
    streets = _words(rng, int(min(20_000, max(200, n // 20))), 1, 3)
    postcode_of = rng.integers(800, 9999, size=len(suburbs))
    state_of = rng.integers(0, len(_STATES), size=len(suburbs))
    sub_i = rng.choice(len(suburbs), size=n, p=(w := 1.0 / np.arange(1, len(suburbs) + 1) ** 0.8) / w.sum())
    street = pd.Series(_zipf_choice(rng, streets, n, 0.6)) + " " + \
        pd.Series(np.array(_STREET_TYPE, dtype=object)[rng.integers(0, len(_STREET_TYPE), n)])
    addr2 = pd.Series(np.array(_PREFIX_2, dtype=object)[rng.integers(0, len(_PREFIX_2), n)]) + " " + \
        pd.Series(rng.integers(1, 300, n).astype(str))
    addr2[rng.random(n) < 0.6] = np.nan
    dob = pd.Timestamp("1930-01-01") + pd.to_timedelta(rng.integers(0, 27_000, n), unit="D")
    df = pd.DataFrame({
        "given_name": _zipf_choice(rng, np.array(GIVEN, dtype=object), n, 0.7),
        "surname": _zipf_choice(rng, surnames, n, 0.6),
        "street_number": rng.integers(1, 400, n).astype(str),
        "address_1": street.to_numpy(dtype=object),
        "address_2": addr2.to_numpy(dtype=object),
        "suburb": suburbs[sub_i],
        "postcode": np.char.zfill(postcode_of[sub_i].astype(str), 4).astype(object),
        "state": np.array(_STATES, dtype=object)[state_of[sub_i]],
        "date_of_birth": dob.strftime("%Y%m%d").to_numpy(dtype=object),
        "soc_sec_id": rng.integers(1_000_000, 9_999_999, n).astype(str).astype(object),
    }, index=pd.Index([f"rec-{i}" for i in range(n)], name="rec_id"))
    n_house = int(household_share * n) if n > 1 else 0
    if n_house:
        member = rng.choice(n, size=n_house, replace=False)
        head = rng.integers(0, n, size=n_house)
        ok = head != member
        shared = ["surname", "street_number", "address_1", "address_2", "suburb", "postcode", "state"]
        df.iloc[member[ok], [df.columns.get_loc(c) for c in shared]] = \
            df.iloc[head[ok], [df.columns.get_loc(c) for c in shared]].to_numpy()
    return df


def _typo(s: str, rng: np.random.Generator) -> str:
    if not s:
        return s
    op = rng.integers(0, 4)
    i = int(rng.integers(0, len(s)))
    c = s[i]
    if op == 0 and len(s) > 1:  # delete
        return s[:i] + s[i + 1:]
    if op == 1 and len(s) > 1 and i < len(s) - 1:  # transpose
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    nb = _NEIGH.get(c, "")
    r = nb[int(rng.integers(0, len(nb)))] if nb else "e"
    if op == 2:  # insert
        return s[:i] + r + s[i:]
    return s[:i] + r + s[i + 1:]  # substitute


def corrupt_records(df: pd.DataFrame, *, max_cluster_size: int = 5, zipf_exponent: float = 1.0,
                    max_modifications: int = 3, probabilities: dict | None = None,
                    columns: list | None = None, random_state: Any = None
                    ) -> tuple[pd.DataFrame, pd.Series]:
    """Add corrupted duplicates to ``df``; return the records and their entity ids.

    Parameters
    ----------
    df : DataFrame
        Clean records, one per entity (unique index).
    max_cluster_size : int, default 5
        Records per entity are drawn from ``1..max_cluster_size``.
    zipf_exponent : float, default 1.0
        ``P(size = s) ∝ s ** -zipf_exponent``.
    max_modifications : int, default 3
        Each duplicate gets ``1..max_modifications`` modifications.
    probabilities : dict, optional
        Relative weights of the modification types ``typo``, ``missing``,
        ``swap``, ``nickname`` (default 0.55, 0.2, 0.1, 0.15).
    columns : list, optional
        Columns that modifications may touch (default: all).
    random_state : int, Generator or None

    Returns
    -------
    records : DataFrame
        The originals (same keys) followed by the duplicates (keys
        ``"<key>-dup-<k>"``), shuffled.
    entity : Series
        The original's key for every record (index = the records' keys).
    """
    if not isinstance(df, pd.DataFrame) or len(df) == 0:
        raise ValueError("df must be a non-empty DataFrame")
    if not df.index.is_unique:
        raise ValueError("df index must be unique")
    if max_cluster_size < 1:
        raise ValueError(f"max_cluster_size must be >= 1, got {max_cluster_size}")
    rng = check_random_state(random_state)
    probs = {"typo": 0.55, "missing": 0.2, "swap": 0.1, "nickname": 0.15}
    probs.update(probabilities or {})
    kinds = list(probs)
    p = np.array([probs[k] for k in kinds], dtype=float)
    p /= p.sum()
    cols = list(columns) if columns is not None else list(df.columns)
    n = len(df)
    sizes = np.arange(1, max_cluster_size + 1)
    w = sizes.astype(float) ** -zipf_exponent
    size = rng.choice(sizes, size=n, p=w / w.sum())
    n_dup = size - 1
    src = np.repeat(np.arange(n), n_dup)
    dup_no = np.concatenate([np.arange(k) for k in n_dup]) if n_dup.sum() else np.zeros(0, dtype=int)
    dups = df.iloc[src].astype(object).copy()
    keys = df.index.to_numpy(dtype=object)
    dups.index = pd.Index([f"{keys[s]}-dup-{d}" for s, d in zip(src, dup_no, strict=True)])
    vals = {c: dups[c].to_numpy(dtype=object).copy() for c in df.columns}
    str_cols = [c for c in cols if pd.api.types.is_object_dtype(df[c]) or pd.api.types.is_string_dtype(df[c])]
    n_mod = rng.integers(1, max_modifications + 1, size=len(dups))
    pairs_swap = [(a, b) for a, b in (("given_name", "surname"), ("address_1", "address_2"))
                  if a in cols and b in cols]
    rev_nick = {v: k for k, v in NICKNAMES.items()}
    for i in range(len(dups)):
        for kind in rng.choice(kinds, size=n_mod[i], p=p):
            if kind == "typo" and str_cols:
                c = str_cols[int(rng.integers(0, len(str_cols)))]
                v = vals[c][i]
                if isinstance(v, str):
                    vals[c][i] = _typo(v, rng)
            elif kind == "missing":
                c = cols[int(rng.integers(0, len(cols)))]
                vals[c][i] = np.nan
            elif kind == "swap":
                if "date_of_birth" in cols and (not pairs_swap or rng.random() < 0.3):
                    v = vals["date_of_birth"][i]
                    if isinstance(v, str) and len(v) == 8:
                        vals["date_of_birth"][i] = v[:4] + v[6:8] + v[4:6]
                elif pairs_swap:
                    a, b = pairs_swap[int(rng.integers(0, len(pairs_swap)))]
                    vals[a][i], vals[b][i] = vals[b][i], vals[a][i]
            elif kind == "nickname" and "given_name" in cols:
                v = vals["given_name"][i]
                if isinstance(v, str):
                    vals["given_name"][i] = NICKNAMES.get(v, rev_nick.get(v, v))
    for c in df.columns:
        dups[c] = vals[c]
    records = pd.concat([df.astype(object), dups])
    entity = pd.Series(np.concatenate([keys, keys[src]]), index=records.index, name="entity")
    order = rng.permutation(len(records))
    records, entity = records.iloc[order], entity.iloc[order]
    return records, entity
