"""Writing test photos with real EXIF (Pillow), for orientation and capture-time tests."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

EXIF_IFD = 0x8769


def write_photo(path, bgr: np.ndarray, orientation: int | None = None, datetime: str | None = None,
                subsec: str | None = None, bias: float | None = None, exposure_time: float | None = None,
                iso: int | None = None, quality: int = 92):
    """Save ``bgr`` as JPEG/TIFF/PNG (by extension) with the given EXIF tags."""
    img = Image.fromarray(np.ascontiguousarray(bgr[..., ::-1]))
    exif = Image.Exif()
    exif[0x010F] = "AutoCullTest"
    exif[0x0110] = "Synthetic"
    if orientation:
        exif[0x0112] = orientation
    ifd = exif.get_ifd(EXIF_IFD)
    if datetime:
        ifd[0x9003] = datetime
    if subsec is not None:
        ifd[0x9291] = subsec
    if bias is not None:
        f = Fraction(bias).limit_denominator(100)
        ifd[0x9204] = IFDRational(f.numerator, f.denominator)
    if exposure_time is not None:
        f = Fraction(exposure_time).limit_denominator(100000)
        ifd[0x829A] = IFDRational(f.numerator, f.denominator)
    if iso is not None:
        ifd[0x8827] = iso
    kwargs = {"exif": exif.tobytes()}
    if str(path).lower().endswith((".jpg", ".jpeg")):
        kwargs["quality"] = quality
    img.save(path, **kwargs)
    return path


def quadrants(h: int = 240, w: int = 360) -> np.ndarray:
    """An asymmetric BGR test card: top-left red, top-right green, bottom-left blue, bottom-right white."""
    img = np.zeros((h, w, 3), np.uint8)
    img[: h // 2, : w // 2] = (0, 0, 255)
    img[: h // 2, w // 2:] = (0, 255, 0)
    img[h // 2:, : w // 2] = (255, 0, 0)
    img[h // 2:, w // 2:] = (255, 255, 255)
    return img
