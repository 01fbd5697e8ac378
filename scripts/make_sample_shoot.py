"""Build AutoCull's bundled sample shoot from real photos that ship inside scikit-image.

    python scripts/make_sample_shoot.py OUTDIR [--force]

No third-party photos are committed: the sources are the photos in ``skimage.data`` (astronaut,
coffee, chelsea, rocket, the motorcycle stereo pair, the cameraman), modestly upscaled, plus generated variants,
each a JPEG with real EXIF (Make, Model, Orientation; DateTimeOriginal + SubSecTimeOriginal,
ExposureTime, FNumber, ISO, ExposureBiasValue) or a DNG:

    IMG_0001  astronaut, sharp portrait
    IMG_0002  astronaut again, focus missed (defocus blur)
    IMG_0003-0007  a burst of 5 frames of the cat, 0.2-0.5 s apart, slightly shifted/rotated;
              IMG_0005 sharp, the others softer (motion and focus)
    IMG_0008  coffee, sharp, stored rotated with Orientation=8 (shows upright)
    IMG_0009  coffee, camera shake (motion blur)
    IMG_0010-0012  an exposure bracket of the rocket at 0 / -2 / +2 EV, 0.08 s apart
    IMG_0013  motorcycle (left view), sharp
    IMG_0014  a duplicate of IMG_0013: the same frame exported smaller, same EXIF
    IMG_0015  a misfire: lens cap on, nearly black
    IMG_0016.dng  motorcycle (right view) as a DNG with an embedded JPEG preview
    IMG_0017.dng  the cameraman as a DNG with no preview: the decoder has to demosaic

``OUTDIR/manifest.json`` describes each file (scene, variant, capture time, bias, what it is meant
to show). Deterministic (seeded) and idempotent: when OUTDIR already holds a complete shoot of
this version it is left alone.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from dngwriter import linear_to_srgb, srgb_to_linear, unorient, write_dng  # noqa: E402

VERSION = 3
SEED = 20260501
MAKE, MODEL = "AutoCull", "Sample Camera"
START = datetime(2026, 5, 1, 14, 3, 0)
UPSCALE = 1.5     # modest: a sharp original must stay sharp at 100 %
EXIF_IFD = 0x8769


# ---------------------------------------------------------------- image operations (RGB uint8)

def sources() -> dict[str, np.ndarray]:
    from skimage import data

    left, right, _ = data.stereo_motorcycle()
    return {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea(),
            "rocket": data.rocket(), "motorcycle_left": left, "motorcycle_right": right,
            "camera": np.repeat(data.camera()[..., None], 3, axis=2)}


def upscale(img: np.ndarray, factor: float) -> np.ndarray:
    """Lanczos upscale, then a light unsharp mask so edges stay crisp rather than smeared."""
    h, w = img.shape[:2]
    big = cv2.resize(img, (round(w * factor), round(h * factor)), interpolation=cv2.INTER_LANCZOS4)
    soft = cv2.GaussianBlur(big, (0, 0), 1.2)
    return cv2.addWeighted(big, 1.5, soft, -0.5, 0)


def grain(img: np.ndarray, rng: np.random.Generator, sigma: float = 2.0) -> np.ndarray:
    """Mild sensor-like noise, so no two frames are bit-identical."""
    n = rng.normal(0.0, sigma, img.shape).astype(np.float32)
    return np.clip(img.astype(np.float32) + n, 0, 255).astype(np.uint8)


def defocus(img: np.ndarray, radius: float) -> np.ndarray:
    """Lens defocus: convolution with a disc (the aperture's image)."""
    r = int(np.ceil(radius))
    yy, xx = np.mgrid[-r:r + 1, -r:r + 1]
    k = (xx ** 2 + yy ** 2 <= radius ** 2).astype(np.float32)
    return cv2.filter2D(img, -1, k / k.sum(), borderType=cv2.BORDER_REFLECT)


def motion(img: np.ndarray, length: int, angle_deg: float) -> np.ndarray:
    """Camera shake: convolution with a line of ``length`` px at ``angle_deg``."""
    size = length + (1 - length % 2)
    k = np.zeros((size, size), np.float32)
    c = size // 2
    a = np.deg2rad(angle_deg)
    for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, length * 4):
        k[int(round(c + t * np.sin(a))), int(round(c + t * np.cos(a)))] = 1.0
    return cv2.filter2D(img, -1, k / k.sum(), borderType=cv2.BORDER_REFLECT)


def jitter(img: np.ndarray, dx: float, dy: float, angle_deg: float) -> np.ndarray:
    """A hand-held re-frame: small shift and rotation, zoomed 3% so no border shows."""
    h, w = img.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), angle_deg, 1.03)
    m[:, 2] += (dx, dy)
    return cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)


