"""tabemb's subcommands of the ``graphtab`` command (see nnstore._cli).

``register(subparsers)`` adds them; it is found through the ``graphtab.cli``
entry-point group declared in pyproject.toml.
"""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add tabemb's subcommands to ``sub`` (none yet)."""
