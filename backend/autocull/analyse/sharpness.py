"""Subject-aware blur detection: is the subject of a photo in focus?

Input
    ``assess(decoded, faces)``: an :class:`autocull.decode.Decoded` and the faces found on it
    (``[{"box": [x, y, w, h] full-res, "score": float, "landmarks": ...}]``, may be empty).

Output
    ``{"blurry": bool | None, "probability": float | None, "score": float | None,
    "region": "face" | "subject" | "frame", "laplacian": float | None,
    "directional": float | None, "patches": int, "threshold": 0.5,
    "model_probability": float | None, "model_threshold": float,
    "directional_threshold": float, "method": "cnn" | "cnn+directional" | "laplacian" |
    "laplacian+directional", "hint": str | None, "reason": str}``

    - ``probability`` in [0, 1]: how likely the judged region is blurry (missed focus, camera
      shake, subject motion), calibrated so that ``blurry = probability >= 0.5``: the model's
      own output (``model_probability``) is mapped monotonically so its decision threshold
      (``model_threshold``: one for the face rule, one for the subject rule, each chosen on
      validation photos judged by that rule by the training run and stored in
      ``models/blur.json``) lands on 0.5. Outside faces it is the larger of that and the
      worst-direction measure's probability (``directional`` under ``directional_threshold``
      reads over 0.5), so either signal can call the subject blurry.
    - ``score`` in [0, 1] = ``1 - probability`` (sharpness, higher is sharper).
    - ``region``: which rule decided. ``face``: the eye band of the largest face(s);
      ``subject``: the most detailed, centre-weighted part of the frame (the part most likely
      to be the subject; a sharp subject over an out-of-focus background counts as sharp);
      ``frame``: the image is so small that every patch of it was used.
    - ``blurry`` (and ``probability``) is ``None`` only when the photo cannot be judged: too
      small for one patch, or featureless (a white wall, a clear sky).
    - ``laplacian``: the classical baseline on the same patches (normalised variance of the
      Laplacian, higher is sharper), reported for comparison.
    - ``directional``: :func:`directional_sharpness` of the sharpest patches (higher is
      sharper); ``hint`` (blurry photos only), a guess from how unequal the directions are
      (worst / best under ``ANISOTROPY``): "smeared along one direction (likely shake or
      motion)" or "soft in every direction (likely missed focus)".

Method
    Blur is judged at (near-)native resolution, not on a thumbnail: grayscale ``PATCH`` x
    ``PATCH`` patches are cut from the chosen region at the work scale (full resolution up to
    ``WORK_LONG`` px on the long side; faces normalised to ``FACE_WIDTH`` px wide) through
    ``Decoded.region``. Each patch is scored by a small full-integer int8 CNN
    (``models/blur.tflite``, run with ai-edge-litert, trained by ``training/blur/train.py`` on
    camera-like synthetic defocus / shake / motion blur and synthetic bokeh, see
    ``models/blur.md``). A region's probability is the mean over its sharpest few patches: if
    the most detailed part of the subject is sharp, the photo is sharp.
    Outside faces a second, classical signal joins the model: the worst-direction energy of
    the second derivative (:func:`directional_sharpness`), which catches camera shake and
    motion whose edges along the motion stay crisp (the patch model reads those as sharp;
    measured on real photos in ``models/blur.md``). Faces are left to the model: smooth skin
    has little detail in any direction.
    The classical baseline is the variance of the 4-neighbour Laplacian normalised by the
    patch's intensity variance (Pech-Pacheco et al., ICPR 2000, "Diatom autofocusing in
    brightfield microscopy"; normalisation as in Santos et al. 1997), computed in the manner of
    scikit-image ``measure`` functions: a pure function of an array, no I/O.

Pure numpy/OpenCV + ai-edge-litert; no file I/O of its own besides the model.
"""

from __future__ import annotations

import numpy as np
import cv2

from autocull.decode import DETAIL_SIDE

