"""autocull.analyse.eyes and the public autocull.eyes.closed_probability.

Real photos and eye patches come from ../shared/data (read in place; skipped when absent).
The TFLite-vs-Keras parity test needs TensorFlow (``make test`` installs it).
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

import autocull.eyes
from autocull import decode, models
from autocull.analyse import eyes as E
from autocull.analyse import faces as F

from conftest import shared

ROOT = Path(__file__).resolve().parents[1]


def _patches(n_per_class: int = 40):
    """CEW eye patches of the split's test part (never trained on): (images, labels)."""
    import sys

    sys.path.insert(0, str(ROOT / "training" / "eyes"))
    from common import cew_group  # noqa: E402
    from train import split_groups  # noqa: E402  (no TensorFlow at import)

    folder = shared("cew_eye_patches")
    rows = list(csv.DictReader(open(folder / "labels.csv")))
    labels = np.array([r["label"] == "closed" for r in rows], np.float32)
    part, _ = split_groups(np.array([cew_group(r["face_id"]) for r in rows]), labels)
    test = [r for r, p in zip(rows, part) if p == "test"]
    picked = [r for r in test if r["label"] == "closed"][:n_per_class] + \
             [r for r in test if r["label"] == "open"][:n_per_class]
    imgs = [cv2.imread(str(folder / r["file"]), cv2.IMREAD_GRAYSCALE) for r in picked]
    return imgs, np.array([r["label"] == "closed" for r in picked])


def _one_face_photo():
    return cv2.imread(str(shared("portraits_people", "face_recognition_examples", "examples__obama-720p.jpg")))


# ---------------------------------------------------------------- public function

def test_public_alias_is_the_analyser_function():
    assert autocull.eyes.closed_probability is E.closed_probability
    assert "closed" in E.closed_probability.__doc__


def test_model_is_small_full_integer_int8():
    path = models.model_path("eyes")
    assert path.stat().st_size <= 100 * 1024
    it = models.interpreter("eyes")
    assert it.get_input_details()[0]["dtype"] == np.int8
    assert it.get_output_details()[0]["dtype"] == np.int8
    for t in it.get_tensor_details():  # weights and activations quantised (biases int32)
        assert t["dtype"] in (np.int8, np.int32), (t["name"], t["dtype"])


def test_closed_probability_accepts_gray_bgr_float_any_size():
    rng = np.random.default_rng(1)
    gray = rng.integers(0, 255, (37, 53), dtype=np.uint8)
    outs = [
        autocull.eyes.closed_probability(gray),
        autocull.eyes.closed_probability(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)),
        autocull.eyes.closed_probability(gray.astype(np.float32) / 255.0),
        autocull.eyes.closed_probability(cv2.resize(gray, (240, 170))),
        autocull.eyes.closed_probability(gray[:8, :8]),
    ]
    for p in outs:
        assert isinstance(p, float) and 0.0 <= p <= 1.0
    # gray, BGR and float versions of one image are the same input after preparation
    assert outs[0] == pytest.approx(outs[1], abs=1e-6) and outs[0] == pytest.approx(outs[2], abs=0.02)


def test_closed_probability_rejects_non_images():
    for bad in (np.zeros(10, np.uint8), np.zeros((1, 1), np.uint8), np.zeros((4, 4, 2, 2), np.uint8)):
        with pytest.raises(ValueError):
            autocull.eyes.closed_probability(bad)


def test_closed_probability_separates_held_out_cew_patches():
    imgs, closed = _patches()
    p = np.array([autocull.eyes.closed_probability(i) for i in imgs])
    acc = ((p >= 0.5) == closed).mean()
    assert acc >= 0.9, acc
    assert p[closed].mean() > 0.7 and p[~closed].mean() < 0.3


def test_closed_probability_on_an_upscaled_bgr_crop_matches_the_patch():
    imgs, _ = _patches(10)
    for im in imgs:
        big = cv2.cvtColor(cv2.resize(im, (96, 96), interpolation=cv2.INTER_CUBIC), cv2.COLOR_GRAY2BGR)
        assert abs(E.closed_probability(big) - E.closed_probability(im)) < 0.25


