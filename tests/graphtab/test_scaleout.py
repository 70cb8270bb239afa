"""Scale-out: chunk functions, the artifact cache, map_parquet and map_dask (a real 2-process cluster)."""

import json
import os
import re
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import graphtab
from anomaly import KNNDetector
from graphtab import ScaleoutError, Step, load_artifact_cached, map_dask, map_parquet, run_pipeline
from graphtab._scaleout import (
    artifact_cache_info,
    clear_artifact_cache,
    get_chunk_function,
    map_partitions,
)
from graphtab.cli import main
from nnstore import ArtifactError, NeighborStore
from tabemb import TableEncoder

N = 300


@pytest.fixture(scope="module")
def client():
    """A local cluster of 2 worker processes (1 thread each), as ``map_dask(workers=2)`` starts."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    c = distributed.Client(cluster)
    # the workers import torch & co. while the first tests run (a cold worker takes seconds)
    warm = [c.submit(exec, "import graphtab._chunks, tabemb, anomaly, graphemb, torch", workers=[w],
                     pure=False) for w in c.scheduler_info()["workers"]]
    yield c
    del warm
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def art(tmp_path_factory, client):
    """A tiny TableEncoder, a store over 100 records' embeddings and a detector; input Parquet."""
    d = tmp_path_factory.mktemp("scaleout")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({
        "amount": rng.normal(size=N).round(3),
        "age": rng.integers(18, 90, size=N).astype(float),
        "city": rng.choice(["ams", "ber", "par", "rom"], size=N),
    }, index=pd.Index([f"r{i:03d}" for i in range(N)], name="id"))
    enc = TableEncoder(epochs=0, row_text=False, random_state=0).fit(df)
    enc.save(d / "enc")
    emb = enc.transform(df)
    store = NeighborStore(enc.dim_, metric="euclidean", n_trees=5, random_state=0)
    store.add(np.arange(100), emb.to_numpy()[:100])
    store.save(d / "store")
    det = KNNDetector(3, backend="exact").fit(emb.iloc[100:])
    det.save(d / "det")
    df.to_parquet(d / "in.parquet", row_group_size=60)  # 5 row groups -> 5 partitions
    steps = [Step("embed", d / "enc"), Step("neighbors", d / "store", {"k": 3}),
             Step("anomaly", d / "det")]
    return {"dir": d, "df": df, "enc": enc, "emb": emb, "store": store, "det": det, "steps": steps}


def test_run_pipeline_appends_each_steps_columns(art):
    df = art["df"].iloc[:50]
    out = run_pipeline(df, art["steps"])
    d = art["enc"].dim_
    assert list(out.columns[:3]) == ["amount", "age", "city"]
    assert list(out.columns[3:3 + d]) == [f"emb_{i}" for i in range(d)]
    assert out.index.equals(df.index)
    emb = art["enc"].transform(df)
    np.testing.assert_allclose(out[emb.columns].to_numpy(), emb.to_numpy(), rtol=1e-6, atol=1e-6)
    keys, dists, _ = art["store"].query_arrays(emb.to_numpy(), 3)
    for i in range(3):
        assert out[f"neighbor_key_{i}"].tolist() == list(keys[:, i])
        np.testing.assert_allclose(out[f"neighbor_distance_{i}"], dists[:, i], rtol=1e-5)
    assert out["neighbor_key_0"].dtype == "Int64"
    # the first 50 records are in the store: each is its own nearest neighbour
    assert (out["neighbor_key_0"].to_numpy() == np.arange(50)).all()
    sf = art["det"].score_frame(emb.to_numpy())
    np.testing.assert_allclose(out["anomaly_score"], sf["score"], rtol=1e-6)
    assert out["anomaly_label"].tolist() == sf["label"].tolist()
    assert set(out["anomaly_label"]) <= {0, 1} and out["anomaly_probability"].between(0, 1).all()


def test_step_names_resolve_to_the_builtin_chunk_functions():
    from graphtab._chunks import anomaly_chunk as score_chunk
    from graphtab._chunks import embed_chunk, neighbors_chunk

    assert get_chunk_function("embed") is embed_chunk
    assert get_chunk_function("neighbors") is neighbors_chunk
    assert get_chunk_function("anomaly") is score_chunk
    with pytest.raises(ValueError, match=r"unknown step 'nope'; known steps: \['anomaly', 'embed'"):
        get_chunk_function("nope")


