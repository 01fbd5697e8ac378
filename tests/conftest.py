"""Shared fixtures: real photos from ../shared/data (read in place) and generated bad files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = (REPO / ".." / "shared" / "data").resolve()


def shared(*parts) -> Path:
    """A path under ../shared/data; skips the test when the shared data is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"shared data not available: {p}")
    return p


@pytest.fixture
def shared_data():
    return shared


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    """Never touch the user's real config or cache from a test."""
    base = tmp_path_factory.mktemp("autocull-home")
    monkeypatch.setenv("AUTOCULL_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("AUTOCULL_CACHE_DIR", str(base / "cache"))


@pytest.fixture
def bad_files(tmp_path):
    """A folder of broken inputs, each of which must be a per-photo error naming the file."""
    d = tmp_path / "bad"
    d.mkdir()
    jpg = shared("near_duplicates", "holidays_simbench", "100000.jpg").read_bytes()
    crw = shared("raw_samples", "imagemeta_canon.CRW").read_bytes()
    (d / "a_truncated.jpg").write_bytes(jpg[: len(jpg) // 3])
    (d / "b_truncated.CRW").write_bytes(crw[: len(crw) // 6])
    (d / "c_zero.jpg").write_bytes(b"")
    rng = np.random.default_rng(0)
    (d / "d_random.jpg").write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    (d / "e_text.NEF").write_text("this is not a raw file\n")
    (d / "f_folder.jpg").mkdir()
    return d


@pytest.fixture
def real_jpeg(tmp_path):
    src = shared("near_duplicates", "holidays_simbench", "100000.jpg")
    dst = tmp_path / "real.jpg"
    shutil.copyfile(src, dst)
    return dst


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
