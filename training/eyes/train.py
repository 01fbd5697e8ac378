"""Train the eye-state CNN on the CEW eye patches and export ``models/eyes.tflite``.

    .venv/bin/python training/eyes/train.py            # what `make train-eyes` runs

One configuration, fixed seed. Data are read in place from ``../shared/data`` (override
with ``$AUTOCULL_DATA``); nothing is copied into the repository.

Split: the CEW patches are divided 70/15/15 (train/val/test) by *group* — the source
photo for closed eyes, the person for open (LFW) eyes — so both eyes of one face (and all
faces of one photo) are on the same side.  ``val`` picks the best epoch, ``test`` is
reported on the model card and was never used for any decision.

Writes ``models/eyes.tflite`` (full-integer int8), ``models/eyes.keras`` (float model
for the parity test) and ``training/eyes/last_train.json`` (split counts, epochs, time),
then runs ``training/eyes/evaluate.py``, which measures everything on data never trained
on and writes the model card ``models/eyes.md``.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import CEW, ROOT, SEED, cew_group, read_csv  # noqa: E402

from autocull.analyse.eyes import PATCH, prepare_patch  # noqa: E402

MODELS = ROOT / "models"
EPOCHS = int(os.environ.get("EYES_EPOCHS", "45"))  # override only for smoke runs
BATCH = 64


# ---------------------------------------------------------------- data

def load_cew():
    rows = read_csv(CEW / "labels.csv")
    imgs, labels, groups, files = [], [], [], []
    for r in rows:
        im = cv2.imread(str(CEW / r["file"]), cv2.IMREAD_GRAYSCALE)
        if im is None:
            raise SystemExit(f"{CEW / r['file']}: cannot read")
        imgs.append(im)
        labels.append(1 if r["label"] == "closed" else 0)
        groups.append(cew_group(r["face_id"]))
        files.append(r["file"])
    return np.stack(imgs), np.array(labels, np.float32), np.array(groups), files, rows


def split_groups(groups, labels, seed=SEED):
    """70/15/15 split of groups, stratified by class (a group has one class)."""
    rng = random.Random(seed)
    assign = {}
    for cls in (0, 1):
        g = sorted({gr for gr, lab in zip(groups, labels) if lab == cls})
        rng.shuffle(g)
        n = len(g)
        n_val, n_test = round(0.15 * n), round(0.15 * n)
        for i, gr in enumerate(g):
            assign[gr] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return np.array([assign[g] for g in groups]), assign


# ---------------------------------------------------------------- augmentation

def _glasses(big: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw part of a spectacle rim (and sometimes a glare spot) around the eye, on open
    and closed eyes alike, so that a frame's horizontal edge does not read as a lid."""
    h, w = big.shape
    out = big.copy()
    c = (int(w / 2 + rng.uniform(-0.08, 0.08) * w), int(h / 2 + rng.uniform(-0.1, 0.1) * h))
    ax = (int(rng.uniform(0.35, 0.6) * w), int(rng.uniform(0.22, 0.45) * h))
    dark = rng.random() < 0.7
    colour = int(rng.uniform(0, 70)) if dark else int(rng.uniform(170, 255))
    start = rng.uniform(0, 360)
    cv2.ellipse(out, c, ax, rng.uniform(-10, 10), start, start + rng.uniform(120, 360), colour,
                int(rng.integers(2, 9)), cv2.LINE_AA)
    if rng.random() < 0.3:  # glare
        g = np.zeros_like(out, np.float32)
        cv2.ellipse(g, (int(rng.uniform(0.2, 0.8) * w), int(rng.uniform(0.2, 0.8) * h)),
                    (int(rng.uniform(4, 16)), int(rng.uniform(3, 10))), rng.uniform(0, 180), 0, 360, 1.0, -1)
        g = cv2.GaussianBlur(g, (0, 0), 3)
        out = np.clip(out + g * rng.uniform(80, 200), 0, 255).astype(np.uint8)
    return out


