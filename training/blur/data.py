"""Source photos for blur training/evaluation, read in place from ``../shared/data``.

Every source has a ``group`` (the scene / person / object it shows); splits are made by
group so no scene is on both sides. Nothing here copies data into the repository.
"""

from __future__ import annotations

import csv
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

DATA = Path(os.environ.get("AUTOCULL_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))
if not DATA.is_dir():
    DATA = Path("/work/shared/data")


@dataclass
class Source:
    name: str
    group: str
    path: str | None = None     # a file, or None for scikit-image data
    skimage: str | None = None

    def load(self) -> np.ndarray | None:
        """BGR uint8, or None when unreadable."""
        if self.skimage is not None:
            import skimage.data as skd
            img = getattr(skd, self.skimage)()
            if isinstance(img, tuple):
                img = img[0]
            img = np.asarray(img)
            if img.ndim == 2:
                return cv2.cvtColor(img.astype(np.uint8), cv2.COLOR_GRAY2BGR)
            return cv2.cvtColor(img[..., :3].astype(np.uint8), cv2.COLOR_RGB2BGR)
        if self.path.lower().endswith(".gif"):
            cap = cv2.VideoCapture(self.path)
            ok, img = cap.read()
            cap.release()
            return img if ok else None
        return cv2.imread(self.path, cv2.IMREAD_COLOR)


# scikit-image photos that are sharp natural images (not synthetic, not already blurred:
# `clock` is motion-blurred on purpose and `moon`/`retina` are soft, so they are left out).
SKIMAGE = ["astronaut", "camera", "coffee", "chelsea", "rocket", "brick", "grass", "gravel",
           "text", "page", "hubble_deep_field", "coins", "stereo_motorcycle"]

_PEOPLE = ["obama", "biden", "alex", "lacamoire", "kit", "john", "rose", "lin-manuel", "two_people"]


def _person(name: str) -> str:
    n = name.lower()
    for p in _PEOPLE:
        if p in n:
            return {"lacamoire": "alex", "john": "kit"}.get(p, p)
    return Path(name).stem


def sharp_sources(yale_per_subject: int = 3) -> list[Source]:
    """Sharp photos to blur synthetically (every readable one, grouped by scene/person)."""
    out: list[Source] = []
    pp = DATA / "portraits_people"
    for f in sorted((pp / "dlib_examples_faces").glob("*.jpg")):
        out.append(Source(f.name, "voc_" + f.stem, str(f)))
    for f in sorted((pp / "face_recognition_examples").glob("*")):
        if f.suffix.lower() in (".jpg", ".jpeg", ".png"):
            out.append(Source(f.name, "person_" + _person(f.name), str(f)))
    nd = DATA / "near_duplicates"
    with open(nd / "labels.csv") as fh:
        for row in csv.DictReader(fh):
            out.append(Source(row["file"], "nd_" + row["group"], str(nd / row["file"])))
    eb = DATA / "exposure_brackets"
    with open(eb / "labels.csv") as fh:
        for row in csv.DictReader(fh):
            out.append(Source(row["file"], "bracket_" + row["group"], str(eb / row["file"])))
    yf = DATA / "yale_faces"
    with open(yf / "labels.csv") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: (r["subject"], r["file"]))
    seen: dict[str, int] = {}
    for row in rows:
        if row["condition"] not in ("normal", "glasses", "happy", "surprised", "noglasses"):
            continue
        if seen.get(row["subject"], 0) >= yale_per_subject:
            continue
        seen[row["subject"]] = seen.get(row["subject"], 0) + 1
        out.append(Source(row["file"], "yale_" + row["subject"], str(yf / row["file"])))
    for n in SKIMAGE:
        out.append(Source("skimage." + n, "skimage_" + n, skimage=n))
    return [s for s in out if s.skimage is not None or Path(s.path).is_file()]


def split_groups(sources: list[Source], seed: int, val: float = 0.15, test: float = 0.2) -> dict[str, str]:
    """group -> "train" | "val" | "test": groups in a seeded random order, each given to the
    split furthest below its target share of photos (whole groups only)."""
    counts: dict[str, int] = {}
    for s in sources:
        counts[s.group] = counts.get(s.group, 0) + 1
    groups = sorted(counts)
    order = np.random.default_rng(seed).permutation(len(groups))
    target = {"train": 1.0 - val - test, "val": val, "test": test}
    have = {k: 0 for k in target}
    out = {}
    for i in order:
        g = groups[i]
        total = sum(have.values()) + counts[g]
        k = min(target, key=lambda k: (have[k] + counts[g]) / total - target[k])
        out[g] = k
        have[k] += counts[g]
    return out


def real_blur_set() -> list[dict]:
    """The real triplets (sharp / defocus / motion, same scene): held out for testing only."""
    root = DATA / "blur_kwentar_triplets"
    with open(root / "labels.csv") as fh:
        rows = list(csv.DictReader(fh))
    return [dict(path=str(root / r["file"]), label=r["label"], scene=r["scene_id"], device=r["device"])
            for r in rows if (root / r["file"]).is_file()]
