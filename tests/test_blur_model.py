"""The committed blur model: int8 TFLite agrees with the Keras model it was exported from,
and stays within its size budget."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from autocull import models
from autocull.analyse import sharpness as S

ROOT = Path(__file__).resolve().parents[1]
TFLITE = ROOT / "models" / "blur.tflite"
KERAS = ROOT / "models" / "blur.keras"


def _patches() -> np.ndarray:
    """Gray patches from scikit-image photos: sharp, defocused and motion-blurred, plus a flat one."""
    skd = pytest.importorskip("skimage.data")
    out = []
    rng = np.random.default_rng(7)
    for img in (skd.camera(), skd.astronaut(), skd.coffee(), skd.brick(), skd.text()):
        g = img if img.ndim == 2 else cv2.cvtColor(img[..., :3], cv2.COLOR_RGB2GRAY)
        disc = np.zeros((13, 13), np.float32)
        cv2.circle(disc, (6, 6), 4, 1.0, -1)
        line = np.zeros((17, 17), np.float32)
        cv2.line(line, (1, 8), (15, 8), 1.0, 1)
        versions = [g, cv2.filter2D(g, -1, disc / disc.sum()), cv2.filter2D(g, -1, line / line.sum()),
                    cv2.GaussianBlur(g, (0, 0), 1.0)]
        for v in versions:
            for _ in range(6):
                y = int(rng.integers(0, v.shape[0] - S.PATCH + 1))
                x = int(rng.integers(0, v.shape[1] - S.PATCH + 1))
                out.append(v[y:y + S.PATCH, x:x + S.PATCH])
    out.append(np.full((S.PATCH, S.PATCH), 128, np.uint8))
    return np.stack(out).astype(np.uint8)


def test_tflite_model_is_full_integer_and_small():
    assert TFLITE.is_file(), "models/blur.tflite missing: run `make train-blur`"
    assert TFLITE.stat().st_size <= 200 * 1024
    interp = models.interpreter(str(TFLITE))
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    assert inp["dtype"] == np.int8 and out["dtype"] == np.int8
    assert tuple(inp["shape"]) == (1, S.PATCH, S.PATCH, 1)
    floats = [d["name"] for d in interp.get_tensor_details() if d["dtype"] == np.float32]
    assert floats == [], f"float tensors left in a full-integer model: {floats}"


def test_tflite_agrees_with_keras_on_the_same_inputs():
    keras = pytest.importorskip("keras")
    pytest.importorskip("tensorflow")
    assert KERAS.is_file(), "models/blur.keras missing: run `make train-blur`"
    model = keras.models.load_model(KERAS, compile=False)
    patches = _patches()
    p_keras = np.asarray(model.predict(S.normalise_patches(patches), verbose=0)).reshape(-1)
    p_tflite = S.predict_patches(patches, models.interpreter(str(TFLITE)))
    diff = np.abs(p_keras - p_tflite)
    assert diff.mean() < 0.03, diff.mean()
    assert diff.max() < 0.15, diff.max()
    # same decision wherever Keras is not sitting on the fence
    clear = np.abs(p_keras - 0.5) > 0.1
    assert clear.sum() >= len(patches) // 2
    assert np.array_equal(p_keras[clear] >= 0.5, p_tflite[clear] >= 0.5)
    # and the model is not constant: it separates the sharp and the blurred versions
    assert p_tflite.max() - p_tflite.min() > 0.5