def test_step_parse():
    assert Step.parse("neighbors=stores/a:k=10:search_k=200") == \
        Step("neighbors", "stores/a", {"k": 10, "search_k": 200})
    assert Step.parse("embed=C:/models/enc") == Step("embed", "C:/models/enc", {})
    assert Step.parse("anomaly=det:prefix=risk:method=unify").options == {"prefix": "risk",
                                                                         "method": "unify"}
    with pytest.raises(ValueError, match="NAME=ARTIFACT"):
        Step.parse("embed")


def test_cache_loads_once_per_process_and_reloads_a_resaved_artifact(art, tmp_path):
    calls = []

    def loader(p):
        calls.append(p)
        return NeighborStore.load(p)

    art["store"].save(tmp_path / "s")
    clear_artifact_cache()
    a = load_artifact_cached(loader, tmp_path / "s")
    b = load_artifact_cached(loader, str(tmp_path / "s" / ".." / "s"))
    assert a is b and len(calls) == 1
    assert artifact_cache_info()["loads"] == {str((tmp_path / "s").resolve()): 1}
    os.utime(tmp_path / "s" / "manifest.json", ns=(1, 1))  # as if saved again
    c = load_artifact_cached(loader, tmp_path / "s")
    assert c is not a and len(calls) == 2
    assert artifact_cache_info()["cached"] == [str((tmp_path / "s").resolve())]
    clear_artifact_cache()


def _read(path):
    return pd.read_parquet(path)


def test_map_parquet_writes_checked_parts_and_resumes(art, tmp_path):
    out = tmp_path / "out"
    res = map_parquet(art["steps"], art["dir"] / "in.parquet", out)
    assert (res.n_parts, res.n_written, res.n_skipped, res.rows_in, res.rows_out) == (5, 5, 0, N, N)
    assert [p.name for p in res.parts] == [f"part-{i:05d}.parquet" for i in range(5)]
    got = _read(out)
    pd.testing.assert_frame_equal(got, run_pipeline(art["df"], art["steps"]), check_exact=False,
                                  rtol=1e-5)
    marker = json.loads((out / "_markers" / "part-00001.json").read_text())
    assert marker["rows_in"] == marker["rows_out"] == 60 and marker["first_row"] == 60
    assert json.loads((out / "_SUCCESS").read_text()) == {"n_parts": 5, "rows": N}
    again = map_parquet(art["steps"], art["dir"] / "in.parquet", out)
    assert (again.n_written, again.n_skipped) == (0, 5)
    # chunk_rows re-partitions the same rows; keep selects the written columns
    res = map_parquet(art["steps"], art["dir"] / "in.parquet", tmp_path / "o2", chunk_rows=128,
                      keep=["neighbor_key_0", "anomaly_score"])
    assert res.n_parts == 3
    pd.testing.assert_frame_equal(_read(tmp_path / "o2"), got[["neighbor_key_0", "anomaly_score"]])


def test_a_different_job_into_the_same_directory_is_refused(art, tmp_path):
    map_parquet(art["steps"][:1], art["dir"] / "in.parquet", tmp_path / "o")
    with pytest.raises(ValueError, match="another job .*steps"):
        map_parquet(art["steps"], art["dir"] / "in.parquet", tmp_path / "o")
    res = map_parquet(art["steps"], art["dir"] / "in.parquet", tmp_path / "o", overwrite=True)
    assert res.n_written == 5


def test_bad_steps_and_inputs_are_refused_before_any_work(art, tmp_path):
    src = art["dir"] / "in.parquet"
    with pytest.raises(ValueError, match="unknown step 'embedd'"):
        map_parquet(["embedd=" + str(art["dir"] / "enc")], src, tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="step 'neighbors': artifact .*nowhere.* does not exist"):
        map_parquet([("neighbors", tmp_path / "nowhere")], src, tmp_path / "o")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ArtifactError, match="no manifest.json"):
        map_parquet([("neighbors", tmp_path / "empty")], src, tmp_path / "o")
    with pytest.raises(FileNotFoundError, match="input .*missing.parquet.* does not exist"):
        map_parquet(art["steps"], tmp_path / "missing.parquet", tmp_path / "o")
    with pytest.raises(ValueError, match="chunk_rows must be a positive int"):
        map_parquet(art["steps"], src, tmp_path / "o", chunk_rows=0)
    assert not (tmp_path / "o").exists()


