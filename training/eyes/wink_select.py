"""Choose the wink rule's two parameters (``eyes.WINK_GAP``, ``eyes.WINK_MIN``) on Yale
people and measure them on other Yale people (never on the people they were chosen on),
then on the whole-face eval part and the group photos.

    .venv/bin/python training/eyes/wink_features.py   # once: per-face features
    .venv/bin/python training/eyes/wink_select.py     # writes training/eyes/wink_select.json

Selection: the grid below plus "rule off"; the highest Yale closed-eye F1 (dataset labels)
on the choosing people wins; ties go to the most conservative setting (rule off first, then
the larger gap, then the higher minimum). Folds by person: leave-one-person-out and 2-fold
(subjects alternately), each pooled over its folds (tp/fp/fn summed).
The frontal limit (``WINK_FRONTAL``) and "other eye below ``OPEN_BELOW``" are fixed, not chosen.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import common  # noqa: E402,F401  (puts backend/ on the path)

from autocull.analyse import eyes  # noqa: E402

GAPS = [round(float(x), 3) for x in np.arange(0.10, 0.501, 0.025)]
MINS = [round(float(x), 3) for x in np.arange(0.30, 0.601, 0.025)]
GRID = [None] + [(g, m) for g in GAPS for m in MINS]


def state(face, params) -> str:
    if face["state"] == "closed" or params is None:
        return face["state"]
    if face["state"] not in ("open", "unsure") or face.get("why") in ("strong profile", "one eye only",
                                                                       "face too small", "eyes not found",
                                                                       "sunglasses or eyes covered"):
        return face["state"]
    ps = [e["closed_probability"] for e in face["eyes"] if e["px"] >= eyes.MIN_EYE_PX]
    saved = eyes.WINK_GAP, eyes.WINK_MIN
    eyes.WINK_GAP, eyes.WINK_MIN = params
    try:
        return "closed" if eyes._wink(ps, face["ratio"] if face["ratio"] is not None else 0.0) else face["state"]
    finally:
        eyes.WINK_GAP, eyes.WINK_MIN = saved


def counts(rows, params, label="dataset"):
    c = Counter()
    for r in rows:
        t = r[label]
        if t is None:
            continue
        pc = state(r, params) == "closed"
        c["tp"] += t == "closed" and pc
        c["fn"] += t == "closed" and not pc
        c["fp"] += t == "open" and pc
    return c


def f1(c):
    return 2 * c["tp"] / max(2 * c["tp"] + c["fp"] + c["fn"], 1)


def conservative(params):
    return (1, 0, 0) if params is None else (0, params[0], params[1])


def choose(rows):
    return max(GRID, key=lambda q: (round(f1(counts(rows, q)), 9), conservative(q)))


def held_out(yale, folds):
    pooled = {None: Counter(), "rule": Counter()}
    pooled_aud = {None: Counter(), "rule": Counter()}
    per = []
    for test_people in folds:
        train = [r for r in yale if r["subject"] not in test_people]
        test = [r for r in yale if r["subject"] in test_people]
        q = choose(train)
        a, b = counts(test, None), counts(test, q)
        pooled[None].update(a); pooled["rule"].update(b)
        pooled_aud[None].update(counts(test, None, "audited")); pooled_aud["rule"].update(counts(test, q, "audited"))
        per.append({"test_people": sorted(test_people), "chosen": q, "train_f1": f1(counts(train, q)),
                    "test_off": dict(a), "test_rule": dict(b), "f1_off": f1(a), "f1_rule": f1(b)})
    return {"folds": per,
            "pooled_off": {**pooled[None], "f1": f1(pooled[None])}, "pooled_rule": {**pooled["rule"], "f1": f1(pooled["rule"])},
            "audited_pooled_off": f1(pooled_aud[None]), "audited_pooled_rule": f1(pooled_aud["rule"])}


def other_sets(feat, q):
    ff = feat["fullface"]
    out = {}
    for name, params in (("off", None), ("rule", q)):
        c = Counter()
        st = {"closed": Counter(), "open": Counter()}
        for r in ff:
            s = state(r, params) if r.get("eyes") is not None else r["state"]
            st[r["label"]][s] += 1
            c["tp"] += r["label"] == "closed" and s == "closed"
            c["fn"] += r["label"] == "closed" and s != "closed"
            c["fp"] += r["label"] == "open" and s == "closed"
        po = Counter(state(r, params) for r in feat["portraits"])
        out[name] = {"fullface_f1": f1(c), "fullface": dict(c), "fullface_states": {k: dict(v) for k, v in st.items()},
                     "fullface_fp": [r["file"] for r in ff if r["label"] == "open" and
                                     (state(r, params) if r.get("eyes") is not None else r["state"]) == "closed"],
                     "portraits_states": dict(po), "portraits_false_closed": po["closed"] / max(sum(po.values()), 1),
                     "portraits_closed": [f"{r['file']} face {r['index']}" for r in feat["portraits"]
                                          if state(r, params) == "closed"]}
    return out


def run() -> dict:
    """Selection and held-out measurement from ``wink_features.json``; writes ``wink_select.json``."""
    feat = json.loads((HERE / "wink_features.json").read_text())
    yale = feat["yale"]
    people = sorted({r["subject"] for r in yale})
    res = {"grid": {"gaps": GAPS, "mins": MINS}, "frontal": eyes.WINK_FRONTAL, "open_below": eyes.OPEN_BELOW,
           "loo": held_out(yale, [{p} for p in people]),
           "twofold": held_out(yale, [set(people[0::2]), set(people[1::2])])}
    q = choose(yale)
    res["chosen_all_yale"] = q
    res["all_yale"] = {"off": dict(counts(yale, None)), "rule": dict(counts(yale, q)),
                       "f1_off": f1(counts(yale, None)), "f1_rule": f1(counts(yale, q)),
                       "audited_off": f1(counts(yale, None, "audited")), "audited_rule": f1(counts(yale, q, "audited")),
                       "changed": [r["file"] for r in yale if state(r, q) != state(r, None)]}
    res["other_sets"] = other_sets(feat, q)
    res["in_use"] = [eyes.WINK_GAP, eyes.WINK_MIN]
    (HERE / "wink_select.json").write_text(json.dumps(res, indent=1, default=str) + "\n")
    return res


def main() -> int:
    res = run()
    for k in ("loo", "twofold"):
        print(k, "off", res[k]["pooled_off"], "rule", res[k]["pooled_rule"],
              "audited", res[k]["audited_pooled_off"], res[k]["audited_pooled_rule"])
        for fo in res[k]["folds"]:
            print("   ", fo["test_people"], fo["chosen"], round(fo["f1_off"], 3), round(fo["f1_rule"], 3), fo["test_off"], fo["test_rule"])
    print("all Yale chosen", res["chosen_all_yale"], res["all_yale"])
    print(json.dumps(res["other_sets"], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
