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


if __name__ == "__main__":
    for p in sys.argv[1:] or [None]:
        print(time_faces_eyes(p))
