"""Bursts, duplicates and exposure brackets, with the best frame of each group.

Two entry points (see docs/groups.md for the method and the measured numbers):

``encode(decoded, faces=None) -> dict``
    Computed once per photo from ``decoded.image`` (BGR uint8, oriented, analysis scale) and
    cached with the analysis: 64-bit pHash (and the pHash of the mirrored image, so a flipped
    copy is still a copy), 64-bit dHash, a normalised HSV histogram (8 hue x 3 saturation x
    4 value bins), a 32x32 grey thumbnail (base64) for the structural checks, mean/std level
    and the photo's size; with ``faces`` (the face detector's list), a 32x32 grey crop of the
    largest face (``face``; encodings before v4 hold a 16x16 one, still understood).
    JSON-serialisable; no capture time or exposure settings (those come from the record's
    ``capture_time`` and ``exif``).

``group(records, settings=None, stats=None) -> list[dict | None]``
    One entry per record, in order: ``None`` for a photo in no group (and for records with
    ``ok`` False or no ``_encoding``), else the member object::

        {"id": "g3", "kind": "burst|duplicate|bracket", "size": 4, "best": bool,
         "best_path": "/shoot/IMG_0412.JPG", "reason": "IMG_0412 is sharper (face 0.91 vs 0.64)"}

    ``reason`` says, for an alternate, why the best frame won; for the best frame, why it is best.

How candidate pairs are found (never all pairs; the cost is O(n log n)):

1. **Capture time.** Timed photos are sorted by time; each is compared with at most
   ``max_neighbours`` following frames that lie within ``series_window_s``.
2. **Name order.** Photos without a capture time (scans, exports, stripped EXIF) are compared,
   by content only and with stricter thresholds, with their ``max_neighbours`` successors in
   path order (a folder lists a shoot in shooting order).
3. **Hash index.** Exact and near-exact copies anywhere in the batch (another folder, a resized
   or re-encoded export) are found through sorted-prefix indexing of the pHash: the hashes are
   sorted under several fixed bit rotations/permutations and each is compared with its
   ``index_window`` successors in every order (multi-index hashing: two hashes within Hamming
   distance 3 share one of the four 16-bit prefixes the rotations sort by).

Each candidate pair is scored with vectorised numpy: Hamming distances first (cheap, all
candidates), then for the pairs a rule can still accept, histogram intersection and normalised
cross-correlation (NCC) of 16x16 thumbnails. Pairs that match in colour but not in structure get a
phase-correlation alignment on the 32x32 thumbnails (a hand-held shift of a few per cent); pairs
joined on weak structure are tested for a panorama step (overlap NCC after shifts of 19-69 % of
the frame). Pairs that match are joined with union-find.

Rules for a pair (thresholds in :data:`DEFAULTS`):

- *duplicate* (any two photos): pHash distance <= ``dup_hamming`` (or to the mirrored hash) and
  32x32 NCC >= ``dup_ncc`` (mirrored likewise).
- *burst*, colour photos, both timed, gap <= ``burst_fast_s``: NCC >= ``burst_ncc``; or a colour
  match (histogram intersection >= ``burst_hist``) with NCC >= ``burst_ncc_lo`` or pHash distance
  <= ``burst_hamming``; or, with a colour match, NCC >= ``shift_ncc`` after aligning a shift
  smaller than ``pano_min_shift``.
- *burst*, colour photos, gap <= ``burst_window_s``: NCC >= ``slow_ncc`` (directly or after a
  small shift).
- *series*, colour photos, gap <= ``series_window_s``: NCC >= ``series_ncc`` and a colour match
  >= ``series_hist`` (the same framing re-shot a little later).
- *burst*, grey photos (either side grey): the NCC of their edge structure (log-level gradient
  magnitude, 16x16) >= ``grey_ncc`` (fast gap) / ``grey_slow_ncc`` (within the window), or NCC
  >= ``grey_shift_ncc`` after a small shift with a level-histogram match >= ``grey_hist``. Plain
  NCC and histograms cannot tell grey faces on one backdrop apart.
- *grey portrait series*, both with a 32x32 face crop, gap <= ``series_window_s``: the frame's edge
  NCC plus the face crops' edge NCC (the better of the left and right halves: a face lit from one
  side matches on its lit half) >= ``grey_face_sum``.
- *content only* (a side has no capture time): the ``notime_*`` / ``grey_notime_ncc``
  thresholds, stricter.

*Faces* (``face_check``): a pair joined by any rule but the duplicate one whose records both
have faces (``eyes.faces``) is refused when the largest main face moved more than ``face_pos``
of the frame, changed width by more than ``face_size`` (log ratio), or, when both encodings hold
the face crop, the edge structure of the crops correlates less than ``face_ncc`` (32x32 crops: the
better of the left and right halves; 16x16 crops of older encodings: the whole crop against
``face_ncc_v3``): a different sitter on the same backdrop. Pairs whose main face stayed put skip
the panorama check (a pan moves the face; a side-lit portrait lines up "better" shifted).

Kinds, and what policy must do with them:

- ``bracket``: consecutive frames from one camera whose EXIF exposure bias (>= ``bracket_min_ev``
  EV) or exposure (time x ISO / f-number^2, >= ``bracket_min_ev`` EV, same scene) steps within
  ``bracket_window_s`` (plus the exposure time). Hashes are not consulted: the brightness
  difference defeats them, so EXIF decides. Without EXIF exposure data a content fallback
  (mean grey level stepping by >= 2 ** ``bracket_content_step``, and the same picture with its
  levels remapped: rank-normalised thumbnails' NCC >= ``bracket_content_rank``) applies. **Every member of a
  bracket has ``"best": True``** (``best_path`` names the frame nearest 0 EV, the reference
  exposure), so a policy that makes non-best members alternates never touches a bracket; policy
  should additionally treat ``kind == "bracket"`` as "keep every frame". Bracket members are not
  merged into bursts.
- ``duplicate``: the same picture (a copy, a resize, a re-encode, a mild edit, a mirror image):
  every link in the group is a near-exact match in content and the capture times are equal or
  missing.
- ``burst``: the same scene moments apart (everything else that matched).

Panoramas: a pair that matches in colour but whose thumbnails line up only after a large
sideways (or vertical) shift (>= ``pano_min_shift`` of the frame) with the same exposure is a
panorama step and is not joined. Small shifts (hand-held bursts) are joined.

Best frame of a burst/duplicate group, by elimination, in order: not blurry
(``sharpness.blurry``), eyes open on every face (``eyes.state``), exposure ok
(``exposure.state``), subject sharpness (1 - ``sharpness.probability``: frames within
``sharpness_tie`` of the sharpest all stay in, smaller differences are ties), eyes most clearly
open (lowest worst-face ``closed_probability``, same band), more pixels (2 % band), colour over
grey, earliest capture time (the first frame of a burst is the moment the photographer reacted
to), then input order. Copies of one picture at different sizes are compared at a common scale: a
smaller copy takes the sharpness and eye evidence of the largest copy, so the pixel count decides
(a downscaled export looks sharper per pixel but shows nothing more). The reason names the stage
that decided and its evidence.

Thresholds live in :data:`DEFAULTS`; ``settings["strictness"]`` ("loose", "normal", "strict")
picks a preset from :data:`STRICTNESS` and any explicit key overrides it.
"""

from __future__ import annotations

import base64
import math
import os
from datetime import datetime, timezone

import cv2
import numpy as np

ENCODING_VERSION = 4
THUMB = 32          # stored thumbnail side (grey, aspect squashed)
SMALL = 16          # side of the thumbnail used for the vectorised structural check
HIST_BINS = (8, 3, 4)

# ---------------------------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------------------------

