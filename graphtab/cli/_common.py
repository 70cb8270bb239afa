"""The grammar every ``graphtab`` subcommand shares, written once.

``graphtab NOUN VERB INPUT... --out PATH [options]``:

- inputs (and a saved model, first) are positional; the output is ``--out``;
- one spelling per concept: ``--key`` (the key column of an input), ``--seed``
  (random_state), ``--progress/--no-progress`` (on for a terminal),
  ``--learning-rate``, ``--n-layers``, ``--n-jobs``, ``--chunk-rows``,
  ``--device``, ``--ids-as-str`` (key and id columns read as strings);
- outputs are checked (format, a directory where one is expected) before any
  work; inputs that cannot be read name the file and what was expected;
- exit code 2 for bad usage or input, 1 for a failure during the work, no
  traceback without ``--debug``.

How a key is found, the same way in every command that reads keyed rows
(embeddings, features, labels, tables to embed or score): an explicit
``--key`` column (or a Parquet index of that name); else the index stored in a
Parquet file; else, for an embeddings table, its one column that is not
``emb_*`` (how a CSV written by ``graphtab`` carries its key); else the row
number.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from graphtab._io import read_table, table_format

__all__ = [
    "HelpFormatter",
    "UsageError",
    "add_command",
    "add_device",
    "add_group",
    "add_ids_as_str",
    "add_key",
    "add_n_jobs",
    "add_out",
    "add_progress",
    "add_seed",
    "check_model_dir",
    "check_table_out",
    "deprecated",
    "embedding_matrix",
    "finish",
    "keyed",
    "numeric_matrix",
    "progress",
    "read_input",
    "validate_early",
]

EMB_PREFIX = "emb_"


class UsageError(ValueError):
    """Bad usage or input found by the command line itself (exit code 2)."""


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps descriptions as written and shows every option's default."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (default is None or default is False or default == argparse.SUPPRESS or "default" in text
                or not action.option_strings or (isinstance(default, list) and not default)):
            return text
        if isinstance(default, (list, tuple)):
            default = " ".join(map(str, default))
        return f"{text} (default: {default})"


def _wrap(text: str) -> str:
    return "\n\n".join(textwrap.fill(p, 88) for p in text.split("\n\n"))


def add_command(sub: argparse._SubParsersAction, name: str, *, help: str,
                description: str) -> argparse.ArgumentParser:
    """A subcommand (a verb) with the shared help formatter."""
    return sub.add_parser(name, help=help, description=_wrap(description), formatter_class=HelpFormatter)


def finish(parser: argparse.ArgumentParser) -> None:
    """Positional arguments shown in capitals (``STORE INPUT``), in every subcommand."""
    for action in parser._actions:
        if not action.option_strings and action.metavar is None and action.dest != "help" \
                and not isinstance(action, argparse._SubParsersAction):
            action.metavar = action.dest.upper()
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                finish(child)


def add_group(sub: argparse._SubParsersAction, name: str, *, help: str, description: str,
              dest: str) -> argparse._SubParsersAction:
    """A noun (``graphtab store``) whose verbs are added to the returned subparsers."""
    p = sub.add_parser(name, help=help, description=_wrap(description), formatter_class=HelpFormatter)
    verbs = p.add_subparsers(dest=dest, metavar="VERB")
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])
    return verbs


class _Deprecated(argparse.Action):
    """An old option spelling: stores into the new destination and warns on stderr."""

    def __init__(self, option_strings, dest, *, new: str, **kwargs) -> None:
        self.new = new
        super().__init__(option_strings, dest, help=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        print(f"graphtab: warning: {option_string} is deprecated and will be removed; use {self.new}",
              file=sys.stderr)
        setattr(namespace, self.dest, True if self.nargs == 0 else values)


def deprecated(p: argparse.ArgumentParser, old: str, new: str, dest: str, **kwargs) -> None:
    """Keep ``old`` working (hidden from help) as a spelling of ``new``."""
    p.add_argument(old, dest=dest, action=_Deprecated, new=new, default=argparse.SUPPRESS, **kwargs)


# -- shared options ---------------------------------------------------------------------
def add_out(p: argparse.ArgumentParser, help: str, *, required: bool = True) -> None:
    p.add_argument("--out", required=required, metavar="PATH", help=help)


def add_key(p: argparse.ArgumentParser, help: str = "key column of the input (default: the Parquet "
            "index, else an embeddings table's one non-emb_* column, else the row number)") -> None:
    p.add_argument("--key", default=None, metavar="COL", help=help)


def add_ids_as_str(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ids-as-str", action="store_true",
                   help="read key and id columns as strings (keeps leading zeros; '7' and 7 stay "
                        "different ids)")


def add_seed(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, default=None, metavar="N",
                   help="random seed (random_state); same seed and one thread give the same result")
    deprecated(p, "--random-state", "--seed", "seed", type=int)


def add_progress(p: argparse.ArgumentParser) -> None:
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bars (default: on when stderr is a terminal)")


def add_n_jobs(p: argparse.ArgumentParser, help: str = "threads (-1: all cores)") -> None:
    p.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help=f"{help} (-1: all cores; default: the library's default)")


def _device(text: str) -> str:
    from nnstore import check_device

    try:
        return check_device(text, torch_needed=False)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e).replace("device must", "must")) from None


def add_device(p: argparse.ArgumentParser, default: str | None = "cpu") -> None:
    p.add_argument("--device", type=_device, default=default, metavar="DEVICE",
                   help="torch device: cpu, cuda or cuda:INDEX")


def validate_early(model: Any) -> Any:
    """Check an estimator's parameters before any input is read (bad usage fails fast)."""
    from nnstore import validate_params

    if hasattr(model, "_parameter_constraints"):
        validate_params(model)
    else:  # estimators that have not adopted the declarative constraints yet
        for name in ("_validate_params", "_check_params", "_validate"):
            owner = next((c for c in type(model).__mro__ if name in c.__dict__), None)
            if owner is not None and not owner.__module__.startswith("sklearn"):
                getattr(model, name)()
                break
    return model