def test_a_step_that_loses_rows_or_columns_is_an_error(art):
    def drop_one(chunk, artifact):
        return chunk.iloc[1:]

    with pytest.raises(ScaleoutError, match="step .*drop_one' returned 49 rows for a chunk of 50"):
        run_pipeline(art["df"].iloc[:50], [Step(drop_one, art["dir"])])
    with pytest.raises(KeyError, match=r"embed: the chunk lacks column\(s\) \['city'\]"):
        run_pipeline(art["df"][["amount", "age"]], art["steps"][:1])
    with pytest.raises(ValueError, match=r"already has column\(s\) \['emb_0'"):
        run_pipeline(art["df"].iloc[:5], art["steps"][:1] * 2)


FLAKY = textwrap.dedent('''
    """A chunk function that fails on the chunk holding a marked row while a flag file exists."""
    from pathlib import Path

    from graphtab import append_columns
    import pandas as pd


    def flaky_chunk(chunk, artifact, *, poison):
        if (Path(artifact) / "FAIL").exists() and poison in chunk.index:
            raise RuntimeError(f"injected failure at row {poison}")
        return append_columns(chunk, pd.DataFrame({"checked": [1] * len(chunk)}), step="flaky")
''')


@pytest.fixture(scope="module")
def flaky(tmp_path_factory, client):
    d = tmp_path_factory.mktemp("flaky")
    (d / "scaleout_flaky_steps.py").write_text(FLAKY)
    sys.path.insert(0, str(d))
    client.upload_file(str(d / "scaleout_flaky_steps.py"))  # the workers import it too
    import scaleout_flaky_steps

    yield scaleout_flaky_steps.flaky_chunk
    sys.path.remove(str(d))


def test_dask_cluster_gives_the_single_process_output(art, client, tmp_path):
    single = map_parquet(art["steps"], art["dir"] / "in.parquet", tmp_path / "single")
    res = map_dask(art["steps"], art["dir"] / "in.parquet", tmp_path / "dask", client=client)
    assert (res.n_parts, res.n_written, res.rows_in, res.rows_out) == (5, 5, N, N)
    assert single.rows_out == res.rows_out
    for a, b in zip(single.parts, res.parts, strict=True):
        pd.testing.assert_frame_equal(_read(a), _read(b))  # identical, row for row
    # every worker that ran a partition loaded each artifact once, however many partitions it ran
    infos = client.run(artifact_cache_info)
    assert len({i["pid"] for i in infos.values()} | {os.getpid()}) == 3  # worker processes
    pids = {json.loads(p.read_text())["pid"] for p in (tmp_path / "dask" / "_markers").glob("*.json")}
    loaded = [i for i in infos.values() if i["pid"] in pids]
    assert loaded
    for i in loaded:
        assert len(i["loads"]) == 3 and set(i["loads"].values()) == {1}
    # a lazy map_partitions over a dask DataFrame gives the same rows
    import dask.dataframe as dd

    ddf = dd.read_parquet(art["dir"] / "in.parquet")
    lazy = map_partitions(ddf, art["steps"]).compute()
    pd.testing.assert_frame_equal(lazy, _read(tmp_path / "single"), check_exact=False, rtol=1e-5,
                                  check_dtype=False, check_index_type=False)