def test_tflite_matches_keras():
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    model = keras.models.load_model(ROOT / "models" / "eyes.keras")
    imgs, _ = _patches()
    x = np.stack([E.prepare_patch(i) for i in imgs]).astype(np.float32)[..., None] / 255.0
    pk = model.predict(x, verbose=0)[:, 0]
    pt = np.array([E._run(E.prepare_patch(i)) for i in imgs])
    diff = np.abs(pk - pt)
    # int8 rounding: small on average; a few patches near the decision edge move more
    assert diff.mean() < 0.02 and np.percentile(diff, 95) < 0.06 and diff.max() < 0.3
    assert ((pk >= 0.5) == (pt >= 0.5)).mean() >= 0.97


# ---------------------------------------------------------------- per face and per photo

def test_no_face_photo():
    d = decode.load(shared("portraits_people", "dlib_examples_faces", "dogs.jpg"))
    r = E.assess(d, F.detect(d))
    assert r["state"] == "no_faces" and r["faces"] == []


def test_group_photo_every_face_judged_or_explained():
    """A collage of ~24 faces, 95-270 px wide: most are found (faces under half the largest
    face's width are not searched for with tiles), each is judged or says why not."""
    d = decode.load(shared("portraits_people", "dlib_examples_faces", "bald_guys.jpg"))
    fs = F.detect(d)
    r = E.assess(d, fs)
    assert len(r["faces"]) == len(fs) >= 15
    xs = [f["box"][0] for f in r["faces"]]
    assert xs == sorted(xs)  # numbered left to right
    for i, f in enumerate(r["faces"]):
        assert f["index"] == i + 1 and f["state"] in ("open", "closed", "unsure")
        if f["state"] == "unsure":
            assert f["why"]
        else:
            assert 0.0 <= f["closed_probability"] <= 1.0
    states = [f["state"] for f in r["faces"]]
    # all eyes in this collage are open: (nearly) all judged open, at most one false "closed"
    assert states.count("open") >= 0.8 * len(states)
    assert states.count("closed") <= 1
    assert r["state"] in ("open", "unsure", "closed")


def test_closed_eyes_are_found_and_named(tmp_path):
    """Yale 'sleepy' (eyes closed) vs the same person's 'normal' frame."""
    Image = pytest.importorskip("PIL.Image")  # the Yale files are GIFs (OpenCV cannot read them)

    def load(rel):
        with Image.open(shared("yale_faces", rel)) as im:
            rgb = np.asarray(im.convert("RGB"))
        return decode.from_array(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))

    closed = opened = 0
    for subject in ("02", "05", "08", "10", "11"):
        for cond in ("sleepy", "normal"):
            d = load(f"{cond}/subject{subject}.{cond}.gif")
            r = E.assess(d, F.detect(d))
            if cond == "sleepy" and r["state"] == "closed":
                closed += 1
                assert r["summary"].startswith("eyes closed: face 1 of 1")
            if cond == "normal" and r["state"] == "open":
                opened += 1
    assert closed >= 4 and opened >= 4, (closed, opened)


def test_tiny_face_is_unsure():
    src = _one_face_photo()
    f = F.detect(decode.from_array(src))[0]["box"]
    # shrink the photo until the face is ~30 px wide, inside a larger frame
    k = 30.0 / f[2]
    small = cv2.resize(src, None, fx=k, fy=k, interpolation=cv2.INTER_AREA)
    canvas = np.full((480, 640, 3), 120, np.uint8)
    canvas[100:100 + small.shape[0], 200:200 + small.shape[1]] = small
    d = decode.from_array(canvas)
    fs = F.detect(d)
    assert len(fs) == 1 and fs[0]["box"][2] < 45
    r = E.assess(d, fs)
    assert r["faces"][0]["state"] == "unsure" and r["faces"][0]["why"] == "face too small"
    assert r["state"] == "unsure"


