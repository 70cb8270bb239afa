"""Assemble benchmarks/RESULTS.md from the per-topic results pages benchmarks/results/<topic>.md.

Each benchmark owns its page (written by the script, annotated by hand); this script replaces each
``## `` section of RESULTS.md with its page, so people working on different topics never edit the
same big file and the two cannot drift: ``tests/test_layout.py`` runs ``--check``. The docs site
(``make docs``) shows the same pages; the README links to them and is written by hand.

Usage::

    python docs/merge_sections.py            # rewrite benchmarks/RESULTS.md
    python docs/merge_sections.py --check    # exit 1 if it is out of date

Each table entry: (source file, prefix of the existing ``## `` heading it replaces, prefix of
the heading to insert it before when it is new).
"""
import sys
from pathlib import Path

root = Path(__file__).resolve().parents[1]
RESULTS = [
    ("nnstore.md", "## nnstore benchmark", "## Node2Vec"),
    ("nnstore_search.md", "## nnstore search", "## Node2Vec"),
    ("node2vec.md", "## Node2Vec", "## benchmarks/gnn_bench.py"),
    ("gnn.md", "## benchmarks/gnn_bench.py", "## tabemb"),
    ("recommend.md", "## Recommendation", "## tabemb"),
    ("recommend_scale.md", "## Recommenders at 1M", "## tabemb"),
    ("tabemb.md", "## tabemb:", "## Anomaly"),
    ("matching.md", "## tabemb.match", "## Anomaly"),
    ("anomaly.md", "## Anomaly", "## Knowledge-graph"),
    ("scaleout.md", "## Scale-out", "## Knowledge-graph"),
]


def sections(text):
    lines = text.split("\n")
    heads = [i for i, l in enumerate(lines) if l.startswith("## ")]
    return lines, heads


def merge(target, srcdir, table, only, check=False):
    text = original = target.read_text()
    for fname, prefix, before in table:
        if only and fname not in only:
            continue
        src = srcdir / fname
        if not src.exists():
            print("skip (missing):", src.relative_to(root))
            continue
        body = src.read_text().rstrip("\n")
        body = body.split("\n")
        if body[0].startswith("# "):  # a standalone file: demote every heading one level
            fence = False
            for n, l in enumerate(body):
                if l.startswith("```"):
                    fence = not fence
                if not fence and l.startswith("#"):
                    body[n] = "#" + l
        if not body[0].startswith("## "):
            sys.exit(f"{src}: first line must be a '## ' or '# ' heading")
        lines, heads = sections(text)
        # A page may hold several ``## `` sections: every section of RESULTS.md whose heading is
        # one of the page's (or starts with the page's prefix) is removed, and the page goes
        # where the first of them was, so running the script twice changes nothing.
        own = {l for l in body if l.startswith("## ")}
        hit = [i for i in heads if lines[i].startswith(prefix) or lines[i] in own]
        if hit:
            drop = set()
            for i in hit:
                nxt = [h for h in heads if h > i]
                drop.update(range(i, nxt[0] if nxt else len(lines)))
            i = hit[0]
            new = lines[:i] + body + [""] + [l for n, l in enumerate(lines) if n > i and n not in drop]
        else:
            at = [h for h in heads if lines[h].startswith(before)]
            if not at:
                sys.exit(f"{target}: no heading starting with {before!r}")
            i = at[0]
            new = lines[:i] + body + [""] + lines[i:]
            print(f"{target.name}: inserted {fname} before '{before}'")
        text = "\n".join(new)
    if text == original:
        return True
    if check:
        print(f"{target.relative_to(root)} is out of date: run python docs/merge_sections.py")
        return False
    target.write_text(text)
    print(f"rewrote {target.relative_to(root)}")
    return True


def main(argv):
    check = "--check" in argv
    only = {a for a in argv if not a.startswith("--")}
    ok = merge(root / "benchmarks/RESULTS.md", root / "benchmarks/results", RESULTS, only, check)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
