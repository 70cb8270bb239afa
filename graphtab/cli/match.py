"""``graphtab match link`` and ``graphtab match dedupe``: record matching.

Both write ``--out/pairs.parquet`` (index_a, index_b, score, features) and
``--out/clusters.parquet`` (cluster id per record; for linkage the index is
``(table, key)``). Without ``--labels``, when the unsupervised scorer cannot
separate matches from non-matches on the given tables (its match
probabilities are not bimodal: ``RecordMatcher.diagnostics_``), a warning on
stderr says so and points to ``--labels``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from ._common import (
    UsageError,
    add_command,
    add_group,
    add_ids_as_str,
    add_out,
    add_progress,
    add_seed,
    check_model_dir,
    keyed,
    progress,
    read_input,
    validate_early,
)


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "match", help="record linkage and deduplication (RecordMatcher)",
                      description="Find the records of two tables (link) or of one table (dedupe) that "
                                  "are the same entity: embedding blocking, comparators, Fellegi-Sunter "
                                  "(or a supervised scorer with --labels), clusters.", dest="match_verb")
    lk = add_command(verbs, "link", help="link the records of two tables (pairs + clusters)",
                     description="Match the records of table A with those of table B; write "
                                 "--out/pairs.parquet and --out/clusters.parquet.")
    lk.add_argument("a", help="table A (.csv or .parquet)")
    lk.add_argument("b", help="table B (.csv or .parquet)")
    lk.add_argument("--key", nargs="+", default=None, metavar="COL",
                    help="key column of both tables, or of A then B (default: the Parquet index, else "
                         "the row number)")
    lk.add_argument("--map", nargs="+", default=[], metavar="A_COL=B_COL",
                    help="column mapping when the two schemas differ")
    lk.add_argument("--one-to-one", action="store_true", help="each record matches at most one record")
    _common(lk)
    lk.set_defaults(func=_cmd_link)

    dd = add_command(verbs, "dedupe", help="find duplicate records in one table (pairs + clusters)",
                     description="Deduplicate TABLE: embedding blocking, comparators, Fellegi-Sunter, "
                                 "clusters that resist chaining; write --out/pairs.parquet and "
                                 "--out/clusters.parquet.")
    dd.add_argument("table", help="table (.csv or .parquet)")
    dd.add_argument("--key", default=None, metavar="COL",
                    help="key column (default: the Parquet index, else the row number)")
    _common(dd)
    dd.set_defaults(func=_cmd_dedupe)


def _common(p: argparse.ArgumentParser) -> None:
    add_out(p, "output directory (pairs.parquet, clusters.parquet)")
    p.add_argument("--columns", nargs="+", default=None, metavar="COL",
                   help="columns to compare (default: every shared column)")
    p.add_argument("--blocking-key", nargs="+", default=None, metavar="COL",
                   help="exact blocking keys added to the nearest-neighbour candidates")
    p.add_argument("--n-neighbors", type=int, default=10, metavar="K",
                   help="nearest-neighbour candidates per record")
    p.add_argument("--threshold", type=float, default=0.5, metavar="P",
                   help="match probability above which a pair is a match")
    p.add_argument("--labels", default=None, metavar="FILE",
                   help="labelled pairs (index_a, index_b, label): a supervised scorer")
    p.add_argument("--save-model", default=None, metavar="DIR", help="also save the fitted RecordMatcher")
    add_seed(p)
    add_progress(p)
    add_ids_as_str(p)


def _read(path: str, key: str | None, args: argparse.Namespace):
    return keyed(read_input(path, args, id_columns=[key] if key else []), key, repr(path),
                 ids_as_str=args.ids_as_str)


def _matcher(args: argparse.Namespace, mapping=None):
    from tabemb import RecordMatcher

    return validate_early(RecordMatcher(
        columns=args.columns or None, mapping=mapping, blocking_keys=args.blocking_key,
        n_neighbors=args.n_neighbors, threshold=args.threshold,
        one_to_one=getattr(args, "one_to_one", False), random_state=args.seed, verbose=progress(args)))


def _check_out(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    if out.suffix.lower() in {".csv", ".parquet", ".pq", ".tsv"} or (out.exists() and not out.is_dir()):
        raise UsageError(f"--out {args.out!r}: expected a directory (pairs.parquet and clusters.parquet "
                         "are written in it)")
    if args.save_model:
        check_model_dir(args.save_model, option="--save-model")
    return out


def _labels(args: argparse.Namespace):
    if args.labels is None:
        return None
    lab = read_input(args.labels, args, id_columns=["index_a", "index_b"])
    return lab.reset_index() if lab.shape[1] < 3 else lab


def _fit_predict(m, a, b, args: argparse.Namespace):
    """``m.fit_predict`` with the weak-scorer warning printed once, in the CLI's words."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="the unsupervised scorer", category=UserWarning)
        res = m.fit_predict(a, b, labels=_labels(args))
    if res.weak:
        d = res.diagnostics
        print(f"graphtab: warning: the unsupervised scorer is weak on these tables: "
              f"{d['unsure_share']:.0%} of the candidate pairs it does not reject are undecided "
              f"({d['n_unsure']} scored between 0.05 and 0.95, {d['n_sure']} above); expect low precision "
              f"and recall. Label some pairs (CSV/Parquet with index_a, index_b, label) and pass "
              f"--labels FILE to train the supervised scorer.", file=sys.stderr)
    return res


def _write(res, out: Path, args: argparse.Namespace, m) -> int:
    from graphtab._io import write_table

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


def _cmd_link(args: argparse.Namespace) -> int:
    out = _check_out(args)
    mapping = {}
    for item in args.map:
        if "=" not in item:
            raise UsageError(f"--map entries must look like A_COL=B_COL, got {item!r}")
        x, y = item.split("=", 1)
        mapping[x] = y
    keys = args.key or [None]
    if len(keys) > 2:
        raise UsageError(f"--key takes one column (both tables) or two (A then B), got {len(keys)}")
    m = _matcher(args, mapping or None)
    a, b = _read(args.a, keys[0], args), _read(args.b, keys[-1], args)
    res = _fit_predict(m, a, b, args)
    return _write(res, out, args, m)


def _cmd_dedupe(args: argparse.Namespace) -> int:
    out = _check_out(args)
    m = _matcher(args)
    a = _read(args.table, args.key, args)
    res = _fit_predict(m, a, None, args)
    return _write(res, out, args, m)