def test_face_crossing_the_border_is_judged_without_error():
    src = _one_face_photo()
    f = F.detect(decode.from_array(src))[0]["box"]
    # the frame ends at the middle of the far eye: half of the face is outside
    cut = src[f[1] - f[3] // 3:, : f[0] + int(f[2] * 0.72)]
    d = decode.from_array(cut)
    fs = F.detect(d)
    assert fs
    r = E.assess(d, fs)
    face = r["faces"][0]
    assert face["state"] in ("open", "unsure")  # eyes are open; a cut eye may make it unsure
    x, y, w, h = face["box"]
    assert x + w <= d.width and y >= 0
    if face["state"] == "unsure":
        assert face["why"]


def test_eye_crop_is_levelled_and_centred():
    src = _one_face_photo()
    d = decode.from_array(src)
    eye = F.detect(d)[0]["landmarks"]["eyes"][0]
    crop, px = E.eye_crop(d, eye)
    assert crop.shape == (48, 48, 3) and px > 10
    # rotating the photo by 10 degrees gives nearly the same crop
    h, w = src.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), 10, 1.0)
    rot = decode.from_array(cv2.warpAffine(src, m, (w, h), borderMode=cv2.BORDER_REFLECT))
    eye_r = F.detect(rot)[0]["landmarks"]["eyes"][0]
    crop_r, _ = E.eye_crop(rot, eye_r)
    g1, g2 = (cv2.cvtColor(c, cv2.COLOR_BGR2GRAY).astype(np.float32) for c in (crop, crop_r))
    assert np.corrcoef(g1.ravel(), g2.ravel())[0, 1] > 0.8


def test_sunglasses_are_not_called_closed():
    src = _one_face_photo()
    face = F.detect(decode.from_array(src))[0]
    img = src.copy()
    for e in face["landmarks"]["eyes"]:
        (x0, y0), (x1, y1) = e["corners"]
        w = float(np.hypot(x1 - x0, y1 - y0))
        c = (int(e["center"][0]), int(e["center"][1]))
        cv2.ellipse(img, c, (int(w * 0.9), int(w * 0.65)), 0, 0, 360, (25, 22, 20), -1, cv2.LINE_AA)
    d = decode.from_array(img)
    fs = F.detect(d)
    assert len(fs) == 1
    r = E.assess(d, fs)
    assert r["faces"][0]["state"] == "unsure" and r["faces"][0]["why"] == "sunglasses or eyes covered"
    assert r["state"] == "unsure"


def test_pipeline_fills_eyes_and_policy_rejects_closed_eyes(tmp_path):
    """End to end: a Yale 'sleepy' frame (eyes closed) and the same person's 'normal' frame."""
    Image = pytest.importorskip("PIL.Image")
    from autocull import config, pipeline

    for cond in ("sleepy", "normal"):
        with Image.open(shared("yale_faces", cond, f"subject02.{cond}.gif")) as im:
            im.convert("RGB").save(tmp_path / f"{cond}.jpg", quality=95)
    recs = [pipeline.analyse_one(tmp_path / f"{c}.jpg") for c in ("sleepy", "normal")]
    out = pipeline.finalise(recs, config.DEFAULTS)
    sleepy, normal = out
    assert sleepy["eyes"]["state"] == "closed" and normal["eyes"]["state"] == "open"
    assert sleepy["flag"] == "reject"
    assert any(r.startswith("eyes closed: face 1 of 1") for r in sleepy["reasons"])
    assert not any("eyes closed" in r for r in normal["reasons"])


