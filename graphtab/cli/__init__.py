"""The ``graphtab`` command line: one command, a subcommand per task.

``graphtab NOUN VERB INPUT... --out PATH``: ``graphtab store build``,
``graphtab node2vec embed``, ... Each noun's module adds its subcommands with a
``register(subparsers)`` function; a handler is set with
``parser.set_defaults(func=handler)`` and returns an exit code (0 or None for
success). Errors that are the user's (bad input, a refused artifact) print one
line to stderr and exit 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from nnstore import GraphtabError, __version__

logger = logging.getLogger(__name__)

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="graphtab",
        description="Graphs and tables to embeddings, and a shared neighbour store.",
    )
    parser.add_argument("--version", action="version", version=f"graphtab {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-v info, -vv debug)")
    parser.add_argument("--debug", action="store_true",
                        help="show full tracebacks instead of one-line errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from . import anomaly, gnn, kge, node2vec, recommend, scaleout, store, tabemb

    anomaly.register(sub)
    gnn.register_gnn(sub)
    store.register_inspect(sub)
    kge.register_kge(sub)
    node2vec.register(sub)
    recommend.register_recommend(sub)
    scaleout.register_scaleout(sub)
    store.register(sub)
    tabemb.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * min(args.verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        code = args.func(args)
    except (GraphtabError, ValueError, KeyError, TypeError, FileNotFoundError) as e:
        if args.debug:
            raise
        msg = e.args[0] if isinstance(e, KeyError) and e.args else e
        print(f"graphtab {args.command}: error: {msg}", file=sys.stderr)
        return 2
    return int(code or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
