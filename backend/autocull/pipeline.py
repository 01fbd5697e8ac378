"""One photo through the pipeline, then the whole batch through grouping and policy.

``analyse_one(path)`` -> a per-photo record (cacheable: it does not depend on settings);
``finalise(records, settings)`` -> schema-1 objects (groups across the batch, then policy).
"""

from __future__ import annotations

import functools
import hashlib
import os
import time

from autocull import SCHEMA, __version__, decode, policy
from autocull.analyse import exposure, eyes, faces, groups, sharpness
from autocull.models import models_dir

FIELDS = ("schema", "path", "id", "ok", "error", "source", "width", "height", "capture_time", "exif",
          "sharpness", "eyes", "exposure", "group", "verdict", "rating", "label", "flag", "reasons")
PRIVATE = ("_encoding", "_timings")


@functools.lru_cache(maxsize=1)
def analysis_version() -> str:
    """Changes whenever a result could change: the package version plus a digest of the model
    files and their calibration (``models/*.tflite``, ``models/*.json``)."""
    digest = hashlib.sha256(__version__.encode())
    for name in ("blur.tflite", "blur.json", "eyes.tflite"):
        try:
            digest.update(name.encode() + (models_dir() / name).read_bytes())
        except OSError:
            digest.update(name.encode() + b":missing")
    return f"{__version__}+{digest.hexdigest()[:12]}"


def empty_record(path: str, error: str | None = None, photo_id=None) -> dict:
    rec = {k: None for k in FIELDS}
    rec.update(schema=SCHEMA, path=path, id=photo_id, ok=error is None, error=error, reasons=[])
    return rec


def analyse_decoded(d: decode.Decoded) -> dict:
    """Run every analyser on a decoded photo; returns the settings-independent record."""
    t = {}
    rec = empty_record(d.path)
    ex = dict(d.exif)
    rec["capture_time"] = ex.pop("capture_time", None)
    rec.update(source=d.source, width=d.width, height=d.height, exif=ex)
    t0 = time.perf_counter()
    found = faces.detect(d)
    t1 = time.perf_counter()
    rec["eyes"] = eyes.assess(d, found)
    t2 = time.perf_counter()
    rec["sharpness"] = sharpness.assess(d, found)
    t3 = time.perf_counter()
    rec["exposure"] = exposure.assess(d)
    t4 = time.perf_counter()
    rec["_encoding"] = groups.encode(d, found)
    t5 = time.perf_counter()
    t.update(faces=t1 - t0, eyes=t2 - t1, sharpness=t3 - t2, exposure=t4 - t3, encode=t5 - t4)
    rec["_timings"] = {k: round(v * 1000, 2) for k, v in t.items()}
    return rec


def analyse_one(path, photo_id=None) -> dict:
    """Decode and analyse one photo. Never raises: a failure is ``ok: false`` with ``"<file>: <cause>"``."""
    path = os.path.abspath(str(path))
    t0 = time.perf_counter()
    try:
        d = decode.load(path)
    except decode.DecodeError as exc:
        return empty_record(path, str(exc), photo_id)
    except Exception as exc:  # an unexpected decoder failure is still this photo's error only
        return empty_record(path, f"{path}: cannot decode ({type(exc).__name__}: {exc})", photo_id)
    t_decode = time.perf_counter() - t0
    try:
        rec = analyse_decoded(d)
    except Exception as exc:
        return empty_record(path, f"{path}: analysis failed ({type(exc).__name__}: {exc})", photo_id)
    rec["id"] = photo_id
    rec["_timings"]["decode"] = round(t_decode * 1000, 2)
    return rec


def public(rec: dict) -> dict:
    """The schema-1 object: the contract's fields in order, private keys dropped."""
    return {k: rec.get(k) for k in FIELDS}


def finalise(records: list[dict], settings: dict) -> list[dict]:
    """Group the batch, apply the policy, return schema-1 objects in input order."""
    members = groups.group(records, settings.get("groups"))
    out = []
    for rec, grp in zip(records, members):
        obj = public(rec)
        obj["group"] = grp if rec.get("ok") else None
        obj.update({k: v for k, v in policy.decide(obj, settings).items() if k != "cause"})
        out.append(obj)
    return out


def preliminary(rec: dict, settings: dict) -> dict:
    """A finished photo's object before the batch is grouped (used for progress while a job runs)."""
    obj = public(rec)
    obj.update({k: v for k, v in policy.decide(obj, settings).items() if k != "cause"})
    return obj