def test_eye_too_small_to_judge_is_cut_without_decoding(tmp_path, monkeypatch):
    """An eye that stays narrower than MIN_EYE_PX even at full resolution is cut from the
    analysis image: no decode of a large JPEG for a crop that will not be judged."""
    import simplejpeg

    monkeypatch.setattr(decode, "DETAIL_SIDE", decode.ANALYSIS_SIDE)  # nothing finer decoded at load
    img = np.full((2800, 4200, 3), 128, np.uint8)
    path = tmp_path / "big.jpg"
    path.write_bytes(simplejpeg.encode_jpeg(img, 90, colorspace="BGR"))
    d = decode.load(path)
    tiny = {"center": [2000.0, 1400.0], "corners": [[1996.0, 1400.0], [2004.0, 1400.0]]}
    crop, px = E.eye_crop(d, tiny)
    assert crop.shape == (48, 48, 3) and px < E.MIN_EYE_PX
    assert d._full is None and not d._scaled
    # a judgeable eye on its own (no face scale given) gets EYE_MIN_PX across its crop
    eye = {"center": [2000.0, 1400.0], "corners": [[1985.0, 1400.0], [2015.0, 1400.0]]}
    crop, px = E.eye_crop(d, eye)
    assert px * E.CROP_SCALE >= E.EYE_MIN_PX and px >= E.MIN_EYE_PX


# ---------------------------------------------------------------- wink rule

def _judge_with(monkeypatch, probs, widths=(30.0, 30.0)):
    """judge_face on a plain frame with two eyes whose CNN probabilities are ``probs``
    (image-left eye first) and no eye aspect ratio, so each eye's P is exactly ``probs``."""
    d = decode.from_array(np.full((400, 400, 3), 128, np.uint8))
    eyes = []
    for cx, w in zip((160.0, 240.0), widths):
        eyes.append({"center": [cx, 180.0], "corners": [[cx - w / 2, 180.0], [cx + w / 2, 180.0]], "ear": None})
    face = {"box": [100, 100, 200, 200], "score": 0.9, "landmarks": {"eyes": eyes}}
    queue = list(probs)
    monkeypatch.setattr(E, "closed_probability", lambda crop: queue.pop(0))
    return E.judge_face(d, face)


def test_wink_one_eye_closed_other_open_is_closed(monkeypatch):
    for probs in ((0.55, 0.05), (0.05, 0.55)):
        r = _judge_with(monkeypatch, probs)
        assert r["state"] == "closed" and "why" not in r, (probs, r)
        assert r["closed_probability"] == pytest.approx(0.55)


def test_both_eyes_equally_narrowed_is_not_closed(monkeypatch):
    # squint / laugh: both eyes in the unsure band, alike
    assert _judge_with(monkeypatch, (0.55, 0.5))["state"] == "unsure"
    assert _judge_with(monkeypatch, (0.45, 0.42))["state"] == "unsure"
    # the more-closed eye under WINK_MIN: not a wink, even with the other eye wide open
    assert _judge_with(monkeypatch, (E.WINK_MIN - 0.05, 0.01))["state"] == "unsure"


def test_wink_rule_needs_a_frontal_face_and_can_be_switched_off(monkeypatch):
    # turned face (eye widths 0.6 apart: not a profile, not frontal): no wink call
    assert _judge_with(monkeypatch, (0.55, 0.05), widths=(30.0, 18.0))["state"] == "unsure"
    monkeypatch.setattr(E, "WINK_GAP", None)
    assert _judge_with(monkeypatch, (0.55, 0.05))["state"] == "unsure"
    # a clearly closed eye needs no wink rule
    assert _judge_with(monkeypatch, (0.9, 0.05))["state"] == "closed"


def test_real_wink_is_closed_and_a_laugh_is_not():
    """Yale: subject02's wink (scrunched lid, P about 0.5) is closed; subject12's laugh,
    both eyes narrowed alike, is not."""
    Image = pytest.importorskip("PIL.Image")

    def judge(rel):
        with Image.open(shared("yale_faces", rel)) as im:
            rgb = np.asarray(im.convert("RGB"))
        d = decode.from_array(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
        return E.assess(d, F.detect(d))

    wink = judge("wink/subject02.wink.gif")
    assert wink["state"] == "closed" and wink["faces"][0]["closed_probability"] < E.CLOSED_AT
    assert judge("happy/subject12.happy.gif")["state"] != "closed"