def test_dask_failed_partition_is_named_and_a_rerun_completes_only_it(art, client, flaky, tmp_path):
    flag_dir = tmp_path / "flag"
    flag_dir.mkdir()
    (flag_dir / "FAIL").touch()
    steps = [art["steps"][0], Step(flaky, flag_dir, {"poison": "r130"})]  # row 130: part 2
    out = tmp_path / "out"
    with pytest.raises(ScaleoutError, match=r"1 of 5 partitions failed: part-00002\. part-00002: "
                                            r"RuntimeError: injected failure at row r130") as ei:
        map_dask(steps, art["dir"] / "in.parquet", out, client=client)
    assert set(ei.value.failed) == {"part-00002"}
    assert not (out / "part-00002.parquet").exists() and not (out / "_SUCCESS").exists()
    failed = json.loads((out / "_markers" / "part-00002.failed.json").read_text())
    assert "injected failure" in failed["error"]
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet")}
    assert sorted(before) == ["part-00000.parquet", "part-00001.parquet", "part-00003.parquet",
                              "part-00004.parquet"]
    (flag_dir / "FAIL").unlink()  # the cause goes away: rerun the same job
    res = map_dask(steps, art["dir"] / "in.parquet", out, client=client)
    assert (res.n_written, res.n_skipped, res.rows_in, res.rows_out) == (1, 4, N, N)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.parquet") if p.name in before} == before
    assert not (out / "_markers" / "part-00002.failed.json").exists()
    got = _read(out)
    assert got.index.equals(art["df"].index) and (got["checked"] == 1).all()


def test_cli_scaleout(art, tmp_path, capsys):
    d = art["dir"]
    argv = ["scaleout", "run", str(d / "in.parquet"), "--out", str(tmp_path / "o"),
            "--step", f"embed={d / 'enc'}", "--step", f"neighbors={d / 'store'}:k=2",
            "--step", f"anomaly={d / 'det'}", "--keep", "neighbor_key_0", "anomaly_label",
            "--chunk-rows", "100", "--no-progress"]
    assert main(argv) == 0
    assert "300 rows in 3 partitions" in capsys.readouterr().out
    got = _read(tmp_path / "o")
    assert list(got.columns) == ["neighbor_key_0", "anomaly_label"] and len(got) == N
    assert main([*argv[:5], "--step", "nope=x", "--no-progress"]) == 2
    assert "unknown step 'nope'" in capsys.readouterr().err
    assert main([*argv, "--workers", "2", "--dask", "tcp://x:1"]) == 2  # argparse: not both
    assert "not allowed with argument" in capsys.readouterr().err


def test_public_names():
    for name in ("Step", "map_parquet", "map_dask", "run_pipeline", "load_artifact_cached",
                 "ScaleoutError", "append_columns"):
        assert name in graphtab.__all__


# -- recommendations as a chunk function ---------------------------------------------------
@pytest.fixture(scope="module")
def rec(tmp_path_factory):
    """A small Recommender on 3 planted groups (users of group g see items of genre g); int item ids."""
    from graphemb import Recommender

    d = tmp_path_factory.mktemp("rec")
    rng = np.random.default_rng(1)
    rows = [(f"u{g}_{u}", 100 * g + int(i)) for g in range(3) for u in range(8)
            for i in rng.choice(8, size=5, replace=False)]
    inter = pd.DataFrame(rows, columns=["user", "item"])
    model = Recommender(dim=8, epochs=10, batch_size=64, random_state=0).fit(inter)
    model.save(d / "model")
    users = pd.DataFrame({"user": [f"u{g}_{u}" for g in range(3) for u in range(8)] + ["stranger", "u0_0"],
                          "note": range(26)})
    users.to_parquet(d / "users.parquet", row_group_size=10)  # 3 partitions
    return {"dir": d, "model": Recommender.load(d / "model"), "users": users}


def _long_from_wide(wide, id_col, item, score, k):
    """(id, rank, item, score) rows of a wide output, missing ranks dropped (as Recommender.recommend)."""
    out = []
    for _, r in wide.iterrows():
        for i in range(k):
            if not pd.isna(r[f"{item}_{i}"]):
                out.append((r[id_col], i, r[f"{item}_{i}"], r[f"{score}_{i}"]))
    return pd.DataFrame(out, columns=[id_col, "rank", "item", "score"])


