"""Behaviour of autocull.analyse.sharpness on photos with known, camera-like degradations.

Property-style: a sharp photo must stay sharp when only its background is blurred (bokeh
behind a face), and must become blurry under defocus and under camera shake; tiny and
featureless images must give a safe "cannot tell" instead of a crash. No pinned numbers.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from autocull import decode
from autocull.analyse import sharpness as S

skd = pytest.importorskip("skimage.data")

ROOT = Path(__file__).resolve().parents[1]
# Face box of scikit-image's astronaut photo (x, y, w, h), located by eye: brow to chin.
ASTRONAUT_FACE = {"box": [168, 62, 108, 118], "score": 0.99, "landmarks": None}


# ----------------------------------------------------------------------------- helpers
def _bgr(rgb):
    rgb = np.asarray(rgb)
    if rgb.ndim == 2:
        return cv2.cvtColor(rgb.astype(np.uint8), cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(rgb[..., :3].astype(np.uint8), cv2.COLOR_RGB2BGR)


def _lin(img):
    return (img.astype(np.float32) / 255.0) ** 2.2


def _srgb(lin):
    return np.clip(np.power(np.clip(lin, 0, 1), 1 / 2.2) * 255 + 0.5, 0, 255).astype(np.uint8)


def _disc(r):
    n = int(np.ceil(r)) * 2 + 1
    yy, xx = np.mgrid[:n, :n] - n // 2
    k = ((xx ** 2 + yy ** 2) <= r * r).astype(np.float32)
    return k / k.sum()


def _shake(length, seed):
    """A smooth random camera-shake path (random walk with inertia), rasterised."""
    rng = np.random.default_rng(seed)
    v = rng.normal(size=2)
    pts = [np.zeros(2)]
    for _ in range(48):
        d = rng.normal(size=2)
        v = 0.85 * v / (np.linalg.norm(v) + 1e-9) + 0.15 * d / (np.linalg.norm(d) + 1e-9)
        pts.append(pts[-1] + v / (np.linalg.norm(v) + 1e-9))
    pts = np.array(pts)
    pts *= length / np.linalg.norm(np.diff(pts, axis=0), axis=1).sum()
    pts -= pts.mean(axis=0)
    n = int(np.ceil(np.abs(pts).max())) * 2 + 3
    k = np.zeros((n, n), np.float32)
    idx = np.linspace(0, len(pts) - 1, 400)
    xs = np.interp(idx, np.arange(len(pts)), pts[:, 0])
    ys = np.interp(idx, np.arange(len(pts)), pts[:, 1])
    np.add.at(k, (np.round(ys).astype(int) + n // 2, np.round(xs).astype(int) + n // 2), 1.0)
    return k / k.sum()


def _convolve(img, kernel):
    return _srgb(cv2.filter2D(_lin(img), -1, kernel, borderType=cv2.BORDER_REFLECT))


def _jpeg(img, q=90):
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, q])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


def _bokeh(img, face, radius):
    """Blur everything except a head-and-shoulders ellipse around the face (feathered)."""
    x, y, w, h = face["box"]
    mask = np.zeros(img.shape[:2], np.float32)
    cv2.ellipse(mask, (int(x + w / 2), int(y + h * 0.55)), (int(w * 0.75), int(h * 0.8)), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 3)[..., None]
    lin = _lin(img)
    bg = cv2.filter2D(lin, -1, _disc(radius), borderType=cv2.BORDER_REFLECT)
    return _srgb(mask * lin + (1 - mask) * bg)


def _assess(img, faces=()):
    return S.assess(decode.from_array(img), list(faces))


@pytest.fixture(scope="module")
def astronaut():
    return _bgr(skd.astronaut())


SHARP_SCENES = {
    "astronaut": lambda: _bgr(skd.astronaut()),
    "rocket": lambda: _bgr(skd.rocket()),
    "coffee": lambda: _bgr(skd.coffee()),
}


def _contract(r):
    assert set(r) >= {"blurry", "probability", "region", "score", "laplacian"}
    assert r["region"] in ("face", "subject", "frame")
    if r["blurry"] is None:
        assert r["probability"] is None
    else:
        assert isinstance(r["blurry"], bool)
        assert 0.0 <= r["probability"] <= 1.0
        assert r["score"] == pytest.approx(1.0 - r["probability"], abs=1e-3)
        assert r["blurry"] == (r["probability"] >= r["threshold"])


# ----------------------------------------------------------------------------- sharp vs blurry
@pytest.mark.parametrize("name", ["astronaut", "coffee", "rocket"])
def test_sharp_photo_is_sharp_and_defocus_makes_it_blurry(name):
    img = SHARP_SCENES[name]()
    sharp = _assess(_jpeg(img))
    _contract(sharp)
    assert sharp["blurry"] is False, sharp
    probs = [sharp["probability"]]
    for radius in (3, 6):
        r = _assess(_jpeg(_convolve(img, _disc(radius))))
        _contract(r)
        assert r["blurry"] is True, (radius, r)
        probs.append(r["probability"])
    assert probs[0] < probs[1] <= probs[2] + 0.05  # stronger defocus is not judged sharper


@pytest.mark.parametrize("name", sorted(SHARP_SCENES))
@pytest.mark.parametrize("seed", [1, 2])
def test_camera_shake_makes_a_sharp_photo_blurry(name, seed):
    img = SHARP_SCENES[name]()
    r = _assess(_jpeg(_convolve(img, _shake(14, seed))))
    _contract(r)
    assert r["blurry"] is True, r
    assert r["probability"] > _assess(_jpeg(img))["probability"]


def test_linear_motion_makes_a_sharp_photo_blurry(astronaut):
    k = np.zeros((21, 21), np.float32)
    cv2.line(k, (2, 6), (18, 14), 1.0, 1)
    r = _assess(_jpeg(_convolve(astronaut, k / k.sum())))
    assert r["blurry"] is True, r


# ----------------------------------------------------------------------------- worst direction
def _gray_patches(img, n=8, seed=0):
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    rng = np.random.default_rng(seed)
    ys = rng.integers(0, g.shape[0] - S.PATCH, n)
    xs = rng.integers(0, g.shape[1] - S.PATCH, n)
    return np.stack([g[y:y + S.PATCH, x:x + S.PATCH] for y, x in zip(ys, xs)])


@pytest.mark.parametrize("name", sorted(SHARP_SCENES))
def test_directional_sharpness_falls_with_defocus_and_with_motion(name):
    img = SHARP_SCENES[name]()
    sharp = S.directional_sharpness(_gray_patches(img))
    mild = S.directional_sharpness(_gray_patches(_convolve(img, _disc(2))))
    strong = S.directional_sharpness(_gray_patches(_convolve(img, _disc(5))))
    assert sharp > mild > strong >= 0.0
    k = np.zeros((21, 21), np.float32)
    cv2.line(k, (0, 10), (20, 10), 1.0, 1)            # horizontal motion, 21 px
    moved = S.directional_sharpness(_gray_patches(_convolve(img, k / k.sum())))
    assert moved < 0.5 * sharp


def test_motion_blur_is_low_in_its_own_direction_only(astronaut):
    """Horizontal motion leaves vertical detail: the directional energy is lowest along x
    (angle 0), and the Laplacian (isotropic) drops far less than the worst direction."""
    k = np.zeros((31, 31), np.float32)
    cv2.line(k, (0, 15), (30, 15), 1.0, 1)
    moved = _gray_patches(_convolve(astronaut, k / k.sum()), n=16)
    e = S.directional_energy(moved)
    assert e.shape == (12,) and int(np.argmin(e)) in (0, 11, 1)
    assert e[6] > 5 * e[0]                            # vertical (90 degrees) keeps its detail
    sharp = _gray_patches(astronaut, n=16)
    lap_ratio = np.mean([S.laplacian_variance(p) for p in moved]) / np.mean([S.laplacian_variance(p) for p in sharp])
    dir_ratio = S.directional_sharpness(moved) / S.directional_sharpness(sharp)
    assert dir_ratio < lap_ratio


def test_directional_sharpness_handles_empty_and_flat_input():
    assert S.directional_sharpness([]) == 0.0
    assert S.directional_sharpness(np.zeros((0, S.PATCH, S.PATCH), np.uint8)) == 0.0
    assert S.directional_sharpness(np.full((2, S.PATCH, S.PATCH), 128, np.uint8)) == 0.0
    assert S.directional_sharpness([np.zeros((3, 3), np.uint8)]) == 0.0   # too small: ignored


def test_noise_sigma_measures_noise_not_edges():
    rng = np.random.default_rng(4)
    flat = 128 + rng.normal(0, 4.0, (S.PATCH, S.PATCH))
    assert S.noise_sigma(flat) == pytest.approx(4.0, rel=0.2)
    edge = np.zeros((S.PATCH, S.PATCH)); edge[:, S.PATCH // 2:] = 200     # one clean step edge
    assert S.noise_sigma(edge) < 0.5
    ramp = np.tile(np.linspace(0, 250, S.PATCH), (S.PATCH, 1))          # smooth shading
    assert S.noise_sigma(ramp) < 0.5


def test_sensor_noise_does_not_read_as_detail(astronaut):
    """Heavy defocus plus sensor noise stays far below the sharp photo: the noise's expected
    energy is taken off each direction."""
    rng = np.random.default_rng(6)
    soft = _convolve(astronaut, _disc(8)).astype(np.float32)
    noisy = np.clip(soft + rng.normal(0, 3.0, soft.shape), 0, 255).astype(np.uint8)
    sharp = S.directional_sharpness(_gray_patches(astronaut))
    clean = S.directional_sharpness(_gray_patches(soft.astype(np.uint8)))
    with_noise = S.directional_sharpness(_gray_patches(noisy))
    assert with_noise < 0.1 * sharp
    assert with_noise < clean + 0.1 * sharp


def test_directional_probability_is_monotone_and_centred():
    t = 0.4
    assert S.directional_probability(t, t) == pytest.approx(0.5)
    ps = [S.directional_probability(v, t) for v in (0.01, 0.1, 0.3, 0.4, 0.6, 2.0)]
    assert all(a > b for a, b in zip(ps, ps[1:]))
    assert S.directional_probability(0.0, t) <= 1.0 and S.directional_probability(1e9, t) >= 0.0


def test_blurry_reason_says_what_kind_of_blur(astronaut):
    k = np.zeros((41, 41), np.float32)
    cv2.line(k, (0, 20), (40, 20), 1.0, 1)
    moved = _assess(_jpeg(_convolve(astronaut, k / k.sum())))
    assert moved["blurry"] is True and "one direction" in moved["reason"], moved
    soft = _assess(_jpeg(_convolve(astronaut, _disc(8))))
    assert soft["blurry"] is True and "every direction" in soft["reason"], soft
    assert soft["directional"] is not None and soft["directional"] < soft["directional_threshold"]


# ----------------------------------------------------------------------------- subject awareness
def test_bokeh_behind_a_sharp_face_stays_sharp(astronaut):
    before = _assess(astronaut, [ASTRONAUT_FACE])
    assert before["region"] == "face"
    assert before["blurry"] is False, before
    for radius in (4, 9):
        img = _bokeh(astronaut, ASTRONAUT_FACE, radius)
        after = _assess(img, [ASTRONAUT_FACE])
        _contract(after)
        assert after["region"] == "face"
        assert after["blurry"] is False, (radius, after)
        # the background being blurred makes the whole frame measurably softer ...
        assert S.laplacian_variance(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)) < \
            S.laplacian_variance(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY))


def test_bokeh_without_faces_is_judged_on_the_sharp_subject(astronaut):
    """No face given: the subject rule must find the sharp part, not average in the bokeh."""
    img = _bokeh(astronaut, {"box": [120, 40, 220, 300]}, 8)
    r = _assess(img)
    assert r["region"] == "subject"
    assert r["blurry"] is False, r


def test_defocused_face_is_blurry_even_on_the_face_rule(astronaut):
    img = _convolve(astronaut, _disc(4))
    r = _assess(img, [ASTRONAUT_FACE])
    assert r["region"] == "face"
    assert r["blurry"] is True, r


def test_face_in_focus_is_what_counts_not_the_background(astronaut):
    """Blurring only the face (background untouched) must make the face rule say blurry."""
    x, y, w, h = ASTRONAUT_FACE["box"]
    img = astronaut.copy()
    pad = 20
    sl = np.s_[y - pad:y + h + pad, x - pad:x + w + pad]
    img[sl] = _convolve(astronaut[sl], _disc(5))
    on_face = _assess(img, [ASTRONAUT_FACE])
    assert on_face["region"] == "face" and on_face["blurry"] is True, on_face


# ----------------------------------------------------------------------------- safe edges
@pytest.mark.parametrize("shape", [(1, 1), (8, 8), (40, 30), (63, 200), (64, 64)])
def test_tiny_images_do_not_crash(shape, astronaut):
    img = cv2.resize(astronaut, (shape[1], shape[0]), interpolation=cv2.INTER_AREA)
    r = _assess(img, [])
    _contract(r)
    if min(shape) < S.PATCH:
        assert r["blurry"] is None


@pytest.mark.parametrize("kind", ["white_wall", "black", "grey_noise", "sky"])
def test_featureless_images_are_unsure(kind):
    rng = np.random.default_rng(0)
    h, w = 1200, 1800
    if kind == "white_wall":
        img = np.full((h, w, 3), 245, np.uint8)
    elif kind == "black":
        img = np.zeros((h, w, 3), np.uint8)
    elif kind == "grey_noise":
        img = np.clip(128 + rng.normal(0, 2.0, (h, w, 3)), 0, 255).astype(np.uint8)
    else:  # clear sky: a smooth vertical gradient with sensor noise, JPEG-compressed
        t = np.linspace(0, 1, h)[:, None, None]
        sky = (1 - t) * np.array([200, 140, 80]) + t * np.array([250, 210, 170])
        img = _jpeg(np.clip(np.broadcast_to(sky, (h, w, 3)) + rng.normal(0, 1.5, (h, w, 3)), 0, 255).astype(np.uint8))
    r = _assess(img, [])
    _contract(r)
    assert r["blurry"] is None, r
    assert r["reason"]


@pytest.mark.parametrize("box", [[-50, -50, 20, 20], [0, 0, 0, 0], [5000, 5000, 100, 100], [10, 10, 12, 12]])
def test_odd_face_boxes_fall_back_to_the_frame(box, astronaut):
    r = _assess(astronaut, [{"box": box, "score": 0.5, "landmarks": None}])
    _contract(r)
    assert r["region"] in ("subject", "frame")
    assert r["blurry"] is not None


def test_gray_input_and_large_photo_at_near_native_scale(astronaut):
    """A large photo goes through region() at (near-)native scale; the analysis image may be
    smaller, as a real decode makes it."""
    big = cv2.resize(astronaut, (2048, 2048), interpolation=cv2.INTER_CUBIC)
    big = cv2.resize(big, (4096, 4096), interpolation=cv2.INTER_AREA)  # a 16-MP frame
    d = decode.from_array(big, analysis_side=1024)
    assert d.image.shape[1] < big.shape[1]
    r = S.assess(d, [])
    _contract(r)
    g = decode.from_array(cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY))
    _contract(S.assess(g, []))


# ----------------------------------------------------------------------------- pieces
def test_laplacian_baseline_falls_with_blur(astronaut):
    g = cv2.cvtColor(astronaut, cv2.COLOR_BGR2GRAY)
    values = [S.laplacian_variance(g)] + [
        S.laplacian_variance(cv2.cvtColor(_convolve(astronaut, _disc(r)), cv2.COLOR_BGR2GRAY)) for r in (1.5, 3, 6)]
    assert all(a > b for a, b in zip(values, values[1:])), values
    assert S.laplacian_variance(np.full((256, 256), 128, np.uint8)) == 0.0
    assert S.laplacian_variance(np.zeros((2, 2))) == 0.0


def test_face_and_subject_rules_use_their_own_model_threshold(astronaut):
    cal = S.calibration()
    face = _assess(astronaut, [ASTRONAUT_FACE])
    subject = _assess(astronaut)
    assert face["region"] == "face" and subject["region"] in ("subject", "frame")
    assert face["model_threshold"] == cal["face_threshold"]
    assert subject["model_threshold"] == cal["threshold"]
    for r in (face, subject):
        assert r["probability"] == pytest.approx(S.calibrated(r["model_probability"], r["model_threshold"]), abs=1e-3) \
            or r["region"] != "face"
    assert face["blurry"] == (face["model_probability"] >= face["model_threshold"])


def test_normalise_patches_is_contrast_invariant():
    rng = np.random.default_rng(3)
    p = rng.integers(60, 190, (2, S.PATCH, S.PATCH)).astype(np.uint8)
    q = (p.astype(np.float32) * 0.5 + 40).astype(np.uint8)
    a, b = S.normalise_patches(p), S.normalise_patches(q)
    assert a.shape == (2, S.PATCH, S.PATCH, 1) and a.dtype == np.float32
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.99
    assert np.abs(S.normalise_patches(np.full((1, S.PATCH, S.PATCH), 77, np.uint8))).max() == 0


def test_works_without_the_model_file(monkeypatch, astronaut):
    """A missing model degrades to the classical measure instead of failing the photo."""
    monkeypatch.setattr(S, "MODEL_NAME", "no_such_model_for_test")
    sharp = _assess(astronaut)
    blurry = _assess(_convolve(astronaut, _disc(6)))
    assert sharp["method"].startswith("laplacian") and blurry["method"].startswith("laplacian")
    assert sharp["probability"] < blurry["probability"]
    assert blurry["blurry"] is True


def test_runtime_never_imports_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from autocull import decode\n"
        "from autocull.analyse import sharpness\n"
        "img = (np.random.default_rng(0).random((300, 400, 3)) * 255).astype('uint8')\n"
        "sharpness.assess(decode.from_array(img), [])\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'tensorflow imported'\n"
    )
    env_path = str(ROOT / "backend")
    import os
    env = dict(os.environ, PYTHONPATH=env_path + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr


def test_calibrated_probability_is_monotone_and_puts_the_threshold_at_one_half():
    for t in (0.2, 0.35, 0.5, 0.7):
        xs = np.linspace(0, 1, 101)
        ys = [S.calibrated(x, t) for x in xs]
        assert all(b >= a for a, b in zip(ys, ys[1:]))
        assert ys[0] == 0.0 and ys[-1] == pytest.approx(1.0)
        assert S.calibrated(t, t) == pytest.approx(0.5)
        assert all((y >= 0.5) == (x >= t) for x, y in zip(xs, ys))


def test_decision_matches_the_policy_default(astronaut):
    """`blurry` and the reported probability agree at 0.5, the policy's default threshold,
    whatever decision threshold the model was calibrated with."""
    for img in (astronaut, _convolve(astronaut, _disc(5))):
        r = _assess(img)
        assert r["threshold"] == 0.5
        assert r["blurry"] == (r["model_probability"] >= r["model_threshold"])
        assert r["blurry"] == (r["probability"] >= 0.5)


def test_camera_shake_raises_the_blur_probability(astronaut):
    """Weaker than the shortfall tests above, and expected to hold: shake always moves the
    probability towards blurry, more for a longer shake."""
    p0 = _assess(_jpeg(astronaut))["probability"]
    p_short = _assess(_jpeg(_convolve(astronaut, _shake(8, 3))))["probability"]
    p_long = _assess(_jpeg(_convolve(astronaut, _shake(30, 3))))["probability"]
    assert p0 < p_short <= p_long + 0.05, (p0, p_short, p_long)
    assert _assess(_jpeg(_convolve(astronaut, _shake(30, 3))))["blurry"] is True
