"""Scale-out benchmark: embed + neighbours + anomaly score, one process vs a local Dask cluster.

Generated records (no data set is read; ``--data`` is accepted for uniformity
and ignored): ``id`` (the key, int64), ``amount`` (log-normal), ``age``,
``balance`` (normal), ``city`` (40 values), ``channel`` (6 values). The
pipeline is the one ``graphtab scaleout`` runs::

    embed=ENCODER  ->  neighbors=STORE:k=5  ->  anomaly=DETECTOR

- encoder: ``TableEncoder(epochs=1, row_text=False)`` fitted on 20,000
  generated records (3 numeric + 2 categorical columns: a light config);
- store: ``NeighborStore`` (cosine, 10 trees) over the embeddings of 200,000
  generated catalogue records, integer keys;
- detector: ``KNNDetector(5, backend="annoy", n_trees=10)`` fitted on the
  embeddings of 20,000 records.

For each size (``--sizes``, default 1M and 10M rows; input written once as
Parquet files of 1M rows, row groups of ``--chunk-rows``) and each mode, a
fresh subprocess runs the job:

``single``
    ``nnstore.map_parquet``: one process, the loop over partitions; torch and
    the Annoy queries may use both cores (the libraries' defaults).
``dask``
    ``nnstore.map_dask`` on ``distributed.LocalCluster(n_workers=2,
    threads_per_worker=1, processes=True)``; the cluster is started before the
    clock starts (its start-up time is reported apart).

Reported: job wall time and rows/s, the speed-up of dask over single at the
same size, the peak RSS of the single process and of each Dask worker
(``VmHWM`` of /proc/self/status, read inside each worker with
``client.run``; also psutil's RSS and its file-backed ``shared`` part at the
end), and whether the two modes' outputs are identical row for row (every
part file compared with ``DataFrame.equals``). The output keeps the key, the
5 neighbour keys and distances and the 3 anomaly columns (the embeddings are
computed and passed between steps but not written, to spare the disk).

Run (it takes both cores; ~20-30 minutes for 1M + 10M on 2 cores)::

    .venv/bin/python benchmarks/scaleout_bench.py

writes ``benchmarks/results/scaleout.json`` (after every run) and
``benchmarks/results/scaleout.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CITIES = [f"city_{i:02d}" for i in range(40)]
CHANNELS = ["web", "app", "shop", "phone", "partner", "mail"]
FILE_ROWS = 1_000_000
K = 5


def records(n: int, seed: int, start_id: int = 0) -> pd.DataFrame:
    """n generated records, index ``id`` = start_id .. start_id + n - 1."""
    rng = np.random.default_rng(seed)
    city_p = rng.dirichlet(np.ones(len(CITIES)) * 0.7)
    df = pd.DataFrame({
        "id": np.arange(start_id, start_id + n, dtype=np.int64),
        "amount": rng.lognormal(3.0, 1.0, n).round(2),
        "age": rng.integers(18, 95, n).astype(np.float64),
        "balance": rng.normal(1000.0, 400.0, n).round(2),
        "city": pd.Categorical.from_codes(rng.choice(len(CITIES), n, p=city_p), CITIES).astype(str),
        "channel": rng.choice(CHANNELS, n, p=[0.4, 0.3, 0.15, 0.1, 0.04, 0.01]),
    })
    outliers = rng.random(n) < 0.001
    df.loc[outliers, "amount"] *= 50.0
    return df.set_index("id")


def build_artifacts(work: Path) -> dict:
    from anomaly import KNNDetector
    from nnstore import NeighborStore
    from tabemb import TableEncoder

    art = work / "artifacts"
    paths = {"embed": art / "encoder", "neighbors": art / "store", "anomaly": art / "detector"}
    if all((p / "manifest.json").exists() for p in paths.values()):
        return paths
    t0 = time.perf_counter()
    enc = TableEncoder(epochs=1, row_text=False, random_state=0).fit(records(20_000, seed=1))
    enc.save(paths["embed"])
    cat = enc.transform(records(200_000, seed=2, start_id=10_000_000_000))
    store = NeighborStore(enc.dim_, metric="cosine", n_trees=10, random_state=0)
    store.add(cat.index.to_numpy(), cat.to_numpy())
    store.save(paths["neighbors"])
    det = KNNDetector(5, backend="annoy", n_trees=10, random_state=0).fit(
        enc.transform(records(20_000, seed=3)).to_numpy())
    det.save(paths["anomaly"])
    print(f"artifacts built in {time.perf_counter() - t0:.1f} s (dim {enc.dim_})", flush=True)
    return paths


def make_input(work: Path, n: int, chunk_rows: int) -> Path:
    d = work / f"input_{n}"
    done = d / "_done"
    if done.exists():
        return d
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    t0 = time.perf_counter()
    for i, start in enumerate(range(0, n, FILE_ROWS)):
        m = min(FILE_ROWS, n - start)
        records(m, seed=1000 + i, start_id=start).to_parquet(d / f"records-{i:03d}.parquet",
                                                             row_group_size=chunk_rows)
    done.touch()
    print(f"input {n} rows written in {time.perf_counter() - t0:.1f} s", flush=True)
    return d


def steps(paths: dict) -> list[str]:
    return [f"embed={paths['embed']}", f"neighbors={paths['neighbors']}:k={K}",
            f"anomaly={paths['anomaly']}"]


def keep_columns() -> list[str]:
    return ([f"neighbor_key_{i}" for i in range(K)] + [f"neighbor_distance_{i}" for i in range(K)]
            + ["anomaly_score", "anomaly_probability", "anomaly_label"])


def _mem() -> dict:
    import psutil

    mi = psutil.Process().memory_info()
    return {"pid": os.getpid(), "peak_rss_mb": _peak_rss_mb(),
            "rss_mb": mi.rss / 2**20, "shared_mb": mi.shared / 2**20}


def _peak_rss_mb() -> float:
    """This process's own peak RSS: VmHWM from /proc (Linux).

    ``ru_maxrss`` is not used where /proc exists: Linux keeps it across fork + exec, so a
    child started by a larger process (this script's parent, a Dask nanny) reports the
    parent's peak when that is higher. VmHWM belongs to the new address space of the exec.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- one run, in a fresh process ----------------------------------------------------------------
def child(mode: str, n: int, work: Path, workers: int) -> dict:
    from graphtab import map_dask, map_parquet

    paths = build_artifacts(work)
    src = work / f"input_{n}"
    out = work / f"out_{mode}_{n}"
    shutil.rmtree(out, ignore_errors=True)
    rec = {"mode": mode, "rows": n}
    if mode == "single":
        t0 = time.perf_counter()
        res = map_parquet(steps(paths), src, out, keep=keep_columns())
        rec["seconds"] = time.perf_counter() - t0
        rec["memory"] = [_mem()]
    else:
        import distributed

        t0 = time.perf_counter()
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
        rec["cluster_start_seconds"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = map_dask(steps(paths), src, out, client=client, keep=keep_columns())
        rec["seconds"] = time.perf_counter() - t0
        rec["memory"] = list(client.run(_mem).values())
        rec["client_peak_rss_mb"] = _mem()["peak_rss_mb"]
        client.close()
        cluster.close()
    rec.update(rows_in=res.rows_in, rows_out=res.rows_out, n_parts=res.n_parts,
               rows_per_s=res.rows_out / rec["seconds"])
    return rec


def compare(work: Path, n: int) -> dict:
    a_dir, b_dir = work / f"out_single_{n}", work / f"out_dask_{n}"
    a_parts, b_parts = sorted(a_dir.glob("part-*.parquet")), sorted(b_dir.glob("part-*.parquet"))
    if [p.name for p in a_parts] != [p.name for p in b_parts]:
        return {"identical": False, "note": "different part files"}
    rows = diff_rows = 0
    max_abs = 0.0
    for a, b in zip(a_parts, b_parts, strict=True):
        x, y = pd.read_parquet(a), pd.read_parquet(b)
        rows += len(x)
        if x.equals(y):
            continue
        same_rows = (x.index == y.index) & (x.eq(y) | (x.isna() & y.isna())).all(axis=1).to_numpy()
        diff_rows += int((~same_rows).sum())
        num = x.select_dtypes("number").columns
        max_abs = max(max_abs, float((x[num] - y[num]).abs().max().max()))
    return {"identical": diff_rows == 0, "rows_compared": rows, "rows_differing": diff_rows,
            "max_abs_diff": max_abs}


def write_markdown(results: dict, path: Path) -> None:
    runs = results["runs"]
    lines = [
        "## Scale-out: embed + neighbours + anomaly score, one process vs Dask "
        "(`benchmarks/scaleout_bench.py`)",
        "",
        f"Run {results['date']} on {results['machine']}. Command:",
        "",
        "```bash",
        results["command"],
        "```",
        "",
        results["setup"],
        "",
        "| rows | mode | partitions | job wall (s) | rows/s | dask / single | peak RSS per process (MB) "
        "| identical to single |",
        "|---:|---|---:|---:|---:|---:|---|---|",
    ]
    by = {(r["rows"], r["mode"]): r for r in runs}
    for r in runs:
        single = by.get((r["rows"], "single"))
        ratio = (f"{r['rows_per_s'] / single['rows_per_s']:.2f}x"
                 if r["mode"] == "dask" and single else "")
        mem = ", ".join(f"{m['peak_rss_mb']:.0f}" for m in r["memory"])
        cmp_ = results["compare"].get(str(r["rows"]), {})
        ident = ""
        if r["mode"] == "dask" and cmp_:
            ident = (f"yes ({cmp_['rows_compared']:,} rows)" if cmp_["identical"] else
                     f"no: {cmp_.get('rows_differing')} rows differ, max abs diff "
                     f"{cmp_.get('max_abs_diff', 0):.3g}")
        start = (f" (+{r['cluster_start_seconds']:.1f} s cluster start)"
                 if "cluster_start_seconds" in r else "")
        lines.append(f"| {r['rows']:,} | {r['mode']} | {r['n_parts']} | {r['seconds']:.1f}{start} | "
                     f"{r['rows_per_s']:,.0f} | {ratio} | {mem} | {ident} |")
    lines += ["", "Memory at the end of each run (psutil; `shared` = file-backed pages such as the "
              "memory-mapped Annoy index and vectors):", "",
              "| rows | mode | process | peak RSS (MB) | RSS at end (MB) | of which shared (MB) |",
              "|---:|---|---|---:|---:|---:|"]
    for r in runs:
        for i, m in enumerate(r["memory"]):
            who = "the process" if r["mode"] == "single" else f"worker {i}"
            lines.append(f"| {r['rows']:,} | {r['mode']} | {who} | {m['peak_rss_mb']:.0f} | "
                         f"{m['rss_mb']:.0f} | {m['shared_mb']:.0f} |")
    if results.get("notes"):
        lines += [""] + [f"- {n}" for n in results["notes"]]
    path.write_text("\n".join(lines) + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="accepted for uniformity; the data is generated")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--modes", nargs="+", default=["single", "dask"], choices=["single", "dask"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--chunk-rows", type=int, default=250_000, help="Parquet row group = partition size")
    ap.add_argument("--work", default="/tmp/graphtab_scaleout_bench", help="scratch directory")
    ap.add_argument("--out", default=str(HERE / "results" / "scaleout.md"))
    ap.add_argument("--keep-output", action="store_true", help="keep the part files after comparing")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-rows", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    if args.child:
        rec = child(args.child, args.child_rows, work, args.workers)
        print("RESULT " + json.dumps(rec), flush=True)
        return 0

    paths = build_artifacts(work)
    import psutil

    results = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                   f"{psutil.virtual_memory().total / 2**30:.0f} GB RAM, Python {platform.python_version()}",
        "command": ".venv/bin/python benchmarks/scaleout_bench.py " + " ".join(
            sys.argv[1:]),
        "setup": (f"Pipeline `embed -> neighbors (k={K}) -> anomaly` on generated records (3 numeric, "
                  "2 categorical columns); TableEncoder `epochs=1, row_text=False`; store: 200,000 "
                  "vectors, cosine, 10 trees; detector: KNNDetector(5), annoy backend, 20,000 training "
                  f"rows. Partitions: Parquet row groups of {args.chunk_rows:,} rows (files of "
                  f"{FILE_ROWS:,} rows). single = `map_parquet` in one process (libraries use both "
                  f"cores); dask = `map_dask` on a LocalCluster of {args.workers} worker processes, 1 "
                  "thread each. Each run in a fresh process."),
        "artifact_bytes": {k: sum(f.stat().st_size for f in Path(p).rglob("*") if f.is_file())
                           for k, p in paths.items()},
        "runs": [], "compare": {}, "notes": [],
    }
    js = Path(args.out).with_suffix(".json")
    for n in args.sizes:
        make_input(work, n, args.chunk_rows)
        for mode in args.modes:
            env = dict(os.environ)
            cmd = [sys.executable, __file__, "--child", mode, "--child-rows", str(n), "--work", str(work),
                   "--workers", str(args.workers)]
            print(f"running {mode} on {n:,} rows ...", flush=True)
            p = subprocess.run(cmd, capture_output=True, text=True, env=env)
            line = [x for x in p.stdout.splitlines() if x.startswith("RESULT ")]
            if p.returncode != 0 or not line:
                print(p.stdout[-3000:], p.stderr[-5000:], flush=True)
                results["notes"].append(f"{mode} at {n:,} rows failed (exit {p.returncode})")
                continue
            rec = json.loads(line[0][7:])
            print(f"  {rec['seconds']:.1f} s, {rec['rows_per_s']:,.0f} rows/s, peak RSS "
                  f"{[round(m['peak_rss_mb']) for m in rec['memory']]} MB", flush=True)
            results["runs"].append(rec)
            js.write_text(json.dumps(results, indent=1))
            write_markdown(results, Path(args.out))
        if {"single", "dask"} <= set(args.modes):
            results["compare"][str(n)] = compare(work, n)
            print(f"  compare: {results['compare'][str(n)]}", flush=True)
        if not args.keep_output:
            for mode in args.modes:
                shutil.rmtree(work / f"out_{mode}_{n}", ignore_errors=True)
        js.write_text(json.dumps(results, indent=1))
        write_markdown(results, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