def augment(im: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One random variant of a 24x24 gray patch: flip, scale, shift, rotation, blur,
    low resolution, brightness/contrast/gamma, noise, JPEG artefacts."""
    h, w = im.shape
    if rng.random() < 0.5:
        im = im[:, ::-1]
    big = cv2.resize(im, (w * 4, h * 4), interpolation=cv2.INTER_CUBIC)
    s = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    ang = rng.uniform(-15, 15)
    tx, ty = rng.uniform(-2, 2, size=2) * 4
    m = cv2.getRotationMatrix2D((w * 2, h * 2), ang, s)
    m[:, 2] += (tx, ty)
    big = cv2.warpAffine(big, m, (w * 4, h * 4), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    if rng.random() < 0.25:
        big = _glasses(big, rng)
    if rng.random() < 0.3:
        big = cv2.GaussianBlur(big, (0, 0), rng.uniform(0.5, 4.0))
    out = cv2.resize(big, (w, h), interpolation=cv2.INTER_AREA)
    if rng.random() < 0.2:  # a smaller source
        k = int(rng.integers(10, 20))
        out = cv2.resize(cv2.resize(out, (k, k), interpolation=cv2.INTER_AREA), (w, h), interpolation=cv2.INTER_LINEAR)
    f = out.astype(np.float32) / 255.0
    f = np.clip(f ** float(np.exp(rng.uniform(-0.5, 0.5))), 0, 1)
    f = (f - 0.5) * rng.uniform(0.6, 1.4) + 0.5 + rng.uniform(-0.2, 0.2)
    if rng.random() < 0.3:
        f = f + rng.normal(0, rng.uniform(0.01, 0.05), f.shape)
    out = np.clip(f * 255 + 0.5, 0, 255).astype(np.uint8)
    if rng.random() < 0.3:
        ok, enc = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(25, 90))])
        out = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE)
    return out


def batch_prepare(imgs) -> np.ndarray:
    return np.stack([prepare_patch(i) for i in imgs]).astype(np.float32)[..., None] / 255.0


# ---------------------------------------------------------------- model

def build_model():
    import keras
    from keras import layers

    inp = keras.Input((PATCH, PATCH, 1), name="eye")
    x = inp
    for filters, pool in ((16, False), (16, True), (32, False), (32, True), (48, True)):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
        if pool:
            x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    out = layers.Dense(1, activation="sigmoid", name="closed")(x)
    return keras.Model(inp, out, name="eyes")


def export_tflite(model, rep: np.ndarray, path: Path) -> int:
    import tensorflow as tf

    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        model.export(tmp, format="tf_saved_model", verbose=False)
        conv = tf.lite.TFLiteConverter.from_saved_model(tmp)
        conv.optimizations = [tf.lite.Optimize.DEFAULT]

        def rep_data():
            for i in range(len(rep)):
                yield [rep[i:i + 1]]

        conv.representative_dataset = rep_data
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
        data = conv.convert()
    path.write_bytes(data)
    return len(data)


# ---------------------------------------------------------------- main

def main() -> int:
    t0 = time.time()
    import tensorflow as tf
    import keras

    tf.config.threading.set_intra_op_parallelism_threads(int(os.environ.get("TRAIN_THREADS", "2")))
    tf.config.threading.set_inter_op_parallelism_threads(1)
    keras.utils.set_random_seed(SEED)

    imgs, y, groups, files, rows = load_cew()
    part, assign = split_groups(groups, y)
    idx = {p: np.where(part == p)[0] for p in ("train", "val", "test")}
    for p, ii in idx.items():
        print(f"{p}: {len(ii)} patches ({int(y[ii].sum())} closed), {len(set(groups[ii]))} groups")

    x_val, y_val = batch_prepare(imgs[idx["val"]]), y[idx["val"]]
    rng = np.random.default_rng(SEED)
    tr = idx["train"]

    model = build_model()
    model.summary(print_fn=lambda s: None)
    steps = EPOCHS * int(np.ceil(len(tr) / BATCH))
    sched = keras.optimizers.schedules.CosineDecay(2e-3, steps, alpha=0.02)
    model.compile(optimizer=keras.optimizers.Adam(sched),
                  loss=keras.losses.BinaryCrossentropy(label_smoothing=0.05),
                  metrics=["accuracy"])

    best, best_w = -1.0, None
    for ep in range(EPOCHS):
        # a fresh augmented copy of the training set each epoch (+ the originals every 4th)
        xs = [augment(imgs[i], rng) if ep % 4 else imgs[i] for i in tr]
        x_tr = batch_prepare(xs)
        h = model.fit(x_tr, y[tr], batch_size=BATCH, epochs=1, shuffle=True, verbose=0)
        pv = model.predict(x_val, batch_size=256, verbose=0)[:, 0]
        acc = float(((pv > 0.5) == (y_val > 0.5)).mean())
        loss = float(h.history["loss"][0])
        print(f"epoch {ep + 1:2d}/{EPOCHS} loss {loss:.4f} val acc {acc:.4f}  ({time.time() - t0:.0f} s)", flush=True)
        if acc >= best and ep >= EPOCHS // 3:
            best, best_w = acc, model.get_weights()
    model.set_weights(best_w)
    print(f"best val acc {best:.4f}")

    MODELS.mkdir(exist_ok=True)
    model.save(MODELS / "eyes.keras")
    rep = batch_prepare([augment(imgs[i], rng) for i in rng.choice(tr, 400, replace=False)])
    size = export_tflite(model, rep, MODELS / "eyes.tflite")
    print(f"eyes.tflite: {size} bytes")

    split = {
        "seed": SEED,
        "rule": "CEW patches split 70/15/15 by group (closed: source photo; open: LFW person)",
        "counts": {p: {"patches": int(len(ii)), "closed": int(y[ii].sum()), "groups": int(len(set(groups[ii])))}
                   for p, ii in idx.items()},
        "groups": {p: sorted({str(g) for g in groups[ii]}) for p, ii in idx.items()},
        "best_val_acc": best,
        "epochs": EPOCHS,
        "train_seconds": round(time.time() - t0, 1),
    }
    split.pop("groups")
    (Path(__file__).resolve().parent / "last_train.json").write_text(json.dumps(split, indent=1) + "\n")

    from evaluate import main as evaluate_main
    return evaluate_main([])


if __name__ == "__main__":
    raise SystemExit(main())