DEFAULTS: dict = {
    "strictness": "normal",
    # candidate generation
    "burst_window_s": 5.0,        # frames further apart in time than this are not compared
    "burst_fast_s": 1.0,          # frames at most this far apart (burst cadence) use the looser rules
    "max_neighbours": 8,          # each frame is compared with at most this many successors
    "index_window": 3,            # successors compared in each sorted-hash order
    "index_hamming": 24,          # index pairs further apart than this (pHash) are not scored
    # burst / same scene (timed pairs within the window)
    "burst_ncc": 0.60,            # thumbnail NCC (16x16, zero-mean) alone that means "same scene"
    "burst_ncc_lo": 0.25,         # ... or NCC at least this with a colour match (gap <= burst_fast_s)
    "burst_hist": 0.45,           # histogram intersection that counts as a colour match
    "burst_hamming": 22,          # ... or pHash distance at most this with a colour match (fast gap)
    "slow_ncc": 0.75,             # gap > burst_fast_s: NCC (direct or after a small shift) needed
    "shift_ncc": 0.70,            # NCC after aligning a small camera shift (fast gap)
    "series_window_s": 30.0,      # colour photos re-shot later (same pose, same framing):
    "series_ncc": 0.70,           # ... NCC at least this
    "series_hist": 0.80,          # ... and a colour match at least this
    "grey_hist": 0.70,            # grey photos: level-histogram match that allows the shift check
    "grey_ncc": 0.60,             # grey pairs, fast gap: edge-structure NCC (16x16) needed
    "grey_slow_ncc": 0.65,        # grey pairs, gap <= burst_window_s
    "grey_shift_ncc": 0.60,       # grey pairs: edge-structure NCC after aligning a small shift
    "grey_notime_ncc": 0.85,      # grey pairs without capture time
    # content only (no capture time on one side)
    "notime_ncc": 0.85,
    "notime_ncc_lo": 0.55,
    "notime_hist": 0.70,
    "notime_hamming": 12,
    # duplicates anywhere in the batch
    "dup_hamming": 8,             # pHash distance (direct or mirrored)
    "dup_ncc": 0.97,              # and 32x32 thumbnail NCC (same orientation as the hash match)
    "dup_time_s": 1.0,            # capture times further apart than this make it a burst
    "reshoot_window_s": 300.0,    # timed frames further apart than this are never joined, not even
                                  # as the same picture (a tripod time-lapse is not one burst)
    # faces (portrait series): frames whose main faces disagree are not joined (duplicates excepted)
    "face_check": True,
    "face_pos": 0.10,             # largest main face's centre moved more than this (fraction of the frame)
    "face_size": 0.25,            # ... or its width changed by more than this (|log ratio|)
    "face_ncc": 0.40,             # ... or the edge structure of the 32x32 face crops correlates less
                                  # (the better of the left and right halves)
    "face_ncc_v3": 0.40,          # ... the same for a 16x16 crop (encodings before v4), whole crop
    "grey_face_sum": 1.30,        # grey portraits, gap <= series_window_s: edge NCC (16x16 frame)
                                  # + face half NCC at least this (above 2: off)
    # brackets
    "bracket_window_s": 2.0,      # gap between bracket frames (plus the earlier exposure time)
    "bracket_min_ev": 0.6,        # smallest exposure step (EV) that counts as bracketing
    "bracket_content": True,      # without EXIF exposure data, detect brackets from content
    "bracket_content_ncc": 0.55,  # structure match (NCC of rank-normalised thumbnails)
    "bracket_content_rank": 0.85, # ... without EXIF exposure data (the real stacks: 0.92-0.99;
                                  # a portrait lit from the side instead of the front: 0.58-0.71)
    "bracket_content_step": 0.5,  # log2 ratio of mean grey levels that counts as a step
    "bracket_level_share": 0.15,  # manual bracket: the mean level must move >= this x the EV step
                                  # (log2), in the step's direction
    # panoramas
    "pano_min_shift": 0.15,       # fraction of the frame
    "pano_ncc": 0.55,             # overlap NCC after the shift
    "pano_check_ncc": 0.75,       # joined pairs below this (unshifted) NCC get the panorama check
    # best frame
    "sharpness_tie": 0.05,        # sharpness scores closer than this are a tie
}

STRICTNESS: dict = {
    # "loose" joins more (longer window, lower similarity); "strict" joins only clear matches.
    # "normal" is DEFAULTS, tuned on half of the evaluation groups (docs/groups.md).
    "loose": {
        "burst_window_s": 15.0, "burst_fast_s": 4.0, "burst_ncc": 0.50, "burst_ncc_lo": 0.20,
        "burst_hist": 0.40, "burst_hamming": 26, "slow_ncc": 0.70, "shift_ncc": 0.65,
        "grey_hist": 0.65, "grey_ncc": 0.50, "grey_slow_ncc": 0.60, "grey_shift_ncc": 0.55, "face_ncc": 0.30,
        "grey_notime_ncc": 0.80, "notime_ncc": 0.80, "notime_ncc_lo": 0.50, "notime_hist": 0.65,
        "notime_hamming": 16, "dup_hamming": 10, "dup_ncc": 0.95,
        "series_window_s": 60.0, "series_ncc": 0.60, "series_hist": 0.70,
    },
    "normal": {},
    "strict": {
        "burst_window_s": 2.0, "burst_fast_s": 0.7, "burst_ncc": 0.80, "burst_ncc_lo": 0.50,
        "burst_hist": 0.70, "burst_hamming": 16, "slow_ncc": 0.90, "shift_ncc": 0.85,
        "grey_hist": 0.95, "grey_ncc": 0.80, "grey_slow_ncc": 0.90, "grey_shift_ncc": 0.95,
        "face_ncc": 0.50, "face_pos": 0.08, "grey_face_sum": 1.40,
        "grey_notime_ncc": 0.92, "notime_ncc": 0.97, "notime_ncc_lo": 0.75, "notime_hist": 0.85,
        "notime_hamming": 8, "dup_hamming": 5, "dup_ncc": 0.985,
        "series_window_s": 10.0, "series_ncc": 0.85, "series_hist": 0.90,
    },
}


def thresholds(settings: dict | None = None) -> dict:
    """Resolve ``settings`` into the full threshold dict (defaults < strictness preset < keys)."""
    settings = dict(settings or {})
    level = settings.get("strictness") or DEFAULTS["strictness"]
    if level not in STRICTNESS:
        raise ValueError(f"strictness must be one of {sorted(STRICTNESS)}, not {level!r}")
    out = dict(DEFAULTS)
    out.update(STRICTNESS[level])
    out.update({k: v for k, v in settings.items() if k in DEFAULTS and v is not None})
    out["strictness"] = level
    return out


# ---------------------------------------------------------------------------------------------
# Hashes
# ---------------------------------------------------------------------------------------------

class Hash64:
    """A 64-bit perceptual hash; ``a - b`` is the Hamming distance (imagehash style)."""

    __slots__ = ("value",)

    def __init__(self, value):
        if isinstance(value, Hash64):
            value = value.value
        elif isinstance(value, str):
            value = int(value, 16)
        self.value = int(value) & 0xFFFFFFFFFFFFFFFF

    def __sub__(self, other) -> int:
        return (self.value ^ Hash64(other).value).bit_count()

    def __eq__(self, other) -> bool:
        return isinstance(other, Hash64) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)

    def __str__(self) -> str:
        return f"{self.value:016x}"

    def __repr__(self) -> str:
        return f"Hash64('{self}')"

    @classmethod
    def from_bits(cls, bits: np.ndarray) -> "Hash64":
        v = 0
        for b in np.asarray(bits, dtype=bool).ravel():
            v = (v << 1) | int(b)
        return cls(v)


def _phash_bits(gray32: np.ndarray) -> np.ndarray:
    d = cv2.dct(gray32.astype(np.float32))
    low = d[:8, :8]
    return low > np.median(low)


def phash(gray: np.ndarray) -> Hash64:
    """pHash: sign of the 8x8 lowest DCT coefficients of a 32x32 grey image against their median."""
    g = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA)
    return Hash64.from_bits(_phash_bits(g))


