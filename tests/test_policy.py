"""Policy: evidence -> verdict, marks and reasons that name the evidence and the threshold."""

import copy

import pytest

from autocull import config, policy


def photo(**over):
    rec = {"schema": 1, "path": "/shoot/IMG_0001.jpg", "id": None, "ok": True, "error": None,
           "width": 6000, "height": 4000,
           "sharpness": {"blurry": False, "probability": 0.05, "region": "face"},
           "eyes": {"state": "open", "faces": [{"box": [2800, 1000, 400, 400], "state": "open",
                                                "closed_probability": 0.03}]},
           "exposure": {"state": "ok", "why": None}, "group": None}
    rec.update(over)
    return rec


S = config.load()


def test_sharp_open_eyes_is_a_keeper_with_default_marks():
    d = policy.decide(photo(), S)
    assert (d["verdict"], d["rating"], d["label"], d["flag"]) == ("keeper", 3, "green", "pick")
    assert any("0.05" in r and "0.50" in r for r in d["reasons"])


def test_blurry_reason_names_region_score_and_threshold():
    d = policy.decide(photo(sharpness={"blurry": True, "probability": 0.93, "region": "subject"}), S)
    assert (d["verdict"], d["rating"], d["label"], d["flag"]) == ("reject", 1, "red", "reject")
    assert "subject" in d["reasons"][0] and "0.93" in d["reasons"][0] and "0.50" in d["reasons"][0]


def test_closed_eyes_names_the_face_and_position():
    faces = [{"box": [100, 1000, 300, 300], "state": "closed", "closed_probability": 0.97},
             {"box": [3000, 1000, 300, 300], "state": "open", "closed_probability": 0.02}]
    d = policy.decide(photo(eyes={"state": "closed", "faces": faces}), S)
    assert (d["verdict"], d["label"], d["flag"]) == ("reject", "yellow", "reject")
    assert "face 1 of 2" in d["reasons"][0] and "left of frame" in d["reasons"][0]


def test_unsure_face_is_not_called_closed():
    faces = [{"box": [100, 100, 20, 20], "state": "unsure", "closed_probability": 0.9}]
    d = policy.decide(photo(eyes={"state": "unsure", "faces": faces}), S)
    assert d["verdict"] == "keeper"


def test_closed_eyes_on_a_small_background_face_do_not_decide():
    faces = [{"box": [2000, 1000, 900, 900], "state": "open", "closed_probability": 0.02, "main": True},
             {"box": [100, 100, 60, 60], "state": "closed", "closed_probability": 0.95, "main": False}]
    assert policy.decide(photo(eyes={"state": "open", "faces": faces}), S)["verdict"] == "keeper"
    faces[1]["main"] = True
    assert policy.decide(photo(eyes={"state": "closed", "faces": faces}), S)["verdict"] == "reject"


def test_exposure_and_misfire_are_purple_rejects():
    for state in ("under", "over", "misfire"):
        d = policy.decide(photo(exposure={"state": state, "why": "evidence"}), S)
        assert (d["verdict"], d["label"], d["flag"], d["rating"]) == ("reject", "purple", "reject", 1)
        assert "evidence" in d["reasons"][0]


def test_alternate_names_the_best_frame():
    g = {"id": "g1", "kind": "burst", "size": 4, "best": False, "best_path": "/shoot/IMG_0412.jpg",
         "reason": "IMG_0412 is sharper (face 0.91 vs 0.64)"}
    d = policy.decide(photo(group=g), S)
    assert (d["verdict"], d["rating"], d["label"], d["flag"]) == ("alternate", 2, "blue", None)
    assert "IMG_0412.jpg" in d["reasons"][0] and "sharper" in d["reasons"][0]


def test_defect_wins_over_alternate():
    g = {"id": "g1", "kind": "burst", "size": 4, "best": False, "best_path": "/x/b.jpg", "reason": "r"}
    d = policy.decide(photo(group=g, sharpness={"blurry": True, "probability": 0.8, "region": "face"}), S)
    assert d["verdict"] == "reject" and d["label"] == "red"


def test_bracket_members_are_never_rejected_nor_alternates():
    g = {"id": "g2", "kind": "bracket", "size": 3, "best": False, "best_path": "/x/b.jpg", "reason": None}
    d = policy.decide(photo(group=g, exposure={"state": "under", "why": "dark"}), S)
    assert d["verdict"] == "keeper"
    assert "bracket" in d["reasons"][0]


def test_unsure_sets_nothing():
    d = policy.decide(photo(sharpness={"blurry": None, "probability": None, "region": "frame"}), S)
    assert (d["verdict"], d["rating"], d["label"], d["flag"]) == ("unsure", None, None, None)


def test_sensitivity_moves_the_threshold_without_reanalysis():
    rec = photo(sharpness={"blurry": False, "probability": 0.4, "region": "face"})
    assert policy.decide(rec, S)["verdict"] == "keeper"
    strict = config.load(options={"sensitivity": {"blur": 0.7}})  # threshold 0.3
    assert policy.decide(rec, strict)["verdict"] == "reject"


def test_mapping_is_configurable():
    s = config.load(options={"mapping": {"keeper": {"rating": 2, "label": "none", "flag": None}}})
    d = policy.decide(photo(), s)
    assert (d["rating"], d["label"], d["flag"]) == (2, None, None)


def test_failed_photo_gets_no_marks():
    d = policy.decide(photo(ok=False, error="/x.jpg: empty file (0 bytes)"), S)
    assert (d["verdict"], d["rating"], d["label"], d["flag"]) == (None, None, None, None)
    assert d["reasons"] == ["/x.jpg: empty file (0 bytes)"]


@pytest.mark.parametrize("bad", [
    {"mapping": {"keeper": {"rating": 5}}},
    {"mapping": {"keeper": {"rating": 4}}},
    {"mapping": {"keeper": {"label": "pink"}}},
    {"mapping": {"keeper": {"flag": "maybe"}}},
    {"mapping": {"wonderful": {"rating": 1}}},
    {"sensitivity": {"blur": 1.5}},
    {"strictness": "extreme"},
    {"colour": "red"},
])
def test_invalid_options_are_refused_with_the_key_named(bad):
    with pytest.raises(config.ConfigError) as info:
        config.load(options=bad)
    key = next(iter(bad))
    assert key in str(info.value) or next(iter(bad[key])) in str(info.value)


def test_toml_file(tmp_path):
    p = tmp_path / "autocull.toml"
    p.write_text('[thresholds]\nblur = 0.7\n[mapping.alternate]\nrating = 1\nlabel = "none"\n')
    s = config.load(p)
    assert s["thresholds"]["blur"] == 0.7
    assert s["mapping"]["alternate"] == {"rating": 1, "label": None, "flag": None}
    assert config.DEFAULTS["mapping"]["alternate"]["rating"] == 2  # defaults untouched
    p.write_text("[thresholds\n")
    with pytest.raises(config.ConfigError, match="invalid TOML"):
        config.load(p)


def test_defaults_are_not_mutated_by_decide():
    before = copy.deepcopy(config.DEFAULTS)
    policy.decide(photo(), S)
    assert config.DEFAULTS == before
