import os
import stat

import numpy as np
import pytest

from autocull import decode
from conftest import is_root, shared
from photos import quadrants, write_photo


def corner_colours(img):
    h, w = img.shape[:2]
    pick = lambda y, x: tuple(int(v) for v in img[y, x])  # noqa: E731
    return pick(h // 8, w // 8), pick(h // 8, w - w // 8), pick(h - h // 8, w // 8), pick(h - h // 8, w - w // 8)


def close(a, b, tol=40):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


RED, GREEN, BLUE, WHITE = (0, 0, 255), (0, 255, 0), (255, 0, 0), (255, 255, 255)


def test_raw_embedded_preview_is_used_first():
    for name in ("imagemeta_canon.CRW", "photoprism_canon_eos_6d.dng"):
        d = decode.load(shared("raw_samples", name))
        assert d.source == "embedded_preview"
        assert d.image.dtype == np.uint8 and d.image.ndim == 3
        assert d.image.std() > 5  # a real scene, not a blank frame
        assert d.width >= d.image.shape[1] and d.height >= d.image.shape[0]


def test_raw_without_preview_falls_back_to_half_size_demosaic():
    d = decode.load(shared("raw_samples_2", "kimageformats_RAW_KODAK_C330_FORMAT_NONE_YRGB.raw"))
    assert d.source == "half_size_raw"
    assert d.image.std() > 5
    assert min(d.image.shape[:2]) > 100


def test_dng_capture_time_and_exif():
    d = decode.load(shared("raw_samples", "photoprism_canon_eos_6d.dng"))
    assert d.exif["capture_time"] == "2019-06-06T07:29:51.000"
    assert d.exif["iso"] == 1000 and d.exif["make"] == "Canon"
    assert d.exif["exposure_time"] == pytest.approx(1 / 60)


def test_jpeg_decoded_at_reduced_scale_with_full_resolution_regions(real_jpeg):
    d = decode.load(real_jpeg)
    assert d.source == "jpeg"
    assert (d.width, d.height) == (2448, 3264)
    # smallest DCT scale whose long side still reaches the analysis size
    assert decode.ANALYSIS_SIDE <= max(d.image.shape[:2]) < 3264
    assert d.scale == pytest.approx(0.5)
    crop = d.region((100, 200, 300, 150))
    assert crop.shape == (150, 300, 3)
    assert d.full_scale == 1.0
    # region and the reduced image show the same place
    small = d.image[100:175, 50:200].astype(float)
    import cv2

    down = cv2.resize(crop, (150, 75), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(small - down).mean() < 12


@pytest.mark.parametrize("ext", [".jpg", ".tif", ".png"])
@pytest.mark.parametrize("orientation,expected", [
    (1, (RED, GREEN, BLUE, WHITE)),
    (3, (WHITE, BLUE, GREEN, RED)),
    (6, (BLUE, RED, WHITE, GREEN)),   # rotate 90 degrees clockwise to display
    (8, (GREEN, WHITE, RED, BLUE)),   # rotate 90 degrees counter-clockwise to display
])
def test_orientation_applied_exactly_once(tmp_path, ext, orientation, expected):
    p = write_photo(tmp_path / f"o{orientation}{ext}", quadrants(), orientation=orientation)
    d = decode.load(p)
    assert d.exif["orientation"] == orientation
    if orientation in (6, 8):
        assert (d.width, d.height) == (240, 360)
        assert d.image.shape[:2] == (360, 240)
    else:
        assert (d.width, d.height) == (360, 240)
    got = corner_colours(d.image)
    assert all(close(g, e) for g, e in zip(got, expected)), got


def test_capture_time_keeps_subseconds(tmp_path):
    p = write_photo(tmp_path / "t.jpg", quadrants(), datetime="2026:05:01 14:03:22", subsec="45",
                    bias=-2.0, exposure_time=1 / 250, iso=400)
    d = decode.load(p)
    assert d.exif["capture_time"] == "2026-05-01T14:03:22.450"
    assert d.exif["exposure_bias"] == -2.0
    assert d.exif["exposure_time"] == pytest.approx(0.004)
    assert d.exif["iso"] == 400


@pytest.mark.parametrize("name,cause", [
    ("a_truncated.jpg", "truncated"),
    ("b_truncated.CRW", "RAW"),
    ("c_zero.jpg", "empty file"),
    ("d_random.jpg", "not an image"),
    ("e_text.NEF", "RAW"),
    ("f_folder.jpg", "directory"),
])
def test_bad_files_raise_errors_naming_file_and_cause(bad_files, name, cause):
    with pytest.raises(decode.DecodeError) as info:
        decode.load(bad_files / name)
    msg = str(info.value)
    assert msg.startswith(str(bad_files / name) + ": ")
    assert cause in msg


def test_missing_and_unsupported_files(tmp_path):
    with pytest.raises(decode.DecodeError, match="file not found"):
        decode.load(tmp_path / "nope.jpg")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(decode.DecodeError, match="unsupported file type"):
        decode.load(tmp_path / "notes.txt")


@pytest.mark.skipif(is_root() or os.name == "nt", reason="root can read a mode-000 file")
def test_unreadable_file_mode_000(real_jpeg):
    os.chmod(real_jpeg, 0)
    try:
        with pytest.raises(decode.DecodeError, match="permission denied"):
            decode.load(real_jpeg)
    finally:
        os.chmod(real_jpeg, stat.S_IRUSR | stat.S_IWUSR)


def test_unreadable_file_permission_error(real_jpeg, monkeypatch):
    import builtins

    real_open = builtins.open

    def deny(path, *a, **k):
        if str(path) == str(real_jpeg):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr(builtins, "open", deny)
    with pytest.raises(decode.DecodeError, match="permission denied") as info:
        decode.load(real_jpeg)
    assert str(real_jpeg) in str(info.value)


def test_from_array_regions_crop_the_same_pixels():
    img = np.random.default_rng(1).integers(0, 255, (300, 500, 3), dtype=np.uint8)
    d = decode.from_array(img, analysis_side=100)
    assert d.image.shape[1] < 500 and (d.width, d.height) == (500, 300)
    assert np.array_equal(d.region((10, 20, 30, 40)), img[20:60, 10:40])
    assert d.region((480, 290, 50, 50)).shape == (10, 20, 3)  # clipped at the border


def test_region_from_the_analysis_image_when_it_has_enough_pixels(real_jpeg, monkeypatch):
    monkeypatch.setattr(decode, "DETAIL_SIDE", 1632)  # detail work at half scale: no full decode at load
    d = decode.load(real_jpeg)  # 2448x3264 decoded at half scale
    big_enough = d.region((0, 0, 1200, 1200), max_side=300)
    assert big_enough.shape[:2] == (300, 300)
    assert d._full is None and d._full_loader is not None  # no full-resolution decode
    fine = d.region((0, 0, 400, 400), max_side=300)  # needs more than the half-scale image has
    assert fine.shape[:2] == (300, 300)
    assert d._full is not None


def test_jpeg_is_decoded_once_at_the_detail_scale_and_the_analysis_image_derived(tmp_path, monkeypatch):
    """One entropy decode at load: at the coarsest DCT scale that holds DETAIL_SIDE, cached;
    the analysis image has the size the analysis DCT scale would give, and its pixels agree
    with that direct decode."""
    import cv2
    import simplejpeg

    rng = np.random.default_rng(5)
    img = cv2.GaussianBlur(rng.integers(0, 255, (1600, 2400, 3), dtype=np.uint8), (0, 0), 2.0)
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    monkeypatch.setattr(decode, "ANALYSIS_SIDE", 500)   # analysis image: 1/4 scale (600 px)
    monkeypatch.setattr(decode, "DETAIL_SIDE", 1200)    # detail work: 1/2 scale (1200 px)
    calls = []
    real = decode._jpeg_decode
    monkeypatch.setattr(decode, "_jpeg_decode", lambda *a, **k: calls.append(a[1]) or real(*a, **k))
    d = decode.load(path)
    assert len(calls) == 1
    assert d.image.shape[:2] == (400, 600)
    assert d._full is None and set(d._scaled) == {2} and d._scaled[2].shape[:2] == (800, 1200)
    assert d.at_scale(0.5) is d._scaled[2] and len(calls) == 1        # reused, not decoded again
    direct = simplejpeg.decode_jpeg(path.read_bytes(), colorspace="BGR", min_height=400, min_width=600)
    assert np.abs(d.image.astype(int) - direct.astype(int)).mean() < 3.0
    monkeypatch.setattr(decode, "DETAIL_SIDE", 5000)    # more than the file has: the full decode, once
    calls.clear()
    d = decode.load(path)
    assert len(calls) == 1 and d._full is not None and d._full.shape[:2] == (1600, 2400)
    assert d.full() is d._full and d.full_scale == 1.0 and len(calls) == 1


def test_region_at_a_requested_scale_uses_the_coarsest_decode_that_reaches_it(tmp_path, monkeypatch):
    monkeypatch.setattr(decode, "DETAIL_SIDE", 150)  # lazy scales only: nothing finer decoded at load
    rng = np.random.default_rng(3)
    img = rng.integers(0, 255, (800, 1200, 3), dtype=np.uint8)
    import cv2

    img = cv2.GaussianBlur(img, (0, 0), 1.0)
    path = tmp_path / "big.jpg"
    cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 95])
    old = decode.ANALYSIS_SIDE
    decode.ANALYSIS_SIDE = 150  # so the analysis image is the 1/8 scale decode
    try:
        d = decode.load(path)
    finally:
        decode.ANALYSIS_SIDE = old
    assert d.scale == pytest.approx(1 / 8)
    half = d.region((100, 100, 400, 200), scale=0.5)
    assert half.shape[:2] == (100, 200)
    assert d._full is None  # the full-resolution frame was never decoded
    coarse = d.region((100, 100, 400, 200), scale=0.1)  # the 1/8 image suffices
    assert abs(coarse.shape[0] - 25) <= 1 and abs(coarse.shape[1] - 50) <= 1
    full = d.region((100, 100, 400, 200), scale=0.8)
    assert full.shape[:2] == (200, 400) and d._full is not None
    # the half-scale crop shows the same place as the full-resolution one
    down = cv2.resize(full, (200, 100), interpolation=cv2.INTER_AREA).astype(float)
    assert np.abs(down - half.astype(float)).mean() < 8
