"""A small writer of valid DNG files (pure Python + numpy), for test fixtures and benchmarks.

The file is a little-endian TIFF laid out like a camera's DNG:

- IFD0: a reduced-resolution JPEG preview (NewSubfileType 1, Compression 7, Photometric YCbCr,
  the JPEG as one strip) carrying the DNG tags (DNGVersion 1.4, UniqueCameraModel, ColorMatrix1,
  AsShotNeutral, CalibrationIlluminant1), Make, Model, Orientation, an Exif IFD (DateTimeOriginal,
  SubSecTimeOriginal, ExposureTime, FNumber, ISO, ExposureBiasValue) and a SubIFDs pointer to
- the raw IFD: an uncompressed Bayer CFA mosaic (NewSubfileType 0, Photometric 32803, 2x2 RGGB by
  default) with BlackLevel and WhiteLevel, 12/14/16 significant bits stored in 16-bit samples, or
  8-bit samples with a LinearizationTable.

With ``preview_side=None`` there is no preview: IFD0 is the raw image itself, so a reader has to
demosaic.

The mosaic is made from an sRGB image: sRGB -> linear light (inverse sRGB transfer curve), times
the camera's per-channel response (``neutral``), scaled between black and white level, and
sampled at each photosite's colour. The "camera" is linear sRGB with per-channel gains, so
ColorMatrix1 is the XYZ(D65) -> linear-sRGB matrix with those gains, and AsShotNeutral equals
``neutral``: a raw converter that white-balances and colour-corrects gets the source image back.

    from dngwriter import write_dng
    write_dng("IMG_0001.dng", rgb)                      # rgb: (H, W, 3) uint8, displayed orientation
    write_dng("IMG_0002.dng", rgb, preview_side=None)   # no preview: demosaic only
"""

from __future__ import annotations

import struct
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np

__all__ = ["write_dng", "srgb_to_linear", "linear_to_srgb", "mosaic", "unorient"]

# TIFF field types
BYTE, ASCII, SHORT, LONG, RATIONAL, SBYTE, UNDEFINED, SSHORT, SLONG, SRATIONAL = range(1, 11)
_SIZE = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, SBYTE: 1, UNDEFINED: 1, SSHORT: 2,
         SLONG: 4, SRATIONAL: 8}

# XYZ (D65) -> linear sRGB
XYZ_TO_SRGB = np.array([[3.2404542, -1.5371385, -0.4985314],
                        [-0.9692660, 1.8760108, 0.0415560],
                        [0.0556434, -0.2040259, 1.0572252]])

DEFAULT_NEUTRAL = (0.50, 1.0, 0.68)   # a daylight-balanced camera: red and blue less sensitive
_ORIENT_INVERSE = {1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6}


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    """sRGB-encoded values in [0, 1] -> linear light in [0, 1]."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(v: np.ndarray) -> np.ndarray:
    """Linear light in [0, 1] -> sRGB-encoded values in [0, 1]."""
    v = np.clip(np.asarray(v, dtype=np.float64), 0.0, 1.0)
    return np.where(v <= 0.0031308, v * 12.92, 1.055 * v ** (1 / 2.4) - 0.055)


def _orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation ``orientation`` to a stored (sensor-order) array -> displayed array."""
    o = orientation
    if o == 2:
        return img[:, ::-1]
    if o == 3:
        return img[::-1, ::-1]
    if o == 4:
        return img[::-1]
    if o == 5:
        return np.swapaxes(img, 0, 1)
    if o == 6:
        return np.swapaxes(img, 0, 1)[:, ::-1]
    if o == 7:
        return np.swapaxes(img, 0, 1)[::-1, ::-1]
    if o == 8:
        return np.swapaxes(img, 0, 1)[::-1]
    return img


def unorient(img: np.ndarray, orientation: int) -> np.ndarray:
    """The stored (sensor-order) array that EXIF ``orientation`` turns into displayed ``img``."""
    return _orient(img, _ORIENT_INVERSE[orientation])


def _cfa_indices(pattern: str) -> list[int]:
    pattern = pattern.upper()
    if len(pattern) != 4 or set(pattern) - set("RGB"):
        raise ValueError(f"CFA pattern must be 4 letters of R, G, B (e.g. 'RGGB'), not {pattern!r}")
    return ["RGB".index(c) for c in pattern]


def mosaic(rgb: np.ndarray, luts, pattern: str = "RGGB", dtype=np.uint16) -> np.ndarray:
    """Sample an (H, W, 3) uint8 image into a 2x2 CFA mosaic, mapping each channel through its
    256-entry lookup table ``luts[c]`` (8-bit value -> stored sample)."""
    h, w = rgb.shape[:2]
    out = np.empty((h, w), dtype=dtype)
    idx = _cfa_indices(pattern)
    for k, c in enumerate(idx):
        dy, dx = divmod(k, 2)
        out[dy::2, dx::2] = luts[c][rgb[dy::2, dx::2, c]]
    return out


