"""The ``graphtab`` command line: one command, ``graphtab NOUN VERB INPUT... --out PATH``.

=============  ====================================================================
noun           verbs
=============  ====================================================================
``store``      ``build`` a neighbour store from an embeddings table, ``query`` it
``node2vec``   ``embed`` a graph's nodes
``gnn``        ``fit`` a GNN embedder (pre-train, fine-tune), ``embed`` with it
``kge``        ``fit`` knowledge-graph embeddings, ``predict``, ``evaluate``
``tabemb``     ``fit`` a table encoder, ``embed`` rows, ``link-embed`` two tables
``match``      ``link`` two tables, ``dedupe`` one
``anomaly``    ``fit`` a detector, ``score`` rows
``recommend``  ``fit`` a recommender, ``top`` items per user, ``similar`` items,
               ``evaluate``
``scaleout``   ``run`` a pipeline of steps over Parquet, locally or on Dask
``artifact``   ``inspect`` a saved model or store
=============  ====================================================================

The shared grammar (spellings, key lookup, exit codes) is in
:mod:`graphtab.cli._common`. Exit codes: 0 success, 2 bad usage or input
(one line on stderr), 1 a failure during the work; ``--debug`` shows
tracebacks.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from nnstore import GraphtabError, __version__

from ._common import HelpFormatter, UsageError, check_device, finish

logger = logging.getLogger(__name__)

__all__ = ["build_parser", "main"]

# exceptions that mean "the input or the usage is wrong" (exit 2); anything else is a failure (1)
_USER_ERRORS = (UsageError, ValueError, TypeError, KeyError, LookupError, FileNotFoundError,
                NotADirectoryError, IsADirectoryError, GraphtabError)


def build_parser() -> argparse.ArgumentParser:
    """The ``graphtab`` parser with every noun and verb."""
    parser = argparse.ArgumentParser(
        prog="graphtab", formatter_class=HelpFormatter,
        description="Graphs and tables to embeddings, and one neighbour store to find what is "
                    "close.\n\nGrammar: graphtab NOUN VERB INPUT... --out PATH [options]",
    )
    parser.add_argument("--version", action="version", version=f"graphtab {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-v info, -vv debug)")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="NOUN")
    from . import anomaly, artifact, gnn, kge, match, node2vec, recommend, scaleout, store, tabemb

    for module in (anomaly, artifact, gnn, kge, match, node2vec, recommend, scaleout, store, tabemb):
        module.register(sub)
    finish(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``graphtab`` with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # argparse: --help/--version (0) or a usage error (2)
        return int(e.code or 0)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    name = " ".join(x for x in (args.command, _verb(args)) if x)
    try:
        check_device(args)
        code = args.func(args)
    except KeyboardInterrupt:
        print(f"graphtab {name}: interrupted", file=sys.stderr)
        return 130
    except _USER_ERRORS as e:
        if args.debug:
            raise
        from graphtab._scaleout import ScaleoutError

        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        if isinstance(e, ScaleoutError):  # partitions failed while running: a failure of the work
            print(f"graphtab {name}: failed: {msg}", file=sys.stderr)
            return 1
        print(f"graphtab {name}: error: {msg}", file=sys.stderr)
        return 2
    except Exception as e:  # a failure during the work
        if args.debug:
            raise
        print(f"graphtab {name}: failed: {type(e).__name__}: {e} (run with --debug for the traceback)",
              file=sys.stderr)
        return 1
    return int(code or 0)


def _verb(args: argparse.Namespace) -> str | None:
    return getattr(args, f"{args.command}_verb", None) if args.command else None