def test_recommend_chunk_equals_the_recommender(rec):
    from graphtab._chunks import recommend_chunk

    users = rec["users"]
    out = recommend_chunk(users, rec["dir"] / "model", k=4)
    assert out.index.equals(users.index) and list(out.columns[:2]) == ["user", "note"]
    assert list(out.columns[2:]) == [f"rec_item_{i}" for i in range(4)] + [f"rec_score_{i}" for i in range(4)]
    assert out["rec_item_0"].dtype == "Int64" and out["rec_score_0"].dtype == np.float32
    expected = rec["model"].recommend(users["user"].tolist(), 4)
    got = _long_from_wide(out, "user", "rec_item", "rec_score", 4)
    assert got["user"].tolist() == expected["user"].tolist()
    assert got["rank"].tolist() == expected["rank"].tolist()
    assert got["item"].tolist() == expected["item"].tolist()
    np.testing.assert_array_equal(got["score"].to_numpy(np.float32), expected["score"].to_numpy(np.float32))
    # seen items excluded unless asked; an unknown user gets the popular items or fails the chunk
    seen = set(rec["model"].seen_items("u1_3"))
    row = out.loc[users["user"] == "u1_3", [f"rec_item_{i}" for i in range(4)]].iloc[0]
    assert not seen & set(row.tolist())
    incl = recommend_chunk(users.iloc[:3], rec["dir"] / "model", k=4, exclude_seen=False, prefix="all")
    assert list(incl.columns[2:4]) == ["all_item_0", "all_item_1"]
    with pytest.raises(KeyError, match="unknown users"):
        recommend_chunk(users, rec["dir"] / "model", k=4, unknown_users="error")
    with pytest.raises(KeyError, match="no user column 'customer'"):
        recommend_chunk(users, rec["dir"] / "model", user_col="customer")
    with pytest.raises(ValueError, match="k must be a positive int, got 0"):
        recommend_chunk(users, rec["dir"] / "model", k=0)
    assert len(recommend_chunk(users.iloc[:0], rec["dir"] / "model", k=2).columns) == 6
    assert get_chunk_function("recommend") is recommend_chunk


def test_recommend_step_on_dask_matches_the_single_process_run(rec, client, tmp_path):
    steps = [Step("recommend", rec["dir"] / "model", {"k": 3})]
    single = map_parquet(steps, rec["dir"] / "users.parquet", tmp_path / "single")
    res = map_dask(steps, rec["dir"] / "users.parquet", tmp_path / "dask", client=client)
    assert (single.n_parts, res.n_parts, res.rows_out) == (3, 3, 26)
    pd.testing.assert_frame_equal(_read(tmp_path / "single"), _read(tmp_path / "dask"))


# -- the batch subcommands with --workers / --dask --------------------------------------------
def test_cli_tabemb_embed_with_local_workers(art, tmp_path, capsys):
    d = art["dir"]
    src = tmp_path / "in.parquet"
    art["df"].reset_index().to_parquet(src, row_group_size=100)
    assert main(["tabemb", "embed", str(d / "enc"), str(src), "--key", "id",
                 "--out", str(tmp_path / "one.parquet")]) == 0
    assert main(["tabemb", "embed", str(d / "enc"), str(src), "--key", "id",
                 "--out", str(tmp_path / "many"), "--workers", "1"]) == 0  # 1: a cold cluster is slow
    assert "embed: 300 rows in 3 partitions on 1 local Dask worker" in capsys.readouterr().out
    one = pd.read_parquet(tmp_path / "one.parquet")
    many = pd.read_parquet(tmp_path / "many")
    assert list(many.columns) == ["id", *one.columns] and many.index.equals(pd.RangeIndex(N))
    pd.testing.assert_frame_equal(many.set_index("id"), one)