PATCH = 64                 # patch side (px) the CNN sees
WORK_LONG = DETAIL_SIDE    # patches are cut at full resolution, or near-full for larger photos (3000 px)
FACE_WIDTH = 224           # faces are judged normalised to (at most) this width in px
MIN_FACE_PX = 96           # a face narrower than this at work scale is left to the subject rule
SUBJECT_PATCHES = 8        # patches taken from the most detailed cells of the frame
FACE_PATCHES = 4           # patches taken from the eye band of a face
SHARPEST_SUBJECT = 3       # a region's probability = mean over its sharpest few patches
SHARPEST_FACE = 2
FLAT_STD = 4.0             # structure std (gray levels) under which a patch is featureless
CENTRE_WEIGHT = 0.35       # detail score falls off by this much towards the corners
DETAIL = "gradient"        # how cells are ranked: "gradient" (edge energy) or "corner" (2-D detail)
THRESHOLD = 0.5            # blurry when probability >= threshold (default for both rules; models/blur.json overrides)
LAPLACIAN_THRESHOLD = 0.1  # baseline: blurry below this (default; models/blur.json overrides)
DIRECTIONAL_THRESHOLD = 0.3  # subject rule: blurry below this (default; models/blur.json overrides)
ANISOTROPY = 0.3           # reason hint: worst/best direction below this reads as shake or motion
MODEL_NAME = "blur"

__all__ = [
    "assess", "laplacian_variance", "normalise_patches", "predict_patches",
    "subject_patches", "face_patches", "structure_std", "PATCH", "THRESHOLD",
]


# ----------------------------------------------------------------------------- classical
def laplacian_variance(gray: np.ndarray) -> float:
    """Normalised variance of the Laplacian of a grayscale image (uint8 or float, 0..255).

    ``var(L) / (var(I) + 25)`` with ``L`` the 4-neighbour Laplacian: higher is sharper;
    about 0 for a blurred or flat patch, typically 0.1-2 for a sharp textured one. The +25
    (5 gray levels squared) keeps sensor noise on flat patches from reading as detail.
    """
    g = np.asarray(gray, dtype=np.float32)
    if g.ndim != 2 or min(g.shape) < 3:
        return 0.0
    lap = cv2.Laplacian(g, cv2.CV_32F, ksize=1)[1:-1, 1:-1]
    return float(lap.var() / (g.var() + 25.0))


_DIRECTIONS = np.deg2rad(np.arange(0.0, 180.0, 15.0))


_C, _S = np.cos(_DIRECTIONS), np.sin(_DIRECTIONS)
# E[(c^2 A + 2cs B + s^2 C)^2] for each direction, as weights on the six second moments
# (AA, CC, BB, AB, CB, AC) of the three second-derivative responses A = Ixx, B = Ixy, C = Iyy.
_STEER = np.stack([_C ** 4, _S ** 4, 4 * _C * _C * _S * _S, 4 * _C ** 3 * _S, 4 * _C * _S ** 3,
                   2 * _C * _C * _S * _S], axis=1)


def _moments(a: np.ndarray, b: np.ndarray, c: np.ndarray, reduce=np.mean) -> np.ndarray:
    """The six second moments weighted by ``_STEER`` (``reduce`` over the pixels or kernel taps)."""
    return np.array([reduce(a * a), reduce(c * c), reduce(b * b), reduce(a * b), reduce(c * b), reduce(a * c)])


def _steered_kernel_norms() -> np.ndarray:
    """Squared L2 norm of the steered second-derivative kernel for each direction: the energy
    that unit-variance white noise puts into that direction's response."""
    kernels = [np.outer(*cv2.getDerivKernels(dx, dy, 3)[::-1]) for dx, dy in ((2, 0), (1, 1), (0, 2))]
    return _STEER @ _moments(*kernels, reduce=np.sum)


_KERNEL_NORMS = _steered_kernel_norms()
_NOISE_KERNEL = np.array([[1, -2, 1], [-2, 4, -2], [1, -2, 1]], np.float32)


def noise_sigma(patch: np.ndarray) -> float:
    """Standard deviation (gray levels) of a patch's sensor noise: the median absolute response
    to the Laplacian-difference mask of Immerkaer ("Fast noise variance estimation", CVIU 1996),
    which is blind to flat areas and straight ramps; the median (/0.6745, /6 for the mask's
    norm) keeps edges from reading as noise."""
    g = np.asarray(patch, dtype=np.float32)
    if g.ndim != 2 or min(g.shape) < 3:
        return 0.0
    r = cv2.filter2D(g, cv2.CV_32F, _NOISE_KERNEL)[1:-1, 1:-1]
    return float(np.median(np.abs(r)) / 0.6745 / 6.0)


