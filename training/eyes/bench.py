"""Timing of face + eye analysis on one core (for `make bench` and the model card).

    .venv/bin/python training/eyes/bench.py [photo ...]

``time_faces_eyes(path=None, repeats=20)`` -> dict of median milliseconds: ``detect_ms``
(BlazeFace passes), ``mesh_ms`` (face mesh for all faces), ``eyes_ms`` (eye crops + CNN),
``total_ms`` (``faces.detect`` + ``eyes.assess`` as the pipeline calls them) and
``cnn_ms`` (one ``closed_probability`` call), all as CPU time of the process (with one
thread this equals wall time on an idle core, and stays meaningful on a busy machine),
plus ``total_wall_ms`` (wall clock). The photo is decoded (and its full-resolution
pixels cached) before timing, so decoding is not included. Interpreters run with one
thread and OpenCV is limited to one thread. Default photo: a one-face portrait from
``../shared/data/portraits_people`` or, when that is missing, a synthetic frame.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PORTRAITS  # noqa: E402

from autocull import decode  # noqa: E402
from autocull.analyse import eyes, faces  # noqa: E402

DEFAULT = PORTRAITS / "face_recognition_examples" / "examples__obama-720p.jpg"


CLOCK = time.process_time  # CPU time of this (single-threaded) work: robust on a busy machine


def _median_ms(fn, repeats: int, clock=None) -> float:
    clock = clock or CLOCK
    fn()  # warm-up (model loading, caches)
    ts = []
    for _ in range(repeats):
        t = clock()
        fn()
        ts.append((clock() - t) * 1000)
    return statistics.median(ts)


def time_faces_eyes(path: str | Path | None = None, repeats: int = 20) -> dict:
    cv2.setNumThreads(1)
    path = Path(path) if path else DEFAULT
    if path.exists():
        d = decode.load(path)
    else:
        path = Path("<synthetic 1280x720>")
        d = decode.from_array(np.full((720, 1280, 3), 128, np.uint8))
    d.full()
    fs = faces.detect(d)
    detect_ms = _median_ms(lambda: faces.detect(d, landmarks=False), repeats)
    total_det_ms = _median_ms(lambda: faces.detect(d), repeats)
    eyes_ms = _median_ms(lambda: eyes.assess(d, fs), repeats)
    patch = np.random.default_rng(0).integers(0, 255, (24, 24), dtype=np.uint8)
    cnn_ms = _median_ms(lambda: eyes.closed_probability(patch), repeats * 5)
    total_ms = _median_ms(lambda: eyes.assess(d, faces.detect(d)), repeats)
    wall_ms = _median_ms(lambda: eyes.assess(d, faces.detect(d)), repeats, time.perf_counter)
    return {"photo": path.name, "size": f"{d.width}x{d.height}", "faces": len(fs), "repeats": repeats,
            "detect_ms": round(detect_ms, 2), "mesh_ms": round(max(total_det_ms - detect_ms, 0.0), 2),
            "eyes_ms": round(eyes_ms, 2), "total_ms": round(total_ms, 2), "total_wall_ms": round(wall_ms, 2), "cnn_ms": round(cnn_ms, 3),
            "clock": "process CPU time (one thread); total_wall_ms: wall clock"}


def large_frame_jpeg(path: Path, face_px: float, size=(6000, 4000), at=(3200, 2100)) -> Path:
    """A 24 MP JPEG (q90, noisy background) with the default portrait's face shrunk to about
    ``face_px`` wide: the case of ``make bench``'s portrait frames."""
    import simplejpeg

    src = cv2.imread(str(DEFAULT))
    box = faces.detect(decode.from_array(src))[0]["box"]
    k = face_px / box[2]
    small = cv2.resize(src, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    w, h = size
    rng = np.random.default_rng(7)
    grad = np.linspace(60, 190, w, dtype=np.float32)[None, :, None]
    canvas = np.clip(grad + rng.normal(0, 3, (h, w, 3)), 0, 255).astype(np.uint8)   # sensor-like noise
    small = small[:h - at[1], :w - at[0]]
    canvas[at[1]:at[1] + small.shape[0], at[0]:at[0] + small.shape[1]] = small
    path.write_bytes(simplejpeg.encode_jpeg(canvas, 90, colorspace="BGR"))
    return path


def time_large_frame(face_px: float = 140, repeats: int = 7) -> dict:
    """Wall-clock medians on a 24 MP JPEG with one face ``face_px`` wide, the photo decoded
    afresh each time (so any finer decode the face step triggers is counted in it):
    ``detect_ms`` (faces.detect, incl. that decode), ``eyes_ms`` (eyes.assess), ``total_ms``,
    and ``analysis_decode_ms`` (decode.load, not included) for scale; ``at_load``: the finer
    scales decode.load itself decoded (the detail analysers' scale), ``decoded``: those the
    face and eye steps added."""
    import tempfile

    cv2.setNumThreads(1)
    with tempfile.TemporaryDirectory() as td:
        path = large_frame_jpeg(Path(td) / "frame.jpg", face_px)
        rows = []
        for i in range(repeats + 1):
            t0 = time.perf_counter()
            d = decode.load(path)
            t1 = time.perf_counter()
            at_load = sorted(d._scaled) + (["full"] if d._full is not None else [])
            fs = faces.detect(d)
            t2 = time.perf_counter()
            ev = eyes.assess(d, fs)
            t3 = time.perf_counter()
            if i:
                rows.append((t1 - t0, t2 - t1, t3 - t2))
        med = lambda k: round(statistics.median(r[k] for r in rows) * 1000, 1)  # noqa: E731
        return {"photo": f"6000x4000 JPEG q90, one face {face_px:.0f} px wide", "repeats": repeats,
                "faces": len(fs), "state": ev["state"], "analysis_decode_ms": med(0), "detect_ms": med(1),
                "eyes_ms": med(2), "total_ms": round(statistics.median(r[1] + r[2] for r in rows) * 1000, 1),
                "at_load": at_load,
                "decoded": [k for k in sorted(d._scaled) + (["full"] if d._full is not None else []) if k not in at_load],
                "clock": "wall clock, one thread"}


if __name__ == "__main__":
    for p in sys.argv[1:] or [None]:
        print(time_faces_eyes(p))
    for px in (140, 200, 600):
        print(time_large_frame(px))