def test_cli_store_query_anomaly_score_recommend_top_on_a_dask_scheduler(art, rec, client, tmp_path,
                                                                       capsys):
    d, address = art["dir"], client.scheduler.address
    emb = art["emb"].rename_axis("id").reset_index()
    emb.to_parquet(tmp_path / "emb.parquet", row_group_size=150)
    # store query: the wide dask output holds the same (query, rank, key, distance) rows
    q = ["store", "query", str(d / "store"), str(tmp_path / "emb.parquet"), "--k", "3", "--key", "id"]
    assert main([*q, "--out", str(tmp_path / "q.parquet"), "--no-progress"]) == 0
    assert main([*q, "--out", str(tmp_path / "q"), "--dask", address, "--no-progress"]) == 0
    assert f"neighbors: 300 rows in 2 partitions on Dask scheduler {address}" in capsys.readouterr().out
    wide = pd.read_parquet(tmp_path / "q")
    assert list(wide.columns) == ["id"] + [f"neighbor_key_{i}" for i in range(3)] + \
        [f"neighbor_distance_{i}" for i in range(3)]
    long = pd.read_parquet(tmp_path / "q.parquet")
    got = _long_from_wide(wide, "id", "neighbor_key", "neighbor_distance", 3)
    assert got["id"].tolist() == long["query"].tolist() and got["item"].tolist() == long["key"].tolist()
    np.testing.assert_allclose(got["score"].to_numpy(float), long["distance"], rtol=1e-6)
    # anomaly score: same scores, key column kept
    s = ["anomaly", "score", str(d / "det"), str(tmp_path / "emb.parquet"), "--key", "id", "--no-progress"]
    assert main([*s, "--out", str(tmp_path / "s.parquet")]) == 0
    assert main([*s, "--out", str(tmp_path / "s"), "--dask", address, "--chunk-rows", "100"]) == 0
    assert "anomaly: 300 rows in 3 partitions" in capsys.readouterr().out
    one = pd.read_parquet(tmp_path / "s.parquet")
    many = pd.read_parquet(tmp_path / "s").set_index("id")
    assert list(many.columns) == ["anomaly_score", "anomaly_probability", "anomaly_label"]
    np.testing.assert_array_equal(many["anomaly_score"].to_numpy(), one["score"].to_numpy())
    assert many["anomaly_label"].tolist() == one["label"].tolist() and many.index.equals(one.index)
    # recommend top --users: same recommendations as the in-process command
    r = ["recommend", "top", str(rec["dir"] / "model"), str(rec["dir"] / "users.parquet"), "--k", "3"]
    assert main([*r, "--out", str(tmp_path / "r.parquet")]) == 0
    assert main([*r, "--out", str(tmp_path / "r"), "--dask", address]) == 0
    assert "recommend: 26 rows in 3 partitions" in capsys.readouterr().out
    wide = pd.read_parquet(tmp_path / "r")
    assert list(wide.columns[:2]) == ["user", "rec_item_0"]
    long = pd.read_parquet(tmp_path / "r.parquet")
    got = _long_from_wide(wide, "user", "rec_item", "rec_score", 3)
    assert got["user"].tolist() == long["user"].tolist() and got["item"].tolist() == long["item"].tolist()
    # scores are float32 dot products: a batch of a different size may round in the last place
    np.testing.assert_allclose(got["score"].to_numpy(np.float32), long["score"].to_numpy(np.float32),
                               rtol=1e-6, atol=1e-6)
    # a rerun resumes: nothing rewritten
    assert main([*r, "--out", str(tmp_path / "r"), "--dask", address]) == 0
    assert "(0 written, 3 already complete" in capsys.readouterr().out


def test_cli_batch_scaleout_errors(art, rec, tmp_path, capsys):
    d = art["dir"]
    art["emb"].to_parquet(tmp_path / "emb.parquet")
    cases = [
        (["anomaly", "score", str(d / "det"), str(tmp_path / "emb.parquet"), "--out",
          str(tmp_path / "s.parquet"), "--overwrite"],
         "--overwrite only applies with --workers N or --dask ADDRESS"),
        (["store", "query", str(d / "store"), str(tmp_path / "emb.parquet"), "--by-key", "--key", "id",
          "--out", str(tmp_path / "q"), "--workers", "2"], "--by-key and --list-col are not supported"),
        (["recommend", "top", str(rec["dir"] / "model"), "--out", str(tmp_path / "r"), "--workers", "2"],
         "--workers / --dask need USERS"),
        (["tabemb", "embed", str(d / "enc"), str(tmp_path / "emb.parquet"), "--out",
          str(tmp_path / "e.csv"), "--workers", "2"], "give a directory name"),
        (["recommend", "top", str(rec["dir"] / "model"), str(rec["dir"] / "users.parquet"),
          "--user-col", "customer", "--out", str(tmp_path / "r"), "--workers", "2"],
         r"column\(s\) \['customer'\] not in the input"),
    ]
    for argv, msg in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert re.search(msg, err), (msg, err)
    assert not (tmp_path / "q").exists() and not (tmp_path / "r").exists()
