"""Eye state per face and per photo (fills the ``eyes`` object of the analysis record).

``assess(decoded, faces)`` takes the faces found by :func:`autocull.analyse.faces.detect`
(their full-resolution boxes and face-mesh eye landmarks), cuts each eye out of the pixels
its face was fetched at (the coarsest that give the crop ``EYE_MIN_PX`` across: the analysis
image or one JPEG DCT-scaled decode, ``decoded.region_at``), levels it with the eye-corner line and asks
the int8 eye-state CNN (``models/eyes.tflite``) how likely it is closed; that is averaged
with a second signal, the eye aspect ratio of MediaPipe's eye-contour landmarks
(``ear_probability``).

Public, documented function (also as ``autocull.eyes.closed_probability``)::

    closed_probability(eye_image: numpy.ndarray) -> float

``eye_image`` is one eye crop, grayscale (H, W) or BGR (H, W, 3) uint8 (float images in
[0, 1] are accepted too), any size; the eye should be roughly centred and fill about two
thirds of the crop's width (like the CEW 24x24 patches the model was trained on).
Returns the probability, in [0, 1], that the eye is closed.  The crop is converted to gray,
resized to 24x24 and contrast-stretched (:func:`prepare_patch`); the model's answers for
the patch and its mirror image are averaged.

Per face ``state`` is ``closed`` when the more-closed eye's probability reaches
``CLOSED_AT`` (a wink counts as closed), ``open`` when both eyes are below ``OPEN_BELOW``,
otherwise ``unsure``.  Wink rule: a wink is one eye closed and the other open, while
squints and laughs narrow both eyes alike, so a clear difference between the two eyes is
evidence of a closed eye even below ``CLOSED_AT``: the face is also ``closed`` when both
eyes are judged (each at least ``MIN_EYE_PX``), the face is frontal (narrower / wider
eye-corner distance >= ``WINK_FRONTAL``), one eye's probability reaches ``WINK_MIN``, the
other is below ``OPEN_BELOW`` (open) and they are at least ``WINK_GAP`` apart
(``WINK_GAP = None`` turns the rule off).  ``WINK_GAP``/``WINK_MIN`` were chosen on Yale
faces by person (``training/eyes/wink_select.py``; see ``models/eyes.md``).  The face is
``unsure`` with a ``why`` when it cannot be judged (eyes
smaller than ``MIN_EYE_PX`` pixels, no landmarks, strong profile, both eyes dark and flat
as behind sunglasses).  The photo is ``closed`` when any judged main face is closed,
``unsure`` when a main face cannot be judged, ``open`` when every main face is open and
``no_faces`` when none was found.  Main faces are the confidently detected ones at least
``MAIN_FACE_FRACTION`` of the largest face's width, so a small stranger in the background
does not decide the photo.

The object::

    {"state": "open|closed|unsure|no_faces",
     "summary": "eyes closed: face 2 of 5, left of frame",
     "faces": [                       # left to right; "face 2" = faces[1]
        {"box": [x, y, w, h],         # full-resolution pixels
         "state": "open|closed|unsure",
         "closed_probability": float | None,   # the more-closed eye; None when not judged
         "why": str,                  # only when unsure
         "score": float, "index": int, "position": "left of frame|centre of frame|right of frame",
         "main": bool,                # counts for the photo's state
         "eyes": [{"closed_probability", "cnn", "ear", "px"}, ...]}]}   # image-left eye first
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from autocull import models
from autocull.analyse import faces

MODEL = "eyes"
PATCH = 24

CLOSED_AT = 0.6          # face is closed when max(eye probabilities) >= this
OPEN_BELOW = 0.4         # face is open when every eye probability < this
MIN_EYE_PX = faces.MIN_EYE_PX  # eye-corner distance (pixels actually available) below which: unsure (10)
MIN_DET_SCORE = 0.6      # detection score of a "confident" face
MAIN_FACE_FRACTION = 0.5
PROFILE_RATIO = 0.5      # narrower eye / wider eye below this: strong profile
CROP_SCALE = 1.5         # eye crop side = CROP_SCALE x eye-corner distance (CEW framing)
EYE_MIN_PX = faces.EYE_PATCH_MIN_PX * CROP_SCALE  # px across the eye crop (18: the 24-px patch upsampled <= 1.33x)
COVERED_STD = 6.0        # eye centre flatter than this (gray levels) and ...
COVERED_MEAN = 60.0      # ... darker than this on both eyes: sunglasses / eyes covered
# Second signal: the eye aspect ratio from the iris/eye-contour landmarks, mapped to a
# probability 1 / (1 + exp((ear - EAR_MID) / EAR_SCALE)) and averaged with the CNN's.
# EAR_MID: the usual blink threshold; see models/eyes.md for the calibration fit and why.
USE_EAR = True
EAR_MID = 0.2
EAR_SCALE = 0.03
# Wink rule (see the module docstring): one eye at least WINK_MIN, the other below
# OPEN_BELOW, the two at least WINK_GAP apart, both eyes usable and the face frontal
# (narrower / wider eye >= WINK_FRONTAL) -> closed. WINK_GAP None switches it off.
# WINK_GAP and WINK_MIN chosen on Yale by person (training/eyes/wink_select.py, values
# from all Yale people); WINK_FRONTAL fixed beforehand.
WINK_GAP = 0.15
WINK_MIN = 0.5
WINK_FRONTAL = 0.75


# ---------------------------------------------------------------- the public function

def prepare_patch(eye_image: np.ndarray) -> np.ndarray:
    """Gray 24x24 uint8, contrast-stretched (2nd..98th percentile -> 0..255).

    Used identically in training (``training/eyes/train.py``) and at run time.
    """
    img = np.asarray(eye_image)
    if img.dtype != np.uint8:
        img = np.clip(img.astype(np.float32) * (255.0 if img.max(initial=0) <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2GRAY if img.shape[2] == 4 else cv2.COLOR_BGR2GRAY) \
            if img.shape[2] != 1 else img[:, :, 0]
    if img.ndim != 2 or img.shape[0] < 2 or img.shape[1] < 2:
        raise ValueError(f"eye_image must be a 2-D gray or BGR image, got shape {np.shape(eye_image)}")
    h, w = img.shape
    interp = cv2.INTER_AREA if (h > PATCH or w > PATCH) else cv2.INTER_LINEAR
    img = cv2.resize(img, (PATCH, PATCH), interpolation=interp)
    lo, hi = np.percentile(img, (2, 98))
    span = max(float(hi - lo), 16.0)
    out = (img.astype(np.float32) - float(lo)) * (255.0 / span)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _run(patch: np.ndarray) -> float:
    interp = models.interpreter(MODEL)
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    x = patch.astype(np.float32)[None, :, :, None] / 255.0
    scale, zero = inp["quantization"]
    if inp["dtype"] == np.float32 or not scale:
        interp.set_tensor(inp["index"], x.astype(np.float32))
    else:
        q = np.round(x / scale + zero)
        info = np.iinfo(inp["dtype"])
        interp.set_tensor(inp["index"], np.clip(q, info.min, info.max).astype(inp["dtype"]))
    interp.invoke()
    y = interp.get_tensor(out["index"]).astype(np.float32)
    oscale, ozero = out["quantization"]
    if oscale:
        y = (y - ozero) * oscale
    return float(np.clip(y.reshape(-1)[0], 0.0, 1.0))


def closed_probability(eye_image: np.ndarray) -> float:
    """Probability in [0, 1] that the eye in ``eye_image`` is closed (mean of the model on
    the patch and on its mirror image).

    ``eye_image``: one eye crop, gray (H, W) or BGR (H, W, 3), uint8 (or float in [0, 1]),
    any size, eye roughly centred and about two thirds of the crop wide.
    Raises ValueError for something that is not an image; FileNotFoundError when
    ``models/eyes.tflite`` is missing.
    """
    patch = prepare_patch(eye_image)
    return 0.5 * (_run(patch) + _run(np.ascontiguousarray(patch[:, ::-1])))


# ---------------------------------------------------------------- eye crops from a photo

def eye_crop(decoded, eye: dict, out_side: int = 2 * PATCH) -> tuple[np.ndarray | None, float]:
    """Cut one eye (a landmarks ``eyes`` entry) out of the photo, rotated so that the
    eye-corner line is horizontal, from the coarsest pixels that hold ``EYE_MIN_PX`` across
    the crop (the analysis image when it does, else a JPEG DCT scale: no full decode for
    a large eye). An eye too small to be judged even at the finest scale is cut from what
    is already decoded (nothing is decoded for a crop that will not be judged).

    Returns (crop BGR ``out_side`` square or None, eye width in source pixels).
    """
    (x0, y0), (x1, y1) = eye["corners"]
    dx, dy = x1 - x0, y1 - y0
    dist = math.hypot(dx, dy)
    if dist < 1:
        return None, 0.0
    side = CROP_SCALE * dist
    if eye.get("scale") is not None:
        want = float(eye["scale"]) * side   # the pixels the face's landmarks came from
    elif dist * decoded.full_scale < MIN_EYE_PX:
        want = 0.0   # cannot be judged at any scale: no decode for it
    else:
        want = EYE_MIN_PX
    crop, src_scale = faces.warp_square(decoded, eye["center"], side, (dx / dist, dy / dist), out_side,
                                        want, cv2.BORDER_REPLICATE)
    if crop is None:
        return None, 0.0
    return crop, dist * src_scale


def _covered(crop: np.ndarray) -> bool:
    """A flat, dark centre where the eye should be (dark lenses, a hand, hair)."""
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    h, w = g.shape
    c = g[int(h * 0.375):int(h * 0.625), int(w * 0.25):int(w * 0.75)].astype(np.float32)
    return bool(c.std() < COVERED_STD and c.mean() < COVERED_MEAN)


def ear_probability(ear) -> float | None:
    """P(closed) from an eye aspect ratio (iris/eye-contour landmarks); None when unknown."""
    if ear is None:
        return None
    z = (float(ear) - EAR_MID) / EAR_SCALE
    return float(1.0 / (1.0 + math.exp(min(max(z, -60.0), 60.0))))


def _wink(probs: list, frontal: float) -> bool:
    """One eye closed, the other open: both eyes judged, the face frontal enough, one eye
    at least ``WINK_MIN``, the other below ``OPEN_BELOW`` and ``WINK_GAP`` apart."""
    if WINK_GAP is None or len(probs) != 2 or any(q is None for q in probs) or frontal < WINK_FRONTAL:
        return False
    lo, hi = sorted(probs)
    return hi >= WINK_MIN and lo < OPEN_BELOW and hi - lo >= WINK_GAP


def _position(box, width) -> str:
    cx = (box[0] + box[2] / 2.0) / max(width, 1)
    return "left of frame" if cx < 1 / 3 else "right of frame" if cx > 2 / 3 else "centre of frame"


def judge_face(decoded, face: dict, signals: str = "both") -> dict:
    """State of one face: ``{"box", "state", "closed_probability", "eyes": [...], "why"?}``.

    ``signals``: "both" (CNN and eye aspect ratio averaged, the default), "cnn" or "ear"
    (one signal only; for the evaluation)."""
    out = {"box": [int(v) for v in face["box"]], "state": "unsure", "closed_probability": None,
           "score": round(float(face.get("score", 0.0)), 3)}
    lm = face.get("landmarks") or None
    eyes = (lm or {}).get("eyes") or []
    if len(eyes) != 2:
        out["why"] = "eyes not found"
        return out
    per_eye = []
    for eye in eyes:
        crop, eye_px = eye_crop(decoded, eye)
        per_eye.append({"crop": crop, "px": eye_px, "ear": eye.get("ear")})
    covered = [e["crop"] is not None and _covered(e["crop"]) for e in per_eye]
    if all(covered):
        out["why"] = "sunglasses or eyes covered"
        return out
    widths = [math.dist(*e["corners"]) for e in eyes]
    profile = min(widths) / max(max(widths), 1e-6) < PROFILE_RATIO
    usable = [e for e in per_eye if e["crop"] is not None and e["px"] >= MIN_EYE_PX]
    if profile:
        out["why"] = "strong profile"
    for e in per_eye:
        e["p_cnn"] = closed_probability(e["crop"]) if e["crop"] is not None else None
        e["p_ear"] = ear_probability(e["ear"])
        e["p"] = e["p_cnn"]
        if signals == "ear":
            e["p"] = e["p_ear"]
        elif signals == "both" and USE_EAR and e["p_cnn"] is not None and e["p_ear"] is not None:
            e["p"] = 0.5 * (e["p_cnn"] + e["p_ear"])
    r3 = lambda v: None if v is None else round(float(v), 3)  # noqa: E731
    out["eyes"] = [{"closed_probability": r3(e["p"]), "cnn": r3(e["p_cnn"]), "ear": r3(e["ear"]),
                    "px": round(float(e["px"]), 1)} for e in per_eye]
    probs = [e["p"] for e in usable if e["p"] is not None]
    if not probs:
        out["why"] = out.get("why") or "face too small"
        return out
    p = max(probs)
    out["closed_probability"] = round(float(p), 3)
    if profile or len(usable) < 2 and p < CLOSED_AT:
        out.setdefault("why", "one eye only")
        return out
    if p >= CLOSED_AT or _wink([e["p"] for e in usable], min(widths) / max(max(widths), 1e-6)):
        out["state"] = "closed"
        out.pop("why", None)
    elif p < OPEN_BELOW:
        out["state"] = "open"
    else:
        out["why"] = "eyes half closed or unclear"
    return out


def assess(decoded, faces: list[dict]) -> dict:
    """The ``eyes`` object: ``{"state": "open|closed|unsure|no_faces", "faces": [...],
    "summary": str}``; faces are ordered left to right, each with ``box``, ``state``,
    ``closed_probability`` (None when not judged), ``position``, ``main`` and per-eye details."""
    if not faces:
        return {"state": "no_faces", "faces": [], "summary": "no faces found"}
    faces = sorted(faces, key=lambda f: (f["box"][0], f["box"][1]))
    judged = [judge_face(decoded, f) for f in faces]
    largest = max(f["box"][2] for f in faces)
    n = len(judged)
    for i, (j, f) in enumerate(zip(judged, faces)):
        j["index"] = i + 1
        j["position"] = _position(j["box"], decoded.width)
        j["main"] = bool(f.get("score", 1.0) >= MIN_DET_SCORE and f["box"][2] >= MAIN_FACE_FRACTION * largest)
    main = [j for j in judged if j["main"]] or judged
    closed = [j for j in main if j["state"] == "closed"]
    unsure = [j for j in main if j["state"] == "unsure"]
    if closed:
        state = "closed"
        summary = "eyes closed: " + "; ".join(f"face {j['index']} of {n}, {j['position']}" for j in closed)
    elif unsure:
        state = "unsure"
        summary = "cannot judge eyes: " + "; ".join(
            f"face {j['index']} of {n} ({j.get('why', 'unclear')})" for j in unsure)
    else:
        state = "open"
        summary = f"eyes open ({n} face{'s' if n > 1 else ''})"
    return {"state": state, "faces": judged, "summary": summary}
