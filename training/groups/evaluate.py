"""Evaluate autocull.analyse.groups on real photo groups: pairwise precision/recall.

Data (read in place, never copied): ``$AUTOCULL_DATA`` or ``../shared/data`` relative to the repo:
  near_duplicates/   labels.csv groups (UKBench objects, one INRIA Holidays scene, edited copies)
  yale_faces/        11 photos per person: a portrait series per subject
  blur_kwentar_triplets/  3 shots per scene (sharp, defocused, motion-blurred)
  video_frames_dlib/ one hand-held sequence (every 3rd of the first 36 frames: a 10 fps burst)
  exposure_brackets/ house (4) and peyrou (3) stacks, no EXIF: must come out as brackets

Each data set becomes a simulated shoot: groups and distractors in random order; frames of a group
0.1-1 s apart (portrait series 0.5-2.5 s); edited copies carry the original's time. Four scenarios
per shoot: ``timed`` (1-30 s log-uniform between groups: about half of the pauses fall inside
the 5 s burst window, none is shorter than 1 s), ``timed_adversarial`` (0.2-2.5 s between groups,
like the gaps inside a group: content alone must separate neighbouring groups),
``notime_ordered`` (no capture times, file names in shooting order) and ``notime_shuffled`` (no
capture times, names in random order: only the hash index can bring partners together).

Faces: every photo goes through the face detector as in the pipeline; records carry ``eyes.faces``
(box, main) and the encodings the face crop (``groups.encode(d, found)``).

Tuning: the groups are split in two halves (by group, fixed seed). Small grids over the content
thresholds are searched on one half (maximising min(precision, recall), pooled over data sets:
burst and series thresholds on ``timed``; grey-photo thresholds jointly with the face check on
``timed`` + ``timed_adversarial``; content-only thresholds on ``notime_ordered``), and the chosen
thresholds are measured on the other half; then the halves swap. The reported "held-out" numbers are the pooled counts of both measurements.
Baseline: plain pHash, Hamming distance <= 10 (imagededup's default max_distance_threshold),
all pairs, transitive groups.

    .venv/bin/python training/groups/evaluate.py [--no-tune] [--json out.json]

Encodings and faces are cached in ``$TMPDIR/autocull_groups_eval_v5.json`` (decoding and face
detection are the slow part: ~10 s for the 178 photos).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import math
import os
import random
import sys
import tempfile
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "backend"))

from autocull import decode  # noqa: E402
from autocull.analyse import groups  # noqa: E402

DATA = Path(os.environ.get("AUTOCULL_DATA", ROOT.parent / "shared" / "data"))
CACHE = Path(tempfile.gettempdir()) / "autocull_groups_eval_v5.json"   # encodings + faces


# ------------------------------------------------------------------------------------------------
# Data sets -> items {"file", "group", "kind", "dup_of"}
# ------------------------------------------------------------------------------------------------

def _near_duplicates():
    d = DATA / "near_duplicates"
    items = []
    for row in csv.DictReader(open(d / "labels.csv")):
        f = d / row["file"]
        if not f.exists():
            continue
        rel = row["relation"]
        dup_of = None
        if rel.startswith("synthetic transform of"):
            dup_of = str(f.parent / (rel.split()[3] + ".jpg"))
        items.append({"file": str(f), "group": "nd_" + row["group"], "series": False, "dup_of": dup_of})
    return items


def _yale():
    d = DATA / "yale_faces"
    return [{"file": str(d / r["file"]), "group": "yale_" + r["subject"], "series": True, "dup_of": None}
            for r in csv.DictReader(open(d / "labels.csv"))]


def _kwentar():
    d = DATA / "blur_kwentar_triplets"
    return [{"file": str(d / r["file"]), "group": "kw_" + r["scene_id"], "series": False, "dup_of": None}
            for r in csv.DictReader(open(d / "labels.csv"))]


def _video():
    d = DATA / "video_frames_dlib"
    files = sorted(d.glob("frame_*.jpg"))
    pick = files[:36:3]  # 10 frames a second from a 30 fps video: a 12-frame burst
    return [{"file": str(f), "group": "video", "series": False, "dup_of": None, "ordered": True} for f in pick]


def _brackets():
    d = DATA / "exposure_brackets"
    rows = sorted(csv.DictReader(open(d / "labels.csv")), key=lambda r: (r["group"], int(r["exposure_rank"])))
    return [{"file": str(d / r["file"]), "group": "br_" + r["group"], "series": False, "dup_of": None,
             "bracket": True} for r in rows]


SETS = {"near_duplicates": _near_duplicates, "yale_faces": _yale, "blur_kwentar_triplets": _kwentar,
        "video_frames_dlib": _video, "exposure_brackets": _brackets}


def _main_faces(found):
    """The detector's faces as the record's ``eyes.faces`` carries them (box, main), the main-face
    rule of autocull.analyse.eyes (confident and at least half the largest face's width)."""
    from autocull.analyse import eyes
    if not found:
        return []
    largest = max(f["box"][2] for f in found)
    return [{"box": [int(v) for v in f["box"]],
             "main": bool(f.get("score", 1.0) >= eyes.MIN_DET_SCORE and f["box"][2] >= eyes.MAIN_FACE_FRACTION * largest)}
            for f in sorted(found, key=lambda f: (f["box"][0], f["box"][1]))]


def encodings(items):
    """{file: {"enc": groups encoding (with the face crop), "faces": eyes.faces-like list}}, cached."""
    from autocull.analyse import faces
    cache = json.loads(CACHE.read_text()) if CACHE.exists() else {}
    changed = False
    for it in items:
        f = it["file"]
        if f not in cache:
            try:
                d = decode.load(f)
                found = faces.detect(d)
                cache[f] = {"enc": groups.encode(d, found), "faces": _main_faces(found)}
            except decode.DecodeError as exc:
                print("skip:", exc, file=sys.stderr)
                cache[f] = None
            changed = True
    if changed:
        CACHE.write_text(json.dumps(cache))
    return cache


# ------------------------------------------------------------------------------------------------
# Shoots
# ------------------------------------------------------------------------------------------------

T0 = datetime(2026, 5, 1, 14, 0, 0)
SCENARIOS = ("timed", "timed_adversarial", "notime_ordered", "notime_shuffled")


def make_shoot(items, enc, scenario: str, seed: int):
    """Records for one simulated shoot; returns (records, labels)."""
    rng = random.Random(seed)
    items = [it for it in items if enc.get(it["file"])]
    by_group = defaultdict(list)
    for it in items:
        by_group[it["group"]].append(it)
    units = list(by_group.values())
    rng.shuffle(units)
    t = 0.0
    seq = []
    for unit in units:
        originals = [it for it in unit if not it["dup_of"]]
        copies = [it for it in unit if it["dup_of"]]
        if not (unit[0].get("bracket") or unit[0].get("ordered")):
            rng.shuffle(originals)
        times = {}
        for k, it in enumerate(originals):
            if k:
                t += rng.uniform(0.5, 2.5) if it["series"] else rng.uniform(0.1, 1.0)
            times[it["file"]] = t
        for it in copies:
            times[it["file"]] = times.get(it["dup_of"], t)
        seq.extend((times[it["file"]], it) for it in originals + copies)
        # pause before the next scene/subject: log-uniform 1-30 s (realistic), 0.2-2.5 s (adversarial:
        # always inside the burst window, so content alone must separate neighbouring groups)
        t += rng.uniform(0.2, 2.5) if scenario == "timed_adversarial" else math.exp(rng.uniform(math.log(1), math.log(30)))
    seq.sort(key=lambda x: x[0])
    if scenario == "notime_shuffled":
        rng.shuffle(seq)
    records, labels = [], []
    for k, (tt, it) in enumerate(seq):
        ct = None if not scenario.startswith("timed") else (T0 + timedelta(seconds=tt)).isoformat(timespec="milliseconds")
        exif = {"exposure_bias": None, "exposure_time": None, "f_number": None, "iso": None,
                "make": "Sim", "model": "Cam", "orientation": 1}
        name = Path(it["file"]).name
        e = enc[it["file"]]
        fl = e["faces"]
        records.append({"path": f"/shoot/{k:05d}_{name}", "file": it["file"], "capture_time": ct, "exif": exif,
                        "ok": True, "width": e["enc"]["width"], "height": e["enc"]["height"],
                        "sharpness": {}, "eyes": {"state": "open" if fl else "no_faces", "faces": fl},
                        "exposure": {}, "_encoding": e["enc"]})
        labels.append(it)
    return records, labels


def pair_counts(labels, pred_ids, only_groups=None):
    """tp, fp, fn over all pairs with at least one member in only_groups (or all pairs): a false
    merge between a held-out group and a tuning group counts against the held-out numbers."""
    tp = fp = fn = 0
    for i, j in itertools.combinations(range(len(labels)), 2):
        if only_groups is not None and labels[i]["group"] not in only_groups and labels[j]["group"] not in only_groups:
            continue
        same = labels[i]["group"] == labels[j]["group"]
        pred = pred_ids[i] is not None and pred_ids[i] == pred_ids[j]
        tp += same and pred
        fp += (not same) and pred
        fn += same and not pred
    return tp, fp, fn


def prf(tp, fp, fn):
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r


def run_groups(records, settings):
    res = groups.group(records, settings)
    return [m["id"] if m else None for m in res], res


def baseline_phash(records, max_dist=10):
    """Plain pHash at imagededup's default threshold: all pairs, transitive (the reference)."""
    hs = [groups.Hash64(r["_encoding"]["phash"]) for r in records]
    uf = list(range(len(hs)))

    def find(x):
        while uf[x] != x:
            uf[x] = uf[uf[x]]
            x = uf[x]
        return x
    for i, j in itertools.combinations(range(len(hs)), 2):
        if hs[i] - hs[j] <= max_dist:
            uf[find(i)] = find(j)
    roots = [find(i) for i in range(len(hs))]
    size = defaultdict(int)
    for r in roots:
        size[r] += 1
    return [r if size[r] > 1 else None for r in roots]


# ------------------------------------------------------------------------------------------------
# Tuning
# ------------------------------------------------------------------------------------------------

GRID = {
    "burst_fast_s": [1.0, 2.5],
    "burst_ncc": [0.60, 0.70, 0.80],
    "burst_ncc_lo": [0.25, 0.40],
    "burst_hist": [0.45, 0.60],
    "slow_ncc": [0.75, 0.85],
    "shift_ncc": [0.70, 0.80],
}
SERIES_GRID = {
    "series_ncc": [0.60, 0.70, 0.80],
    "series_hist": [0.70, 0.80, 0.90],
}
GREY_GRID = {
    "grey_ncc": [0.60, 0.70],     # not below 0.60: no two sitters are < 1 s apart in "timed"
    "grey_slow_ncc": [0.65, 0.75, 0.85],
    "grey_shift_ncc": [0.60, 0.70, 0.80],
    "grey_hist": [0.70, 0.80],
    # grey portraits within series_window_s: frame edge NCC + face half NCC (32x32 crop)
    "grey_face_sum": [1.2, 1.3, 1.4, 1.5],
}
# searched jointly with GREY_GRID: a face check that refuses different sitters lets the grey-photo
# rules loosen (face_pos / face_ncc: None = no face check)
FACE_GRID = {
    "face_check": [False, True],
    "face_pos": [0.10, 0.12],
    "face_ncc": [0.2, 0.3, 0.4, 0.5],
}
NOTIME_GRID = {
    "notime_ncc": [0.85, 0.90, 0.95],
    "notime_ncc_lo": [0.55, 0.70],
    "notime_hist": [0.70, 0.80],
    "notime_hamming": [12, 18],
    "grey_notime_ncc": [0.80, 0.85, 0.90],
}


def evaluate(shoots, settings, only_groups=None, scenarios=("timed", "notime_ordered")):
    tot = [0, 0, 0]
    for (name, scen), (records, labels) in shoots.items():
        if scen not in scenarios or name == "exposure_brackets":
            continue
        ids, _ = run_groups(records, settings)
        c = pair_counts(labels, ids, only_groups)
        tot = [x + y for x, y in zip(tot, c)]
    return tot


def tune(shoots, groups_in, base):
    def score(settings, scen):
        scens = (scen,) if isinstance(scen, str) else scen
        p, r = prf(*evaluate(shoots, settings, groups_in, scens))
        return (min(p, r), p + r)

    def search(start, keys, candidates, scen):
        """The first of ``candidates`` (value tuples for ``keys``) that scores best on ``scen``,
        set over ``start``."""
        best, best_s = start, None
        for vals in candidates:
            s = dict(start, **dict(zip(keys, vals)))
            sc = score(s, scen)
            if best_s is None or sc > best_s:
                best_s, best = sc, s
        return best

    best = search(dict(base), list(GRID), itertools.product(*GRID.values()), "timed")
    best = search(best, list(SERIES_GRID), itertools.product(*SERIES_GRID.values()), "timed")
    face_vals = [v for v in itertools.product(*FACE_GRID.values())
                 if v[0] or v[1:] == tuple(g[0] for g in list(FACE_GRID.values())[1:])]
    # pooled with timed_adversarial: in "timed" no two sitters are under 1 s apart, so the
    # fast-gap grey rule could loosen for free there (it then merges sitters changing quickly)
    best = search(best, list(GREY_GRID) + list(FACE_GRID),
                  (g + f for g, f in itertools.product(itertools.product(*GREY_GRID.values()), face_vals)),
                  ("timed", "timed_adversarial"))
    return search(best, list(NOTIME_GRID), itertools.product(*NOTIME_GRID.values()), "notime_ordered")


def panoramas(seed: int):
    """Panorama steps vs hand-held bursts cut from the same real photos.

    Each photo (kwentar sharp shots, the Holidays scene, UKBench base images) becomes (a) a
    4-frame panorama: frames 46 % of the width, stepping 18 % (55 % overlap), 1.2 s apart, same
    exposure; (b) a 4-frame hand-held burst: the full frame shifted <= 3 % and rotated <= 1 deg, 0.1-1 s
    apart, exposure jitter. Reports the share of panorama sequences not merged into one burst,
    of panorama step pairs left apart, and of bursts kept whole."""
    import cv2
    import numpy as np
    rng = np.random.default_rng(seed)
    files = sorted((DATA / "blur_kwentar_triplets" / "sharp").glob("*")) + \
        sorted((DATA / "near_duplicates" / "holidays_simbench").glob("*.jpg")) + \
        sorted((DATA / "near_duplicates" / "imagededup_testdata").glob("ukbench0[0-9][0-9][0-9][0-9].jpg"))
    res = {"photos": 0, "pano_not_one_burst": 0, "pano_pairs": 0, "pano_pairs_apart": 0, "bursts_whole": 0}
    for f in files:
        try:
            img = decode.load(f).image
        except decode.DecodeError:
            continue
        h, w = img.shape[:2]
        if w < h:
            img = np.ascontiguousarray(np.rot90(img))
            h, w = w, h
        fw = int(w * 0.46)
        pano, burst = [], []
        for k in range(4):
            x0 = int(k * (w - fw) / 3)
            fr = cv2.resize(img[:, x0:x0 + fw], (fw, h))
            pano.append(_rec(f"/p/{f.stem}_{k}.jpg", fr, 1.2 * k))
            m = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-1, 1), 1.0)
            m[:, 2] += rng.uniform(-0.03, 0.03, 2) * (w, h)
            b = cv2.warpAffine(img, m, (w, h), borderMode=cv2.BORDER_REFLECT)
            b = np.clip(b.astype(np.float32) * rng.uniform(0.9, 1.1), 0, 255).astype(np.uint8)
            burst.append(_rec(f"/b/{f.stem}_{k}.jpg", b, 100.0 + 0.55 * k))
        out = groups.group(pano + burst)
        ids = [m["id"] if m else None for m in out]
        res["photos"] += 1
        res["pano_not_one_burst"] += not (ids[0] is not None and len(set(ids[:4])) == 1)
        res["pano_pairs"] += 3
        res["pano_pairs_apart"] += sum(1 for k in range(3) if ids[k] is None or ids[k] != ids[k + 1])
        res["bursts_whole"] += ids[4] is not None and len(set(ids[4:])) == 1
    return res