def dhash(gray: np.ndarray) -> Hash64:
    """dHash: horizontal gradient signs of a 9x8 grey image."""
    g = cv2.resize(gray, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    return Hash64.from_bits(g[:, 1:] > g[:, :-1])


# ---------------------------------------------------------------------------------------------
# Encoding (once per photo)
# ---------------------------------------------------------------------------------------------

def encode_thumb(thumb: np.ndarray) -> str:
    """A 32x32 uint8 grey thumbnail as base64 of its 1024 bytes + 2 zero bytes (1368 characters,
    no padding, so a batch of them decodes in one call)."""
    return base64.b64encode(np.ascontiguousarray(thumb, dtype=np.uint8).tobytes() + b"\0\0").decode("ascii")


def _work_image(bgr: np.ndarray) -> np.ndarray:
    """Downscale to <= 256 px long side (area averaging) so the encoders cost the same for any
    input: an integer-factor reduction first (OpenCV's fast path), then the small remainder."""
    h, w = bgr.shape[:2]
    k = max(h, w) // 256
    if k > 1:
        bgr = cv2.resize(bgr, (max(1, w // k), max(1, h // k)), interpolation=cv2.INTER_AREA)
        h, w = bgr.shape[:2]
    f = 256.0 / max(h, w)
    if f < 1.0:
        bgr = cv2.resize(bgr, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)
    return bgr


FACE = 32           # side of the stored face crop (grey; encodings before v4 stored 16x16)
FACE_V3 = 16


def _face_crop(decoded, img: np.ndarray, faces) -> str | None:
    """32x32 grey crop of the largest face (box in full-resolution pixels), base64 of its 1024
    bytes + 2 zero bytes (no padding, so a batch decodes in one call): a small signature that tells
    two sitters on one backdrop apart, half by half (a side-lit face matches on its lit half)."""
    boxes = [f.get("box") for f in faces or [] if isinstance(f, dict) and f.get("box")]
    if not boxes:
        return None
    x, y, w, h = (float(v) for v in max(boxes, key=lambda b: b[2] * b[3]))
    s = float(getattr(decoded, "scale", 1.0) or 1.0)
    H, W = img.shape[:2]
    x0, y0 = max(0, int(round(x * s))), max(0, int(round(y * s)))
    x1, y1 = min(W, int(round((x + w) * s))), min(H, int(round((y + h) * s)))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return None
    crop = cv2.cvtColor(img[y0:y1, x0:x1], cv2.COLOR_BGR2GRAY)
    crop = cv2.resize(crop, (FACE, FACE), interpolation=cv2.INTER_AREA)
    return base64.b64encode(np.ascontiguousarray(crop, dtype=np.uint8).tobytes() + b"\0\0").decode("ascii")


def encode(decoded, faces=None) -> dict:
    """Per-photo encoding for grouping (JSON-serialisable; see the module docstring). ``faces``
    (optional): the face detector's list (``box`` [x, y, w, h] in full-resolution pixels); the
    largest face's 16x16 grey crop is then stored as ``face``."""
    img = decoded.image
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    img = np.ascontiguousarray(img[..., :3])
    small = _work_image(img)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    g32 = cv2.resize(gray, (32, 32), interpolation=cv2.INTER_AREA)
    ph = Hash64.from_bits(_phash_bits(g32))
    ph_flip = Hash64.from_bits(_phash_bits(np.ascontiguousarray(g32[:, ::-1])))
    dh = dhash(gray)
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, list(HIST_BINS), [0, 180, 0, 256, 0, 256]).ravel()
    hist = hist / max(float(hist.sum()), 1.0)
    thumb = cv2.resize(gray, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
    sat = float(hsv[..., 1].mean())
    exif = getattr(decoded, "exif", None) or {}
    return {
        "v": ENCODING_VERSION,
        "phash": str(ph),
        "phash_flip": str(ph_flip),
        "dhash": str(dh),
        "hist": [round(float(x), 5) for x in hist],
        "thumb": encode_thumb(thumb),
        "mean": round(float(gray.mean()), 2),
        "std": round(float(gray.std()), 2),
        "colour": sat > 12.0,
        "width": int(getattr(decoded, "width", img.shape[1])),
        "height": int(getattr(decoded, "height", img.shape[0])),
        "orientation": int(exif.get("orientation") or 1),
        "face": _face_crop(decoded, img, faces) if faces else None,
    }


# ---------------------------------------------------------------------------------------------
# Union-find
# ---------------------------------------------------------------------------------------------

class _UF:
    def __init__(self, n: int):
        self.p = list(range(n))

    def find(self, a: int) -> int:
        p = self.p
        while p[a] != a:
            p[a] = p[p[a]]
            a = p[a]
        return a

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.p[rb] = ra
            else:
                self.p[ra] = rb


# ---------------------------------------------------------------------------------------------
# Record parsing
# ---------------------------------------------------------------------------------------------

def _timestamp(s) -> float:
    if not s:
        return math.nan
    if isinstance(s, (int, float)):
        return float(s)
    try:
        dt = datetime.fromisoformat(str(s).strip().replace("Z", "+00:00"))
    except ValueError:
        return math.nan
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


def _f(v) -> float:
    try:
        x = float(v)
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def _stem(path) -> str:
    return os.path.splitext(os.path.basename(str(path)))[0] or str(path)


_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount(x: np.ndarray) -> np.ndarray:
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x).astype(np.int16)
    return _POP8[x.view(np.uint8).reshape(-1, 8)].sum(1).astype(np.int16)


def _hex_array(values) -> np.ndarray:
    return np.array([int(v, 16) if v else 0 for v in values], dtype=np.uint64)


class _Table:
    """Column arrays over the records that take part (ok, with an encoding)."""

    def __init__(self, records):
        idx, encs = [], []
        for i, r in enumerate(records):
            if not r or not r.get("ok", True):
                continue
            e = r.get("_encoding")
            if not e or not e.get("phash"):
                continue
            idx.append(i)
            encs.append(e)
        self.idx = idx
        self.n = n = len(idx)
        recs = [records[i] for i in idx]
        self.recs = recs
        self.paths = [str(r.get("path") or f"#{i}") for i, r in zip(idx, recs)]
        self.phash = _hex_array([e["phash"] for e in encs])
        self.pflip = _hex_array([e.get("phash_flip") or e["phash"] for e in encs])
        self.time = np.array([_timestamp(r.get("capture_time")) for r in recs], dtype=np.float64)
        nb = int(np.prod(HIST_BINS))
        hl = [e.get("hist") for e in encs]
        try:
            hist = np.array(hl, dtype=np.float32).reshape(n, nb)
        except (ValueError, TypeError):
            hist = np.zeros((n, nb), dtype=np.float32)
            for k, h in enumerate(hl):
                if h is not None and len(h) == nb:
                    hist[k] = h
        self.hist = hist
        thumbs = _decode_thumbs([e.get("thumb") for e in encs])
        self.thumb32 = thumbs.reshape(n, THUMB, THUMB)
        t = self.thumb32.astype(np.uint16)
        s = (t[:, 0::2, 0::2] + t[:, 1::2, 0::2] + t[:, 0::2, 1::2] + t[:, 1::2, 1::2])  # 2x2 pooling
        s = s.reshape(n, SMALL * SMALL).astype(np.float32)
        self.small = _normalise_rows(s)
        self.mean = np.array([_f(e.get("mean")) for e in encs], dtype=np.float64)
        self.colour = np.array([bool(e.get("colour", True)) for e in encs])
        self.pixels = np.array([float(r.get("width") or e.get("width") or 0) *
                                float(r.get("height") or e.get("height") or 0) for r, e in zip(recs, encs)])
        ex = [r.get("exif") or {} for r in recs]
        self.bias = np.array([_f(x.get("exposure_bias")) for x in ex])
        t = np.array([_f(x.get("exposure_time")) for x in ex])
        fn = np.array([_f(x.get("f_number")) for x in ex])
        iso = np.array([_f(x.get("iso")) for x in ex])
        with np.errstate(invalid="ignore", divide="ignore"):
            # light captured, in EV: log2(t) - 2 log2(N) + log2(ISO/100); missing N/ISO count as equal
            ev = (np.log2(t) - 2 * np.log2(np.where(np.isnan(fn), 1.0, fn))
                  + np.log2(np.where(np.isnan(iso), 100.0, iso) / 100.0))
        self.exptime = t
        self.light_ev = ev
        self.camera = [(str(x.get("make") or ""), str(x.get("model") or "")) for x in ex]
        # faces (from the record's eyes.faces): main-face count, the largest main face's centre and
        # width as fractions of the frame; -1 / nan when the record says nothing about faces
        nfaces = np.full(n, -1, np.int16)
        fgeo = np.full((n, 3), np.nan)
        for k, (r, e) in enumerate(zip(recs, encs)):
            eyes = r.get("eyes")
            if not isinstance(eyes, dict) or not eyes.get("state") or not isinstance(eyes.get("faces"), list):
                continue
            fl = [f for f in eyes["faces"] if isinstance(f, dict) and f.get("box")]
            main = [f for f in fl if f.get("main")] or fl
            nfaces[k] = len(main)
            W = float(r.get("width") or e.get("width") or 0)
            H = float(r.get("height") or e.get("height") or 0)
            if main and W > 0 and H > 0:
                x, y, w, h = (float(v) for v in max(main, key=lambda f: f["box"][2])["box"][:4])
                fgeo[k] = ((x + w / 2) / W, (y + h / 2) / H, max(w, 1.0) / W)
        self.nfaces = nfaces
        self.face_geo = fgeo
        # face crops: 32x32 (v4) or 16x16 (v3), kept as bytes (face32 / face16, row face_slot);
        # their edge structure is computed for the pairs that need it (face_half_rows, face16_rows)
        crops = [e.get("face") for e in encs]
        self.has_face32 = np.array([isinstance(c, str) and len(c) == _FACE_B64 for c in crops], bool)
        self.has_face_crop = self.has_face32 | np.array([isinstance(c, str) and len(c) == _FACE_B64_V3
                                                         for c in crops], bool)
        self.face_slot = np.full(n, -1, np.int64)
        have = np.flatnonzero(self.has_face32)
        self.face32 = np.zeros((len(have), FACE, FACE), np.uint8)
        if len(have):
            raw = np.frombuffer(base64.b64decode("".join(crops[k] for k in have)), np.uint8)
            self.face32[:] = raw.reshape(len(have), FACE * FACE + 2)[:, :FACE * FACE].reshape(-1, FACE, FACE)
            self.face_slot[have] = np.arange(len(have))
        old = np.flatnonzero(self.has_face_crop & ~self.has_face32)
        n16 = FACE_V3 * FACE_V3
        self.face16 = np.zeros((len(old), FACE_V3, FACE_V3), np.uint8)
        if len(old):
            raw = np.frombuffer(base64.b64decode("".join(crops[k] for k in old)), np.uint8)
            self.face16[:] = raw.reshape(len(old), n16 + 2)[:, :n16].reshape(-1, FACE_V3, FACE_V3)
            self.face_slot[old] = np.arange(len(old))
        self._erows: np.ndarray | None = None
        self._erow_done: np.ndarray | None = None

    def face_half_rows(self, idx: np.ndarray) -> np.ndarray:
        """(m, 2, 512): edge structure (zero-mean, unit) of the left and right half of the 32x32
        face crops of records idx (all with a v4 crop)."""
        m, h = len(idx), FACE // 2
        e = _edge_maps(self.face32[self.face_slot[idx]])
        out = np.empty((m, 2, FACE * h), np.float32)
        out[:, 0] = _normalise_rows(e[:, :, :h].reshape(m, -1))
        out[:, 1] = _normalise_rows(e[:, :, h:].reshape(m, -1))
        return out

    def face16_rows(self, idx: np.ndarray) -> np.ndarray:
        """(m, 256): edge structure of the whole face crop at 16x16 (a 32x32 crop 2x2-pooled), for
        records idx (all with a crop): the comparison of encodings before v4."""
        c = np.empty((len(idx), FACE_V3, FACE_V3), np.uint8)
        new = self.has_face32[idx]
        if new.any():
            pooled = self.face32[self.face_slot[idx[new]]].astype(np.uint16)
            pooled = pooled.reshape(-1, FACE_V3, 2, FACE_V3, 2).sum((2, 4))
            c[new] = ((pooled + 2) // 4).astype(np.uint8)
        if (~new).any():
            c[~new] = self.face16[self.face_slot[idx[~new]]]
        return _normalise_rows(_edge_maps(c).reshape(len(idx), -1))

    def edge_rows(self, idx: np.ndarray) -> np.ndarray:
        """16x16 edge-structure rows (zero-mean, unit), computed once per record, on demand."""
        if self._erows is None:
            self._erows = np.zeros((self.n, SMALL * SMALL), np.float32)
            self._erow_done = np.zeros(self.n, bool)
        todo = np.unique(idx[~self._erow_done[idx]])
        f = THUMB // SMALL
        for s in range(0, len(todo), 8192):
            t = todo[s:s + 8192]
            e = _edge_maps(self.thumb32[t]).reshape(len(t), SMALL, f, SMALL, f).sum((2, 4))
            self._erows[t] = _normalise_rows(e.reshape(len(t), -1))
        self._erow_done[todo] = True
        return self._erows[idx]


def _decode_thumbs(strings: list) -> np.ndarray:
    """base64 thumbnails -> (n, 1024) uint8. The encodings are 1368 characters without padding
    (1024 bytes + 2 zero bytes), so the whole batch decodes in one call."""
    n = len(strings)
    size = THUMB * THUMB
    if n and all(isinstance(t, str) and len(t) == _THUMB_B64 and t[-1] != "=" for t in strings):
        raw = np.frombuffer(base64.b64decode("".join(strings)), dtype=np.uint8)
        return raw.reshape(n, size + 2)[:, :size]
    out = np.zeros((n, size), np.uint8)
    for k, t in enumerate(strings):
        if t:
            try:
                b = base64.b64decode(t)
            except ValueError:
                continue
            if len(b) >= size:
                out[k] = np.frombuffer(b[:size], dtype=np.uint8)
    return out


_THUMB_B64 = (THUMB * THUMB + 2) // 3 * 4
_FACE_B64 = (FACE * FACE + 2) // 3 * 4      # 1368 characters, no padding
_FACE_B64_V3 = (FACE_V3 * FACE_V3 + 2) // 3 * 4     # 344 characters (encodings before v4)


def _normalise_rows(a: np.ndarray) -> np.ndarray:
    """Rows minus their mean, scaled to unit length (float32): dot products are NCCs."""
    a = np.asarray(a, dtype=np.float32)
    a = a - a.mean(1, keepdims=True, dtype=np.float32)
    norm = np.sqrt(np.einsum("ij,ij->i", a, a))[:, None]
    a /= np.maximum(norm, 1e-3 * a.shape[1])
    return a


# ---------------------------------------------------------------------------------------------
# Candidate pairs
# ---------------------------------------------------------------------------------------------

def _window_pairs(order: np.ndarray, t: np.ndarray | None, k_max: int, window: float):
    """Pairs (order[i], order[i+k]) for k <= k_max (and time gap <= window when t is given)."""
    a_all, b_all = [], []
    m = len(order)
    for k in range(1, min(k_max, m - 1) + 1):
        a, b = order[:-k], order[k:]
        if t is not None:
            keep = (t[b] - t[a]) <= window
            if not keep.any():
                break
            a, b = a[keep], b[keep]
        a_all.append(a)
        b_all.append(b)
    if not a_all:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(a_all).astype(np.int64), np.concatenate(b_all).astype(np.int64)


def _rotl(h: np.ndarray, r: int) -> np.ndarray:
    if r == 0:
        return h
    return (h << np.uint64(r)) | (h >> np.uint64(64 - r))


_PERMS = [np.random.default_rng(s).permutation(64) for s in (11, 12, 13, 14)]


def _permute_bits(h: np.ndarray, perm: np.ndarray) -> np.ndarray:
    bits = np.unpackbits(h.astype(">u8").view(np.uint8).reshape(-1, 8), axis=1)
    return np.ascontiguousarray(np.packbits(bits[:, perm], axis=1)).view(">u8").ravel().astype(np.uint64)


def _index_pairs(h: np.ndarray, window: int):
    """Sorted-prefix multi-index: pairs that are neighbours (<= window apart) in any sorted order
    of the hashes under 4 rotations (16-bit prefixes) and 4 fixed bit permutations."""
    n = len(h)
    if n < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = [_rotl(h, r) for r in (0, 16, 32, 48)] + [_permute_bits(h, p) for p in _PERMS]
    a_all, b_all = [], []
    for key in keys:
        order = np.argsort(key, kind="stable")
        a, b = _window_pairs(order, None, window, 0.0)
        a_all.append(a)
        b_all.append(b)
    a = np.concatenate(a_all)
    b = np.concatenate(b_all)
    return _unique_pairs(a, b, n)


def _unique_pairs(a: np.ndarray, b: np.ndarray, n: int):
    code = np.sort(np.minimum(a, b) * n + np.maximum(a, b))
    if len(code):
        code = code[np.r_[True, code[1:] != code[:-1]]]
    return code // n, code % n


# ---------------------------------------------------------------------------------------------
# Pair scoring
# ---------------------------------------------------------------------------------------------

def _pair_features(T: _Table, a: np.ndarray, b: np.ndarray, chunk: int = 65536):
    hist = np.empty(len(a), np.float32)
    ncc = np.empty(len(a), np.float32)
    for s in range(0, len(a), chunk):
        aa, bb = a[s:s + chunk], b[s:s + chunk]
        hist[s:s + chunk] = np.minimum(T.hist[aa], T.hist[bb]).sum(1)
        ncc[s:s + chunk] = np.einsum("ij,ij->i", T.small[aa], T.small[bb])
    return hist, ncc


_LOG_LUT = np.log1p(np.arange(256, dtype=np.float32))


def _edge_maps(thumbs: np.ndarray) -> np.ndarray:
    """Log-level gradient magnitude of 32x32 thumbnails (m, 32, 32): the edge structure, invariant
    to exposure and less fooled than plain levels by same-layout grey faces."""
    lg = _LOG_LUT[thumbs]
    gx = np.zeros_like(lg)
    gy = np.zeros_like(lg)
    gx[:, :, 1:-1] = lg[:, :, 2:] - lg[:, :, :-2]
    gy[:, 1:-1, :] = lg[:, 2:, :] - lg[:, :-2, :]
    return np.sqrt(gx * gx + gy * gy)


def _edge_ncc(T: _Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """16x16 edge-structure NCC of pairs."""
    return np.einsum("ij,ij->i", T.edge_rows(a), T.edge_rows(b))


def _ncc32(T: _Table, a: np.ndarray, b: np.ndarray, flip: bool = False) -> np.ndarray:
    """Zero-mean NCC of the 32x32 thumbnails of pairs (b mirrored when flip)."""
    out = np.empty(len(a), np.float32)
    for s in range(0, len(a), 8192):
        x = T.thumb32[a[s:s + 8192]].astype(np.float32)
        y = T.thumb32[b[s:s + 8192]].astype(np.float32)
        if flip:
            y = y[:, :, ::-1]
        x = _normalise_rows(x.reshape(len(x), -1))
        y = _normalise_rows(y.reshape(len(y), -1))
        out[s:s + 8192] = np.einsum("ij,ij->i", x, y)
    return out


def _overlap_ncc(x: np.ndarray, y: np.ndarray, dx: int, dy: int) -> float:
    """NCC of x and y where y is x moved by (dx, dy) pixels: x[r, c] ~ y[r - dy, c - dx]."""
    h, w = x.shape
    if abs(dx) >= w - 3 or abs(dy) >= h - 3:
        return -1.0
    xs = x[max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
    ys = y[max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
    xs = xs - xs.mean()
    ys = ys - ys.mean()
    d = math.sqrt(float((xs * xs).sum()) * float((ys * ys).sum()))
    return float((xs * ys).sum()) / d if d > 1e-6 else 0.0


_ROWS = np.arange(THUMB)


def _overlap_stats(x: np.ndarray, y: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """NCC over the overlap where x[r, c] ~ y[r - dy, c - dx], for stacks x, y (m, h, w)."""
    h, w = x.shape[1:]
    xs = x[:, max(0, dy):h + min(0, dy), max(0, dx):w + min(0, dx)]
    ys = y[:, max(0, -dy):h + min(0, -dy), max(0, -dx):w + min(0, -dx)]
    m = len(x)
    xs = xs.reshape(m, -1)
    ys = ys.reshape(m, -1)
    xs = xs - xs.mean(1, keepdims=True)
    ys = ys - ys.mean(1, keepdims=True)
    cov = np.einsum("ij,ij->i", xs, ys)
    var = np.sqrt(np.einsum("ij,ij->i", xs, xs) * np.einsum("ij,ij->i", ys, ys))
    return np.where(var > 1e-6, cov / np.maximum(var, 1e-6), 0.0).astype(np.float32)


def _masked_ncc(x: np.ndarray, y: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Per-pair NCC over the overlap where x[r, c] ~ y[r - dy, c - dx] (x, y: (m, 32, 32) float32),
    computed per distinct shift. Overlaps smaller than 30 % of the frame give -1."""
    out = np.full(len(x), -1.0, np.float32)
    code = (dx + THUMB) * (4 * THUMB) + (dy + THUMB)
    order = np.argsort(code, kind="stable")
    sc = code[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    ends = np.r_[starts[1:], len(sc)]
    for s0, s1 in zip(starts, ends):
        sel = order[s0:s1]
        ddx, ddy = int(dx[sel[0]]), int(dy[sel[0]])
        if (THUMB - abs(ddx)) * (THUMB - abs(ddy)) < 0.3 * THUMB * THUMB:
            continue
        out[sel] = _overlap_stats(x[sel], y[sel], ddx, ddy)
    return out


_PANO_SHIFTS = [(d, 0) for d in range(3, 12)] + [(-d, 0) for d in range(3, 12)] + \
    [(0, d) for d in range(3, 12)] + [(0, -d) for d in range(3, 12)]


def _pano_ncc(T: _Table, a: np.ndarray, b: np.ndarray):
    """Best overlap NCC of the 16x16 thumbnails over large sideways/vertical shifts (3-11 px of 16:
    19-69 % of the frame, the steps of a panorama): (best NCC, shift as a fraction of the frame)."""
    best = np.full(len(a), -1.0, np.float32)
    frac = np.zeros(len(a), np.float32)
    if len(a) == 0:
        return best, frac
    x = T.small[a].reshape(-1, SMALL, SMALL)
    y = T.small[b].reshape(-1, SMALL, SMALL)
    for dx, dy in _PANO_SHIFTS:
        v = _overlap_stats(x, y, dx, dy)
        better = v > best
        best = np.where(better, v, best)
        frac = np.where(better, max(abs(dx), abs(dy)) / SMALL, frac)
    return best, frac


_HANN = np.outer(np.hanning(THUMB), np.hanning(THUMB)).astype(np.float32)


def _shift_batch(T: _Table, a: np.ndarray, b: np.ndarray, max_shift: int, chunk: int = 4096):
    """Small translation between the 32x32 thumbnails of each pair, by phase correlation (batched
    FFTs over whitened spectra): (dx, dy, overlap NCC) arrays with x[r, c] ~ y[r - dy, c - dx].
    Peaks further than max_shift px (either axis) are ignored: the pair keeps its unshifted NCC."""
    m = len(a)
    DX = np.zeros(m, np.int64)
    DY = np.zeros(m, np.int64)
    V = np.full(m, -1.0, np.float32)
    if m == 0:
        return DX, DY, V
    recs, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    ia, ib = inv[:m], inv[m:]
    spec = np.empty((len(recs), THUMB, THUMB // 2 + 1), np.complex64)
    for s in range(0, len(recs), chunk):
        t = T.thumb32[recs[s:s + chunk]].astype(np.float32)
        f = np.fft.rfft2((t - t.mean((1, 2), keepdims=True)) * _HANN)
        spec[s:s + chunk] = f / (np.abs(f) + 1e-3)      # whitened spectra: phase only
    for s in range(0, m, chunk):
        x = T.thumb32[a[s:s + chunk]].astype(np.float32)
        y = T.thumb32[b[s:s + chunk]].astype(np.float32)
        r = spec[ia[s:s + chunk]] * np.conj(spec[ib[s:s + chunk]])
        corr = np.fft.irfft2(r, s=(THUMB, THUMB)).reshape(len(x), -1)
        pk = corr.argmax(1)
        py, px = pk // THUMB, pk % THUMB
        px = np.where(px > THUMB // 2, px - THUMB, px)      # the alias nearest zero
        py = np.where(py > THUMB // 2, py - THUMB, py)
        near = (np.abs(px) <= max_shift) & (np.abs(py) <= max_shift)
        px, py = np.where(near, px, 0), np.where(near, py, 0)
        zero = np.zeros(len(x), np.int64)
        v0 = _masked_ncc(x, y, zero, zero)
        v = _masked_ncc(x, y, px, py)
        better = v > v0 + 0.02 * ((px != 0) | (py != 0))
        DX[s:s + chunk] = np.where(better, px, 0)
        DY[s:s + chunk] = np.where(better, py, 0)
        V[s:s + chunk] = np.where(better, v, v0)
    return DX, DY, V


# ---------------------------------------------------------------------------------------------
# Brackets
# ---------------------------------------------------------------------------------------------

def _rank_thumb(t: np.ndarray) -> np.ndarray:
    """Rank-normalised thumbnail (histogram-equalised): exposure-invariant structure."""
    flat = t.ravel().astype(np.float32)
    r = np.argsort(np.argsort(flat, kind="stable"), kind="stable").astype(np.float32)
    return r.reshape(t.shape)


def _brackets(T: _Table, th: dict, stats: dict):
    """Bracket runs (lists of table indices) per camera, by EXIF; content fallback without EXIF."""
    runs = []
    timed = np.flatnonzero(~np.isnan(T.time))
    by_cam: dict = {}
    for k in timed[np.argsort(T.time[timed], kind="stable")]:
        by_cam.setdefault(T.camera[k], []).append(int(k))
    seqs = list(by_cam.values())
    # without capture times, the path order stands in for the shooting order
    untimed = np.flatnonzero(np.isnan(T.time))
    if len(untimed) > 1:
        seqs.append([int(k) for k in sorted(untimed, key=lambda k: T.paths[k])])
    half = th["bracket_min_ev"] / 2
    min_ev = th["bracket_min_ev"] - 1e-6
    for seq in seqs:
        seq = np.asarray(seq, dtype=np.int64)
        if len(seq) < 2:
            continue
        # vectorised pre-filter over consecutive frames; the exact test only where it can fire
        p, k = seq[:-1], seq[1:]
        gap = T.time[k] - T.time[p]
        with np.errstate(invalid="ignore", divide="ignore"):
            ok_gap = np.isnan(gap) | (gap <= th["bracket_window_s"] + np.nan_to_num(T.exptime[p], nan=0.0))
            db = np.abs(T.bias[k] - T.bias[p])
            de = np.abs(T.light_ev[k] - T.light_ev[p])
            dm = np.abs(np.log2(np.maximum(T.mean[k], 1.0) / np.maximum(T.mean[p], 1.0)))
            cand = ok_gap & ((db >= min_ev) | (de >= min_ev) |
                             (np.isnan(de) & bool(th["bracket_content"]) & (dm >= th["bracket_content_step"])))
        cur: list[int] = []
        last = -2
        for i in np.flatnonzero(cand):
            a_, b_ = int(p[i]), int(k[i])
            if not _bracket_step(T, a_, b_, th, stats):
                continue
            if i != last + 1:
                if len(cur) >= 2:
                    runs.append(cur)
                cur = [a_]
            last = i
            # the exposure pattern repeats (e.g. 0,-2,+2,0,-2,+2): a new bracket starts
            v = _exposure_value(T, b_)
            if any(all(abs(x - y) < half for x, y in zip(v, _exposure_value(T, c))) for c in cur):
                if len(cur) >= 2:
                    runs.append(cur)
                cur = [b_]
            else:
                cur.append(b_)
        if len(cur) >= 2:
            runs.append(cur)
    return runs


def _exposure_value(T: _Table, k: int) -> tuple:
    """(bias, light EV) with the mean level standing in when EXIF has neither (nan -> 0)."""
    b = 0.0 if math.isnan(T.bias[k]) else float(T.bias[k])
    e = T.light_ev[k]
    if math.isnan(e):
        e = math.log2(max(T.mean[k], 1.0)) if not math.isnan(T.mean[k]) else 0.0
    return (b, float(e))


def _bracket_step(T: _Table, a: int, b: int, th: dict, stats: dict) -> bool:
    min_ev = th["bracket_min_ev"] - 1e-6
    stats["bracket_checks"] = stats.get("bracket_checks", 0) + 1
    ba, bb = T.bias[a], T.bias[b]
    if not (math.isnan(ba) or math.isnan(bb)) and abs(ba - bb) >= min_ev:
        return True   # exposure compensation changed within seconds: auto-exposure bracketing
    ea, eb = T.light_ev[a], T.light_ev[b]
    if not (math.isnan(ea) or math.isnan(eb)):
        # manual bracketing: the exposure steps with the bias constant, on the same scene, and the
        # photo's brightness follows (a shutter change alone may be the camera answering a change
        # of light, e.g. a cloud, in aperture priority: then the frames look alike and are no bracket)
        return (abs(ea - eb) >= min_ev and _brightness_follows(T, a, b, ea - eb, th)
                and _same_structure(T, a, b, th))
    if not th["bracket_content"]:
        return False
    # no EXIF exposure data: content fallback (same structure, the level steps by > ~1 stop)
    ma, mb = T.mean[a], T.mean[b]
    if math.isnan(ma) or math.isnan(mb):
        return False
    # without EXIF nothing vouches for a bracket: the frames must be the same picture with its
    # levels remapped (a monotone change keeps the ranks), not the same scene lit differently
    return (abs(math.log2(max(ma, 1.0) / max(mb, 1.0))) >= th["bracket_content_step"]
            and _same_structure(T, a, b, th, th["bracket_content_rank"]))


def _brightness_follows(T: _Table, a: int, b: int, d_ev: float, th: dict) -> bool:
    """The mean grey level moved in the direction of the exposure step, by at least
    ``bracket_level_share`` of it (in log2 of the gamma-encoded level a step of s EV moves the mean
    by about s / 2.2 before clipping). Without levels, EXIF alone decides."""
    ma, mb = T.mean[a], T.mean[b]
    if math.isnan(ma) or math.isnan(mb):
        return True
    d_level = math.log2(max(ma, 1.0) / max(mb, 1.0))
    return d_level * math.copysign(1.0, d_ev) >= th["bracket_level_share"] * abs(d_ev)


def _same_structure(T: _Table, a: int, b: int, th: dict, need: float | None = None) -> bool:
    x = _rank_thumb(T.thumb32[a])
    y = _rank_thumb(T.thumb32[b])
    return _overlap_ncc(x, y, 0, 0) >= (th["bracket_content_ncc"] if need is None else need)


# ---------------------------------------------------------------------------------------------
# Best frame
# ---------------------------------------------------------------------------------------------

def _quality(rec: dict, pixels: float, colour: bool, t: float):
    sh = rec.get("sharpness") or {}
    blurry = sh.get("blurry")
    p = sh.get("probability")
    sharp_score = None if p is None else 1.0 - float(p)
    eyes = rec.get("eyes") or {}
    est = eyes.get("state")
    faces = eyes.get("faces") or []
    closed = [float(f.get("closed_probability")) for f in faces if f.get("closed_probability") is not None]
    n_closed = sum(1 for f in faces if f.get("state") == "closed")
    ex = (rec.get("exposure") or {}).get("state")
    return {
        "blurry": blurry, "sharp": sharp_score, "region": sh.get("region") or "frame",
        "eyes": est, "n_faces": len(faces), "n_closed": n_closed,
        "worst_closed": max(closed) if closed else 0.0, "exposure": ex,
        "pixels": float(pixels), "colour": bool(colour), "time": t, "same_as": None,
    }


def _same_picture_scale(q: dict, mem: list, dup_edges: list) -> None:
    """Copies of one picture at different sizes (duplicate links) are compared at a common scale:
    a downscaled copy looks sharper per pixel than its original but shows nothing the original
    does not, so a smaller copy (< 90 % of the pixels) takes the sharpness and eye evidence of the
    largest copy of that picture, and the pixel count then decides between them."""
    if not dup_edges:
        return
    uf = {k: k for k in mem}

    def find(x):
        while uf[x] != x:
            uf[x] = uf[uf[x]]
            x = uf[x]
        return x
    for i, j in dup_edges:
        if i in uf and j in uf:
            uf[find(i)] = find(j)
    classes: dict = {}
    for k in mem:
        classes.setdefault(find(k), []).append(k)
    for cls in classes.values():
        if len(cls) < 2:
            continue
        top = max(cls, key=lambda k: (q[k]["pixels"], -k))
        for k in cls:
            if q[k]["pixels"] < 0.9 * q[top]["pixels"]:
                for key in ("blurry", "sharp", "region", "eyes", "n_faces", "n_closed", "worst_closed"):
                    q[k][key] = q[top][key]
                q[k]["same_as"] = top


_BLUR_RANK = {False: 2, None: 1, True: 0}


def _eyes_rank(q: dict) -> int:
    return 0 if (q["eyes"] == "closed" or q["n_closed"]) else (1 if q["eyes"] == "unsure" else 2)


def _rank(mem: list, q: dict, tie: float):
    """The best frame of a group, by elimination: each stage keeps the members that are best on
    one criterion (within ``tie`` for the scores: smaller differences are ties); the first stage
    that leaves one member decides. Returns (best, {member: (stage, frame it lost to)})."""
    alive = list(mem)
    lost: dict = {}
    stages = (
        ("blurry", lambda k: _BLUR_RANK.get(q[k]["blurry"], 1), 0.0),
        ("eyes", lambda k: _eyes_rank(q[k]), 0.0),
        ("exposure", lambda k: 0 if q[k]["exposure"] in ("under", "over", "misfire") else 1, 0.0),
        ("sharp", lambda k: -1.0 if q[k]["sharp"] is None else q[k]["sharp"], tie),
        ("open", lambda k: -q[k]["worst_closed"], tie),
        # more pixels: differences under 2 % are a tie (the same sensor, a crop of a few pixels)
        ("pixels", lambda k: math.log(max(q[k]["pixels"], 1.0)), 0.02),
        ("colour", lambda k: 1 if q[k]["colour"] else 0, 0.0),
        ("time", lambda k: -(q[k]["time"] if q[k]["time"] == q[k]["time"] else 0.0), 0.0),
        ("order", lambda k: -k, 0.0),
    )
    for stage, value, band in stages:
        if len(alive) == 1:
            break
        vals = [value(k) for k in alive]
        top = max(vals)
        top_k = alive[vals.index(top)]
        kept = []
        for k, v in zip(alive, vals):
            if v >= top - band - 1e-9:
                kept.append(k)
            else:
                lost[k] = (stage, top_k)
        alive = kept
    return alive[0], lost


def _fmt(x) -> str:
    return "?" if x is None else f"{x:.2f}"


def _why(best_name: str, qb: dict, qo: dict, stage: str, qw: dict, winner_name: str) -> str:
    """Why this member is not the best: the stage where it dropped out, with the evidence that
    decided it (qw: the frame it lost to at that stage; usually the best frame itself)."""
    if stage == "blurry":
        if qo["blurry"]:
            if qw["sharp"] is not None and qo["sharp"] is not None and _fmt(qw["sharp"]) != _fmt(qo["sharp"]):
                return (f"{best_name} is sharper ({qw['region']} {_fmt(qw['sharp'])} vs {_fmt(qo['sharp'])}, "
                        "this frame is blurry)")
            return f"{best_name} is not blurry (this frame is)"
        return f"{best_name} is known to be sharp (no sharpness verdict here)"
    if stage == "eyes":
        if _eyes_rank(qo) == 0:
            return f"{best_name} has eyes open (closed here)"
        return f"{best_name} has eyes clearly open (unsure here)"
    if stage == "exposure":
        return f"{best_name} is better exposed ({qo['exposure']} here)"
    if stage == "sharp":
        if qo["sharp"] is None:
            return f"{best_name} has a sharpness score ({qw['region']} {_fmt(qw['sharp'])}; none here)"
        if winner_name != best_name:
            return (f"{best_name} wins among the sharpest frames; this one is less sharp "
                    f"({qo['region']} {_fmt(qo['sharp'])} vs {_fmt(qw['sharp'])} for {winner_name})")
        return f"{best_name} is sharper ({qw['region']} {_fmt(qw['sharp'])} vs {_fmt(qo['sharp'])})"
    if stage == "open":
        return (f"{best_name} has eyes more clearly open "
                f"({_fmt(qw['worst_closed'])} vs {_fmt(qo['worst_closed'])} closed)")
    if stage == "pixels":
        same = " of the same picture" if qo.get("same_as") is not None else ""
        return (f"{best_name} has more pixels{same} ({qw['pixels'] / 1e6:.1f} vs {qo['pixels'] / 1e6:.1f} MP"
                + (", equally sharp at a common scale)" if same else ")"))
    if stage == "colour":
        return f"{best_name} is in colour"
    if stage == "time":
        return f"{best_name} is the earlier frame (same quality)"
    return f"{best_name} comes first (same quality)"


def _why_best(kind: str, size: int, q: dict, span: float = 0.0, window: float = math.inf) -> str:
    bits = []
    if q["blurry"] is False:
        bits.append(f"sharp {q['region']} {_fmt(q['sharp'])}")
    elif q["sharp"] is not None:
        bits.append(f"{q['region']} {_fmt(q['sharp'])}")
    if q["n_faces"] and not q["n_closed"] and q["eyes"] == "open":
        bits.append("eyes open")
    if q["exposure"] == "ok":
        bits.append("exposure ok")
    detail = f" ({', '.join(bits)})" if bits else ""
    what = f"{size} copies" if kind == "duplicate" else f"a {kind} of {size}"
    if kind == "burst" and span > window:
        # the same framing re-shot later (a retake), not a burst in the camera's sense
        what = f"{size} shots of the same framing over {span:.0f} s"
    return f"best of {what}{detail}"


# ---------------------------------------------------------------------------------------------
# Grouping
# ---------------------------------------------------------------------------------------------

def group(records, settings: dict | None = None, stats: dict | None = None) -> list:
    """Group a batch (see the module docstring). ``stats`` (optional dict) receives counters:
    ``comparisons`` (candidate pairs, all Hamming-compared: O(n), the sub-quadratic measure),
    ``time_pairs``/``name_pairs``/``index_pairs`` (where they came from), ``scored_pairs`` (given
    the full features), ``structural_checks`` (phase-correlation alignments), ``panorama_pairs``
    (pairs left apart as panorama steps), ``bracket_checks``, ``groups`` and per-kind counts."""
    th = thresholds(settings)
    st = stats if stats is not None else {}
    st.update(comparisons=0, structural_checks=0, panorama_pairs=0, bracket_checks=0,
              index_pairs=0, time_pairs=0, name_pairs=0)
    records = list(records)
    out: list = [None] * len(records)
    T = _Table(records)
    n = T.n
    if n == 0:
        st["groups"] = 0
        return out
    uf = _UF(n)
    edge_kind: list[tuple[int, int, str]] = []
    dup_edges: list[tuple[int, int]] = []

    # 1. brackets (EXIF decides)
    in_bracket = np.zeros(n, bool)
    for run in _brackets(T, th, st):
        for k in run[1:]:
            uf.union(run[0], k)
            edge_kind.append((run[0], k, "bracket"))
        in_bracket[run] = True

    # 2. candidate pairs: time window, name order (no time), hash index
    has_t = ~np.isnan(T.time)
    timed = np.flatnonzero(has_t)
    ta, tb = _window_pairs(timed[np.argsort(T.time[timed], kind="stable")], T.time,
                           th["max_neighbours"], max(th["burst_window_s"], th["series_window_s"]))
    untimed = np.flatnonzero(~has_t)
    if len(untimed):
        untimed = untimed[np.argsort(np.array([T.paths[k] for k in untimed], dtype=object), kind="stable")]
    na, nb_ = _window_pairs(untimed, None, th["max_neighbours"], 0.0)
    ia, ib = _index_pairs(T.phash, th["index_window"])
    st["time_pairs"], st["name_pairs"], st["index_pairs"] = len(ta), len(na), len(ia)
    a = np.concatenate([ta, na, ia])
    b = np.concatenate([tb, nb_, ib])
    a, b = _unique_pairs(a, b, n)
    st["comparisons"] = int(len(a))
    if len(a) == 0:
        return _finish(records, T, uf, edge_kind, th, st, out)
    # cheap first: Hamming distances for every candidate; the full features only where a rule can
    # still fire (time-window and name-order pairs; index pairs close enough in hash space)
    ham = _popcount(T.phash[a] ^ T.phash[b])
    ham_flip = np.minimum(_popcount(T.phash[a] ^ T.pflip[b]), _popcount(T.pflip[a] ^ T.phash[b]))
    dt = np.abs(T.time[a] - T.time[b])
    both_t = has_t[a] & has_t[b]
    close_t = both_t & (dt <= th["burst_window_s"])
    series_t = both_t & (dt <= th["series_window_s"])
    keep = series_t | (np.minimum(ham, ham_flip) <= th["dup_hamming"]) | \
        (~both_t & (ham <= th["index_hamming"]))
    if len(na):
        keep[np.isin(a * n + b, np.minimum(na, nb_) * n + np.maximum(na, nb_))] = True
    sel = np.flatnonzero(keep)
    a, b, ham, ham_flip, dt = a[sel], b[sel], ham[sel], ham_flip[sel], dt[sel]
    both_t, close_t, series_t = both_t[sel], close_t[sel], series_t[sel]
    st["scored_pairs"] = int(len(a))
    hist, ncc = _pair_features(T, a, b)
    fast_t = both_t & (dt <= th["burst_fast_s"])

    # duplicates: near-exact content anywhere (direct or mirrored), confirmed at 32x32
    # (the 16x16 NCC bounds the 32x32 one closely: only near-certain pairs get the finer check)
    dup = np.zeros(len(a), bool)
    p = np.flatnonzero((ham <= th["dup_hamming"]) & (ncc >= th["dup_ncc"] - 0.02))
    if len(p):
        dup[p[_ncc32(T, a[p], b[p], False) >= th["dup_ncc"]]] = True
    p = np.flatnonzero((ham_flip <= th["dup_hamming"]) & ~dup)
    if len(p):
        dup[p[_ncc32(T, a[p], b[p], True) >= th["dup_ncc"]]] = True
    # bursts: timed pairs in the window, by the burst rules. A colour match means little between
    # grey photos (all faces on a grey backdrop look alike), and their plain NCC is fooled the same
    # way: grey pairs are judged on the structure of their edges instead.
    both_colour = T.colour[a] & T.colour[b]
    grey = ~both_colour
    colour = both_colour & (hist >= th["burst_hist"])
    grey_match = grey & (hist >= th["grey_hist"])
    edge = np.zeros(len(a), np.float32)
    if grey.any():
        g = np.flatnonzero(grey)
        edge[g] = _edge_ncc(T, a[g], b[g])
    burst = both_colour & ((fast_t & ((ncc >= th["burst_ncc"]) |
                                      (colour & (ncc >= th["burst_ncc_lo"])) |
                                      (colour & (ham <= th["burst_hamming"])))) |
                           (close_t & (ncc >= th["slow_ncc"])) |
                           (series_t & (ncc >= th["series_ncc"]) & (hist >= th["series_hist"])))
    burst |= grey & ((fast_t & (edge >= th["grey_ncc"])) | (close_t & (edge >= th["grey_slow_ncc"])))
    # grey portrait series: the frame's edge structure and the face's (its better-lit half) together
    face_half = np.full(len(a), np.nan, np.float32)      # filled where computed (face check reuses it)
    if th["grey_face_sum"] is not None:
        g = np.flatnonzero(grey & series_t & ~burst & T.has_face32[a] & T.has_face32[b])
        if len(g):
            face_half[g] = _face_half_ncc(T, a[g], b[g])
            burst[g[edge[g] + face_half[g] >= th["grey_face_sum"]]] = True
    # content only: a side without a capture time, stricter rules
    notime = ~both_t
    ncol = both_colour & (hist >= th["notime_hist"])
    burst_nt = notime & ((both_colour & (ncc >= th["notime_ncc"])) |
                         (ncol & (ncc >= th["notime_ncc_lo"])) |
                         (ncol & (ham <= th["notime_hamming"])) |
                         (grey & (edge >= th["grey_notime_ncc"])))
    # candidates for the alignment check: colour matches but structure doesn't (a shifted view?)
    cand_shift = (close_t & (colour | grey_match) & ~burst) | (notime & (ncol | grey_match) & ~burst_nt)
    joined = dup | burst | burst_nt
    same_exp = np.ones(len(a), bool)
    ea, eb = T.light_ev[a], T.light_ev[b]
    known = ~(np.isnan(ea) | np.isnan(eb))
    same_exp[known] = np.abs(ea[known] - eb[known]) < 0.34
    # a small camera shift within a burst: align by phase correlation, then compare
    check = np.flatnonzero(cand_shift)
    if len(check):
        st["structural_checks"] = int(len(check))
        max_shift = max(0, math.ceil(th["pano_min_shift"] * THUMB) - 1)
        dx, dy, v = _shift_batch(T, a[check], b[check], max_shift)
        small = np.maximum(np.abs(dx), np.abs(dy)) <= max_shift
        need = np.where(fast_t[check], th["shift_ncc"],
                        np.where(close_t[check], th["slow_ncc"], th["notime_ncc"]))
        ok = small & (v >= need)
        # grey pairs: the aligned edge structure decides (aligned plain NCC confuses grey faces)
        g = np.flatnonzero(grey[check] & small)
        ok[grey[check]] = False
        if len(g):
            ca, cb = a[check[g]], b[check[g]]
            ve = np.empty(len(g), np.float32)
            for c0 in range(0, len(g), 8192):
                sl = slice(c0, c0 + 8192)
                ve[sl] = _masked_ncc(_edge_maps(T.thumb32[ca[sl]]), _edge_maps(T.thumb32[cb[sl]]),
                                     dx[g][sl], dy[g][sl])
            gs = th["grey_shift_ncc"]
            need_g = np.where(fast_t[check[g]], gs,
                              np.where(close_t[check[g]], max(gs, th["grey_slow_ncc"]),
                                       max(gs, th["grey_notime_ncc"])))
            ok[g] = ve >= need_g
        joined[check[ok]] = True
    # faces: two frames of one portrait series show the same face in about the same place; a
    # different sitter on the same backdrop does not (duplicates are the same picture: not checked)
    if th["face_check"]:
        chk = np.flatnonzero(joined & ~dup & (T.nfaces[a] > 0) & (T.nfaces[b] > 0))
        if len(chk):
            refuse = _faces_disagree(T, a[chk], b[chk], th, face_half[chk])
            joined[chk[refuse]] = False
            st["face_refused"] = int(refuse.sum())
    # panorama steps (only where a weak match joined): the same exposure, and the frames line up
    # only after a large shift
    # (not where the main face stayed put: the face check has already refused a face that moved
    # more than face_pos, less than a panorama step; a side-lit portrait lines up "better" shifted)
    if th["face_check"]:
        with np.errstate(invalid="ignore"):
            still_face = _face_shift(T, a, b) <= th["face_pos"]    # nan (no face) compares False
    else:
        still_face = np.zeros(len(a), bool)
    check = np.flatnonzero(joined & ~dup & (ncc < th["pano_check_ncc"]) & same_exp & ~still_face)
    if len(check):
        v, frac = _pano_ncc(T, a[check], b[check])
        pano = (frac >= th["pano_min_shift"]) & (v >= th["pano_ncc"]) & (v > ncc[check] + 0.1)
        joined[check[pano]] = False
        st["panorama_pairs"] = int(pano.sum())
    # bracket members do not join bursts (duplicates of a bracket frame may join its bracket)
    same_moment = ~both_t | (dt <= th["dup_time_s"])
    joined &= ~both_t | (dt <= th["reshoot_window_s"])
    jb = in_bracket[a] | in_bracket[b]
    joined &= ~jb | (dup & same_moment)
    for p in np.flatnonzero(joined):
        i, j = int(a[p]), int(b[p])
        uf.union(i, j)
        kind = "duplicate" if (dup[p] and same_moment[p]) else "burst"
        edge_kind.append((i, j, kind))
        if dup[p]:
            dup_edges.append((i, j))
    return _finish(records, T, uf, edge_kind, th, st, out, dup_edges)


def _face_half_ncc(T: _Table, a: np.ndarray, b: np.ndarray, chunk: int = 4096) -> np.ndarray:
    """Edge-structure NCC of the 32x32 face crops, left and right half separately; the better half
    counts (a face lit from one side matches on its lit half). nan where a side has no v4 crop."""
    out = np.full(len(a), np.nan, np.float32)
    p = np.flatnonzero(T.has_face32[a] & T.has_face32[b])
    for s in range(0, len(p), chunk):
        q = p[s:s + chunk]
        recs, inv = np.unique(np.concatenate([a[q], b[q]]), return_inverse=True)
        rows = T.face_half_rows(recs)
        ha, hb = rows[inv[:len(q)]], rows[inv[len(q):]]
        out[q] = np.maximum(np.einsum("ij,ij->i", ha[:, 0], hb[:, 0]), np.einsum("ij,ij->i", ha[:, 1], hb[:, 1]))
    return out


def _face_shift(T: _Table, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How far the largest main face moved between records a and b (fraction of the frame, the
    larger of the two axes); nan where either has no face."""
    ga, gb = T.face_geo[a], T.face_geo[b]
    return np.maximum(np.abs(ga[:, 0] - gb[:, 0]), np.abs(ga[:, 1] - gb[:, 1]))


def _faces_disagree(T: _Table, a: np.ndarray, b: np.ndarray, th: dict,
                    half: np.ndarray | None = None) -> np.ndarray:
    """Pairs (both with faces) whose largest main faces differ in place, size or look (``half``:
    the pairs' face half NCC where already known, nan elsewhere)."""
    ga, gb = T.face_geo[a], T.face_geo[b]
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = _face_shift(T, a, b) > th["face_pos"]
        resized = np.abs(np.log(ga[:, 2] / gb[:, 2])) > th["face_size"]
    out = np.nan_to_num(moved, nan=0).astype(bool) | np.nan_to_num(resized, nan=0).astype(bool)
    if th["face_ncc"] is not None:
        half = np.full(len(a), np.nan, np.float32) if half is None else half.copy()
        todo = np.flatnonzero(np.isnan(half) & T.has_face32[a] & T.has_face32[b])
        if len(todo):
            half[todo] = _face_half_ncc(T, a[todo], b[todo])
        out |= half < th["face_ncc"]          # nan (no v4 crop on a side) compares False
        # a side with a 16x16 crop only (encodings before v4): the whole crop at 16x16
        old = np.flatnonzero(np.isnan(half) & T.has_face_crop[a] & T.has_face_crop[b])
        if len(old):
            v = np.einsum("ij,ij->i", T.face16_rows(a[old]), T.face16_rows(b[old]))
            out[old] |= v < th["face_ncc_v3"]
    return out


def _reference_key(T: _Table, k: int):
    """The bracket's reference frame: exposure bias nearest 0 EV, then mean level nearest mid-grey."""
    bias = 0.0 if math.isnan(T.bias[k]) else abs(float(T.bias[k]))
    level = 0.0 if math.isnan(T.mean[k]) else abs(math.log2(max(float(T.mean[k]), 1.0) / 118.0))
    return (bias, level, T.idx[k])


def _finish(records, T: _Table, uf: _UF, edges, th, st, out, dup_edges=()):
    n = T.n
    roots = [uf.find(k) for k in range(n)]
    members: dict[int, list[int]] = {}
    for k, r in enumerate(roots):
        members.setdefault(r, []).append(k)
    kinds: dict[int, set] = {}
    for i, j, kind in edges:
        kinds.setdefault(roots[i], set()).add(kind)
    dup_by_root: dict[int, list] = {}
    for i, j in dup_edges:
        dup_by_root.setdefault(roots[i], []).append((i, j))
    gid = 0
    counts = {"burst": 0, "duplicate": 0, "bracket": 0}
    pixels, colour, times = T.pixels.tolist(), T.colour.tolist(), T.time.tolist()
    tie = th["sharpness_tie"]
    for root in sorted((r for r, m in members.items() if len(m) > 1), key=lambda r: T.idx[members[r][0]]):
        mem = members[root]
        ks = kinds.get(root, {"burst"})
        kind = "bracket" if "bracket" in ks else ("duplicate" if ks == {"duplicate"} else "burst")
        gid += 1
        counts[kind] += 1
        g = f"g{gid}"
        size = len(mem)
        if kind == "bracket":
            ref = min(mem, key=lambda k: _reference_key(T, k))
            for k in mem:
                out[T.idx[k]] = {"id": g, "kind": kind, "size": size, "best": True,
                                 "best_path": T.paths[ref],
                                 "reason": f"exposure bracket of {size}: every frame is kept"}
            continue
        q = {k: _quality(T.recs[k], pixels[k], colour[k], times[k]) for k in mem}
        in_group = set(mem)
        _same_picture_scale(q, mem, [(i, j) for i, j in dup_by_root.get(root, ()) if i in in_group])
        best, lost = _rank(mem, q, tie)
        bname = _stem(T.paths[best])
        for k in mem:
            is_best = k == best
            if is_best:
                ts = [times[m] for m in mem if times[m] == times[m]]
                span = max(ts) - min(ts) if ts else 0.0
                reason = _why_best(kind, size, q[k], span, th["burst_window_s"])
            else:
                stage, w = lost[k]
                reason = _why(bname, q[best], q[k], stage, q[w], _stem(T.paths[w]))
            out[T.idx[k]] = {"id": g, "kind": kind, "size": size, "best": is_best,
                             "best_path": T.paths[best], "reason": reason}
    st["groups"] = gid
    st.update({f"{k}_groups": v for k, v in counts.items()})
    return out
