"""Run every demo step in order: ``python -m demo [STEP_SUBSTRING ...]``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import tempfile
import time
from pathlib import Path

import demo


def main(argv: list[str]) -> int:
    steps = sorted(m.name for m in pkgutil.iter_modules(demo.__path__) if m.name.startswith("step_"))
    if argv:
        steps = [s for s in steps if any(a in s for a in argv)]
    if not steps:
        print("no demo steps matched", argv, file=sys.stderr)
        return 1
    t_all = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="graphtab-demo-") as tmp:
        for name in steps:
            mod = importlib.import_module(f"demo.{name}")
            title = (mod.__doc__ or name).strip().splitlines()[0]
            print(f"\n=== {title} ===", flush=True)
            t0 = time.perf_counter()
            workdir = Path(tmp) / name
            workdir.mkdir()
            mod.run(workdir)
            print(f"--- {name} done in {time.perf_counter() - t0:.1f} s", flush=True)
    print(f"\ndemo finished in {time.perf_counter() - t_all:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