def directional_energy(patches) -> np.ndarray:
    """Energy of the second derivative along each of 12 directions (every 15 degrees from
    the x axis), less what the patch's own sensor noise (:func:`noise_sigma`) would put there,
    pooled over the patches and normalised by their pooled intensity variance (+25 per patch);
    see :func:`directional_sharpness`. Zeros for no usable patch."""
    total = np.zeros(len(_DIRECTIONS))
    var = 0.0
    for p in patches:
        g = np.asarray(p, dtype=np.float32)
        if g.ndim != 2 or min(g.shape) < 7:
            continue
        ixx, ixy, iyy = (cv2.Sobel(g, cv2.CV_32F, dx, dy, ksize=3)[2:-2, 2:-2].astype(np.float64)
                         for dx, dy in ((2, 0), (1, 1), (0, 2)))
        e = _STEER @ _moments(ixx, ixy, iyy)
        total += np.maximum(e - noise_sigma(g) ** 2 * _KERNEL_NORMS, 0.0)
        var += float(g.var()) + 25.0
    if var == 0.0:
        return np.zeros(len(_DIRECTIONS))
    return total / var


def directional_sharpness(patches) -> float:
    """Worst-direction detail of a set of grayscale patches (uint8 or float, 0..255).

    For each of 12 directions phi (every 15 degrees) the second derivative of the image along
    phi, ``D_phi = cos^2 Ixx + 2 cos sin Ixy + sin^2 Iyy`` (3x3 Sobel Hessian), has its energy
    pooled over all patches and normalised by the pooled intensity variance (+25, as in
    :func:`laplacian_variance`); the result is the minimum over the directions. Higher is
    sharper; about 0 when every direction is blurred.

    Sensor noise has second derivatives in every direction and would read as detail on a
    heavily blurred, nearly flat frame; each patch's expected noise energy (its noise
    variance times the steered kernel's squared norm) is taken off first.

    Defocus lowers detail in every direction; camera shake and motion blur smear it along
    the motion, leaving edges parallel to the motion crisp, so an isotropic measure (the
    Laplacian, or a patch classifier fed by the crispest edges) still reads them as sharp. The
    minimum over directions does not: it is as low as the most smeared direction. Pooling
    over patches of different content keeps a single straight edge (which has no detail
    along itself) from reading as blur. Returns 0.0 for no usable patch.

    Source: the second derivative along an arbitrary direction from three basis filters is a
    steerable filter (Freeman & Adelson, "The design and use of steerable filters", IEEE
    PAMI 1991); its energy as a focus measure is the directional form of the Laplacian
    energy measures surveyed by Pertuz et al., "Analysis of focus measure operators for
    shape-from-focus", Pattern Recognition 2013.
    """
    return float(directional_energy(patches).min())


def structure_std(patch: np.ndarray) -> float:
    """Standard deviation (gray levels) of a patch after a light blur: its structure, not its noise."""
    g = cv2.GaussianBlur(np.asarray(patch, dtype=np.float32), (0, 0), 1.5)
    return float(g.std())


# ----------------------------------------------------------------------------- patches
def normalise_patches(patches: np.ndarray) -> np.ndarray:
    """uint8 (N, P, P) gray patches -> float32 (N, P, P, 1) CNN input.

    Zero mean, divided by max(std, 10) (contrast-normalised without amplifying flat noise),
    clipped to [-4, 4]. Shared by training and runtime.
    """
    x = np.asarray(patches, dtype=np.float32)
    if x.ndim == 2:
        x = x[None]
    m = x.mean(axis=(1, 2), keepdims=True)
    s = np.maximum(x.std(axis=(1, 2), keepdims=True), 10.0)
    return np.clip((x - m) / s, -4.0, 4.0)[..., None]


def _to_gray(img: np.ndarray) -> np.ndarray:
    if img.ndim == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
    return img


