"""Grouping benchmark: synthesise n encoded photos and time ``groups.group`` (no decoding).

``bench(n=100_000) -> dict`` returns the wall time of ``group`` and its counters; ``make bench``
calls it. The synthetic shoot looks like a real one: scenes of 1-12 frames 0.1-1 s apart, 3-30 s
between scenes, exposure brackets (-2/0/+2 EV) now and then, copies of some photos in another
folder without capture times, and ~2 % of photos with no capture time at all. Encodings are built
straight from random 32x32 thumbnails (vectorised pHash/histograms), not from decoded images.

    .venv/bin/python training/groups/bench_grouping.py [n] [portrait share] [grey share]
"""

from __future__ import annotations

import math
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "backend"))

from autocull.analyse import groups  # noqa: E402


def _dct_matrix(n: int) -> np.ndarray:
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    m = np.cos(np.pi * (2 * i + 1) * k / (2 * n)) * math.sqrt(2.0 / n)
    m[0] /= math.sqrt(2.0)
    return m.astype(np.float32)


def _hashes(thumbs: np.ndarray) -> list[str]:
    """pHash of many 32x32 grey thumbnails at once (same definition as groups.phash)."""
    d = _dct_matrix(32)[:8]
    low = (d @ thumbs.astype(np.float32) @ d.T).reshape(len(thumbs), 64)
    bits = low > np.median(low, axis=1, keepdims=True)
    packed = np.packbits(bits, axis=1).view(">u8").ravel()
    return [f"{int(v):016x}" for v in packed]


