"""``graphtab tabemb link`` and ``graphtab tabemb dedupe`` (record matching).

    graphtab tabemb link A B --out DIR [--key-a COL] [--key-b COL] [--columns C ...]
                             [--map A_COL=B_COL ...] [--blocking-key COL ...] [--n-neighbors K]
                             [--threshold P] [--one-to-one] [--labels pairs.csv] [--save-model DIR]
    graphtab tabemb dedupe A --out DIR [--key COL] [--columns C ...] [...]

Both write ``DIR/pairs.parquet`` (index_a, index_b, score, features) and
``DIR/clusters.parquet`` (cluster id per record; for linkage the index is
``(table, key)``).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

logger = logging.getLogger(__name__)


def register_match(tsub: argparse._SubParsersAction) -> None:
    """Add ``link`` and ``dedupe`` under ``graphtab tabemb``."""
    lk = tsub.add_parser("link", help="link the records of two tables (pairs + clusters)",
                         description="Match the records of A with those of B: embedding blocking, "
                                     "comparators, Fellegi-Sunter (or trees with --labels).")
    lk.add_argument("a", help="table A (CSV or Parquet)")
    lk.add_argument("b", help="table B (CSV or Parquet)")
    lk.add_argument("--key-a", default=None, help="key column of A (default: Parquet index / CSV row number)")
    lk.add_argument("--key-b", default=None, help="key column of B")
    lk.add_argument("--map", nargs="*", default=[], metavar="A_COL=B_COL",
                    help="column mapping when the schemas differ")
    lk.add_argument("--one-to-one", action="store_true", help="each record matches at most one record")
    _common(lk)
    lk.set_defaults(func=_cmd_link)

    dd = tsub.add_parser("dedupe", help="find duplicate records in one table (pairs + clusters)",
                         description="Deduplicate A: embedding blocking, comparators, Fellegi-Sunter, "
                                     "clusters that resist chaining.")
    dd.add_argument("a", help="table (CSV or Parquet)")
    dd.add_argument("--key", default=None, help="key column (default: Parquet index / CSV row number)")
    _common(dd)
    dd.set_defaults(func=_cmd_dedupe)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", required=True, help="output directory (pairs.parquet, clusters.parquet)")
    p.add_argument("--columns", nargs="*", default=None, help="columns to compare (default: all shared)")
    p.add_argument("--blocking-key", nargs="*", default=None, help="exact blocking keys added to the kNN")
    p.add_argument("--n-neighbors", type=int, default=10)
    p.add_argument("--threshold", type=float, default=0.5)
    p.add_argument("--labels", default=None, help="labelled pairs (index_a, index_b, label): supervised")
    p.add_argument("--save-model", default=None, help="also save the fitted RecordMatcher here")
    p.add_argument("--random-state", type=int, default=0)


def _read(path: str, key: str | None):
    from graphtab._io import read_table

    return read_table(path, index_col=key)


def _matcher(args, mapping=None):
    from tabemb import RecordMatcher

    return RecordMatcher(columns=args.columns or None, mapping=mapping, blocking_keys=args.blocking_key,
                         n_neighbors=args.n_neighbors, threshold=args.threshold,
                         one_to_one=getattr(args, "one_to_one", False), random_state=args.random_state,
                         verbose=logger.isEnabledFor(logging.INFO))


def _write(res, args, m) -> int:
    from graphtab._io import write_table

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    pairs = res.pairs.copy()
    for c in ("index_a", "index_b"):
        if pairs[c].dtype == object:
            pairs[c] = pairs[c].astype(str)
    write_table(pairs, out / "pairs.parquet", index=False)
    clusters = res.clusters.copy()
    clusters.index = clusters.index.set_levels(
        [lv.astype(str) for lv in clusters.index.levels]) if clusters.index.nlevels > 1 else \
        clusters.index.astype(str)
    write_table(clusters, out / "clusters.parquet")
    if args.save_model:
        m.save(args.save_model)
    n_clusters = int(res.clusters["cluster"].nunique())
    print(f"{len(res.candidates)} candidate pairs, {len(res.pairs)} matched pairs, {n_clusters} clusters "
          f"-> {out / 'pairs.parquet'}, {out / 'clusters.parquet'}")
    return 0


def _labels(path: str | None):
    if path is None:
        return None
    from graphtab._io import read_table

    lab = read_table(path)
    return lab.reset_index() if lab.shape[1] < 3 else lab


def _cmd_link(args: argparse.Namespace) -> int:
    mapping = {}
    for item in args.map:
        if "=" not in item:
            raise ValueError(f"--map entries must look like A_COL=B_COL, got {item!r}")
        x, y = item.split("=", 1)
        mapping[x] = y
    a, b = _read(args.a, args.key_a), _read(args.b, args.key_b)
    m = _matcher(args, mapping or None)
    res = m.fit_predict(a, b, labels=_labels(args.labels))
    return _write(res, args, m)


def _cmd_dedupe(args: argparse.Namespace) -> int:
    a = _read(args.a, args.key)
    m = _matcher(args)
    res = m.fit_predict(a, None, labels=_labels(args.labels))
    return _write(res, args, m)
