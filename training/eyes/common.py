"""Shared helpers for the eye-state training and evaluation scripts (TensorFlow-free).

The patch preprocessing lives in ``autocull.analyse.eyes.prepare_patch`` so training and
runtime use the very same function.
"""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "backend"))

DATA = Path(os.environ.get("AUTOCULL_DATA", ROOT.parent / "shared" / "data"))
CEW = DATA / "cew_eye_patches"
FULLFACE = DATA / "faces_eye_state_fullface"
YALE = DATA / "yale_faces"
PORTRAITS = DATA / "portraits_people"

SEED = 20261125


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def cew_group(face_id: str) -> str:
    """Split group of a CEW patch: the source photo for closed eyes (several faces of one
    web photo stay together), the person for open (LFW) eyes."""
    if face_id.startswith("closed_eye_"):
        return face_id.split("_face_")[0]
    name = face_id.rsplit("_", 1)[0]
    return "lfw:" + name
