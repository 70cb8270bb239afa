"""The README's quick starts run as written, and its command lines name real commands."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SNIPPETS = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
HEADINGS = [h for h in re.findall(r"^### (.+)$", README, flags=re.M)]


def test_readme_is_short_and_has_a_quick_start_per_use_case():
    assert len(README.splitlines()) <= 300
    assert len(SNIPPETS) >= 7
    for use_case in ("Graphs", "Tables", "Neighbour store", "Record matching", "Anomalies",
                     "Recommendation", "Scale-out", "Command line"):
        assert any(h.startswith(use_case) for h in HEADINGS), use_case


@pytest.mark.parametrize("code", SNIPPETS, ids=[f"snippet{i}" for i in range(len(SNIPPETS))])
def test_readme_snippet_runs(code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # snippets that save write here
    exec(compile(code, "README.md", "exec"), {"__name__": "__readme__"})


def test_readme_command_lines_are_real_commands():
    from graphtab.cli import build_parser

    parser = build_parser()
    nouns = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    lines = [ln.split("#")[0].split() for block in re.findall(r"^```bash\n(.*?)^```", README, re.S | re.M)
             for ln in block.splitlines() if ln.startswith("graphtab ")]
    assert len(lines) >= 8
    for argv in lines:
        noun, verb = argv[1], argv[2]
        assert noun in nouns, argv
        verbs = next(a for a in nouns[noun]._actions if a.__class__.__name__ == "_SubParsersAction").choices
        assert verb in verbs, argv
        leaf = verbs[verb]
        known = {o for a in leaf._actions for o in a.option_strings}
        for option in (w for w in argv[3:] if w.startswith("--")):
            assert option in known, (argv, option)
