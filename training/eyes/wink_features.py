"""Per-face eye features for choosing the wink rule (``wink_select.py``): every face of
Yale (with its dataset and audited labels), the whole-face eval part and the main faces of
the group photos, judged by the run-time code with the wink rule switched off.

    .venv/bin/python training/eyes/wink_features.py   # writes training/eyes/wink_features.json
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import cv2

sys.path.insert(0, str(Path(__file__).resolve().parent))
import evaluate as ev  # noqa: E402
from common import FULLFACE, PORTRAITS, YALE, read_csv  # noqa: E402

from autocull import decode  # noqa: E402
from autocull.analyse import eyes, faces  # noqa: E402

HERE = Path(__file__).resolve().parent


def _feat(face, j):
    lm = (face or {}).get("landmarks") or {}
    es = lm.get("eyes") or []
    ratio = None
    if len(es) == 2:
        w = [math.dist(*e["corners"]) for e in es]
        ratio = min(w) / max(max(w), 1e-6)
    return {"state": j["state"], "why": j.get("why"), "ratio": ratio,
            "eyes": [{k: e[k] for k in ("closed_probability", "cnn", "ear", "px")} for e in j.get("eyes", [])]}


def main() -> int:
    saved = eyes.WINK_GAP
    eyes.WINK_GAP = None  # rule off: the features are the plain judgement
    out = {"yale": [], "fullface": [], "portraits": []}
    audit = ev.yale_audit()
    for r in read_csv(YALE / "labels.csv"):
        f, js = ev.face_results(ev._pad(ev._pil_read(YALE / r["file"]), 0.1), ("both",))
        out["yale"].append({"file": r["file"], "subject": r["subject"], "condition": r["condition"],
                            "dataset": ev._yale_truth(r["eye_state"]),
                            "audited": ev._yale_truth(audit.get(r["file"], r["eye_state"])), **_feat(f, js["both"])})
    print("yale", len(out["yale"]), flush=True)
    for r in ev.fullface_parts()["eval"]:
        f, js = ev.face_results(ev._pad(cv2.imread(str(FULLFACE / r["file"]))), ("both",))
        out["fullface"].append({"file": r["file"], "label": r["label"], **_feat(f, js["both"])})
    print("fullface", len(out["fullface"]), flush=True)
    files = sorted((PORTRAITS / "dlib_examples_faces").glob("*.jpg")) + \
        sorted(p for p in (PORTRAITS / "face_recognition_examples").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    for path in files:
        d = decode.load(path)
        fs = faces.detect(d)
        a = eyes.assess(d, fs)
        srt = sorted(fs, key=lambda f: (f["box"][0], f["box"][1]))
        for f, j in zip(srt, a["faces"]):
            if j["main"]:
                out["portraits"].append({"file": path.name, "index": j["index"], **_feat(f, j)})
    print("portraits", len(out["portraits"]), flush=True)
    eyes.WINK_GAP = saved
    (HERE / "wink_features.json").write_text(json.dumps(out, indent=0) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