def _work_scale(decoded) -> float:
    """Region pixels per full-res pixel at which patches are cut (<= full_scale)."""
    long_side = max(decoded.width, decoded.height)
    return min(1.0, WORK_LONG / float(long_side), float(decoded.full_scale))


def _fetch(decoded, box, scale: float) -> np.ndarray:
    """Gray crop of full-res ``box`` resampled to ``scale`` px per full-res px."""
    # cut from the coarsest decode that still holds `scale` (a JPEG's DCT scale, not a full decode)
    crop = decoded.region(tuple(int(round(v)) for v in box), scale=scale)
    if crop.size == 0:
        return np.zeros((0, 0), np.uint8)
    crop = _to_gray(crop)
    f = scale / (decoded.at_scale(scale).shape[1] / float(decoded.width))
    if abs(f - 1.0) > 1e-3:
        w = max(1, int(round(crop.shape[1] * f)))
        h = max(1, int(round(crop.shape[0] * f)))
        crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    return crop


def _fit_patch(crop: np.ndarray) -> np.ndarray | None:
    """Centre P x P of a crop (None when the crop is smaller than a patch)."""
    h, w = crop.shape[:2]
    if h < PATCH or w < PATCH:
        return None
    y, x = (h - PATCH) // 2, (w - PATCH) // 2
    return crop[y:y + PATCH, x:x + PATCH]


def _box_in_frame(cx: float, cy: float, foot: float, width: int, height: int):
    """A foot x foot box centred on (cx, cy), shifted to lie inside the frame."""
    x = min(max(0.0, cx - foot / 2), max(0.0, width - foot))
    y = min(max(0.0, cy - foot / 2), max(0.0, height - foot))
    return (x, y, min(foot, float(width)), min(foot, float(height)))


