"""The schema-1 contract of one analysed photo, checked field by field."""

from __future__ import annotations

import os

KEYS = ["schema", "path", "id", "ok", "error", "source", "width", "height", "capture_time", "exif",
        "sharpness", "eyes", "exposure", "group", "verdict", "rating", "label", "flag", "reasons"]
VERDICTS = {"keeper", "alternate", "reject", "unsure"}
LABELS = {None, "red", "yellow", "green", "blue", "purple"}


def check(obj: dict) -> None:
    """Raise AssertionError naming the first field that breaks the contract."""
    assert list(obj)[: len(KEYS)] == KEYS, list(obj)
    assert obj["schema"] == 1
    assert isinstance(obj["path"], str) and os.path.isabs(obj["path"])
    assert isinstance(obj["reasons"], list) and all(isinstance(r, str) for r in obj["reasons"])
    if not obj["ok"]:
        assert isinstance(obj["error"], str) and obj["error"].startswith(obj["path"] + ": ")
        for k in KEYS:
            if k not in ("schema", "path", "id", "ok", "error", "reasons"):
                assert obj[k] is None, k
        return
    assert obj["error"] is None
    assert isinstance(obj["source"], str) and obj["source"]
    assert isinstance(obj["width"], int) and isinstance(obj["height"], int) and obj["width"] > 0
    ct = obj["capture_time"]
    assert ct is None or (isinstance(ct, str) and ct[4] == "-" and "T" in ct and "." in ct)
    assert isinstance(obj["exif"], dict) and "exposure_bias" in obj["exif"] and "iso" in obj["exif"]
    s = obj["sharpness"]
    assert s["blurry"] in (True, False, None) and s["region"] in ("face", "subject", "frame")
    assert s["probability"] is None or 0.0 <= s["probability"] <= 1.0
    e = obj["eyes"]
    assert e["state"] in ("open", "closed", "unsure", "no_faces")
    for f in e["faces"]:
        assert len(f["box"]) == 4 and f["state"] in ("open", "closed", "unsure")
        assert f["closed_probability"] is None or 0.0 <= f["closed_probability"] <= 1.0
    assert (e["state"] == "no_faces") == (len(e["faces"]) == 0)
    x = obj["exposure"]
    assert x["state"] in ("ok", "under", "over", "misfire")
    assert 0 <= x["clipped_highlights"] <= 1 and 0 <= x["clipped_shadows"] <= 1
    g = obj["group"]
    if g is not None:
        assert isinstance(g["id"], str) and g["kind"] in ("burst", "duplicate", "bracket")
        assert isinstance(g["size"], int) and g["size"] >= 2 and isinstance(g["best"], bool)
    assert obj["verdict"] in VERDICTS
    assert obj["rating"] in (None, 1, 2, 3)
    assert obj["label"] in LABELS
    assert obj["flag"] in (None, "pick", "reject")
    assert obj["reasons"], "every verdict has a reason"
