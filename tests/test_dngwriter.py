"""scripts/dngwriter.py: the DNGs it writes open in rawpy/LibRaw and in autocull.decode, with the
preview, the demosaiced raw data and the EXIF all matching what was written."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

rawpy = pytest.importorskip("rawpy")
skdata = pytest.importorskip("skimage.data")

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from dngwriter import write_dng  # noqa: E402

from autocull import decode  # noqa: E402

WHEN = datetime(2026, 5, 1, 14, 3, 22, 450000)


@pytest.fixture(scope="module")
def source() -> np.ndarray:
    """A real photo (RGB), upscaled to 1800x1200 so a >= 1024 px preview fits."""
    return cv2.resize(skdata.coffee(), (1800, 1200), interpolation=cv2.INTER_CUBIC)


def corr(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images' luminance after resizing b to a's size."""
    if a.shape[:2] != b.shape[:2]:
        b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
    ga = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY).astype(np.float64).ravel()
    gb = cv2.cvtColor(np.ascontiguousarray(b), cv2.COLOR_RGB2GRAY).astype(np.float64).ravel()
    return float(np.corrcoef(ga, gb)[0, 1])


def channel_means_close(a: np.ndarray, b: np.ndarray, tol: float = 0.12) -> bool:
    """The colour balance matches: each channel's share of the total within ``tol``."""
    ma = a.reshape(-1, 3).mean(0)
    mb = b.reshape(-1, 3).mean(0)
    return bool(np.all(np.abs(ma / ma.sum() - mb / mb.sum()) < tol))


def test_preview_round_trip(tmp_path, source):
    p = write_dng(tmp_path / "IMG_0001.dng", source, preview_side=1280, capture_time=WHEN,
                  exposure_bias=-0.7, exposure_time=1 / 320, f_number=2.8, iso=400,
                  make="AutoCull", model="Test Body")
    with rawpy.imread(str(p)) as raw:
        assert (raw.sizes.raw_width, raw.sizes.raw_height) == (1800, 1200)
        assert raw.color_desc == b"RGBG"
        assert raw.raw_pattern.tolist() == [[0, 1], [3, 2]]          # RGGB
        assert raw.white_level == 2 ** 14 - 1
        assert raw.black_level_per_channel == [256] * 4
        wb = raw.camera_whitebalance                                  # 1 / AsShotNeutral
        assert wb[0] > 1.5 and abs(wb[1] - 1) < 1e-3 and wb[2] > 1.2
        thumb = raw.extract_thumb()
        assert thumb.format == rawpy.ThumbFormat.JPEG
        prev = cv2.imdecode(np.frombuffer(thumb.data, np.uint8), cv2.IMREAD_COLOR)[..., ::-1]
        demosaiced = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
    assert max(prev.shape[:2]) == 1280
    assert corr(prev, source) > 0.99
    assert channel_means_close(prev, source, 0.02)
    assert demosaiced.shape == (600, 900, 3)
    assert corr(demosaiced, source) > 0.97
    assert channel_means_close(demosaiced, source)

    d = decode.load(p)
    assert d.source == "embedded_preview"
    assert (d.width, d.height) == (1800, 1200)
    assert corr(d.image[..., ::-1], source) > 0.99
    assert d.exif["capture_time"] == "2026-05-01T14:03:22.450"
    assert d.exif["exposure_bias"] == pytest.approx(-0.7)
    assert d.exif["exposure_time"] == pytest.approx(1 / 320)
    assert d.exif["f_number"] == pytest.approx(2.8)
    assert d.exif["iso"] == 400
    assert (d.exif["make"], d.exif["model"]) == ("AutoCull", "Test Body")


@pytest.mark.parametrize("bits", [8, 12, 16])
def test_no_preview_must_demosaic(tmp_path, source, bits):
    p = write_dng(tmp_path / f"IMG_{bits}.dng", source, preview_side=None, bits=bits, capture_time=WHEN)
    with rawpy.imread(str(p)) as raw:
        with pytest.raises(rawpy.LibRawNoThumbnailError):
            raw.extract_thumb()
        demosaiced = raw.postprocess(half_size=True, use_camera_wb=True, output_bps=8)
    assert corr(demosaiced, source) > 0.97
    assert channel_means_close(demosaiced, source)

    d = decode.load(p)
    assert d.source == "half_size_raw"
    assert (d.width, d.height) == (1800, 1200)
    assert d.image.shape[:2] == (600, 900)
    assert corr(d.image[..., ::-1], source) > 0.97
    assert d.exif["capture_time"] == "2026-05-01T14:03:22.450"


def test_small_preview_falls_back_to_demosaic(tmp_path, source):
    p = write_dng(tmp_path / "IMG_small.dng", source, preview_side=512)
    with rawpy.imread(str(p)) as raw:
        thumb = raw.extract_thumb()
    prev = cv2.imdecode(np.frombuffer(thumb.data, np.uint8), cv2.IMREAD_COLOR)
    assert max(prev.shape[:2]) == 512
    d = decode.load(p)
    assert d.source == "half_size_raw"
    assert corr(d.image[..., ::-1], source) > 0.97


@pytest.mark.parametrize("orientation", [6, 8, 3])
@pytest.mark.parametrize("preview", [1280, None])
def test_orientation_applied_once(tmp_path, source, orientation, preview):
    """Pixels are stored un-rotated with the Orientation tag; the decoder shows the source upright."""
    p = write_dng(tmp_path / "IMG_rot.dng", source, preview_side=preview, orientation=orientation)
    d = decode.load(p)
    assert d.source == ("embedded_preview" if preview else "half_size_raw")
    assert (d.width, d.height) == (1800, 1200)
    assert d.image.shape[1] > d.image.shape[0]
    assert corr(d.image[..., ::-1], source) > 0.97
    assert d.exif["orientation"] == orientation


def test_rejects_bad_input(tmp_path):
    with pytest.raises(ValueError):
        write_dng(tmp_path / "x.dng", np.zeros((10, 10), np.uint8))
    with pytest.raises(ValueError):
        write_dng(tmp_path / "x.dng", np.zeros((10, 10, 3), np.uint8), bits=10)
    with pytest.raises(ValueError):
        write_dng(tmp_path / "x.dng", np.zeros((10, 10, 3), np.uint8), cfa_pattern="RGGX")
