"""scripts/bench.py: the generated shoot (plan, files, EXIF, reuse) and the measuring helpers, at a
small frame size so the test stays fast. The timings themselves are never asserted."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

pytest.importorskip("skimage.data")
pytest.importorskip("PIL")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import bench  # noqa: E402

from autocull import decode  # noqa: E402

SMALL = (1200, 800)


def test_plan_is_deterministic_and_shaped_like_a_shoot():
    plan = bench.shoot_plan(60, 7)
    assert plan == bench.shoot_plan(60, 7)
    assert plan != bench.shoot_plan(60, 8)
    assert len(plan) == 60
    jpg = sum(p["ext"] == "jpg" for p in plan)
    assert abs(jpg - (60 - jpg)) <= 5                         # about half JPEG, half DNG
    assert all(1620 <= p["preview_side"] <= 2000 for p in plan if p["ext"] == "dng")
    times = [datetime.fromisoformat(p["when"]) for p in plan]
    assert times == sorted(times)
    assert any(p["faces"] for p in plan) and any(p["blur"] for p in plan)
    bursts = {}
    for p, t in zip(plan, times):
        if p["kind"] == "burst":
            bursts.setdefault((tuple(map(tuple, p["tiles"]))), []).append((p, t))
    assert bursts
    for frames in bursts.values():
        gaps = [(b[1] - a[1]).total_seconds() for a, b in zip(frames, frames[1:])]
        assert all(0.2 <= g <= 0.5 for g in gaps), gaps
        assert len({f[0]["ext"] for f in frames}) == 1           # one camera format per burst
        if len(frames) == frames[0][0]["burst_size"]:
            assert sum(f[0]["blur"] is None for f in frames) == 1  # exactly one sharp frame


def test_generated_files_decode_with_exif_and_are_reused(tmp_path):
    out = tmp_path / "shoot"
    paths, _, reused = bench.generate(out, 6, 7, 14, workers=1, size=SMALL)
    assert not reused and [p.name for p in paths] == sorted(p.name for p in out.iterdir() if decode.is_photo(p))
    plan = {p["name"]: p for p in bench.shoot_plan(6, 7, SMALL)}
    for p in paths:
        d = decode.load(p)
        assert (d.width, d.height) == SMALL
        assert d.source == ("jpeg" if p.suffix == ".jpg" else "embedded_preview")
        assert d.exif["capture_time"] == plan[p.name]["when"]
        assert d.exif["make"] == "AutoCull" and d.exif["exposure_time"] > 0
    assert {p.suffix for p in paths} == {".jpg", ".dng"}
    mtimes = [p.stat().st_mtime_ns for p in paths]
    again, secs, reused = bench.generate(out, 6, 7, 14, workers=1, size=SMALL)
    assert reused and secs == 0 and again == paths
    assert [p.stat().st_mtime_ns for p in paths] == mtimes


def test_sharp_and_blurred_frames_differ():
    import cv2

    plan = bench.shoot_plan(40, 7, SMALL)
    sharp = next(p for p in plan if p["kind"] == "single" and p["blur"] is None)
    blurred = next(p for p in plan if p["kind"] == "blurred")

    def lap(spec):
        g = cv2.cvtColor(bench.render(spec), cv2.COLOR_RGB2GRAY)
        return cv2.Laplacian(cv2.GaussianBlur(g, (0, 0), 1.0), cv2.CV_64F).var()

    assert lap(blurred) < 0.5 * lap(sharp)


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_tree_rss_sees_a_child_process():
    code = "import time; x = bytearray(80 * 2**20); x[::4096] = b'1' * len(x[::4096]); time.sleep(1.0)"
    proc = subprocess.Popen([sys.executable, "-c", code])
    with bench.TreeRss(proc.pid) as rss:
        proc.wait()
    r = rss.result()
    assert r["peak_rss_mb"] >= 80
    assert r["peak_single_process_rss_mb"] >= 80


def test_stats_and_summary():
    s = bench.stats_ms([10, 20, 30, None, 40])
    assert s["n"] == 4 and s["median"] == 25.0 and 38 <= s["p95"] <= 40
    assert bench.stats_ms([])["median"] is None
    report = {"machine": {"cpus": 2, "python": "3.11"},
              "shoot": {"n": 2, "megapixels": 24.0, "jpeg": 1, "dng": 1, "raw_bits": 14, "gb": 0.06},
              "analyze": {"photos_per_s": 1.5, "ok": 2, "photos": 2, "wall_s": 1.3, "peak_rss_mb": 300.0,
                          "peak_single_process_rss_mb": 150.0, "ratio_to_decode_floor": 2.0},
              "daemon": {"error": "RuntimeError: boom"},
              "decode_floor": {"per_photo_ms": bench.stats_ms([40, 60]), "per_photo_ms_jpeg": bench.stats_ms([60]),
                               "per_photo_ms_dng": bench.stats_ms([40]), "sequential_s": 0.1,
                               "parallel_wall_s": 0.2, "workers": 2, "floor_s": 0.1}}
    text = bench.summary(report)
    assert "1.50 photos/s" in text and "2.00x the decode floor" in text and "boom" in text
    assert "50.0 ms median" in text and "floor 0.1 s" in text