def _rational(x: float, signed: bool = False, limit: int = 1_000_000) -> tuple[int, int]:
    f = Fraction(x).limit_denominator(limit)
    n, d = f.numerator, f.denominator
    bound = 2 ** 31 - 1 if signed else 2 ** 32 - 1
    while abs(n) > bound or d > bound:
        n, d = n // 2, max(1, d // 2)
    return n, d


class _Ifd:
    """One IFD: entries (tag, type, values); pointer-valued tags are patched in at layout."""

    def __init__(self):
        self.entries: dict[int, tuple[int, list]] = {}

    def add(self, tag: int, typ: int, values):
        if typ == ASCII:
            data = values.encode("ascii", "replace") + b"\x00" if isinstance(values, str) else bytes(values)
            values = list(data)
        elif typ == UNDEFINED and isinstance(values, (bytes, bytearray)):
            values = list(values)
        elif not isinstance(values, (list, tuple, np.ndarray)):
            values = [values]
        self.entries[tag] = (typ, list(values))

    def _payload(self, typ: int, values: list) -> bytes:
        if typ in (BYTE, ASCII, UNDEFINED):
            return bytes(int(v) & 0xFF for v in values)
        if typ == SBYTE:
            return struct.pack(f"<{len(values)}b", *values)
        if typ == SHORT:
            return struct.pack(f"<{len(values)}H", *values)
        if typ == SSHORT:
            return struct.pack(f"<{len(values)}h", *values)
        if typ == LONG:
            return struct.pack(f"<{len(values)}I", *values)
        if typ == SLONG:
            return struct.pack(f"<{len(values)}i", *values)
        if typ in (RATIONAL, SRATIONAL):
            flat = []
            for v in values:
                n, d = v if isinstance(v, tuple) else _rational(v, typ == SRATIONAL)
                flat += [n, d]
            return struct.pack(f"<{len(flat)}{'i' if typ == SRATIONAL else 'I'}", *flat)
        raise ValueError(f"unknown TIFF type {typ}")

    def size(self) -> int:
        n = 2 + 12 * len(self.entries) + 4
        for typ, vals in self.entries.values():
            b = _SIZE[typ] * len(vals)
            if b > 4:
                n += b + (b & 1)
        return n

    def pack(self, offset: int, next_ifd: int = 0) -> bytes:
        """Serialise at file offset ``offset`` (entries sorted by tag, large values after the IFD)."""
        tags = sorted(self.entries)
        head = [struct.pack("<H", len(tags))]
        extra = []
        extra_off = offset + 2 + 12 * len(tags) + 4
        for tag in tags:
            typ, vals = self.entries[tag]
            data = self._payload(typ, vals)
            if len(data) <= 4:
                head.append(struct.pack("<HHI", tag, typ, len(vals)) + data.ljust(4, b"\x00"))
            else:
                head.append(struct.pack("<HHII", tag, typ, len(vals), extra_off))
                if len(data) & 1:
                    data += b"\x00"
                extra.append(data)
                extra_off += len(data)
        head.append(struct.pack("<I", next_ifd))
        out = b"".join(head + extra)
        assert len(out) == self.size()
        return out