def _cell_grid(decoded, work: float):
    """Detail score for each cell of a grid over the analysis image; a cell is one patch
    footprint. Returns (scores (ny, nx), cell side in full-res px) or (None, side)."""
    side_full = PATCH / work                      # patch footprint in full-res px
    g = decoded.gray
    c = side_full * decoded.scale                 # ... in analysis px
    ci = max(2, int(round(c)))
    ny, nx = g.shape[0] // ci, g.shape[1] // ci
    if ny == 0 or nx == 0:
        return None, side_full
    # Shrink first so the gradient map stays cheap on big analysis images.
    f = 1
    while ci // (2 * f) >= 8 and g.shape[1] // (2 * f) >= 256:
        f *= 2
    small = cv2.resize(g, (g.shape[1] // f, g.shape[0] // f), interpolation=cv2.INTER_AREA) if f > 1 else g
    cs = ci / f
    csi = max(1, int(round(cs)))
    hh, ww = int(round(ny * cs)), int(round(nx * cs))
    small = small[:hh, :ww].astype(np.float32)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1, ksize=3)

    def cell_means(a):
        if a.shape != (ny * csi, nx * csi):
            a = cv2.resize(a, (nx * csi, ny * csi), interpolation=cv2.INTER_AREA)
        return a.reshape(ny, csi, nx, csi).mean(axis=(1, 3))

    if DETAIL == "corner":
        # 2-D detail: the smaller eigenvalue of the cell's gradient structure tensor. A cell
        # whose only structure is a straight edge (or a motion streak) says nothing about blur
        # along that edge; corners and texture show blur in every direction.
        jxx, jyy, jxy = cell_means(gx * gx), cell_means(gy * gy), cell_means(gx * gy)
        lam_min = 0.5 * (jxx + jyy) - np.sqrt(0.25 * (jxx - jyy) ** 2 + jxy ** 2)
        scores = np.sqrt(np.maximum(lam_min, 0.0))
    else:
        scores = cell_means(np.abs(gx) + np.abs(gy))
    yy, xx = np.mgrid[0:ny, 0:nx]
    r2 = ((xx + 0.5) / nx - 0.5) ** 2 + ((yy + 0.5) / ny - 0.5) ** 2
    scores = scores * (1.0 - CENTRE_WEIGHT * r2 / 0.5)
    return scores, side_full * (ci / c)


def subject_patches(decoded, n: int = SUBJECT_PATCHES):
    """Patches from the most detailed, centre-weighted cells of the frame.

    Returns (patches uint8 (k, P, P), boxes [(x, y, w, h) full-res], whole_frame: bool).
    """
    work = _work_scale(decoded)
    scores, side = _cell_grid(decoded, work)
    if scores is None:
        return np.zeros((0, PATCH, PATCH), np.uint8), [], True
    ny, nx = scores.shape
    order = np.argsort(scores.ravel())[::-1]
    whole = ny * nx <= n
    patches, boxes = [], []
    foot = (PATCH + 2) / work                      # a little margin against rounding
    for idx in order[: n * 2]:
        cy, cx = divmod(int(idx), nx)
        box = _box_in_frame((cx + 0.5) * side, (cy + 0.5) * side, foot, decoded.width, decoded.height)
        p = _fit_patch(_fetch(decoded, box, work))
        if p is None:
            continue
        patches.append(p)
        boxes.append(box)
        if len(patches) >= n:
            break
    arr = np.stack(patches) if patches else np.zeros((0, PATCH, PATCH), np.uint8)
    return arr, boxes, whole


def face_patches(decoded, face, n: int = FACE_PATCHES):
    """Patches from the eye band of one face, normalised to at most FACE_WIDTH px wide.

    Returns (patches uint8 (k, P, P), boxes full-res) — empty when the face is too small.
    """
    x, y, w, h = [float(v) for v in face["box"]]
    if w <= 0 or h <= 0:
        return np.zeros((0, PATCH, PATCH), np.uint8), []
    s = min(_work_scale(decoded), FACE_WIDTH / w)
    if w * s < MIN_FACE_PX:
        return np.zeros((0, PATCH, PATCH), np.uint8), []
    foot = PATCH / s                                  # patch footprint, full-res px
    bx0, bx1 = x + 0.1 * w, x + 0.9 * w
    by0, by1 = y + 0.15 * h, y + 0.6 * h
    if by1 - by0 < foot:                              # grow the band to hold a patch
        cy = (by0 + by1) / 2
        by0, by1 = cy - foot / 2, cy + foot / 2
    if bx1 - bx0 < foot:
        cx = (bx0 + bx1) / 2
        bx0, bx1 = cx - foot / 2, cx + foot / 2
    bx0, by0 = max(0.0, bx0), max(0.0, by0)
    bx1, by1 = min(float(decoded.width), bx1), min(float(decoded.height), by1)
    band = _fetch(decoded, (bx0, by0, bx1 - bx0, by1 - by0), s)
    H, W = band.shape[:2]
    if H < PATCH or W < PATCH:
        return np.zeros((0, PATCH, PATCH), np.uint8), []
    step = PATCH // 2
    ys = sorted(set(list(range(0, H - PATCH + 1, step)) + [H - PATCH]))
    xs = sorted(set(list(range(0, W - PATCH + 1, step)) + [W - PATCH]))
    cands = []
    for yy in ys:
        for xx in xs:
            p = band[yy:yy + PATCH, xx:xx + PATCH]
            e = float(np.abs(np.diff(p.astype(np.int16), axis=0)).mean()
                      + np.abs(np.diff(p.astype(np.int16), axis=1)).mean())
            cands.append((e, yy, xx))
    cands.sort(reverse=True)
    picked, boxes = [], []
    for e, yy, xx in cands[:n]:
        picked.append(band[yy:yy + PATCH, xx:xx + PATCH])
        boxes.append((bx0 + xx / s, by0 + yy / s, foot, foot))
    return np.stack(picked), boxes


# ----------------------------------------------------------------------------- model
def predict_patches(patches: np.ndarray, interp=None) -> np.ndarray:
    """Blur probability (0..1) of each uint8 gray patch (N, P, P) with the int8 TFLite model."""
    if interp is None:
        from autocull import models
        interp = models.interpreter(MODEL_NAME)
    x = normalise_patches(patches)
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    in_scale, in_zp = inp["quantization"]
    out_scale, out_zp = out["quantization"]
    probs = np.empty(len(x), np.float32)
    for i in range(len(x)):
        xi = x[i:i + 1]
        if inp["dtype"] != np.float32:
            info = np.iinfo(inp["dtype"])
            xi = np.clip(np.round(xi / in_scale + in_zp), info.min, info.max).astype(inp["dtype"])
        interp.set_tensor(inp["index"], xi)
        interp.invoke()
        y = interp.get_tensor(out["index"]).astype(np.float32)
        if out["dtype"] != np.float32:
            y = (y - out_zp) * out_scale
        probs[i] = float(y.reshape(-1)[0])
    return np.clip(probs, 0.0, 1.0)


def _sharpest_mean(values: np.ndarray, k: int, lowest: bool = True) -> float:
    v = np.sort(np.asarray(values, dtype=np.float64))
    if not lowest:
        v = v[::-1]
    return float(v[: max(1, min(k, len(v)))].mean())


_CALIBRATION: dict = {}


def calibration() -> dict:
    """Decision thresholds chosen on validation data by the training run, stored next to the
    model as ``models/blur.json`` (``{"threshold": .. (subject rule), "face_threshold": ..
    (face rule), "laplacian_threshold": .., "directional_threshold": ..}``); defaults
    when absent."""
    from autocull import models
    path = models.model_path(MODEL_NAME).with_suffix(".json")
    key = str(path)
    if key not in _CALIBRATION:
        cal = {"threshold": THRESHOLD, "face_threshold": THRESHOLD, "laplacian_threshold": LAPLACIAN_THRESHOLD,
               "directional_threshold": DIRECTIONAL_THRESHOLD}
        try:
            import json
            with open(path) as fh:
                loaded = json.load(fh)
            cal.update({k: float(loaded[k]) for k in cal if k in loaded})
        except (OSError, ValueError, TypeError):
            pass
        _CALIBRATION[key] = cal
    return _CALIBRATION[key]


def _model_or_none():
    from autocull import models
    try:
        return models.interpreter(MODEL_NAME)
    except (FileNotFoundError, ValueError, RuntimeError):
        return None


def _judge(patches: np.ndarray, sharpest: int, interp):
    """Evidence over the patches that carry structure (None when none do):
    ``(probability, laplacian, directional, kept patches)``; ``directional`` is
    :func:`directional_sharpness` over the ``sharpest`` patches with the highest Laplacian."""
    keep = [p for p in patches if structure_std(p) >= FLAT_STD]
    if not keep:
        return None, None, None, np.zeros((0, PATCH, PATCH), np.uint8)
    arr = np.stack(keep)
    laps = np.array([laplacian_variance(p) for p in arr])
    lap = _sharpest_mean(laps, sharpest, lowest=False)
    directional = directional_sharpness(arr[np.argsort(-laps)[:max(1, sharpest)]])
    if interp is not None:
        prob = _sharpest_mean(predict_patches(arr, interp), sharpest)
    else:  # no model file: the classical measure, mapped to a pseudo-probability
        lt = calibration()["laplacian_threshold"]
        prob = float(1.0 / (1.0 + np.exp(8.0 * (np.log(lap + 1e-6) - np.log(lt)))))
    return prob, lap, directional, arr


def directional_probability(directional: float, threshold: float) -> float:
    """Map a :func:`directional_sharpness` value to a blur probability in [0, 1] that is 0.5
    at ``threshold`` (logistic in log(directional), slope 4: a factor e below the threshold
    reads 0.98)."""
    z = 4.0 * (np.log(max(float(directional), 1e-6)) - np.log(max(float(threshold), 1e-6)))
    return float(1.0 / (1.0 + np.exp(np.clip(z, -50, 50))))


def blur_probability(model_probability: float, directional: float | None, region: str,
                     model_threshold: float, directional_threshold: float | None) -> float:
    """The photo's blur probability from its evidence: the model's output mapped so that
    ``model_threshold`` lands on 0.5 (:func:`calibrated`) and, outside faces, the larger of
    that and the worst-direction measure's (:func:`directional_probability`; skipped when
    ``directional_threshold`` is None). Blurry when >= 0.5."""
    prob = calibrated(model_probability, model_threshold)
    if region != "face" and directional_threshold is not None:
        # The worst-direction measure joins the model outside faces: it catches the shake and
        # motion whose crisp edges along the motion read as sharp to the patch model. (Smooth
        # skin has little detail in any direction, so faces are left to the model.)
        prob = max(prob, directional_probability(directional, directional_threshold))
    return prob


def calibrated(p: float, threshold: float) -> float:
    """Map a model probability monotonically so the decision threshold lands on 0.5
    (piecewise linear: [0, threshold] -> [0, 0.5], [threshold, 1] -> [0.5, 1]); the policy's
    default blur threshold 0.5 then matches ``blurry``."""
    t = min(max(float(threshold), 1e-3), 1 - 1e-3)
    p = min(max(float(p), 0.0), 1.0)
    return 0.5 * p / t if p < t else 0.5 + 0.5 * (p - t) / (1.0 - t)


def _blur_kind(patches: np.ndarray) -> str:
    """A hint for the reason: one direction far softer than the others reads as shake or
    motion, all directions alike as missed focus."""
    e = directional_energy(patches)
    if e.max() <= 0:
        return "soft"
    return "smeared along one direction (likely shake or motion)" if e.min() / e.max() < ANISOTROPY \
        else "soft in every direction (likely missed focus)"


def assess(decoded, faces) -> dict:
    """Judge whether the subject of ``decoded`` is in focus; see the module docstring."""
    interp = _model_or_none()
    cal = calibration()
    method = "cnn" if interp is not None else "laplacian"
    threshold = cal["threshold"] if interp is not None else 0.5
    result = {"blurry": None, "probability": None, "score": None, "region": "frame",
              "laplacian": None, "directional": None, "patches": 0, "threshold": 0.5,
              "model_probability": None, "model_threshold": threshold,
              "directional_threshold": cal["directional_threshold"], "method": method,
              "hint": None, "reason": ""}

    # 1. Faces: the eye band of the largest faces (any face in focus makes the photo sharp).
    judged = []
    faces = [f for f in (faces or []) if f.get("box") is not None and len(f["box"]) == 4]
    if faces:
        faces = sorted(faces, key=lambda f: -float(f["box"][2]) * float(f["box"][3]))
        largest = float(faces[0]["box"][2]) * float(faces[0]["box"][3])
        for f in faces[:3]:
            if float(f["box"][2]) * float(f["box"][3]) < 0.4 * largest:
                break
            patches, _ = face_patches(decoded, f)
            if len(patches):
                ev = _judge(patches, SHARPEST_FACE, interp)
                if ev[0] is not None:
                    judged.append(ev)
    if judged:
        prob, lap, directional, kept = min(judged, key=lambda t: t[0])
        region = "face"
    else:
        # 2. No judgeable face: the most detailed, centre-weighted part of the frame.
        patches, _, whole = subject_patches(decoded)
        region = "frame" if whole else "subject"
        if len(patches) == 0:
            result.update(region=region, reason="image too small to judge")
            return result
        prob, lap, directional, kept = _judge(patches, SHARPEST_SUBJECT, interp)
        if prob is None:
            result.update(region=region, reason="featureless (no detail to judge)")
            return result

    raw = float(prob)
    if region == "face" and interp is not None:
        # Eye-band patches of a face (smooth skin, normalised to <= FACE_WIDTH px) have their
        # own decision threshold, chosen on validation faces.
        threshold = cal["face_threshold"]
    prob = blur_probability(raw, directional, region, threshold, cal["directional_threshold"])
    if region != "face":
        method = method + "+directional"
    blurry = bool(prob >= 0.5)
    reason = f"{region} {'blurry' if blurry else 'sharp'} (sharpness {1.0 - prob:.2f}"
    hint = None
    if blurry:
        hint = _blur_kind(kept)
        reason += f"; {hint}"
    result.update(hint=hint,
        blurry=blurry, probability=round(float(prob), 4), score=round(1.0 - float(prob), 4),
        model_probability=round(raw, 4), model_threshold=threshold,
        directional=round(float(directional), 4), method=method,
        region=region, laplacian=round(float(lap), 4), patches=len(kept), reason=reason + ")",
    )
    return result
