"""Every verdict is made here: analysis evidence -> verdict, stars, colour label, flag, reasons.

Order of precedence (the first that applies decides; reasons list every finding):

1. the photo could not be read -> no verdict (``ok: false``);
2. a member of an exposure bracket -> keeper (brackets are never rejected nor alternates);
3. misfire (black, white or featureless frame) -> reject, mapping ``exposure``;
4. blurry subject (blur probability >= ``thresholds.blur``) -> reject, mapping ``blurry``;
5. closed eyes on a confidently judged face (probability >= ``thresholds.eyes``) -> reject,
   mapping ``closed_eyes``;
6. under- or over-exposed -> reject, mapping ``exposure``;
7. in a burst or duplicate group but not its best frame -> alternate;
8. sharpness could not be judged -> unsure (nothing set);
9. otherwise -> keeper.

Thresholds are applied to the analysers' probabilities here, so a new sensitivity or mapping
needs no re-analysis. Ratings 4 and 5 are never set (config.validate refuses them).
"""

from __future__ import annotations

from pathlib import Path

from autocull.config import DEFAULTS


# Defects in precedence order -> the mapping entry that marks them.
DEFECTS = {"misfire": "exposure", "blurry": "blurry", "closed_eyes": "closed_eyes", "exposure": "exposure"}


def _name(path: str | None) -> str:
    return Path(path).name if path else "?"


def _position(box, width) -> str:
    if not box or not width:
        return ""
    cx = (box[0] + box[2] / 2.0) / float(width)
    return "left of frame" if cx < 1 / 3 else ("right of frame" if cx > 2 / 3 else "centre of frame")


def closed_faces(eyes: dict | None, threshold: float) -> list[int]:
    """Indices of faces judged closed at ``threshold``. Faces the analyser called unsure are
    skipped, and so are small background faces (``main: false``) that do not decide the photo."""
    out = []
    for i, f in enumerate((eyes or {}).get("faces") or []):
        p = f.get("closed_probability")
        if f.get("state") != "unsure" and f.get("main", True) and p is not None and p >= threshold:
            out.append(i)
    return out


def blur_call(sharpness: dict | None, threshold: float):
    """(blurry: bool|None, probability) at ``threshold``; None when sharpness could not be judged."""
    s = sharpness or {}
    p = s.get("probability")
    if p is None or s.get("blurry") is None:
        return None, p
    return p >= threshold, p


def decide(record: dict, settings: dict | None = None) -> dict:
    """Return ``{"verdict", "rating", "label", "flag", "reasons", "cause"}`` for one analysed photo.

    ``record`` is a schema-1 object (``group`` may be null). ``cause`` names the mapping entry used
    (keeper, alternate, closed_eyes, blurry, exposure, unsure) or None for a failed photo.
    """
    settings = settings or DEFAULTS
    mapping, thr = settings["mapping"], settings["thresholds"]
    if not record.get("ok"):
        return {"verdict": None, "rating": None, "label": None, "flag": None,
                "reasons": [record.get("error") or "could not be analysed"], "cause": None}

    reasons: list[str] = []
    group = record.get("group") or None
    exposure = record.get("exposure") or {}
    sharp = record.get("sharpness") or {}
    eyes = record.get("eyes") or {}
    blurry, bprob = blur_call(sharp, thr["blur"])
    region = sharp.get("region") or "frame"
    closed = closed_faces(eyes, thr["eyes"])
    nfaces = len(eyes.get("faces") or [])

    findings = {}
    if exposure.get("state") == "misfire":
        findings["misfire"] = f"misfire: {exposure.get('why') or 'no usable image'}"
    if blurry:
        findings["blurry"] = f"blurry: {region} blur probability {bprob:.2f} (threshold {thr['blur']:.2f})" + (
            f", {sharp['hint']}" if sharp.get("hint") else "")
    if closed:
        faces = eyes["faces"]
        parts = []
        for i in closed:
            pos = _position(faces[i].get("box"), record.get("width"))
            parts.append(f"face {i + 1} of {nfaces}" + (f", {pos}" if pos else "")
                         + f" (closed {faces[i]['closed_probability']:.2f})")
        findings["closed_eyes"] = f"eyes closed: {'; '.join(parts)} (threshold {thr['eyes']:.2f})"
    if exposure.get("state") in ("under", "over"):
        findings["exposure"] = f"{exposure['state']}exposed: {exposure.get('why') or ''}".rstrip(": ")

    bracket = bool(group) and group.get("kind") == "bracket"
    if bracket:
        cause = "keeper"
        reasons.append(f"part of an exposure bracket of {group.get('size')}: every frame kept together")
        reasons.extend(f"note: {v}" for v in findings.values())
    elif findings:  # the first defect in precedence order decides; the rest are listed after it
        defect = next(k for k in DEFECTS if k in findings)
        cause = DEFECTS[defect]
        reasons.append(findings.pop(defect))
    elif group and not group.get("best"):
        cause = "alternate"
        why = group.get("reason") or "another frame was ranked higher"
        reasons.append(f"alternate in a {group.get('kind')} of {group.get('size')}: "
                       f"{_name(group.get('best_path'))} is the keeper ({why})")
    elif blurry is None:
        cause = "unsure"
        reasons.append("unsure: sharpness could not be judged"
                       + (f" ({sharp['why']})" if sharp.get("why") else " (image too small or featureless)"))
    else:
        cause = "keeper"
        if group:
            reasons.append(group.get("reason") or f"best of a {group.get('kind')} of {group.get('size')}")
        else:
            reasons.append(f"sharp: {region} blur probability {bprob:.2f} (threshold {thr['blur']:.2f})")
        st = eyes.get("state")
        if st == "open":
            reasons.append(f"eyes open on {'the face' if nfaces == 1 else f'all {nfaces} faces'}")
        elif st == "unsure":
            reasons.append("eyes: could not be judged on every face")
    if not bracket:
        reasons.extend(f"also {v}" for v in findings.values())

    verdict = {"keeper": "keeper", "alternate": "alternate", "unsure": "unsure"}.get(cause, "reject")
    mark = mapping[cause]
    return {"verdict": verdict, "rating": mark["rating"], "label": mark["label"], "flag": mark["flag"],
            "reasons": reasons, "cause": cause}
