"""tabemb's subcommands of the ``graphtab`` command (see nnstore._cli).

``register(subparsers)`` adds them; it is found through the ``graphtab.cli``
entry-point group declared in pyproject.toml.

    graphtab tabemb fit INPUT --out MODEL_DIR [--key COL] [--epochs N] [--schema col=kind ...]
    graphtab tabemb embed INPUT --model MODEL_DIR --out emb.parquet [--key COL]
        [--workers N | --dask ADDRESS] [--chunk-rows N] [--overwrite]   (--out: a directory then)
    graphtab tabemb link-embed INPUT_A INPUT_B --model MODEL_DIR --out-a A.parquet --out-b B.parquet
        [--key-a COL] [--key-b COL] [--hub-k 3]
"""

from __future__ import annotations

import argparse
import logging

from .scaleout import add_scaleout_arguments, batch_scaleout_requested, run_batch_scaleout

logger = logging.getLogger(__name__)

_SCALEOUT_NOTE = ("With --workers or --dask, --out is a directory of Parquet part files "
                  "(part-NNNNN.parquet, one per partition of INPUT) with the --key column and "
                  "emb_0 .. emb_{d-1}, one row per input row; a rerun resumes.")


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``graphtab tabemb fit`` and ``graphtab tabemb embed``."""
    p = sub.add_parser("tabemb", help="embed the rows of a table (TableEncoder)",
                       description="Fit a TableEncoder on a table, or embed a table's rows.")
    tsub = p.add_subparsers(dest="tabemb_command", metavar="TABEMB_COMMAND")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])

    f = tsub.add_parser("fit", help="infer the schema and pre-train an encoder on INPUT",
                        description="Read INPUT (CSV or Parquet), pre-train a TableEncoder without "
                                    "labels and save it to --out (artifact kind 'table_encoder').")
    f.add_argument("input", help="CSV or Parquet file")
    f.add_argument("--out", required=True, help="model directory to write")
    f.add_argument("--key", default=None, help="key column (becomes the index, not encoded)")
    f.add_argument("--epochs", type=int, default=3, help="pre-training epochs (default 3)")
    f.add_argument("--objective", default="contrastive", choices=["contrastive", "masked"])
    f.add_argument("--schema", nargs="*", default=[], metavar="COL=KIND",
                   help="override inferred kinds, e.g. zip=categorical notes=skip")
    f.add_argument("--random-state", type=int, default=0)
    f.set_defaults(func=_cmd_fit)

    e = tsub.add_parser("embed", help="embed the rows of INPUT with a saved encoder",
                        description="Read INPUT, embed every row with the encoder at --model and write "
                                    "the embeddings (index = key, columns emb_*) to --out.")
    e.add_argument("input", help="CSV or Parquet file")
    e.add_argument("--model", required=True, help="model directory written by `graphtab tabemb fit`")
    e.add_argument("--out", required=True, help="output .parquet or .csv")
    e.add_argument("--key", default=None, help="key column (becomes the index)")
    add_scaleout_arguments(e, description=_SCALEOUT_NOTE)
    e.set_defaults(func=_cmd_embed)

    k = tsub.add_parser("link-embed", help="embed two tables for linking, hubness-corrected (CSLS)",
                        description="Embed the rows of two tables with the encoder at --model and "
                                    "add the two hubness columns of TableEncoder.link_embeddings: "
                                    "dot products of the written rows rank A-B pairs by CSLS "
                                    "(search them by dot product, e.g. NeighborStore(metric='dot')).")
    k.add_argument("input_a", help="CSV or Parquet file, table A")
    k.add_argument("input_b", help="CSV or Parquet file, table B")
    k.add_argument("--model", required=True, help="model directory written by `graphtab tabemb fit`")
    k.add_argument("--out-a", required=True, help="output .parquet or .csv for table A")
    k.add_argument("--out-b", required=True, help="output .parquet or .csv for table B")
    k.add_argument("--key-a", default=None, help="key column of table A (becomes the index)")
    k.add_argument("--key-b", default=None, help="key column of table B (becomes the index)")
    k.add_argument("--hub-k", type=int, default=3, help="neighbourhood size of the penalties (default 3)")
    k.set_defaults(func=_cmd_link_embed)
    __import__("graphtab.cli.match", fromlist=["register_match"]).register_match(tsub)  # link, dedupe


def _read(path: str, key: str | None):
    from graphtab._io import read_table

    return read_table(path, index_col=key)


def _cmd_fit(args: argparse.Namespace) -> int:
    from tabemb import TableEncoder

    overrides = {}
    for item in args.schema:
        if "=" not in item:
            raise ValueError(f"--schema entries must look like COL=KIND, got {item!r}")
        col, kind = item.split("=", 1)
        overrides[col] = kind
    df = _read(args.input, args.key)
    enc = TableEncoder(schema=overrides or None, epochs=args.epochs, objective=args.objective,
                       random_state=args.random_state, verbose=logger.isEnabledFor(logging.INFO))
    enc.fit(df)
    enc.save(args.out)
    print(enc.schema_.to_frame().to_string())
    print(f"saved table_encoder ({enc.dim_} dims, {len(df)} rows) to {args.out}")
    return 0


def _cmd_embed(args: argparse.Namespace) -> int:
    from graphtab._io import write_table
    from tabemb import TableEncoder

    if batch_scaleout_requested(args):
        from graphtab._scaleout import Step

        run_batch_scaleout(args, Step("embed", args.model), args.input, args.out,
                           id_columns=[args.key] if args.key else [], verbose=False)
        return 0
    enc = TableEncoder.load(args.model)
    df = _read(args.input, args.key)
    emb = enc.transform(df)
    write_table(emb, args.out)
    print(f"wrote {emb.shape[0]} x {emb.shape[1]} embeddings to {args.out}")
    return 0


def _cmd_link_embed(args: argparse.Namespace) -> int:
    from graphtab._io import write_table
    from tabemb import TableEncoder

    enc = TableEncoder.load(args.model)
    ea, eb = enc.link_embeddings(_read(args.input_a, args.key_a), _read(args.input_b, args.key_b),
                                 hub_k=args.hub_k)
    write_table(ea, args.out_a)
    write_table(eb, args.out_b)
    print(f"wrote {ea.shape[0]} x {ea.shape[1]} and {eb.shape[0]} x {eb.shape[1]} hubness-corrected "
          f"embeddings to {args.out_a} and {args.out_b} (search by dot product)")
    return 0
