"""``graphtab tabemb fit | embed | link-embed``: table rows to embeddings."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from ._common import (
    UsageError,
    add_command,
    add_group,
    add_ids_as_str,
    add_key,
    add_out,
    add_progress,
    add_seed,
    check_model_dir,
    check_table_out,
    keyed,
    progress,
    read_input,
    validate_early,
)
from .scaleout import add_scaleout_arguments, scaleout_requested

logger = logging.getLogger(__name__)

_KEY_HELP = ("key column of the table (becomes the output's key; default: the Parquet index, else the "
             "row number)")


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "tabemb", help="embed the rows of a table (TableEncoder)",
                      description="Fit a TableEncoder on a table (no labels needed), embed a table's "
                                  "rows with it, or embed two tables for linking.", dest="tabemb_verb")
    f = add_command(verbs, "fit", help="infer the schema and pre-train an encoder on a table",
                    description="Read TABLE (CSV or Parquet), pre-train a TableEncoder without labels "
                                "and save it to --out.")
    f.add_argument("table", help="table to learn from (.csv or .parquet)")
    add_out(f, "model directory to write")
    add_key(f, _KEY_HELP)
    f.add_argument("--epochs", type=int, default=None, metavar="N",
                   help="pre-training epochs (default: TableEncoder's, 0 = the untrained TF-IDF sketch)")
    f.add_argument("--objective", default="contrastive", choices=["contrastive", "masked"],
                   help="self-supervised objective")
    f.add_argument("--schema", nargs="+", default=[], metavar="COL=KIND",
                   help="override inferred column kinds, e.g. zip=categorical notes=skip")
    add_seed(f)
    add_progress(f)
    add_ids_as_str(f)
    f.set_defaults(func=_cmd_fit)

    e = add_command(verbs, "embed", help="embed the rows of a table with a saved encoder",
                    description="Embed every row of TABLE with the encoder at MODEL and write the "
                                "embeddings (key plus emb_0..) to --out; the output feeds `store "
                                "build`, `anomaly fit` and `gnn fit --features` as it is.")
    e.add_argument("model", help="model directory written by `graphtab tabemb fit`")
    e.add_argument("table", help="table to embed (.csv or .parquet)")
    add_out(e, "output embeddings table (.parquet or .csv); a directory with --workers/--dask")
    add_key(e, _KEY_HELP)
    add_ids_as_str(e)
    add_scaleout_arguments(e, description=(
        "With --workers or --dask, --out is a directory of Parquet part files (one per partition of "
        "TABLE) with the --key column and emb_0 .. emb_{d-1}, one row per input row; a rerun resumes."))
    e.set_defaults(func=_cmd_embed)

    k = add_command(verbs, "link-embed", help="embed two tables for linking, hubness-corrected (CSLS)",
                    description="Embed the rows of tables A and B with the encoder at MODEL, adding the "
                                "two hubness columns of TableEncoder.link_embeddings: dot products of "
                                "the written rows rank A-B pairs by CSLS (search them by dot product, "
                                "e.g. `store build --metric dot`). Writes --out/a.parquet and "
                                "--out/b.parquet.")
    k.add_argument("model", help="model directory written by `graphtab tabemb fit`")
    k.add_argument("a", help="table A (.csv or .parquet)")
    k.add_argument("b", help="table B (.csv or .parquet)")
    add_out(k, "output directory (a.parquet, b.parquet)")
    k.add_argument("--key", nargs="+", default=None, metavar="COL",
                   help="key column of both tables, or of A then B (default: the Parquet index, else "
                        "the row number)")
    k.add_argument("--hub-k", type=int, default=3, metavar="K", help="neighbourhood size of the penalties")
    add_ids_as_str(k)
    k.set_defaults(func=_cmd_link_embed)


def _table(path: str, key: str | None, args: argparse.Namespace):
    return keyed(read_input(path, args, id_columns=[key] if key else []), key, repr(path),
                 ids_as_str=args.ids_as_str)


def _cmd_fit(args: argparse.Namespace) -> int:
    from tabemb import TableEncoder

    out = check_model_dir(args.out)
    overrides = {}
    for item in args.schema:
        if "=" not in item:
            raise UsageError(f"--schema entries must look like COL=KIND, got {item!r}")
        col, kind = item.split("=", 1)
        overrides[col] = kind
    epochs = {} if args.epochs is None else {"epochs": args.epochs}
    enc = validate_early(TableEncoder(schema=overrides or None, objective=args.objective,
                                      random_state=args.seed, verbose=progress(args), **epochs))
    df = _table(args.table, args.key, args)
    enc.fit(df)
    enc.save(out)
    print(enc.schema_.to_frame().to_string())
    print(f"saved table_encoder ({enc.dim_} dims, {len(df)} rows) to {out}")
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from graphtab._io import write_table
    from tabemb import TableEncoder

    if scaleout_requested(args):
        from graphtab._scaleout import Step

        from .scaleout import run_batch_scaleout

        run_batch_scaleout(args, Step("embed", args.model), args.table, args.out,
                           id_columns=[args.key] if args.key else [], verbose=False)
        return 0
    out = check_table_out(args.out)
    enc = TableEncoder.load(args.model)
    emb = enc.transform(_table(args.table, args.key, args))
    write_table(emb, out)
    print(f"wrote {emb.shape[0]} x {emb.shape[1]} embeddings to {out}")
    return 0


def _cmd_link_embed(args: argparse.Namespace) -> int:
    from graphtab._io import write_table
    from tabemb import TableEncoder

    out = Path(args.out)
    if out.suffix.lower() in {".csv", ".parquet", ".pq", ".tsv"} or (out.exists() and not out.is_dir()):
        raise UsageError(f"--out {args.out!r}: expected a directory (a.parquet and b.parquet are written "
                         "in it)")
    keys = args.key or [None]
    if len(keys) > 2:
        raise UsageError(f"--key takes one column (both tables) or two (A then B), got {len(keys)}")
    key_a, key_b = keys[0], keys[-1]
    enc = TableEncoder.load(args.model)
    ea, eb = enc.link_embeddings(_table(args.a, key_a, args), _table(args.b, key_b, args),
                                 hub_k=args.hub_k)
    write_table(ea, out / "a.parquet")
    write_table(eb, out / "b.parquet")
    print(f"wrote {ea.shape[0]} x {ea.shape[1]} and {eb.shape[0]} x {eb.shape[1]} hubness-corrected "
          f"embeddings to {out / 'a.parquet'} and {out / 'b.parquet'} (search by dot product)")
    return 0
