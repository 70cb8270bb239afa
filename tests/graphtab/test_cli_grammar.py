"""One CLI grammar, checked over every leaf command: ``graphtab NOUN VERB INPUT... --out PATH``."""

from __future__ import annotations

import argparse
import re

import pytest

from graphtab.cli import build_parser, main

# one spelling per concept: these never appear as a visible option
OLD_SPELLINGS = {"--random-state", "--lr", "--layers", "--chunksize", "--id-col", "--keys-col",
                 "--item-key", "--key-a", "--key-b", "--input", "--output", "--vector-cols", "--model-dir",
                 "--regularization", "--num-threads", "--factors", "--iterations", "--out-a", "--out-b"}
# leaves that print their result (an --out is optional there)
PRINTING = {("artifact", "inspect"), ("kge", "evaluate"), ("recommend", "evaluate")}


def _leaves():
    parser = build_parser()
    nouns = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for noun, p in nouns.choices.items():
        verbs = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
        for verb, leaf in verbs.choices.items():
            yield noun, verb, p, leaf


LEAVES = list(_leaves())


def test_every_noun_has_verbs_and_the_expected_ones_exist():
    names = {(n, v) for n, v, _, _ in LEAVES}
    assert {("store", "build"), ("store", "query"), ("node2vec", "embed"), ("gnn", "fit"), ("gnn", "embed"),
            ("tabemb", "fit"), ("tabemb", "embed"), ("match", "link"), ("match", "dedupe"),
            ("anomaly", "fit"), ("anomaly", "score"), ("recommend", "fit"), ("recommend", "top"),
            ("kge", "fit"), ("scaleout", "run"), ("artifact", "inspect")} <= names


@pytest.mark.parametrize(("noun", "verb", "group", "leaf"), LEAVES,
                         ids=[f"{n}-{v}" for n, v, _, _ in LEAVES])
def test_leaf_follows_the_grammar(noun, verb, group, leaf):
    assert group.description and leaf.description, f"{noun} {verb}: no description"
    help_text = leaf.format_help()
    assert "``" not in help_text and ":func:" not in help_text and ":class:" not in help_text
    options = [a for a in leaf._actions if a.option_strings and a.help != argparse.SUPPRESS]
    for a in options:
        assert a.help, f"{noun} {verb} {a.option_strings}: no help text"
        shown = leaf._get_formatter()._get_help_string(a)
        if a.default not in (None, False, [], argparse.SUPPRESS) and not isinstance(a, argparse._HelpAction):
            assert "default" in shown, f"{noun} {verb} {a.option_strings}: default not shown"
    visible = {s for a in options for s in a.option_strings}
    assert not visible & OLD_SPELLINGS, f"{noun} {verb}: old spellings {visible & OLD_SPELLINGS}"
    for s in visible:
        assert (s == s.lower() and not s.startswith("--no-")) or s == "--no-progress", s
        assert "_" not in s, f"{noun} {verb}: {s} (options use dashes)"
    positionals = [a for a in leaf._actions if not a.option_strings]
    assert positionals, f"{noun} {verb}: no INPUT"
    assert all(a.metavar and a.metavar == a.metavar.upper() for a in positionals)
    assert not any(a.dest in {"out", "output", "out_dir", "model_dir"} for a in positionals), \
        f"{noun} {verb}: the output is an option (--out), not a positional"
    out = [a for a in leaf._actions if "--out" in a.option_strings]
    assert out, f"{noun} {verb}: no --out"
    assert out[0].required or (noun, verb) in PRINTING
    if "--seed" in visible:
        seed = next(a for a in options if "--seed" in a.option_strings)
        assert seed.dest == "seed" and seed.type is int
    if "--progress" in visible:
        assert "--no-progress" in visible


def test_old_spellings_still_parse_with_a_warning(capsys):
    args = build_parser().parse_args(["store", "build", "x.parquet", "--out", "s", "--random-state", "3"])
    assert args.seed == 3
    assert "--random-state is deprecated" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [[], ["store"], ["store", "nope"], ["store", "build"],
                                  ["store", "build", "x", "--out"], ["node2vec", "embed", "e.csv"]])
def test_bad_usage_exits_2_without_a_traceback(argv, capsys):
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out


@pytest.mark.parametrize(("content", "suffix", "message"), [
    (b"", ".csv", r"is empty \(0 bytes\)"),
    (b"src,dst\n\x00\x01", ".csv", "binary data"),
    ("src,dst\ncaf\xe9,b\n".encode("latin-1"), ".csv", "not UTF-8"),
    (b"src,dst\n1,2\n3,4,5,6\n", ".csv", "not a well-formed CSV"),
    (b"PAR1garbage", ".csv", "holds Parquet data"),
])
def test_unreadable_inputs_exit_2_naming_the_file(tmp_path, capsys, content, suffix, message):
    path = tmp_path / f"edges{suffix}"
    path.write_bytes(content)
    assert main(["node2vec", "embed", str(path), "--out", str(tmp_path / "e.parquet")]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and "edges.csv" in err and "Traceback" not in err


def test_failures_during_work_exit_1(tmp_path, capsys, monkeypatch):
    import graphemb

    def boom(self, *a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(graphemb.Node2Vec, "fit", boom)
    (tmp_path / "e.csv").write_text("src,dst\na,b\n")
    assert main(["node2vec", "embed", str(tmp_path / "e.csv"), "--out", str(tmp_path / "o.parquet")]) == 1
    err = capsys.readouterr().err
    assert "failed: RuntimeError: disk on fire" in err and "--debug" in err and "Traceback" not in err