def _encode_jpeg(rgb: np.ndarray, quality: int) -> bytes:
    try:
        import simplejpeg
        return simplejpeg.encode_jpeg(np.ascontiguousarray(rgb), quality=quality, colorspace="RGB",
                                      colorsubsampling="420")
    except ImportError:
        import cv2
        ok, buf = cv2.imencode(".jpg", np.ascontiguousarray(rgb[..., ::-1]),
                               [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        return buf.tobytes()


def _resize(rgb: np.ndarray, side: int) -> np.ndarray:
    import cv2
    h, w = rgb.shape[:2]
    f = side / float(max(h, w))
    if f >= 1:
        return rgb
    return cv2.resize(rgb, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def write_dng(path, rgb: np.ndarray, *, preview_side: int | None = 1620, preview_quality: int = 90,
              bits: int = 14, black_level: int | None = None, neutral=DEFAULT_NEUTRAL,
              cfa_pattern: str = "RGGB", orientation: int = 1,
              make: str = "AutoCull", model: str = "Synthetic DNG",
              unique_camera_model: str | None = None,
              capture_time: datetime | str | None = None, subsec: str | None = None,
              exposure_time: float | None = 1 / 250, f_number: float | None = 4.0,
              iso: int | None = 200, exposure_bias: float | None = 0.0,
              focal_length: float | None = None, noise: float = 0.0, seed: int = 0) -> Path:
    """Write ``rgb`` (H, W, 3 uint8 sRGB, as displayed) as a DNG at ``path``; returns the path.

    preview_side: long side of the embedded JPEG preview (None: no preview, IFD0 holds the raw).
    bits: 12, 14 or 16 significant bits in 16-bit samples, or 8 (8-bit samples, sRGB-coded,
        linearised by a LinearizationTable).
    black_level: default 2**(bits-6) (64 at 12 bits, 256 at 14, 0 at 8).
    neutral: the camera's response to white per channel (AsShotNeutral), max 1.
    orientation: EXIF orientation to record; pixels are stored un-rotated so a reader that applies
        it shows ``rgb`` as given.
    capture_time: datetime or 'YYYY:MM:DD HH:MM:SS'; ``subsec``: SubSecTimeOriginal digits
        (default: the datetime's milliseconds).
    noise: standard deviation of Gaussian sensor noise, in raw units (0 = none).
    """
    rgb = np.asarray(rgb)
    if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.dtype != np.uint8:
        raise ValueError("rgb must be an (H, W, 3) uint8 array")
    if bits not in (8, 12, 14, 16):
        raise ValueError("bits must be 8, 12, 14 or 16")
    if orientation not in range(1, 9):
        raise ValueError("orientation must be 1-8")
    rgb = rgb[..., :3]
    stored = np.ascontiguousarray(unorient(rgb, orientation))
    h, w = stored.shape[:2]
    if h < 2 or w < 2:
        raise ValueError("image too small for a 2x2 CFA")
    neutral = np.asarray(neutral, dtype=np.float64)
    neutral = neutral / neutral.max()

    # --- the raw mosaic
    levels = np.arange(256) / 255.0
    lin = srgb_to_linear(levels)
    if bits == 8:
        # store sRGB-coded 8-bit values of the camera's linear response; the table linearises them
        luts = [np.round(255 * linear_to_srgb(lin * neutral[c])).astype(np.uint8) for c in range(3)]
        cfa = mosaic(stored, luts, cfa_pattern, np.uint8)
        lin_table = np.round(srgb_to_linear(levels) * 65535).astype(np.int64)
        white = 65535
        black = 0 if black_level is None else black_level
    else:
        white = 2 ** bits - 1
        black = 2 ** (bits - 6) if black_level is None else black_level
        luts = [np.round(black + lin * neutral[c] * (white - black)).astype(np.uint16) for c in range(3)]
        cfa = mosaic(stored, luts, cfa_pattern, np.uint16)
        lin_table = None
    if noise > 0:
        rng = np.random.default_rng(seed)
        top = 255 if bits == 8 else white
        cfa = np.clip(cfa.astype(np.float32) + rng.normal(0, noise, cfa.shape).astype(np.float32),
                      0, top).astype(cfa.dtype)
    raw_bytes = cfa.astype("<u2" if cfa.dtype == np.uint16 else np.uint8, copy=False)

    # --- preview
    jpeg = None
    if preview_side:
        prev = _resize(stored, int(preview_side))
        jpeg = _encode_jpeg(prev, preview_quality)
        ph, pw = prev.shape[:2]

    # --- tags
    if isinstance(capture_time, datetime):
        if subsec is None:
            subsec = f"{capture_time.microsecond // 1000:03d}"
        dt_text = capture_time.strftime("%Y:%m:%d %H:%M:%S")
    else:
        dt_text = capture_time
    cam_xyz = np.diag(neutral) @ XYZ_TO_SRGB   # XYZ -> camera native (linear sRGB with gains)

    raw = _Ifd()
    raw.add(254, LONG, 0)
    raw.add(256, LONG, w)
    raw.add(257, LONG, h)
    raw.add(258, SHORT, 8 if bits == 8 else 16)
    raw.add(259, SHORT, 1)
    raw.add(262, SHORT, 32803)
    raw.add(273, LONG, 0)                      # StripOffsets, patched below
    raw.add(277, SHORT, 1)
    raw.add(278, LONG, h)
    raw.add(279, LONG, raw_bytes.nbytes)
    raw.add(284, SHORT, 1)
    raw.add(33421, SHORT, [2, 2])              # CFARepeatPatternDim
    raw.add(33422, BYTE, _cfa_indices(cfa_pattern))
    raw.add(50710, BYTE, [0, 1, 2])            # CFAPlaneColor
    raw.add(50711, SHORT, 1)                   # CFALayout: rectangular
    if lin_table is not None:
        raw.add(50712, SHORT, [int(v) for v in lin_table])
    raw.add(50713, SHORT, [1, 1])              # BlackLevelRepeatDim
    raw.add(50714, LONG, black)
    raw.add(50717, LONG, white)
    raw.add(50719, LONG, [0, 0])               # DefaultCropOrigin
    raw.add(50720, LONG, [w, h])               # DefaultCropSize

    main = _Ifd() if jpeg is not None else raw
    if jpeg is not None:
        main.add(254, LONG, 1)
        main.add(256, LONG, pw)
        main.add(257, LONG, ph)
        main.add(258, SHORT, [8, 8, 8])
        main.add(259, SHORT, 7)
        main.add(262, SHORT, 6)
        main.add(273, LONG, 0)                 # StripOffsets, patched below
        main.add(277, SHORT, 3)
        main.add(278, LONG, ph)
        main.add(279, LONG, len(jpeg))
        main.add(284, SHORT, 1)
        main.add(530, SHORT, [2, 2])           # YCbCrSubSampling (4:2:0)
        main.add(330, LONG, 0)                 # SubIFDs -> raw, patched below
        main.add(50970, LONG, 2)               # PreviewColorSpace: sRGB
    main.add(271, ASCII, make)
    main.add(272, ASCII, model)
    main.add(274, SHORT, orientation)
    main.add(305, ASCII, "AutoCull dngwriter")
    if dt_text:
        main.add(306, ASCII, dt_text)
    main.add(34665, LONG, 0)                   # Exif IFD, patched below
    main.add(50706, BYTE, [1, 4, 0, 0])        # DNGVersion
    main.add(50707, BYTE, [1, 1, 0, 0])        # DNGBackwardVersion
    main.add(50708, ASCII, unique_camera_model or f"{make} {model}")
    main.add(50721, SRATIONAL, [_rational(float(v), True, 10000) for v in cam_xyz.ravel()])
    main.add(50728, RATIONAL, [_rational(float(v), False, 10000) for v in neutral])
    main.add(50778, SHORT, 21)                 # CalibrationIlluminant1: D65

    exif = _Ifd()
    if exposure_time:
        et = Fraction(exposure_time).limit_denominator(100000)
        exif.add(33434, RATIONAL, [(et.numerator, et.denominator)])
    if f_number:
        exif.add(33437, RATIONAL, [_rational(f_number, False, 100)])
    if iso:
        exif.add(34855, SHORT, int(iso))
    exif.add(36864, UNDEFINED, b"0231")        # ExifVersion
    if dt_text:
        exif.add(36867, ASCII, dt_text)        # DateTimeOriginal
        exif.add(36868, ASCII, dt_text)        # DateTimeDigitized
    if subsec:
        exif.add(37521, ASCII, str(subsec))    # SubSecTimeOriginal
        exif.add(37522, ASCII, str(subsec))    # SubSecTimeDigitized
    if exposure_bias is not None:
        exif.add(37380, SRATIONAL, [_rational(exposure_bias, True, 100)])
    if focal_length:
        exif.add(37386, RATIONAL, [_rational(focal_length, False, 100)])

    # --- layout: header, IFD0, Exif IFD, [raw IFD], preview strip, raw strip
    off_main = 8
    off_exif = off_main + main.size()
    off = off_exif + exif.size()
    if jpeg is not None:
        off_raw_ifd = off
        off += raw.size()
        off_jpeg = off
        off += len(jpeg) + (len(jpeg) & 1)
    off_raw = off + (-off % 16)
    main.add(34665, LONG, off_exif)
    raw.add(273, LONG, off_raw)
    if jpeg is not None:
        main.add(330, LONG, off_raw_ifd)
        main.add(273, LONG, off_jpeg)

    path = Path(path)
    with open(path, "wb") as fh:
        fh.write(b"II*\x00" + struct.pack("<I", off_main))
        fh.write(main.pack(off_main))
        fh.write(exif.pack(off_exif))
        if jpeg is not None:
            fh.write(raw.pack(off_raw_ifd))
            fh.write(jpeg + b"\x00" * (len(jpeg) & 1))
        fh.write(b"\x00" * (off_raw - fh.tell()))
        fh.write(memoryview(np.ascontiguousarray(raw_bytes)).cast("B"))
    return path


if __name__ == "__main__":   # python scripts/dngwriter.py IN.jpg OUT.dng [--no-preview]
    import sys

    import cv2

    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit("usage: dngwriter.py IN_IMAGE OUT.dng [--no-preview]")
    bgr = cv2.imread(args[0], cv2.IMREAD_COLOR)
    if bgr is None:
        sys.exit(f"{args[0]}: cannot read image")
    write_dng(args[1], bgr[..., ::-1], preview_side=None if "--no-preview" in sys.argv else 1620)