def _rec(path, img, t):
    return {"path": path, "ok": True, "capture_time": (T0 + timedelta(seconds=t)).isoformat(timespec="milliseconds"),
            "exif": {"exposure_bias": 0.0, "exposure_time": 0.004, "f_number": 4.0, "iso": 100,
                     "make": "Sim", "model": "Cam", "orientation": 1},
            "_encoding": groups.encode(decode.from_array(img, path=path))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-tune", action="store_true", help="measure the shipped defaults only")
    ap.add_argument("--json", help="write the numbers here")
    ap.add_argument("--seed", type=int, default=20261125)
    args = ap.parse_args(argv)

    all_items = {name: fn() for name, fn in SETS.items()}
    enc = encodings([it for items in all_items.values() for it in items])
    shoots = {}
    for name, items in all_items.items():
        for scen in SCENARIOS:
            shoots[(name, scen)] = make_shoot(items, enc, scen, args.seed)

    report = {"defaults": {}, "baseline_phash10": {}, "heldout": {}, "brackets": {}, "duplicates": {}}
    # per data set and scenario, shipped defaults and the pHash baseline
    for (name, scen), (records, labels) in shoots.items():
        ids, res = run_groups(records, {})
        p, r = prf(*pair_counts(labels, ids))
        bp, br = prf(*pair_counts(labels, baseline_phash(records)))
        report["defaults"][f"{name}/{scen}"] = {"precision": round(p, 4), "recall": round(r, 4)}
        report["baseline_phash10"][f"{name}/{scen}"] = {"precision": round(bp, 4), "recall": round(br, 4)}
        if name == "exposure_brackets":
            ok = sum(1 for m, it in zip(res, labels) if m and m["kind"] == "bracket" and m["best"])
            report["brackets"][scen] = f"{ok}/{len(labels)} kept as bracket members"
    # exact duplicates: every photo plus a byte-identical copy in another folder, no times
    recs = []
    for f, e in enc.items():
        if e:
            for folder in ("a", "b"):
                recs.append({"path": f"/{folder}/{Path(f).name}", "capture_time": None, "exif": {}, "ok": True,
                             "eyes": {"state": "open" if e["faces"] else "no_faces", "faces": e["faces"]},
                             "_encoding": e["enc"]})
    res = groups.group(recs, {})
    found = sum(1 for k in range(0, len(recs), 2) if res[k] and res[k + 1] and res[k]["id"] == res[k + 1]["id"])
    report["duplicates"]["exact_copies_found"] = f"{found}/{len(recs) // 2}"

    report["panoramas"] = panoramas(args.seed)
    # the strictness presets, pooled over the real groups
    report["strictness"] = {}
    for level in ("loose", "normal", "strict"):
        for scen in SCENARIOS:
            tot = evaluate(shoots, {"strictness": level}, None, (scen,))
            p, r = prf(*tot)
            report["strictness"][f"{level}/{scen}"] = {"precision": round(p, 4), "recall": round(r, 4)}

    # tuned on one half of the groups, measured on the other
    if not args.no_tune:
        rng = random.Random(args.seed)
        gnames = sorted({it["group"] for items in all_items.values() for it in items})
        rng.shuffle(gnames)
        halves = [set(gnames[::2]), set(gnames[1::2])]
        tot = defaultdict(lambda: [0, 0, 0])
        chosen = []
        for fold in (0, 1):
            tuned = tune(shoots, halves[fold], {})
            chosen.append({k: tuned[k] for k in list(GRID) + list(SERIES_GRID) + list(GREY_GRID) + list(FACE_GRID) + list(NOTIME_GRID)})
            for scen in SCENARIOS:
                c = evaluate(shoots, tuned, halves[1 - fold], (scen,))
                tot[scen] = [x + y for x, y in zip(tot[scen], c)]
                for (name, sc2), (records, labels) in shoots.items():
                    if sc2 != scen or name == "exposure_brackets":
                        continue
                    ids, _ = run_groups(records, tuned)
                    cc = pair_counts(labels, ids, halves[1 - fold])
                    key = f"{name}/{scen}"
                    tot[key] = [x + y for x, y in zip(tot[key], cc)]
        report["tuned_thresholds"] = chosen
        for key, (tp, fp, fn) in tot.items():
            p, r = prf(tp, fp, fn)
            report["heldout"][key] = {"precision": round(p, 4), "recall": round(r, 4), "tp": tp, "fp": fp, "fn": fn}
    # pooled defaults/baseline over the real groups (brackets excluded: judged separately)
    for label, fn in (("defaults", lambda rec: run_groups(rec, {})[0]), ("baseline_phash10", baseline_phash)):
        for scen in SCENARIOS:
            tot = [0, 0, 0]
            for (name, sc2), (records, labels) in shoots.items():
                if sc2 == scen and name != "exposure_brackets":
                    tot = [x + y for x, y in zip(tot, pair_counts(labels, fn(records)))]
            p, r = prf(*tot)
            report[label][f"ALL/{scen}"] = {"precision": round(p, 4), "recall": round(r, 4),
                                            "tp": tot[0], "fp": tot[1], "fn": tot[2]}
    print(json.dumps(report, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
