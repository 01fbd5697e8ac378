"""Exposure: clipping and lost detail decide, not the mean alone."""

import cv2
import numpy as np
import pytest
import skimage.data

from autocull.analyse.exposure import measure

PHOTOS = ["astronaut", "coffee", "chelsea", "rocket"]


def gray(name):
    return cv2.cvtColor(getattr(skimage.data, name)(), cv2.COLOR_RGB2GRAY)


@pytest.mark.parametrize("name", PHOTOS)
def test_normal_photos_are_ok(name):
    assert measure(gray(name))["state"] == "ok"


@pytest.mark.parametrize("name", PHOTOS)
def test_three_stops_under_is_under(name):
    under = (gray(name).astype(float) / 8).astype(np.uint8)
    r = measure(under)
    assert r["state"] in ("under", "misfire")
    assert r["why"]


@pytest.mark.parametrize("name", PHOTOS)
def test_two_stops_over_is_over(name):
    over = np.clip(gray(name).astype(float) * 4, 0, 255).astype(np.uint8)
    r = measure(over)
    assert r["state"] == "over"
    assert r["clipped_highlights"] >= 0.3


@pytest.mark.parametrize("name", PHOTOS)
def test_night_scene_with_lights_is_not_rejected(name):
    """Deliberately dark: low mean, but lit highlights survive, so it is not 'under'."""
    night = (gray(name).astype(float) * 0.15).astype(np.uint8)
    h, w = night.shape
    for i in range(6):  # street lights / windows
        cv2.circle(night, (w * (i + 1) // 7, h // 3), max(3, w // 60), 250, -1)
    r = measure(night)
    assert r["mean"] < 0.12
    assert r["state"] == "ok"


@pytest.mark.parametrize("name", PHOTOS)
def test_high_key_is_not_rejected(name):
    """Deliberately bright: compressed towards white but not clipped flat."""
    hk = (255 - (255 - gray(name).astype(float)) * 0.3).astype(np.uint8)
    r = measure(hk)
    assert r["mean"] > 0.75
    assert r["state"] == "ok"


def test_misfires():
    rng = np.random.default_rng(0)
    lens_cap = rng.normal(3, 1.5, (400, 600)).clip(0, 255).astype(np.uint8)
    flash_blast = np.full((400, 600), 252, np.uint8)
    grey_card = rng.normal(128, 1.0, (400, 600)).clip(0, 255).astype(np.uint8)
    for img in (lens_cap, flash_blast, grey_card):
        r = measure(img)
        assert r["state"] == "misfire", r
        assert r["why"]


def test_more_clipping_reports_more_clipped_highlights():
    g = gray("astronaut").astype(float)
    a = measure(np.clip(g * 1.5, 0, 255).astype(np.uint8))["clipped_highlights"]
    b = measure(np.clip(g * 3.0, 0, 255).astype(np.uint8))["clipped_highlights"]
    assert 0 <= a < b <= 1


def test_tiny_and_colour_inputs():
    assert measure(np.zeros((1, 1), np.uint8))["state"] == "misfire"
    assert measure(skimage.data.astronaut()[..., ::-1].copy())["state"] == "ok"
