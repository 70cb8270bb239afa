"""``graphtab artifact inspect``: verify a saved model or store and print its manifest."""

from __future__ import annotations

import argparse
import json

from ._common import add_command, add_group


def register(sub: argparse._SubParsersAction) -> None:
    verbs = add_group(sub, "artifact", help="inspect saved models and stores (artifacts)",
                      description="Check artifact directories written by graphtab.",
                      dest="artifact_verb")
    p = add_command(verbs, "inspect", help="verify an artifact (manifest, checksums), print its manifest",
                    description="Verify a graphtab artifact directory (its manifest and every file's "
                                "checksum) and print the manifest as JSON.")
    p.add_argument("path", help="artifact directory")
    p.add_argument("--out", default=None, metavar="PATH", help="also write the manifest to this .json file")
    p.add_argument("--kind", default=None, metavar="KIND",
                   help="refuse the artifact unless it is of this kind (e.g. neighbor_store)")
    p.set_defaults(func=_cmd_inspect)


def _cmd_inspect(args: argparse.Namespace) -> int:
    from pathlib import Path

    from nnstore import read_artifact

    if args.out and Path(args.out).suffix.lower() != ".json":
        raise ValueError(f"--out {args.out!r} must end in .json")
    art = read_artifact(args.path, kind=args.kind)
    text = json.dumps(art.manifest, indent=2, sort_keys=True)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
    print(text)
    return 0
