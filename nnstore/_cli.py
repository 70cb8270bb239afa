"""The ``graphtab`` command line.

One command, ``graphtab``, with a subcommand per task (``graphtab store build``,
``graphtab node2vec embed``, ...). One command rather than one per package
because users think in tasks, not in our package boundaries, and one
``--help`` lists everything installed. ``main`` lives here, in nnstore, the
package every other one builds on; the other packages add their subcommands
through the ``graphtab.cli`` entry-point group (see pyproject.toml), each
pointing at a ``register(subparsers)`` function, so nnstore never imports them.

A subcommand's handler is set with ``parser.set_defaults(func=handler)``;
``handler(args)`` returns an exit code (0 or None for success). Errors that
are the user's (bad input, a refused artifact) print one line to stderr and
exit 2; ``--debug`` shows the traceback instead.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points

from ._artifact import read_artifact
from ._errors import GraphtabError
from ._version import __version__

logger = logging.getLogger(__name__)


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
    for ep in sorted(entry_points(group="graphtab.cli"), key=lambda e: e.name):
        try:
            register = ep.load()
        except ImportError as e:  # an optional extra may be missing
            logger.warning("graphtab: subcommands of %s unavailable: %s", ep.name, e)
            continue
        register(sub)
    return parser


def register(sub: argparse._SubParsersAction) -> None:
    """nnstore's subcommands: ``inspect``."""
    p = sub.add_parser(
        "inspect",
        help="check a saved artifact (manifest, checksums) and print its manifest",
        description="Verify a graphtab artifact directory and print its manifest as JSON.",
    )
    p.add_argument("path", help="artifact directory")
    p.add_argument("--kind", default=None, help="refuse the artifact unless it is of this kind")
    p.set_defaults(func=_cmd_inspect)


def _cmd_inspect(args: argparse.Namespace) -> int:
    art = read_artifact(args.path, kind=args.kind)
    print(json.dumps(art.manifest, indent=2, sort_keys=True))
    return 0


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
