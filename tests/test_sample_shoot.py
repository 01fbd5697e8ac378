"""scripts/make_sample_shoot.py: the bundled sample shoot is built from scikit-image's photos with
real EXIF (capture times with milliseconds, exposure bias), decodes, and is idempotent and
deterministic."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import cv2
import pytest

pytest.importorskip("skimage.data")
pytest.importorskip("PIL")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import make_sample_shoot  # noqa: E402

from autocull import decode, exif  # noqa: E402


@pytest.fixture(scope="module")
def shoot(tmp_path_factory):
    out = tmp_path_factory.mktemp("shoot") / "sample_shoot"
    files = make_sample_shoot.build(out, quiet=True)
    manifest = json.loads((out / "manifest.json").read_text())
    return out, files, {f["file"]: f for f in manifest["files"]}


def t(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def test_files_and_manifest(shoot):
    out, files, man = shoot
    names = sorted(p.name for p in out.iterdir() if decode.is_photo(p))
    assert names == [p.name for p in files] == sorted(man)
    assert len(names) == 17
    assert sum(n.endswith(".dng") for n in names) == 2
    variants = [m["variant"] for m in man.values()]
    for v in ("sharp", "defocus", "motion", "duplicate", "misfire", "dng", "dng_raw_only"):
        assert v in variants
    assert sum(v.startswith("burst_") for v in variants) == 5
    assert sorted(m["exposure_bias"] for m in man.values() if m["variant"].startswith("bracket_")) == [-2, 0, 2]


def test_exif_capture_time_and_bias(shoot):
    out, files, man = shoot
    for p in files:
        e = exif.read(p)
        m = man[p.name]
        assert e["capture_time"] == m["capture_time"], p.name
        assert len(e["capture_time"].split(".")[1]) == 3
        assert e["exposure_bias"] == pytest.approx(m["exposure_bias"]), p.name
        assert e["make"] == "AutoCull" and e["model"] == "Sample Camera"
        assert e["iso"] in (100, 200) and e["f_number"] == pytest.approx(4.0)
        assert e["exposure_time"] > 0
    assert exif.read(out / "IMG_0011.jpg")["exposure_bias"] == pytest.approx(-2.0)
    assert exif.read(out / "IMG_0008.jpg")["orientation"] == 8


def test_burst_and_bracket_timing(shoot):
    _, _, man = shoot
    burst = sorted((m for m in man.values() if m["variant"].startswith("burst_")), key=lambda m: m["file"])
    times = [t(m["capture_time"]) for m in burst]
    gaps = [(b - a).total_seconds() for a, b in zip(times, times[1:])]
    assert all(0.2 <= g <= 0.5 for g in gaps), gaps
    assert [m["variant"] for m in burst].count("burst_sharp") == 1
    bracket = [t(m["capture_time"]) for m in man.values() if m["variant"].startswith("bracket_")]
    assert (max(bracket) - min(bracket)).total_seconds() <= 0.2
    dup = [m for m in man.values() if m["scene"] == "motorcycle_left"]
    assert len(dup) == 2 and dup[0]["capture_time"] == dup[1]["capture_time"]


def _sharpness(d) -> float:
    g = d.gray
    g = cv2.resize(g, (600, round(600 * g.shape[0] / g.shape[1])), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(g, cv2.CV_64F).var())


def test_decode_every_photo(shoot):
    out, files, man = shoot
    decoded = {p.name: decode.load(p) for p in files}
    for name, d in decoded.items():
        m = man[name]
        assert (d.width, d.height) == (m["width"], m["height"]), name
        expect = {"dng": "embedded_preview", "dng_raw_only": "half_size_raw"}.get(m["variant"], "jpeg")
        assert d.source == expect, name
        assert d.image.shape[1] >= d.image.shape[0]       # every scene is landscape or square, upright
    # the blurred variants really are softer than their sharp counterparts
    assert _sharpness(decoded["IMG_0002.jpg"]) < 0.2 * _sharpness(decoded["IMG_0001.jpg"])
    assert _sharpness(decoded["IMG_0009.jpg"]) < 0.2 * _sharpness(decoded["IMG_0008.jpg"])
    sharp = _sharpness(decoded["IMG_0005.jpg"])
    for n in ("IMG_0003.jpg", "IMG_0004.jpg", "IMG_0006.jpg", "IMG_0007.jpg"):
        assert _sharpness(decoded[n]) < 0.5 * sharp, n
    assert decoded["IMG_0015.jpg"].gray.mean() < 5                  # the misfire
    assert decoded["IMG_0011.jpg"].gray.mean() < decoded["IMG_0010.jpg"].gray.mean() \
        < decoded["IMG_0012.jpg"].gray.mean()                       # -2, 0, +2 EV


def test_idempotent_and_deterministic(shoot, tmp_path):
    out, files, _ = shoot
    before = {p.name: p.stat().st_mtime_ns for p in files}
    make_sample_shoot.build(out, quiet=True)
    assert {p.name: p.stat().st_mtime_ns for p in files} == before          # left alone
    (out / "IMG_0015.jpg").unlink()                                            # incomplete: rebuilt
    again = make_sample_shoot.build(out, quiet=True)
    assert (out / "IMG_0015.jpg").is_file()
    other = make_sample_shoot.build(tmp_path / "other", quiet=True)
    for a, b in zip(again, other):
        assert a.read_bytes() == b.read_bytes(), a.name
