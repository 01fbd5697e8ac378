"""`autocull analyze`: one schema-1 object per photo, input order, exit codes, clean stdout."""

import json
import subprocess
import sys

import pytest

from autocull import cli
from conftest import REPO, shared
from schema import check


def run(*args, env_extra=None):
    import os

    env = dict(os.environ, **(env_extra or {}))
    return subprocess.run([sys.executable, "-m", "autocull", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, env=env, timeout=600)


def lines(proc):
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    for o in out:
        check(o)
    return out


def test_real_raw_files_and_near_duplicates():
    folders = [shared("raw_samples"), shared("raw_samples_2"), shared("near_duplicates")]
    p = run("analyze", "--jsonl", "--recursive", *folders)
    objs = lines(p)
    expected = cli.collect(folders, recursive=True)
    assert [o["path"] for o in objs] == expected  # one per file, in input order
    assert len(objs) >= 20
    by_name = {o["path"].rsplit("/", 1)[-1]: o for o in objs}
    assert by_name["imagemeta_canon.CRW"]["source"] == "embedded_preview"
    assert by_name["kimageformats_RAW_KODAK_C330_FORMAT_NONE_YRGB.raw"]["source"] == "half_size_raw"
    failed = [o for o in objs if not o["ok"]]
    # near_duplicates ships one corrupt file on purpose: it fails alone, the batch goes on
    assert p.returncode == (cli.EXIT_SOME_FAILED if failed else cli.EXIT_OK)
    assert all("corrupt" in o["path"] for o in failed), [o["error"] for o in failed]


def test_bad_files_are_per_photo_errors_and_exit_3(bad_files, real_jpeg):
    p = run("analyze", "--jsonl", bad_files, real_jpeg)
    objs = lines(p)
    assert p.returncode == cli.EXIT_SOME_FAILED
    names = [o["path"].rsplit("/", 1)[-1] for o in objs]
    assert names == sorted(n.name for n in bad_files.iterdir()) + ["real.jpg"]
    assert [o["ok"] for o in objs] == [False] * 6 + [True]
    assert all(o["error"].startswith(o["path"] + ": ") for o in objs[:6])


def test_stdout_is_only_json_lines(real_jpeg):
    p = run("analyze", "--jsonl", real_jpeg)
    assert p.returncode == cli.EXIT_OK
    assert len(p.stdout.splitlines()) == 1
    assert json.loads(p.stdout)["ok"] is True


def test_table_output(real_jpeg):
    p = run("analyze", real_jpeg)
    assert p.returncode == cli.EXIT_OK
    header, row = p.stdout.splitlines()[:2]
    assert header.split()[:5] == ["file", "verdict", "stars", "label", "flag"]
    assert row.startswith("real.jpg")


@pytest.mark.parametrize("args", [[], ["analyze"], ["analyze", "/no/such/folder"], ["frobnicate"],
                                  ["analyze", "--blur-sensitivity", "7", "x.jpg"]])
def test_bad_usage_exits_2(args, tmp_path):
    p = run(*args)
    assert p.returncode == cli.EXIT_USAGE
    assert p.stdout == ""


def test_empty_folder_is_usage_error(tmp_path):
    p = run("analyze", tmp_path)
    assert p.returncode == cli.EXIT_USAGE
    assert "no photos" in p.stderr


def test_folder_listing_sorted_and_recursive(tmp_path):
    (tmp_path / "b.jpg").write_bytes(b"")
    (tmp_path / "a.JPG").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.nef").write_bytes(b"")
    flat = [p.rsplit("/", 1)[-1] for p in cli.collect([tmp_path], recursive=False)]
    assert flat == ["a.JPG", "b.jpg"]
    deep = [p.rsplit("/", 1)[-1] for p in cli.collect([tmp_path], recursive=True)]
    assert deep == ["a.JPG", "b.jpg", "c.nef"]


def test_cache_makes_a_repeat_identical(real_jpeg, tmp_path):
    env = {"AUTOCULL_CACHE_DIR": str(tmp_path / "c")}
    a = run("analyze", "--jsonl", real_jpeg, env_extra=env)
    b = run("analyze", "--jsonl", real_jpeg, env_extra=env)
    assert a.stdout == b.stdout and a.returncode == 0
    assert (tmp_path / "c" / "results.sqlite").exists()


def test_sample_shoot(tmp_path):
    """The bundled sample shoot: every file analysed, and the deterministic parts of its story hold."""
    sys.path.insert(0, str(REPO / "scripts"))
    import make_sample_shoot

    out = tmp_path / "shoot"
    make_sample_shoot.build(out, quiet=True)
    manifest = {f["file"]: f for f in json.loads((out / "manifest.json").read_text())["files"]}
    p = run("analyze", "--jsonl", out)
    objs = {o["path"].rsplit("/", 1)[-1]: o for o in lines(p)}
    assert p.returncode == cli.EXIT_OK
    assert set(objs) == set(manifest)
    by_variant = {}
    for name, o in objs.items():
        by_variant.setdefault(manifest[name]["variant"], []).append(o)
    bracket = by_variant["bracket_+0"] + by_variant["bracket_-2"] + by_variant["bracket_+2"]
    assert {o["group"]["kind"] for o in bracket} == {"bracket"}
    assert len({o["group"]["id"] for o in bracket}) == 1
    assert all(o["verdict"] == "keeper" for o in bracket)
    (misfire,) = by_variant["misfire"]
    assert misfire["exposure"]["state"] == "misfire" and misfire["label"] == "purple"
    (dup,) = by_variant["duplicate"]
    assert dup["group"]["kind"] == "duplicate" and dup["verdict"] == "alternate"
    (dng,) = by_variant["dng"]
    assert dng["source"] == "embedded_preview" and dng["ok"]
    (rotated,) = [o for n, o in objs.items() if manifest[n]["orientation"] == 8]
    assert (rotated["width"], rotated["height"]) == (manifest[rotated["path"].rsplit("/", 1)[-1]]["width"],
                                                     manifest[rotated["path"].rsplit("/", 1)[-1]]["height"])
    burst = [o for o in objs.values() if o["group"] and o["group"]["kind"] == "burst"
             and manifest[o["path"].rsplit("/", 1)[-1]]["variant"].startswith("burst_")]
    assert len(burst) == 5
    (best,) = [o for o in burst if o["group"]["best"]]
    assert manifest[best["path"].rsplit("/", 1)[-1]]["variant"] == "burst_sharp"
    for v in ("defocus", "motion"):
        assert all(o["sharpness"]["blurry"] and o["verdict"] == "reject" for o in by_variant[v]), v
