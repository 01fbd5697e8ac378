"""All file reading: photos -> oriented pixels, plus full-resolution regions on demand.

- JPEG: libjpeg-turbo through simplejpeg, decoded at the smallest DCT scale (1/8, 1/4, 1/2, 1)
  whose long side still reaches ``ANALYSIS_SIDE``; ``region()`` decodes the full frame once,
  lazily, only when an analysis step needs native detail.
- PNG, TIFF, WebP, BMP, GIF: OpenCV, orientation ignored by OpenCV and applied here once.
- Camera RAW: rawpy/LibRaw. The embedded preview first (``source="embedded_preview"``); a
  half-size demosaic when there is none or it is smaller than ``MIN_PREVIEW_SIDE``
  (``source="half_size_raw"``).

Every failure is a :class:`DecodeError` whose message is ``"<file>: <cause>"``.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from autocull import exif as exif_mod

ANALYSIS_SIDE = 1024      # long side the analysis image reaches at least (when the file is larger)
DETAIL_SIDE = 3000        # long side the detail analysers (sharpness patches) work at, at most full size
MIN_PREVIEW_SIDE = 1024   # an embedded RAW preview smaller than this falls back to demosaicing

JPEG_EXT = {".jpg", ".jpeg", ".jpe", ".jfif"}
OTHER_EXT = {".png", ".tif", ".tiff", ".webp", ".bmp", ".gif"}
RAW_EXT = {".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".sr2", ".srf", ".raf", ".orf", ".rw2",
           ".pef", ".dng", ".srw", ".3fr", ".iiq", ".x3f", ".erf", ".kdc", ".dcr", ".mrw", ".mos",
           ".raw", ".rwl", ".mef", ".fff", ".rwz", ".gpr", ".cap", ".k25", ".dc2", ".mdc", ".ari"}
PHOTO_EXT = JPEG_EXT | OTHER_EXT | RAW_EXT


class DecodeError(Exception):
    """A photo that cannot be read; ``str(err)`` is ``"<file>: <cause>"``."""

    def __init__(self, path, cause: str):
        self.path = str(path)
        self.cause = cause
        super().__init__(f"{path}: {cause}")


def is_photo(path) -> bool:
    return Path(path).suffix.lower() in PHOTO_EXT


def orient(img: np.ndarray, orientation: int) -> np.ndarray:
    """Apply an EXIF orientation (1-8) to an array (rows, cols, ...)."""
    if orientation == 2:
        return img[:, ::-1]
    if orientation == 3:
        return img[::-1, ::-1]
    if orientation == 4:
        return img[::-1]
    if orientation == 5:
        return np.swapaxes(img, 0, 1)
    if orientation == 6:
        return np.swapaxes(img, 0, 1)[:, ::-1]
    if orientation == 7:
        return np.swapaxes(img, 0, 1)[::-1, ::-1]
    if orientation == 8:
        return np.swapaxes(img, 0, 1)[::-1]
    return img


_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}  # LibRaw sizes.flip -> EXIF orientation


@dataclass
class Decoded:
    """One photo's pixels, oriented, at analysis scale, with access to finer regions.

    ``image``: BGR uint8 (H, W, 3). ``width``/``height``: the photo's full oriented size.
    ``source``: which pixels these are ("jpeg", "png", "tiff", "embedded_preview", "half_size_raw", ...).
    """

    path: str
    image: np.ndarray
    width: int
    height: int
    source: str
    exif: dict = field(default_factory=exif_mod.empty)
    _full_loader: object = field(default=None, repr=False)   # JPEG: denominator (1/2/4/8) -> pixels
    _full: np.ndarray | None = field(default=None, repr=False)
    _gray: np.ndarray | None = field(default=None, repr=False)
    _scaled: dict = field(default_factory=dict, repr=False)

    @property
    def gray(self) -> np.ndarray:
        """``image`` as uint8 grayscale (computed once)."""
        if self._gray is None:
            self._gray = cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)
        return self._gray

    @property
    def scale(self) -> float:
        """``image`` pixels per full-resolution pixel (<= 1)."""
        return self.image.shape[1] / float(self.width)

    def full(self) -> np.ndarray:
        """The finest pixels the file offers (full decode for JPEG, cached)."""
        if self._full is None:
            self._full = self._full_loader(1) if self._full_loader is not None else self.image
        return self._full

    def at_scale(self, scale: float) -> np.ndarray:
        """The coarsest pixels that still hold ``scale`` pixels per full-resolution pixel: for a
        JPEG the smallest DCT scale (1/8, 1/4, 1/2, 1) that reaches it (cached per scale);
        otherwise ``image`` when it is fine enough, else the finest pixels."""
        if scale <= self.scale + 1e-9:
            return self.image
        if self._full is not None or self._full_loader is None:
            return self.full()
        for denom in (8, 4, 2):
            if 1.0 / denom >= scale:
                if denom not in self._scaled:
                    self._scaled[denom] = self._full_loader(denom)
                return self._scaled[denom]
        return self.full()

    @property
    def full_scale(self) -> float:
        """``region()`` pixels per full-resolution pixel (1.0 for JPEG/PNG/TIFF); known without
        decoding a JPEG at full resolution."""
        if self._full is None and self._full_loader is not None:
            return 1.0
        return self.full().shape[1] / float(self.width)

    def pixels_for(self, scale: float) -> np.ndarray:
        """Pixels holding at least ``scale`` pixels per full-resolution pixel, taken from what is
        already decoded when something is (``image``, a cached JPEG DCT scale, the full decode;
        the coarsest that suffices), else ``at_scale(scale)`` (which may decode). When the file
        holds less than ``scale``, the finest pixels it offers."""
        have = [self.image] + [self._scaled[d] for d in sorted(self._scaled, reverse=True)]
        if self._full is not None:
            have.append(self._full)
        for arr in have:
            if arr.shape[1] / float(self.width) >= scale - 1e-9:
                return arr
        return self.at_scale(scale)

    def region_at(self, box, scale: float):
        """``box`` = (x, y, w, h) full-resolution, clipped to the frame, cut from
        ``pixels_for(scale)`` without resampling. Returns ``(crop, sx, sy, x0, y0)``: the
        full-resolution point (X, Y) is crop pixel (X * sx - x0, Y * sy - y0), exactly
        (``sx``, ``sy``: the source's pixels per full-resolution pixel)."""
        src = self.pixels_for(scale)
        sx, sy = src.shape[1] / float(self.width), src.shape[0] / float(self.height)
        x, y, w, h = box
        x0 = int(max(0, np.floor(x * sx)))
        y0 = int(max(0, np.floor(y * sy)))
        x1 = int(min(src.shape[1], np.ceil((x + w) * sx)))
        y1 = int(min(src.shape[0], np.ceil((y + h) * sy)))
        crop = np.ascontiguousarray(src[y0:max(y0, y1), x0:max(x0, x1)])
        return crop, sx, sy, x0, y0

    def region(self, box, max_side: int | None = None, scale: float | None = None) -> np.ndarray:
        """Crop ``box`` = (x, y, w, h) in full-resolution coordinates, clipped to the frame,
        from the finest pixels available; optionally downscaled so its long side <= max_side.
        With ``scale`` (pixels wanted per full-resolution pixel, e.g. 0.5) it is cut from the
        coarsest decode that still reaches that scale (``at_scale``): the crop's own scale is
        ``crop.shape[1] / clipped box width`` (>= scale when the file allows).
        When ``image`` already holds ``max_side`` pixels across the box, it is cropped from
        ``image`` and the file is not decoded again (callers derive the crop's scale from its
        shape). Returns BGR uint8 (possibly empty when the box lies outside the frame)."""
        x, y, w, h = box
        if scale is not None:
            full = self.at_scale(scale)
        elif max_side and max(w, h) * self.scale >= max_side:
            full = self.image
        else:
            full = self.full()
        s = full.shape[1] / float(self.width)
        x0 = int(max(0, np.floor(x * s)))
        y0 = int(max(0, np.floor(y * s)))
        x1 = int(min(full.shape[1], np.ceil((x + w) * s)))
        y1 = int(min(full.shape[0], np.ceil((y + h) * s)))
        crop = full[y0:max(y0, y1), x0:max(x0, x1)]
        if max_side and crop.size and max(crop.shape[:2]) > max_side:
            f = max_side / float(max(crop.shape[:2]))
            crop = cv2.resize(crop, (max(1, round(crop.shape[1] * f)), max(1, round(crop.shape[0] * f))),
                              interpolation=cv2.INTER_AREA)
        return np.ascontiguousarray(crop)


def from_array(bgr: np.ndarray, path: str = "<memory>", exif: dict | None = None,
               source: str = "array", analysis_side: int | None = None) -> Decoded:
    """A Decoded over an in-memory BGR (or gray) array: ``region()`` crops the same array;
    ``analysis_side`` (optional) downsamples ``image`` like a real decode would."""
    if bgr.ndim == 2:
        bgr = cv2.cvtColor(bgr, cv2.COLOR_GRAY2BGR)
    bgr = np.ascontiguousarray(bgr[..., :3].astype(np.uint8, copy=False))
    h, w = bgr.shape[:2]
    image = _shrink(bgr, analysis_side) if analysis_side else bgr
    return Decoded(path=path, image=image, width=w, height=h, source=source,
                   exif=exif or exif_mod.empty(), _full=bgr)


def _shrink(img: np.ndarray, side: int) -> np.ndarray:
    """Downscale by an integer factor so the long side stays >= side (area interpolation)."""
    f = max(img.shape[:2]) // side
    if f < 2:
        return img
    return cv2.resize(img, (img.shape[1] // f, img.shape[0] // f), interpolation=cv2.INTER_AREA)


def _check_file(path: Path) -> os.stat_result:
    try:
        st = path.stat()
    except FileNotFoundError:
        raise DecodeError(path, "file not found") from None
    except PermissionError:
        raise DecodeError(path, "permission denied") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot access file ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise DecodeError(path, "is a directory, not a photo")
    if not stat.S_ISREG(st.st_mode):
        raise DecodeError(path, "not a regular file")
    if st.st_size == 0:
        raise DecodeError(path, "empty file (0 bytes)")
    return st


def _read_bytes(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except PermissionError:
        raise DecodeError(path, "permission denied") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc.strerror or exc})") from None


def _jpeg_decode(data: bytes, denom: int, path) -> np.ndarray:
    """Decode a JPEG at DCT scale 1/denom (denom 1, 2, 4 or 8; unoriented)."""
    import simplejpeg

    try:
        h, w, _, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError as exc:
        raise DecodeError(path, f"not a valid JPEG ({exc})") from None
    try:
        if denom == 1:
            return simplejpeg.decode_jpeg(data, colorspace="BGR", fastdct=True)
        return simplejpeg.decode_jpeg(data, colorspace="BGR", fastdct=True,
                                      min_height=-(-h // denom), min_width=-(-w // denom))
    except ValueError as exc:
        msg = str(exc)
        if "Premature end" in msg or "truncated" in msg.lower():
            raise DecodeError(path, "truncated JPEG (file ends before the image data does)") from None
        # Unusual JPEGs (CMYK, arithmetic coding, ...): let OpenCV try, never rotating.
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
        if arr is None:
            raise DecodeError(path, f"corrupt JPEG ({msg})") from None
        return _shrink(arr, max(arr.shape[:2]) // denom) if denom > 1 else arr


def _jpeg_size(data: bytes) -> tuple[int, int]:
    import simplejpeg

    h, w, _, _ = simplejpeg.decode_jpeg_header(data)
    return w, h


def _dct_denom(long_side: int, side: int) -> int:
    """The largest JPEG DCT scale denominator (8, 4, 2, 1) whose long side is still >= side."""
    for d in (8, 4, 2):
        if long_side / d >= side:
            return d
    return 1


def _load_jpeg(path: Path, data: bytes, meta: dict) -> Decoded:
    """A JPEG is decoded once, at the coarsest DCT scale that holds the detail analysers' work
    scale (``DETAIL_SIDE``), and the analysis image is reduced from those pixels to the size
    the analysis DCT scale would give: one entropy decode instead of two (the Huffman pass
    over the whole file costs about as much at 1/4 as at 1/2). Finer scales (a full decode)
    stay lazy."""
    o = meta["orientation"]
    w, h = _jpeg_size(data)
    long_side = max(w, h)
    a = _dct_denom(long_side, ANALYSIS_SIDE)
    b = _dct_denom(long_side, min(long_side, DETAIL_SIDE))
    fine = orient(_jpeg_decode(data, b, path), o)
    if o in (5, 6, 7, 8):
        w, h = h, w
    fine = np.ascontiguousarray(fine)
    if a > b:
        size = (-(-w // a), -(-h // a))
        img = cv2.resize(fine, size, interpolation=cv2.INTER_AREA)
    else:
        img = fine

    def scaled(denom: int):
        return np.ascontiguousarray(orient(_jpeg_decode(data, denom, path), o))

    dec = Decoded(str(path), np.ascontiguousarray(img), w, h, "jpeg", meta, _full_loader=scaled)
    if a > b:
        if b == 1:
            dec._full = fine
        else:
            dec._scaled[b] = fine
    return dec


def _load_other(path: Path, data: bytes, meta: dict, kind: str) -> Decoded:
    arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR | cv2.IMREAD_IGNORE_ORIENTATION)
    if arr is None:
        raise DecodeError(path, f"cannot decode {path.suffix.lower() or 'file'} image (corrupt, truncated or unsupported)")
    if kind != "tiff":
        # OpenCV's TIFF reader (libtiff RGBA) orients the pixels itself, whatever the flags say;
        # every other reader is told to ignore orientation, so it is applied here, once.
        arr = orient(arr, meta["orientation"])
    arr = np.ascontiguousarray(arr)
    h, w = arr.shape[:2]
    src = {".tif": "tiff", ".tiff": "tiff"}.get(path.suffix.lower(), path.suffix.lower().lstrip("."))
    return Decoded(str(path), _shrink(arr, ANALYSIS_SIDE), w, h, src, meta, _full=arr)


def _load_raw(path: Path, meta: dict) -> Decoded:
    import rawpy

    try:
        raw = rawpy.imread(str(path))
    except rawpy.LibRawFileUnsupportedError:
        raise DecodeError(path, "not a RAW file LibRaw can read (unsupported or not a RAW file)") from None
    except (rawpy.LibRawIOError, rawpy.LibRawDataError) as exc:
        msg = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise DecodeError(path, f"truncated, corrupt or not a RAW file (LibRaw: {msg})") from None
    except rawpy.LibRawError as exc:
        raise DecodeError(path, f"cannot open RAW file ({type(exc).__name__}: {exc})") from None
    except OSError as exc:
        raise DecodeError(path, f"cannot read file ({exc})") from None
    with raw:
        sizes = raw.sizes
        o = _FLIP_TO_ORIENTATION.get(sizes.flip, 1)
        fw, fh = sizes.width, sizes.height
        if o in (5, 6, 7, 8):
            fw, fh = fh, fw
        img, source = None, None
        try:
            thumb = raw.extract_thumb()
            if thumb.format == rawpy.ThumbFormat.JPEG:
                prev = _jpeg_decode(thumb.data, 1, path)
            else:
                prev = cv2.cvtColor(np.asarray(thumb.data, dtype=np.uint8), cv2.COLOR_RGB2BGR)
            if max(prev.shape[:2]) >= min(MIN_PREVIEW_SIDE, max(fw, fh)):
                img, source = orient(prev, o), "embedded_preview"
        except (rawpy.LibRawNoThumbnailError, rawpy.LibRawUnsupportedThumbnailError):
            pass
        except (rawpy.LibRawError, DecodeError, ValueError):
            pass  # a broken preview: demosaic instead
        if img is None:
            try:
                rgb = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
            except rawpy.LibRawError as exc:
                raise DecodeError(path, f"corrupt or truncated RAW data ({type(exc).__name__}: {exc})") from None
            img, source = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), "half_size_raw"
    img = np.ascontiguousarray(img)
    if not img.size or float(img.max()) == 0.0 and float(img.min()) == 0.0 and source == "half_size_raw":
        raise DecodeError(path, "RAW data decodes to an empty image")
    if meta["orientation"] == 1 and o != 1:
        meta = dict(meta, orientation=o)
    return Decoded(str(path), _shrink(img, ANALYSIS_SIDE), fw, fh, source, meta, _full=img)


def sniff(data: bytes) -> str | None:
    """Container type from the first bytes: 'jpeg', 'png', 'tiff', 'gif', 'webp', 'bmp' or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[:2] == b"BM":
        return "bmp"
    return None


def load(path) -> Decoded:
    """Decode one photo. Raises :class:`DecodeError` ("<file>: <cause>") on any failure."""
    path = Path(path)
    _check_file(path)
    ext = path.suffix.lower()
    if ext not in PHOTO_EXT:
        raise DecodeError(path, f"unsupported file type '{ext or path.name}'")
    if ext in RAW_EXT:
        with open(path, "rb") as fh:
            head = fh.read(16)
        meta = exif_mod.read(path) if sniff(head) in (None, "tiff") or ext == ".dng" else exif_mod.empty()
        return _load_raw(path, meta)
    data = _read_bytes(path)
    kind = sniff(data)
    if kind is None:
        raise DecodeError(path, f"not an image file (content does not match its '{ext}' extension)")
    meta = exif_mod.read(data) if kind in ("jpeg", "tiff", "png", "webp") else exif_mod.empty()
    try:
        if kind == "jpeg":
            return _load_jpeg(path, data, meta)
        return _load_other(path, data, meta, kind)
    except DecodeError:
        raise
    except (cv2.error, MemoryError, ValueError) as exc:
        raise DecodeError(path, f"cannot decode image ({exc})") from None