def synthetic_records(n: int, seed: int = 0, faces: float = 0.0, grey: float = 0.0) -> list[dict]:
    """n records with encodings, capture times and EXIF like a real shoot (see the module doc).
    ``faces``: share of scenes that are portraits (a main face in ``eyes.faces`` and a 32x32 face
    crop in the encoding, the scene's face plus noise); ``grey``: share of scenes shot in grey."""
    rng = np.random.default_rng(seed)
    # scene sizes: mostly singles and short bursts
    sizes = []
    while sum(sizes) < n:
        sizes.append(int(rng.choice([1, 1, 1, 2, 3, 4, 6, 8, 12])))
    n_scenes = len(sizes)
    # scene thumbnails: smooth random images (low-frequency noise upsampled)
    base = rng.normal(0, 1, (n_scenes, 4, 4)).astype(np.float32)
    up = np.kron(base, np.ones((8, 8), np.float32))
    scenes = 128 + 40 * up + rng.normal(0, 6, (n_scenes, 32, 32)).astype(np.float32)
    hist_base = rng.dirichlet(np.full(96, 0.3), n_scenes).astype(np.float32)
    scene_of = np.repeat(np.arange(n_scenes), sizes)[:n]
    thumbs = scenes[scene_of] + rng.normal(0, 4, (n, 32, 32)).astype(np.float32)
    shift = rng.integers(-1, 2, n)
    for s in (-1, 1):
        m = shift == s
        thumbs[m] = np.roll(thumbs[m], s, axis=2)
    thumbs = np.clip(thumbs, 0, 255).astype(np.uint8)
    hist = hist_base[scene_of] + rng.dirichlet(np.full(96, 0.5), n).astype(np.float32) * 0.05
    hist /= hist.sum(1, keepdims=True)
    ph = _hashes(thumbs)
    phf = _hashes(thumbs[:, :, ::-1])
    # times: frames 0.1-1 s apart, 3-30 s between scenes
    t0 = datetime(2026, 5, 1, 9, 0, 0)
    gaps = np.where(np.r_[True, scene_of[1:] != scene_of[:-1]],
                    np.exp(rng.uniform(math.log(3), math.log(30), n)), rng.uniform(0.1, 1.0, n))
    times = np.cumsum(gaps)
    bracket_scene = (rng.random(n_scenes) < 0.02) & (np.asarray(sizes) >= 3)
    first = np.searchsorted(scene_of, scene_of)               # index of each scene's first frame
    ev = np.where(bracket_scene[scene_of], np.array([0.0, -2.0, 2.0])[(np.arange(n) - first) % 3], 0.0)
    no_time = rng.random(n) < 0.02
    # portraits and grey scenes from their own generator: the default shoot stays as it was
    frng = np.random.default_rng(seed + 1)
    portrait = (frng.random(n_scenes) < faces)[scene_of]
    is_grey = (frng.random(n_scenes) < grey)[scene_of]
    face_base = 128 + 40 * np.kron(frng.normal(0, 1, (n_scenes, 8, 8)), np.ones((4, 4))).astype(np.float32)
    face_box = np.stack([frng.uniform(1500, 3500, n_scenes), frng.uniform(800, 2000, n_scenes),
                         frng.uniform(600, 1200, n_scenes)], 1)[scene_of]
    face_box[:, :2] += frng.normal(0, 30, (n, 2))
    stamps = [(t0 + timedelta(seconds=float(x))).isoformat(timespec="milliseconds") for x in times]
    blurry = (rng.random(n) < 0.2).tolist()
    prob = rng.random(n).tolist()
    hists = hist.round(5).tolist()
    means = thumbs.reshape(n, -1).mean(1).tolist()
    stds = thumbs.reshape(n, -1).std(1).tolist()
    records = []
    for k in range(n):
        e = float(ev[k])
        face_list, crop = [], None
        if portrait[k]:
            x, y, w = (int(v) for v in face_box[k])
            face_list = [{"box": [x, y, w, w], "main": True}]
            c = np.clip(face_base[scene_of[k]] + frng.normal(0, 8, (32, 32)), 0, 255).astype(np.uint8)
            crop = groups.encode_thumb(c)           # 1024 bytes + 2: the same layout as the face crop
        records.append({
            "path": f"/shoot/{'a' if k % 50 else 'b'}/IMG_{k:06d}.JPG",
            "ok": True,
            "capture_time": None if no_time[k] else stamps[k],
            "exif": {"exposure_bias": e, "exposure_time": 1 / 250 * 2 ** e, "f_number": 4.0, "iso": 200,
                     "make": "Bench", "model": "Cam", "orientation": 1},
            "width": 6000, "height": 4000,
            "sharpness": {"blurry": blurry[k], "probability": prob[k], "region": "frame"},
            "eyes": {"state": "open" if face_list else "no_faces", "faces": face_list},
            "exposure": {"state": "ok"},
            "_encoding": {"v": groups.ENCODING_VERSION, "phash": ph[k], "phash_flip": phf[k], "dhash": ph[k],
                          "hist": hists[k], "thumb": groups.encode_thumb(thumbs[k]),
                          "mean": means[k], "std": stds[k], "colour": not is_grey[k],
                          "width": 6000, "height": 4000, "orientation": 1, "face": crop},
        })
    # the last 1 % of the shoot is replaced by copies of earlier photos in another folder, without
    # capture time (an export)
    n_copy = max(1, n // 100) if n > 10 else 0
    for j, k in enumerate(rng.choice(n - n_copy, n_copy, replace=False) if n_copy else []):
        r = dict(records[int(k)])
        r["path"] = "/export/" + r["path"].rsplit("/", 1)[1]
        r["capture_time"] = None
        records[n - n_copy + j] = r
    return records[:n]


def bench(n: int = 100_000, seed: int = 0, faces: float = 0.0, grey: float = 0.0) -> dict:
    """Synthesise n records and time ``groups.group`` on them (grouping only, one core)."""
    t = time.perf_counter()
    records = synthetic_records(n, seed, faces, grey)
    t_synth = time.perf_counter() - t
    stats: dict = {}
    t, c = time.perf_counter(), time.process_time()
    out = groups.group(records, {}, stats=stats)
    t_group, c_group = time.perf_counter() - t, time.process_time() - c
    grouped = sum(1 for m in out if m)
    return {"n": n, "group_s": round(t_group, 3), "group_cpu_s": round(c_group, 3), "photos_per_s": round(n / t_group) if t_group else None,
            "synthesis_s": round(t_synth, 2), "grouped_photos": grouped, **stats}


if __name__ == "__main__":
    args = sys.argv[1:]
    res = bench(int(args[0]) if args else 100_000, faces=float(args[1]) if len(args) > 1 else 0.0,
                grey=float(args[2]) if len(args) > 2 else 0.0)
    for k, v in res.items():
        print(f"{k:>20}: {v}")
