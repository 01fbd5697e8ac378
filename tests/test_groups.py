"""Bursts, duplicates, brackets and the best frame (autocull.analyse.groups).

The shoots are built from real photos (scikit-image's bundled data, and ../shared/data when it is
there): small camera shifts and rotations, exposure jitter, capture times 0.1-1 s apart, brackets
at -2/0/+2 EV, a panorama cut into overlapping frames.
"""

from __future__ import annotations

import importlib.util
import json
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data as skdata

from autocull import decode
from autocull.analyse import groups

from conftest import shared

REPO = Path(__file__).resolve().parents[1]
T0 = datetime(2026, 5, 1, 14, 3, 22)


def bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[..., ::-1])


def jitter(img: np.ndarray, dx=0.0, dy=0.0, angle=0.0, gain=1.0, zoom=1.0) -> np.ndarray:
    """A hand-held re-shot of the same scene: shift (fraction of the frame), rotation (degrees),
    zoom, and an exposure change (gain in linear light)."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, zoom)
    m[0, 2] += dx * w
    m[1, 2] += dy * h
    out = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if gain != 1.0:
        lin = (out.astype(np.float32) / 255.0) ** 2.2 * gain
        out = np.clip(lin ** (1 / 2.2) * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return out


def soft(img: np.ndarray, sigma=3.0) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma)


def when(t: float | None) -> str | None:
    return None if t is None else (T0 + timedelta(seconds=t)).isoformat(timespec="milliseconds")


def record(path, img, t=None, *, blurry=False, prob=None, eyes="no_faces", closed=None,
           exposure="ok", bias=0.0, exposure_time=1 / 250, exif=True):
    """A per-photo record as the pipeline builds it (analysis fields set to what the image shows)."""
    d = decode.from_array(img, path=str(path))
    faces = []
    if closed is not None:
        faces = [{"box": [200, 80, 120, 140], "state": "closed" if closed > 0.5 else "open",
                  "closed_probability": closed}]
    return {
        "path": str(path), "ok": True, "capture_time": when(t),
        "exif": ({"exposure_bias": bias, "exposure_time": exposure_time, "f_number": 4.0, "iso": 200,
                  "make": "Canon", "model": "EOS R6", "orientation": 1} if exif else
                 {"exposure_bias": None, "exposure_time": None, "f_number": None, "iso": None,
                  "make": None, "model": None, "orientation": 1}),
        "width": d.width, "height": d.height,
        "sharpness": {"blurry": blurry, "probability": (0.8 if blurry else 0.05) if prob is None else prob,
                      "region": "face" if closed is not None else "frame"},
        "eyes": {"state": eyes, "faces": faces},
        "exposure": {"state": exposure},
        "_encoding": groups.encode(d),
    }


def others(t0: float):
    """Unrelated photos shot 4-6 s apart after t0 (they must stay out of every group)."""
    out = []
    for k, img in enumerate((skdata.coffee(), skdata.rocket(), skdata.stereo_motorcycle()[0], skdata.hubble_deep_field())):
        out.append(record(f"/shoot/OTHER_{k}.JPG", bgr(img), t0 + 4.0 + 5.0 * k))
    return out


def members(res, recs, name_part):
    return [m for m, r in zip(res, recs) if name_part in r["path"]]


# ------------------------------------------------------------------------------------------------


def test_encoding_is_json_and_hash_distance():
    rec = record("/a/IMG_1.JPG", bgr(skdata.astronaut()))
    enc = rec["_encoding"]
    assert json.loads(json.dumps(enc)) == enc
    h = groups.Hash64(enc["phash"])
    assert h - h == 0
    assert h - groups.Hash64(enc["phash_flip"]) > 10          # a mirror image is a different hash
    flipped = groups.encode(decode.from_array(bgr(skdata.astronaut())[:, ::-1].copy()))
    assert groups.Hash64(flipped["phash"]) - groups.Hash64(enc["phash_flip"]) <= 4
    assert len(enc["hist"]) == 96 and abs(sum(enc["hist"]) - 1) < 1e-3
    assert groups.Hash64("ffffffffffffffff") - groups.Hash64(0) == 64


def test_burst_picks_the_sharp_frame():
    img = bgr(skdata.astronaut())
    rng = np.random.default_rng(1)
    recs, t = [], 0.0
    for k in range(6):
        frame = jitter(img, dx=rng.uniform(-0.02, 0.02), dy=rng.uniform(-0.02, 0.02),
                       angle=rng.uniform(-1.5, 1.5), gain=rng.uniform(0.85, 1.15))
        sharp = k == 3
        recs.append(record(f"/shoot/IMG_04{10 + k}.JPG", frame if sharp else soft(frame, 2.5 + k % 2), t,
                           blurry=not sharp, prob=0.04 if sharp else 0.55 + 0.05 * k, eyes="open", closed=0.05))
        t += rng.uniform(0.1, 1.0)
    recs += others(t)
    res = groups.group(recs)
    burst = members(res, recs, "IMG_04")
    assert all(m is not None for m in burst)
    assert len({m["id"] for m in burst}) == 1
    assert burst[0]["kind"] == "burst" and burst[0]["size"] == 6
    assert [m["best"] for m in burst] == [k == 3 for k in range(6)]
    assert all(m["best_path"] == "/shoot/IMG_0413.JPG" for m in burst)
    assert "IMG_0413 is sharper" in burst[0]["reason"]
    assert "face 0.96" in burst[0]["reason"]
    assert all(m is None for m in members(res, recs, "OTHER"))


def test_burst_where_the_sharpest_has_closed_eyes_picks_another():
    img = bgr(skdata.astronaut())
    rng = np.random.default_rng(2)
    recs, t = [], 0.0
    spec = [(0.10, 0.04), (0.03, 0.93), (0.20, 0.06), (0.45, 0.08)]  # (blur prob, closed prob)
    for k, (p, c) in enumerate(spec):
        frame = jitter(img, dx=rng.uniform(-0.015, 0.015), angle=rng.uniform(-1, 1), gain=rng.uniform(0.9, 1.1))
        recs.append(record(f"/shoot/IMG_05{k}.JPG", frame, t, prob=p, closed=c,
                           eyes="closed" if c > 0.5 else "open"))
        t += rng.uniform(0.1, 1.0)
    res = groups.group(recs + others(t))[:4]
    assert len({m["id"] for m in res}) == 1
    best = [m["best"] for m in res]
    assert best == [True, False, False, False]      # IMG_050: sharp enough and eyes open
    assert "IMG_050 has eyes open" in res[1]["reason"]
    assert "IMG_050 is sharper" in res[3]["reason"]


def test_bracket_survives_intact():
    img = bgr(skdata.chelsea())
    recs, t = [], 0.0
    # a burst of the same scene first, then an AEB bracket 0/-2/+2 EV 0.3 s apart, then the scene again
    for k in range(3):
        recs.append(record(f"/shoot/IMG_06{k}.JPG", jitter(img, dx=0.01 * k), t))
        t += 0.4
    t += 3.0
    for k, ev in enumerate((0.0, -2.0, 2.0)):
        recs.append(record(f"/shoot/BRK_{k}.JPG", jitter(img, gain=2.0 ** ev), t, bias=ev,
                           exposure_time=1 / 250 * 2 ** ev, exposure="ok" if ev == 0 else ("under" if ev < 0 else "over")))
        t += 0.3
    t += 3.0
    # a manual bracket (bias stays 0, the shutter steps) and a bracket from files without EXIF
    for k, ev in enumerate((-2.0, 0.0, 2.0)):
        recs.append(record(f"/shoot/MAN_{k}.JPG", jitter(bgr(skdata.rocket()), gain=2.0 ** ev), t + 0.5 * k,
                           exposure_time=1 / 250 * 2 ** ev))
    for k, ev in enumerate((-2.0, 0.0, 2.0)):
        recs.append(record(f"/scan/NOEXIF_{k}.JPG", jitter(bgr(skdata.coffee()), gain=2.0 ** ev), None, exif=False))
    res = groups.group(recs)
    for prefix in ("BRK_", "MAN_", "NOEXIF_"):
        brk = members(res, recs, prefix)
        assert all(m is not None and m["kind"] == "bracket" for m in brk), (prefix, brk)
        assert len({m["id"] for m in brk}) == 1 and brk[0]["size"] == 3
        assert all(m["best"] for m in brk)          # policy never makes a bracket frame an alternate
    brk = members(res, recs, "BRK_")
    assert brk[0]["best_path"] == "/shoot/BRK_0.JPG"  # the 0 EV frame is the reference
    burst = members(res, recs, "IMG_06")
    assert burst[0]["kind"] == "burst" and burst[0]["id"] != brk[0]["id"]


def test_bracket_from_real_stack_without_exif():
    d = shared("exposure_brackets", "house")
    files = sorted(d.glob("house_*.jpg"))
    recs = [record(f, decode.load(f).image, None, exif=False) | {"path": str(f)} for f in files]
    res = groups.group(recs)
    assert all(m and m["kind"] == "bracket" and m["best"] for m in res)
    assert len({m["id"] for m in res}) == 1


def test_copy_in_another_folder_is_found():
    img = bgr(skdata.immunohistochemistry())
    recs = [record("/shoot/day1/IMG_0700.JPG", img, 0.0)]
    recs += others(10.0)
    recs += [record(f"/shoot/day1/IMG_07{k}.JPG", bgr(x), 100.0 + 20 * k)
             for k, x in enumerate((skdata.chelsea(), skdata.astronaut(), skdata.retina()), 1)]
    # an export: resized to half and re-encoded, EXIF stripped, filed elsewhere
    ok, buf = cv2.imencode(".jpg", cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA),
                           [cv2.IMWRITE_JPEG_QUALITY, 75])
    copy = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    recs.append(record("/exports/web/IMG_0700-small.jpg", copy, None, exif=False))
    # and a byte-identical copy with its EXIF, in a backup folder
    recs.append(dict(recs[0], path="/backup/IMG_0700.JPG"))
    stats = {}
    res = groups.group(recs, stats=stats)
    a, small, backup = res[0], res[-2], res[-1]
    assert a and small and backup
    assert a["id"] == small["id"] == backup["id"]
    assert a["kind"] == "duplicate" and a["size"] == 3
    assert a["best"] and not small["best"]
    assert "more pixels" in small["reason"]
    assert sum(1 for m in res if m) == 3


def test_real_copy_in_another_folder(tmp_path):
    src = shared("near_duplicates", "imagededup_testdata", "ukbench00120.jpg")
    recs = [record(src, decode.load(src).image, None, exif=False) | {"path": str(src)}]
    for f in ("ukbench00120_resize.jpg", "ukbench00120_hflip.jpg", "ukbench01380.jpg", "ukbench09040.jpg"):
        p = src.parent / f
        recs.append(record(p, decode.load(p).image, None, exif=False) | {"path": "/elsewhere/" + f})
    res = groups.group(recs)
    assert res[0] and res[1] and res[2]
    assert res[0]["id"] == res[1]["id"] == res[2]["id"] and res[0]["kind"] == "duplicate"
    assert res[3] is None and res[4] is None


def test_no_capture_time_groups_by_content():
    img = bgr(skdata.astronaut())
    rng = np.random.default_rng(3)
    recs = []
    for k, x in enumerate((skdata.coffee(), skdata.rocket())):
        recs.append(record(f"/scans/A{k}.jpg", bgr(x), None, exif=False))
    for k in range(4):
        frame = jitter(img, dx=rng.uniform(-0.015, 0.015), angle=rng.uniform(-1, 1), gain=rng.uniform(0.9, 1.1))
        recs.append(record(f"/scans/B{k}.jpg", frame, None, exif=False, prob=0.05 + 0.1 * k))
    for k, x in enumerate((skdata.chelsea(), skdata.stereo_motorcycle()[0], skdata.hubble_deep_field())):
        recs.append(record(f"/scans/C{k}.jpg", bgr(x), None, exif=False))
    res = groups.group(recs)
    b = members(res, recs, "/B")
    assert all(m is not None for m in b) and len({m["id"] for m in b}) == 1
    assert b[0]["best"] and b[0]["kind"] == "burst"
    assert all(m is None for m in members(res, recs, "/A") + members(res, recs, "/C"))
    # shuffled names: the hash index still brings the frames together
    recs2 = [dict(r, path=f"/scans/{k:03d}.jpg") for k, r in zip(np.random.default_rng(0).permutation(len(recs)), recs)]
    res2 = groups.group(recs2)
    b2 = [m for m, r in zip(res2, recs) if "/B" in r["path"]]
    assert all(m is not None for m in b2) and len({m["id"] for m in b2}) == 1


def test_panorama_frames_are_not_one_burst():
    wide = bgr(skdata.stereo_motorcycle()[0])          # 741 px wide: cut into 4 frames, 55 % overlap
    h, w = wide.shape[:2]
    fw = int(w * 0.46)
    recs = []
    for k in range(4):
        x0 = int(k * (w - fw) / 3)
        frame = cv2.resize(wide[:, x0:x0 + fw], (fw * 2, h * 2), interpolation=cv2.INTER_CUBIC)
        recs.append(record(f"/shoot/PANO_{k}.JPG", frame, 1.2 * k))
    stats = {}
    res = groups.group(recs, stats=stats)
    ids = [m["id"] if m else None for m in res]
    assert not (ids[0] is not None and len(set(ids)) == 1), ids   # not merged into one burst
    assert stats["panorama_pairs"] >= 1 or all(i is None for i in ids)


def test_failed_records_and_missing_encodings_are_skipped():
    img = bgr(skdata.astronaut())
    recs = [record("/a/1.JPG", img, 0.0), {"path": "/a/2.JPG", "ok": False, "capture_time": None},
            record("/a/3.JPG", jitter(img, dx=0.01), 0.3)]
    recs.append(dict(recs[0], path="/a/4.JPG", _encoding=None))
    res = groups.group(recs)
    assert res[1] is None and res[3] is None
    assert res[0] and res[2] and res[0]["id"] == res[2]["id"] and res[0]["size"] == 2


def test_strictness_maps_to_thresholds():
    loose, normal, strict = (groups.thresholds({"strictness": s}) for s in ("loose", "normal", "strict"))
    assert loose["burst_window_s"] > normal["burst_window_s"] > strict["burst_window_s"]
    assert loose["notime_ncc"] < normal["notime_ncc"] < strict["notime_ncc"]
    assert groups.thresholds({"strictness": "strict", "burst_window_s": 9})["burst_window_s"] == 9
    with pytest.raises(ValueError):
        groups.thresholds({"strictness": "extreme"})


def _bench_module():
    spec = importlib.util.spec_from_file_location("bench_grouping", REPO / "training" / "groups" / "bench_grouping.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_comparisons_grow_subquadratically():
    bench = _bench_module()
    counts = {}
    for n in (500, 2000, 8000):
        stats = {}
        res = groups.group(bench.synthetic_records(n, seed=1), stats=stats)
        assert len(res) == n
        counts[n] = stats["comparisons"]
    # 16x the photos: all pairs would be 256x the comparisons; n log n stays well under 32x
    assert counts[8000] / counts[500] < 32, counts
    assert counts[8000] < 8000 * 60, counts


def test_unrelated_photos_moments_apart_stay_apart():
    imgs = [skdata.coffee(), skdata.rocket(), skdata.hubble_deep_field(), skdata.chelsea(), skdata.astronaut(),
            skdata.immunohistochemistry(), skdata.retina(), skdata.colorwheel(), skdata.camera(), skdata.moon(),
            skdata.coins(), skdata.brick(), skdata.grass(), skdata.gravel(), skdata.page(), skdata.clock()]
    recs = [record(f"/s/IMG_{k:02d}.JPG", bgr(x) if x.ndim == 3 else x, 0.6 * k) for k, x in enumerate(imgs)]
    # the stereo pair is the same scene from a few cm away: that one is a burst
    recs += [record(f"/s/MOTO_{k}.JPG", bgr(x), 20.0 + 0.3 * k) for k, x in enumerate(skdata.stereo_motorcycle()[:2])]
    res = groups.group(recs)
    assert all(m is None for m in res[:-2])
    assert res[-1] and res[-2] and res[-1]["id"] == res[-2]["id"] and res[-1]["kind"] == "burst"


def test_minimal_records_and_time_zones():
    img = bgr(skdata.chelsea())
    enc = groups.encode(decode.from_array(img))
    enc2 = groups.encode(decode.from_array(jitter(img, dx=0.01, gain=1.1)))
    recs = [
        {"path": "/a/1.jpg", "_encoding": enc, "capture_time": "2026-05-01T14:03:22.100+02:00"},
        {"path": "/a/2.jpg", "_encoding": enc2, "capture_time": "2026-05-01T12:03:22.600Z", "exif": None,
         "sharpness": None, "eyes": None, "exposure": None},
        {"path": "/a/3.jpg", "_encoding": enc2, "capture_time": "not a date"},
    ]
    res = groups.group(recs)
    assert res[0] and res[1] and res[0]["id"] == res[1]["id"]
    assert res[2] and res[2]["id"] == res[0]["id"]          # no usable time: content decides
    assert groups.group([]) == []


def test_real_portrait_series_groups_by_person_and_skips_closed_eyes():
    d = shared("yale_faces")
    conditions = ("normal", "happy", "sleepy", "surprised", "glasses", "noglasses", "sad", "wink")
    recs, t = [], 0.0
    for subject in ("02", "05"):
        for c in conditions:
            f = d / c / f"subject{subject}.{c}.gif"
            closed = {"sleepy": 0.95, "wink": 0.7}.get(c, 0.05)
            recs.append(record(f, decode.load(f).image, t, prob=0.02 if c == "sleepy" else 0.10, closed=closed,
                               eyes="closed" if closed > 0.5 else "open") | {"path": str(f)})
            t += 0.8
        t += 12.0
    res = groups.group(recs)
    first, second = res[:8], res[8:]
    assert all(m for m in res)
    assert len({m["id"] for m in first}) == 1 and len({m["id"] for m in second}) == 1
    assert first[0]["id"] != second[0]["id"]
    for part in (first, second):
        best = [c for c, m in zip(conditions, part) if m["best"]]
        assert best and best[0] not in ("sleepy", "wink")
        sleepy = part[conditions.index("sleepy")]
        assert "has eyes open (closed here)" in sleepy["reason"]


def test_same_framing_reshot_later_is_a_series():
    img = bgr(skdata.astronaut())
    recs = [record("/s/IMG_1.JPG", img, 0.0),
            record("/s/IMG_2.JPG", jitter(img, dx=0.01, gain=1.05), 12.0),      # same pose, 12 s later
            record("/s/IMG_3.JPG", bgr(skdata.coffee()), 24.0),                 # something else
            record("/s/IMG_4.JPG", jitter(img, dx=0.02, angle=2), 80.0)]        # much later: not compared
    res = groups.group(recs)
    assert res[0] and res[1] and res[0]["id"] == res[1]["id"] and res[0]["kind"] == "burst"
    assert res[2] is None and res[3] is None


def test_downscaled_copy_does_not_beat_its_original():
    # per pixel, a half-size export looks sharper than the original (its blur is halved too); at a
    # common scale they are the same picture, so the original (more pixels) is the keeper
    img = cv2.resize(bgr(skdata.astronaut()), (1024, 1024), interpolation=cv2.INTER_CUBIC)
    small = cv2.resize(img, (512, 512), interpolation=cv2.INTER_AREA)
    for orig_blurry in (False, True):
        recs = [record("/shoot/IMG_0800.JPG", img, 0.0, blurry=orig_blurry, prob=0.62 if orig_blurry else 0.30),
                record("/exports/IMG_0800-small.jpg", small, 0.0, prob=0.05)]
        res = groups.group(recs)
        assert res[0] and res[1] and res[0]["id"] == res[1]["id"] and res[0]["kind"] == "duplicate"
        assert res[0]["best"] and not res[1]["best"], res
        assert "more pixels of the same picture" in res[1]["reason"], res[1]["reason"]
        assert "sharper" not in res[1]["reason"]


def test_sharpness_differences_inside_the_tie_band_are_ties():
    img = bgr(skdata.astronaut())
    frames = [img, jitter(img, dx=0.01, gain=1.05), jitter(img, dx=-0.01, gain=0.95)]
    # 0.90 vs 0.87 vs 0.86: all within the 0.05 band of the sharpest -> the earliest frame wins
    recs = [record(f"/shoot/IMG_09{k}.JPG", f, 0.3 * k, prob=p) for k, (f, p) in enumerate(zip(frames, (0.13, 0.10, 0.14)))]
    res = groups.group(recs)
    assert [m["best"] for m in res] == [True, False, False]
    assert all("earlier frame" in m["reason"] for m in res[1:]), [m["reason"] for m in res]
    # equal scores, one frame flagged blurry: the reason names the flag, not "sharper (1.00 vs 1.00)"
    recs = [record("/shoot/A.JPG", frames[0], 0.0, prob=0.0),
            record("/shoot/B.JPG", frames[1], 0.3, blurry=True, prob=0.0),
            record("/shoot/C.JPG", frames[2], 0.6, blurry=None, prob=0.0)]
    res = groups.group(recs)
    assert [m["best"] for m in res] == [True, False, False]
    assert res[1]["reason"] == "A is not blurry (this frame is)"
    assert res[2]["reason"] == "A is known to be sharp (no sharpness verdict here)"
    # a clear difference is still reported with its evidence
    recs = [record("/shoot/A.JPG", frames[0], 0.0, prob=0.30), record("/shoot/B.JPG", frames[1], 0.3, prob=0.05)]
    res = groups.group(recs)
    assert res[1]["best"] and res[0]["reason"] == "B is sharper (frame 0.95 vs 0.70)"
    for r in [m["reason"] for m in res]:
        assert "(1.00 vs 1.00)" not in r


def test_reshoot_of_the_same_framing_joins_within_minutes_not_hours():
    img = bgr(skdata.astronaut())
    again = soft(img, 1.0)                       # the same framing, focus slightly off
    res = groups.group([record("/s/IMG_1.JPG", img, 0.0), record("/s/IMG_2.JPG", again, 41.2, blurry=True, prob=0.7)])
    assert res[0] and res[1] and res[0]["id"] == res[1]["id"] and res[0]["kind"] == "burst"
    assert res[0]["best"] and "IMG_1 is sharper" in res[1]["reason"]
    assert res[0]["reason"].startswith("best of 2 shots of the same framing over 41 s")
    # a tripod time-lapse: identical framing every 10 minutes is not one burst
    res = groups.group([record(f"/s/TL_{k}.JPG", jitter(img, gain=1.0 + 0.02 * k), 600.0 * k) for k in range(3)])
    assert all(m is None for m in res)


def test_shutter_change_without_a_brightness_change_is_no_bracket():
    # aperture priority as a cloud passes: the camera doubles the exposure time, the photo looks the same
    img = bgr(skdata.chelsea())
    recs = [record(f"/s/AV_{k}.JPG", jitter(img, dx=0.005 * k), 0.5 * k, exposure_time=1 / 250 * 2 ** k) for k in range(3)]
    res = groups.group(recs)
    assert all(m is not None and m["kind"] == "burst" for m in res), res
    # the same shutter steps with the brightness following: a manual bracket
    recs = [record(f"/s/MB_{k}.JPG", jitter(img, dx=0.005 * k, gain=2.0 ** k), 0.5 * k, exposure_time=1 / 250 * 2 ** k)
            for k in range(3)]
    res = groups.group(recs)
    assert all(m is not None and m["kind"] == "bracket" for m in res), res


def _face_record(path, t):
    """A record with the face detector's faces, as the pipeline builds it (eyes.faces, and the
    face crop in the encoding)."""
    from autocull.analyse import faces
    d = decode.load(path)
    found = faces.detect(d)
    return {"path": str(path), "ok": True, "capture_time": when(t), "width": d.width, "height": d.height,
            "exif": {"make": "Canon", "model": "EOS R6"},
            "eyes": {"state": "open" if found else "no_faces",
                     "faces": [{"box": [int(v) for v in f["box"]], "main": True} for f in found]},
            "_encoding": groups.encode(d, found)}


def test_different_sitters_on_one_backdrop_are_not_one_series():
    d = shared("yale_faces")
    a = _face_record(d / "happy" / "subject12.happy.gif", 0.0)
    b = _face_record(d / "happy" / "subject13.happy.gif", 0.8)
    a2 = _face_record(d / "normal" / "subject12.normal.gif", 1.6)
    assert isinstance(a["_encoding"]["face"], str) and json.loads(json.dumps(a["_encoding"])) == a["_encoding"]
    # the whole frames alone (grey faces, same backdrop) would join the two sitters
    res = groups.group([a, b], {"face_check": False})
    assert res[0] and res[1] and res[0]["id"] == res[1]["id"]
    stats = {}
    res = groups.group([a, b, a2], stats=stats)
    assert res[1] is None and stats["face_refused"] >= 1, res
    assert res[0] and res[2] and res[0]["id"] == res[2]["id"]          # the same sitter still is


def test_face_position_disagreement_refuses_a_join():
    img = bgr(skdata.astronaut())
    here = {"state": "open", "faces": [{"box": [180, 60, 120, 140], "main": True}]}
    moved = {"state": "open", "faces": [{"box": [20, 300, 120, 140], "main": True}]}
    recs = [record("/s/P_1.JPG", img, 0.0), record("/s/P_2.JPG", jitter(img, dx=0.01), 0.4)]
    recs[0]["eyes"] = recs[1]["eyes"] = here
    res = groups.group(recs)
    assert res[0] and res[1] and res[0]["id"] == res[1]["id"]
    recs[1]["eyes"] = moved
    assert groups.group(recs) == [None, None]
    assert groups.group(recs, {"face_check": False})[0] is not None
    # no face found in one frame (a turned head, a blurred frame): nothing to compare, no refusal
    recs[1]["eyes"] = {"state": "no_faces", "faces": []}
    assert groups.group(recs)[0] is not None


def test_side_lit_portrait_joins_its_sitter_not_another():
    # the same sitter lit from the side (half the face in shadow, a cast shadow on the wall) is the
    # same portrait series; the edge structure of the frame plus the lit half of the face say so
    d = shared("yale_faces")
    for subject in ("05", "12"):
        front = d / "normal" / f"subject{subject}.normal.gif"
        side = d / "leftlight" / f"subject{subject}.leftlight.gif"
        for gap in (0.8, 12.0):                        # a burst, and a series re-shot 12 s later
            res = groups.group([_face_record(front, 0.0), _face_record(side, gap)])
            assert res[0] and res[1] and res[0]["id"] == res[1]["id"] and res[0]["kind"] == "burst", (subject, gap)
        # 12 s apart, only the portrait-series rule joins them
        off = groups.group([_face_record(front, 0.0), _face_record(side, 12.0)], {"grey_face_sum": 9.0})
        assert off == [None, None]
    # two different sitters on the same backdrop, one side-lit, 12 s apart: not one series
    for x, y in (("05", "12"), ("12", "05"), ("02", "12")):
        res = groups.group([_face_record(d / "normal" / f"subject{x}.normal.gif", 0.0),
                            _face_record(d / "leftlight" / f"subject{y}.leftlight.gif", 12.0)])
        assert res == [None, None], (x, y)


def test_relit_portrait_without_exif_is_no_bracket():
    # without EXIF, a darker frame of the same scene is a bracket only if its levels are a monotone
    # remap of the other's (ranks kept); a face lit from the side instead of the front is not
    d = shared("yale_faces")
    recs = [_face_record(d / c / f"subject08.{c}.gif", None) | {"exif": {}} for c in ("sad", "leftlight")]
    res = groups.group(recs)
    assert not any(m and m["kind"] == "bracket" for m in res), res
    # a real stack without EXIF still is one (test_bracket_from_real_stack_without_exif), and so is
    # a synthetic one with clipping at +2 EV
    img = bgr(skdata.astronaut())
    res = groups.group([record(f"/scan/B_{k}.JPG", jitter(img, gain=2.0 ** ev), None, exif=False)
                        for k, ev in enumerate((-2.0, 0.0, 2.0))])
    assert all(m and m["kind"] == "bracket" for m in res), res


def test_encodings_with_the_older_16px_face_crop_still_group():
    # encodings before v4 carry a 16x16 face crop: the face check falls back to the whole crop
    d = shared("yale_faces")

    def v3(rec):
        enc = dict(rec["_encoding"])
        raw = np.frombuffer(groups.base64.b64decode(enc["face"]), np.uint8)[:32 * 32].reshape(32, 32)
        small = cv2.resize(raw, (16, 16), interpolation=cv2.INTER_AREA)
        enc.update(v=3, face=groups.base64.b64encode(small.tobytes() + b"\0\0").decode("ascii"))
        assert len(enc["face"]) == 344
        return rec | {"_encoding": enc}

    a = v3(_face_record(d / "happy" / "subject12.happy.gif", 0.0))
    b = v3(_face_record(d / "happy" / "subject13.happy.gif", 0.8))
    a2 = _face_record(d / "normal" / "subject12.normal.gif", 1.6)        # a v4 encoding beside them
    stats = {}
    res = groups.group([a, b, a2], stats=stats)
    assert res[1] is None and stats["face_refused"] >= 1, res
    assert res[0] and res[2] and res[0]["id"] == res[2]["id"]
