"""EXIF reading with exifread: capture time (with subseconds), exposure settings, camera, orientation.

``read(fileobj_or_bytes)`` never raises for missing or odd tags: absent values are ``None``.
"""

from __future__ import annotations

import io
import logging
import re
from datetime import datetime

import exifread

log = logging.getLogger(__name__)

# Date tags in order of preference, each with its sub-second companion.
_DATE_TAGS = (
    ("EXIF DateTimeOriginal", "EXIF SubSecTimeOriginal", "EXIF OffsetTimeOriginal"),
    ("EXIF DateTimeDigitized", "EXIF SubSecTimeDigitized", "EXIF OffsetTimeDigitized"),
    ("Image DateTime", "EXIF SubSecTime", "EXIF OffsetTime"),
)
# Tags that some cameras use to number frames of a burst / sequence (kept verbatim when present).
_SEQUENCE_HINTS = ("Sequence", "Burst", "ImageUniqueID", "ImageNumber", "ShotNumber", "BracketMode",
                   "BracketValue", "AEBBracketValue", "BracketShotNumber")


def _ratio(tag) -> float | None:
    if tag is None:
        return None
    try:
        v = tag.values[0] if isinstance(tag.values, (list, tuple)) else tag.values
        if hasattr(v, "numerator"):
            if v.denominator == 0:
                return None
            return float(v.numerator) / float(v.denominator)
        return float(v)
    except (TypeError, ValueError, IndexError, ZeroDivisionError):
        return None


def _int(tag) -> int | None:
    v = _ratio(tag)
    return None if v is None else int(round(v))


def _text(tag) -> str | None:
    if tag is None:
        return None
    s = str(tag.printable if hasattr(tag, "printable") else tag).strip().strip("\x00").strip()
    return s or None


_DT_RE = re.compile(r"^(\d{4})[:\-](\d{2})[:\-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?")


def parse_datetime(value: str | None, subsec: str | None = None, offset: str | None = None) -> str | None:
    """EXIF ``YYYY:MM:DD HH:MM:SS`` (+ SubSecTime digits, + offset) -> ISO 8601 with milliseconds.

    Returns None for missing, blank (``0000:00:00 00:00:00``) or malformed values.
    """
    if not value:
        return None
    m = _DT_RE.match(value.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))
    except ValueError:
        return None
    digits = frac or ""
    if subsec:
        sd = re.sub(r"\D", "", subsec)
        if sd:
            digits = sd
    ms = int((digits + "000")[:3]) if digits else 0
    out = dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms:03d}"
    if offset and re.match(r"^[+-]\d{2}:\d{2}$", offset.strip()):
        out += offset.strip()
    return out


def empty() -> dict:
    return {"capture_time": None, "exposure_bias": None, "exposure_time": None, "f_number": None,
            "iso": None, "make": None, "model": None, "orientation": 1, "focal_length": None,
            "sequence": {}}


def read(source) -> dict:
    """Read the EXIF fields AutoCull uses from a file object, bytes or path.

    Returns a dict: capture_time (ISO 8601 or None), exposure_bias (EV), exposure_time (s),
    f_number, iso, make, model, orientation (1-8, 1 when absent), focal_length (mm),
    sequence (dict of burst/sequence tags found, possibly empty).
    """
    out = empty()
    try:
        if isinstance(source, (bytes, bytearray, memoryview)):
            fh = io.BytesIO(source)
            tags = exifread.process_file(fh, details=False, extract_thumbnail=False)
        elif hasattr(source, "read"):
            tags = exifread.process_file(source, details=False, extract_thumbnail=False)
        else:
            with open(source, "rb") as fh:
                tags = exifread.process_file(fh, details=False, extract_thumbnail=False)
    except Exception as exc:  # exifread raises many kinds on odd files; EXIF is optional
        log.debug("exif: %s", exc)
        return out
    if not tags:
        return out
    for date_tag, sub_tag, off_tag in _DATE_TAGS:
        ct = parse_datetime(_text(tags.get(date_tag)), _text(tags.get(sub_tag)), _text(tags.get(off_tag)))
        if ct:
            out["capture_time"] = ct
            break
    out["exposure_bias"] = _ratio(tags.get("EXIF ExposureBiasValue"))
    out["exposure_time"] = _ratio(tags.get("EXIF ExposureTime"))
    out["f_number"] = _ratio(tags.get("EXIF FNumber"))
    out["iso"] = _int(tags.get("EXIF ISOSpeedRatings")) or _int(tags.get("EXIF PhotographicSensitivity"))
    out["make"] = _text(tags.get("Image Make"))
    out["model"] = _text(tags.get("Image Model"))
    out["focal_length"] = _ratio(tags.get("EXIF FocalLength"))
    orient = _int(tags.get("Image Orientation"))
    out["orientation"] = orient if orient in range(1, 9) else 1
    seq = {}
    for k, v in tags.items():
        if any(h in k for h in _SEQUENCE_HINTS) and "Thumbnail" not in k:
            seq[k] = _text(v)
    out["sequence"] = seq
    return out