def progress(args: argparse.Namespace) -> bool:
    """``--progress`` / ``--no-progress``, else on when stderr is a terminal."""
    value = getattr(args, "progress", None)
    return sys.stderr.isatty() if value is None else bool(value)


def check_device(args: argparse.Namespace) -> None:
    """Before any work: a CUDA ``--device`` must be one torch sees."""
    from nnstore import check_device as _check

    if getattr(args, "device", None):
        _check(args.device)


# -- outputs, checked before the work ----------------------------------------------------
def check_table_out(path: str, *, option: str = "--out") -> Path:
    """An output table: ``.parquet`` or ``.csv``/``.tsv``, not a directory; parent creatable."""
    out = Path(path)
    try:
        table_format(out, role=f"{option} output")
    except ValueError as e:
        raise UsageError(str(e)) from None
    if out.is_dir():
        raise UsageError(f"{option} {path!r} is a directory; expected a .parquet or .csv file path")
    _check_parent(out, option)
    return out


def check_model_dir(path: str, *, option: str = "--out", what: str = "model directory") -> Path:
    """An artifact directory to write: absent, empty, or an existing graphtab artifact (replaced)."""
    out = Path(path)
    if out.exists():
        if not out.is_dir():
            raise UsageError(f"{option} {path!r} is a file; expected a {what} (a directory)")
        if any(out.iterdir()) and not (out / "manifest.json").is_file():
            raise UsageError(f"{option} {path!r} is a non-empty directory that holds no graphtab "
                             f"artifact; refusing to replace it (give a new {what})")
    if out.suffix.lower() in {".csv", ".tsv", ".parquet", ".pq", ".json"}:
        raise UsageError(f"{option} {path!r} looks like a file name; expected a {what} (a directory)")
    _check_parent(out, option)
    return out


def _check_parent(out: Path, option: str) -> None:
    parent = out.resolve().parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise UsageError(f"{option} {str(out)!r}: {str(probe)!r} is a file, so the output cannot be "
                         "created there")


# -- inputs -----------------------------------------------------------------------------
def read_input(path: str, args: argparse.Namespace | None = None, *, id_columns: Sequence[str] = (),
               columns: list[str] | None = None) -> pd.DataFrame:
    """Read an input table; ``--ids-as-str`` reads ``id_columns`` (and ``--key``) as strings."""
    str_cols: list[str] = []
    if args is not None and getattr(args, "ids_as_str", False):
        str_cols = [c for c in (*id_columns, getattr(args, "key", None)) if c]
    return read_table(path, columns=columns, str_columns=str_cols)


def keyed(df: pd.DataFrame, key: str | None, where: str, *, embeddings: bool = False,
          ids_as_str: bool = False) -> pd.DataFrame:
    """``df`` indexed by its key, found the one documented way (module docstring)."""
    if key is not None:
        if key in df.columns:
            df = df.set_index(key)
        elif df.index.name != key:
            raise KeyError(f"key column {key!r} not in {where}; columns: {list(df.columns)[:20]}"
                           + (f", index: {df.index.name!r}" if df.index.name else ""))
    elif not isinstance(df.index, pd.RangeIndex):
        pass  # a Parquet file's stored index
    elif embeddings:
        others = [c for c in df.columns if not (isinstance(c, str) and c.startswith(EMB_PREFIX))]
        if len(others) == 1 and len(others) < df.shape[1]:
            df = df.set_index(others[0])
    if ids_as_str and df.index.dtype != object:
        df.index = df.index.astype(str)
    return df


def embedding_matrix(df: pd.DataFrame, columns: list[str] | None, where: str, *,
                     list_col: str | None = None):
    """The vectors of ``df``: ``columns`` in order, one list column, or the ``emb_*`` columns."""
    import numpy as np

    if list_col is not None:
        if list_col not in df.columns:
            raise KeyError(f"list column {list_col!r} not in {where}; columns: {list(df.columns)[:20]}")
        rows = df[list_col].tolist()
        lens = {len(r) for r in rows}
        if len(lens) > 1:
            raise ValueError(f"list column {list_col!r} in {where} holds vectors of lengths {sorted(lens)}")
        return np.asarray(rows, dtype=np.float32).reshape(len(rows), -1)
    if columns is None:
        columns = [c for c in df.columns if isinstance(c, str) and c.startswith(EMB_PREFIX)]
        if not columns:
            raise ValueError(f"{where} has no emb_* columns; name the vector columns with --columns "
                             "or --list-col")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise KeyError(f"columns {missing[:10]} not in {where}; it has {list(df.columns)[:20]}")
    return numeric_matrix(df[columns], where)


def numeric_matrix(df: pd.DataFrame, where: str):
    """``df`` as a float32 matrix; a column that is not numeric names its first bad cell."""
    import numpy as np

    for c in df.columns:
        s = df[c]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            continue
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise UsageError(f"column {c!r} of {where} is not numeric: row {i} "
                             f"(key {df.index[i]!r}) holds {s.iloc[i]!r}")
    return np.ascontiguousarray(df.apply(pd.to_numeric).to_numpy(dtype=np.float32))


def describe(obj: Any) -> str:
    return type(obj).__name__