def expose(img: np.ndarray, ev: float) -> np.ndarray:
    """Re-expose by ``ev`` stops in linear light (highlights clip, shadows sink)."""
    lin = srgb_to_linear(img / 255.0) * (2.0 ** ev)
    return np.round(linear_to_srgb(lin) * 255).astype(np.uint8)


# ---------------------------------------------------------------- EXIF and writing

def _rat(x: float, limit: int = 100000):
    from PIL.TiffImagePlugin import IFDRational

    f = Fraction(x).limit_denominator(limit)
    return IFDRational(f.numerator, f.denominator)


def write_jpeg(path: Path, rgb: np.ndarray, when: datetime, *, bias: float = 0.0,
               exposure_time: float = 1 / 250, f_number: float = 4.0, iso: int = 200,
               orientation: int = 1, quality: int = 92) -> None:
    """Save displayed ``rgb`` as a JPEG with real EXIF; pixels stored per ``orientation``."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = MAKE
    exif[0x0110] = MODEL
    exif[0x0112] = orientation
    exif[0x0131] = "AutoCull make_sample_shoot"
    exif[0x0132] = when.strftime("%Y:%m:%d %H:%M:%S")
    ifd = exif.get_ifd(EXIF_IFD)
    ifd[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")       # DateTimeOriginal
    ifd[0x9291] = f"{when.microsecond // 1000:03d}"         # SubSecTimeOriginal
    ifd[0x9204] = _rat(bias, 100)                           # ExposureBiasValue
    ifd[0x829A] = _rat(exposure_time)                       # ExposureTime
    ifd[0x829D] = _rat(f_number, 100)                       # FNumber
    ifd[0x8827] = int(iso)                                  # ISOSpeedRatings
    ifd[0x920A] = _rat(50.0)                                # FocalLength
    img = Image.fromarray(np.ascontiguousarray(unorient(rgb, orientation)))
    tmp = path.with_name(path.name + ".tmp")
    img.save(tmp, format="JPEG", quality=quality, exif=exif.tobytes())
    os.replace(tmp, path)


# ---------------------------------------------------------------- the shoot

def plan() -> list[dict]:
    """Every file of the shoot: name, how it is made, its EXIF."""
    shots = []

    def at(seconds: float) -> datetime:
        return START + timedelta(seconds=seconds)

    shots.append(dict(name="IMG_0001.jpg", scene="astronaut", variant="sharp", when=at(0.12),
                      note="sharp portrait, eyes open"))
    shots.append(dict(name="IMG_0002.jpg", scene="astronaut", variant="defocus", when=at(41.30),
                      note="the same portrait with focus missed (defocus blur)"))
    burst_t = 95.0
    gaps = [0.0, 0.25, 0.30, 0.45, 0.20]
    softness = [("motion", 7, 15.0), ("defocus", 2.0, 0), ("sharp", 0, 0), ("defocus", 2.5, 0),
                ("motion", 13, 60.0)]
    offsets = [(-6, 3, -0.8), (-3, 1, -0.4), (0, 0, 0.0), (4, -2, 0.5), (8, -4, 0.9)]
    for i in range(5):
        burst_t += gaps[i]
        kind, amount, angle = softness[i]
        shots.append(dict(name=f"IMG_{3 + i:04d}.jpg", scene="chelsea", variant=f"burst_{kind}",
                          when=at(burst_t), burst=dict(index=i, kind=kind, amount=amount, angle=angle,
                                                       offset=offsets[i]),
                          note=f"burst frame {i + 1} of 5" + (" (the sharp one)" if kind == "sharp"
                                                              else f" ({kind} blur)")))
    shots.append(dict(name="IMG_0008.jpg", scene="coffee", variant="sharp", when=at(180.55),
                      orientation=8, note="sharp, stored rotated with Orientation=8"))
    shots.append(dict(name="IMG_0009.jpg", scene="coffee", variant="motion", when=at(212.04),
                      exposure_time=1 / 8, note="camera shake at 1/8 s (motion blur)"))
    for k, ev in enumerate((0.0, -2.0, 2.0)):
        shots.append(dict(name=f"IMG_{10 + k:04d}.jpg", scene="rocket", variant=f"bracket_{ev:+g}",
                          when=at(300.5 + 0.08 * k), bias=ev, exposure_time=(1 / 250) * 2 ** ev,
                          note=f"exposure bracket, {ev:+g} EV"))
    shots.append(dict(name="IMG_0013.jpg", scene="motorcycle_left", variant="sharp", when=at(422.81),
                      note="sharp"))
    shots.append(dict(name="IMG_0014.jpg", scene="motorcycle_left", variant="duplicate",
                      when=at(422.81), note="duplicate of IMG_0013 (exported smaller, same EXIF)"))
    shots.append(dict(name="IMG_0015.jpg", scene="rocket", variant="misfire", when=at(480.0),
                      exposure_time=1 / 1000, note="misfire: lens cap on, nearly black"))
    shots.append(dict(name="IMG_0016.dng", scene="motorcycle_right", variant="dng", when=at(501.66),
                      note="DNG with an embedded JPEG preview"))
    shots.append(dict(name="IMG_0017.dng", scene="camera", variant="dng_raw_only", when=at(540.25),
                      note="DNG with no preview (demosaiced by the decoder)"))
    return shots


def render(shot: dict, src: dict[str, np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """The displayed pixels (RGB uint8) of one shot."""
    base = src[shot["scene"]]
    v = shot["variant"]
    if v == "dng":
        img = upscale(base, UPSCALE)  # 1112 px: its preview (the whole frame) passes 1024 px
    elif v == "dng_raw_only":
        img = upscale(base, 2 * UPSCALE)  # a half-size demosaic brings it back to UPSCALE
    else:
        img = upscale(base, UPSCALE)
    if v == "defocus":
        img = defocus(img, 5.0)
    elif v == "motion":
        img = motion(img, 29, 45.0)
    elif v.startswith("burst_"):
        b = shot["burst"]
        dx, dy, ang = b["offset"]
        img = jitter(img, dx, dy, ang)
        if b["kind"] == "defocus":
            img = defocus(img, b["amount"])
        elif b["kind"] == "motion":
            img = motion(img, int(b["amount"]), b["angle"])
    elif v.startswith("bracket_"):
        img = expose(img, shot["bias"])
    elif v == "duplicate":
        img = cv2.resize(img, (img.shape[1] * 3 // 5, img.shape[0] * 3 // 5), interpolation=cv2.INTER_AREA)
    elif v == "misfire":
        dim = (img.astype(np.float32) * 0.012).astype(np.uint8)
        return grain(dim, rng, 1.2)
    return grain(img, rng, 1.5)


def _complete(outdir: Path) -> bool:
    try:
        m = json.loads((outdir / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    if m.get("version") != VERSION:
        return False
    return all((outdir / f["file"]).is_file() and (outdir / f["file"]).stat().st_size == f["bytes"]
               for f in m.get("files", []))


def build(outdir, force: bool = False, quiet: bool = False) -> list[Path]:
    """Create the sample shoot in ``outdir`` (skipped when already complete); returns its photos."""
    outdir = Path(outdir)
    shots = plan()
    if not force and _complete(outdir):
        if not quiet:
            print(f"sample shoot already in {outdir} ({len(shots)} photos)", file=sys.stderr)
        return [outdir / s["name"] for s in shots]
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "manifest.json").unlink(missing_ok=True)
    rng = np.random.default_rng(SEED)
    src = sources()
    files = []
    for shot in shots:
        img = render(shot, src, rng)
        path = outdir / shot["name"]
        kw = dict(bias=shot.get("bias", 0.0), exposure_time=shot.get("exposure_time", 1 / 250),
                  f_number=4.0, iso=200 if shot["variant"] != "motion" else 100)
        if shot["variant"].startswith("dng"):
            tmp = path.with_name(path.name + ".tmp")
            write_dng(tmp, img, preview_side=1620 if shot["variant"] == "dng" else None, make=MAKE, model=MODEL,
                      capture_time=shot["when"], exposure_bias=kw["bias"], exposure_time=kw["exposure_time"], f_number=kw["f_number"],
                      iso=kw["iso"], focal_length=50.0, noise=12.0, seed=SEED)
            os.replace(tmp, path)
        else:
            write_jpeg(path, img, shot["when"], orientation=shot.get("orientation", 1),
                       quality=85 if shot["variant"] == "duplicate" else 92, **kw)
        files.append(dict(file=shot["name"], bytes=path.stat().st_size, scene=shot["scene"],
                          variant=shot["variant"], width=img.shape[1], height=img.shape[0],
                          capture_time=shot["when"].isoformat(timespec="milliseconds"),
                          exposure_bias=kw["bias"], orientation=shot.get("orientation", 1),
                          note=shot["note"]))
        if not quiet:
            print(f"  {shot['name']:<14} {shot['note']}", file=sys.stderr)
    manifest = dict(version=VERSION, seed=SEED,
                    sources="scikit-image data module: astronaut, coffee, chelsea, rocket, stereo_motorcycle, camera",
                    files=files)
    tmp = outdir / "manifest.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=1) + "\n")
    os.replace(tmp, outdir / "manifest.json")
    if not quiet:
        print(f"sample shoot: {len(files)} photos in {outdir}", file=sys.stderr)
    return [outdir / s["name"] for s in shots]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("outdir", help="folder to create the shoot in (e.g. sample_shoot)")
    ap.add_argument("--force", action="store_true", help="rebuild even when the folder is complete")
    args = ap.parse_args(argv)
    try:
        build(args.outdir, force=args.force)
    except ImportError as exc:
        print(f"make_sample_shoot: needs scikit-image and Pillow ({exc})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
