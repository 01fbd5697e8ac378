"""Camera-like synthetic blur for training and evaluation (numpy/OpenCV only).

All blur is applied in linear light (sRGB gamma removed), followed by sensor noise
(signal-dependent shot noise + read noise), optional in-camera sharpening and a JPEG
re-encode, so blurred and sharp examples carry the same processing traces.

Kernels:
- ``defocus_kernel``: a disc or a polygonal aperture (5-9 blades), rendered supersampled;
- ``shake_kernel``: a random smooth camera-shake trajectory (random walk with inertia);
- ``linear_kernel``: straight-line motion at a random angle.
"""

from __future__ import annotations

import cv2
import numpy as np

SS = 4  # supersampling for kernel rendering


def _normalise(k: np.ndarray) -> np.ndarray:
    k = np.maximum(k, 0).astype(np.float32)
    return k / max(float(k.sum()), 1e-8)


def defocus_kernel(radius: float, rng: np.random.Generator, blades: int | None = None) -> np.ndarray:
    """Aperture PSF of a given radius (px): disc, or a regular polygon with ``blades`` sides."""
    size = int(np.ceil(radius)) * 2 + 3
    n = size * SS
    c = (n - 1) / 2.0
    yy, xx = np.mgrid[0:n, 0:n].astype(np.float32)
    dx, dy = (xx - c) / SS, (yy - c) / SS
    if blades is None:
        mask = (dx * dx + dy * dy) <= radius * radius
    else:
        theta = np.arctan2(dy, dx) - rng.uniform(0, 2 * np.pi)
        sector = 2 * np.pi / blades
        a = np.mod(theta, sector) - sector / 2
        # distance to the polygon edge along the ray: apothem / cos(a)
        apothem = radius * np.cos(np.pi / blades)
        mask = np.hypot(dx, dy) * np.cos(a) <= apothem
    k = cv2.resize(mask.astype(np.float32), (size, size), interpolation=cv2.INTER_AREA)
    return _normalise(k)


def _draw_path(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Rasterise a sub-pixel path (N, 2) into a normalised kernel, with uneven dwell time."""
    points = points - points.mean(axis=0)
    ext = int(np.ceil(np.abs(points).max())) + 2
    size = 2 * ext + 1
    n = size * SS
    k = np.zeros((n, n), np.float32)
    pts = (points + ext + 0.5) * SS
    # dense resampling so the path has no gaps
    seg = np.linalg.norm(np.diff(pts, axis=0), axis=1)
    total = max(float(seg.sum()), 1.0)
    m = int(total * 2) + 2
    t = np.concatenate([[0], np.cumsum(seg)]) / total
    tt = np.linspace(0, 1, m)
    xs = np.interp(tt, t, pts[:, 0])
    ys = np.interp(tt, t, pts[:, 1])
    w = 1.0 + 0.5 * np.sin(np.linspace(0, rng.uniform(1, 6), m) + rng.uniform(0, 6))  # dwell
    xi = np.clip(xs.astype(int), 0, n - 1)
    yi = np.clip(ys.astype(int), 0, n - 1)
    np.add.at(k, (yi, xi), w)
    k = cv2.GaussianBlur(k, (0, 0), SS * 0.5)
    k = cv2.resize(k, (size, size), interpolation=cv2.INTER_AREA)
    return _normalise(k)


def shake_kernel(length: float, rng: np.random.Generator) -> np.ndarray:
    """Camera shake: a smooth random trajectory whose path length is about ``length`` px."""
    steps = 64
    v = rng.normal(size=2)
    v /= np.linalg.norm(v) + 1e-8
    pos = np.zeros((steps, 2))
    inertia = rng.uniform(0.6, 0.95)
    for i in range(1, steps):
        d = rng.normal(size=2)
        v = inertia * v + (1 - inertia) * d / (np.linalg.norm(d) + 1e-8)
        v /= np.linalg.norm(v) + 1e-8
        pos[i] = pos[i - 1] + v
    seg = np.linalg.norm(np.diff(pos, axis=0), axis=1).sum()
    pos *= length / max(seg, 1e-6)
    return _draw_path(pos, rng)


def linear_kernel(length: float, rng: np.random.Generator) -> np.ndarray:
    """Straight linear motion of ``length`` px at a random angle."""
    a = rng.uniform(0, np.pi)
    t = np.linspace(-length / 2, length / 2, 32)
    pts = np.stack([t * np.cos(a), t * np.sin(a)], axis=1)
    return _draw_path(pts, rng)


def to_linear(img_u8: np.ndarray) -> np.ndarray:
    x = img_u8.astype(np.float32) / 255.0
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4)


def to_srgb(lin: np.ndarray) -> np.ndarray:
    lin = np.clip(lin, 0, 1)
    x = np.where(lin <= 0.0031308, lin * 12.92, 1.055 * np.power(lin, 1 / 2.4) - 0.055)
    return np.clip(x * 255.0 + 0.5, 0, 255).astype(np.uint8)


def convolve(lin: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    return cv2.filter2D(lin, -1, kernel, borderType=cv2.BORDER_REFLECT)


def finish(lin: np.ndarray, rng: np.random.Generator, noise: float | None = None,
           sharpen: float | None = None, quality: int | None = None) -> np.ndarray:
    """Sensor noise (linear light) -> sRGB -> optional unsharp mask -> JPEG re-encode."""
    if noise is None:
        noise = rng.uniform(0.0, 1.0)
    shot = 0.0004 * noise        # variance per unit signal
    read = (0.003 * noise) ** 2  # read-noise variance
    sigma = np.sqrt(np.maximum(lin, 0) * shot + read).astype(np.float32)
    lin = lin + rng.standard_normal(lin.shape).astype(np.float32) * sigma
    out = to_srgb(lin)
    if sharpen is None:  # in-camera sharpening, half the time
        sharpen = rng.uniform(0, 0.8) if rng.random() < 0.5 else 0.0
    if sharpen > 0:
        soft = cv2.GaussianBlur(out, (0, 0), 1.0)
        out = cv2.addWeighted(out, 1 + sharpen, soft, -sharpen, 0)
    if quality is None:
        quality = int(rng.integers(60, 96))
    ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED) if ok else out


def ellipse_mask(shape, cx, cy, ax, ay, feather: float) -> np.ndarray:
    """Soft elliptical subject mask in [0, 1]."""
    h, w = shape[:2]
    m = np.zeros((h, w), np.float32)
    cv2.ellipse(m, (int(cx), int(cy)), (max(1, int(ax)), max(1, int(ay))), 0, 0, 360, 1.0, -1)
    if feather > 0:
        m = cv2.GaussianBlur(m, (0, 0), feather)
    return m


def bokeh(lin: np.ndarray, mask: np.ndarray, radius: float, rng: np.random.Generator) -> np.ndarray:
    """Sharp subject (mask = 1) over a background blurred with an aperture PSF of ``radius``.

    The background is blurred with the subject painted out first (filled from the blurred
    surroundings), so the subject does not bleed a halo into it."""
    k = defocus_kernel(radius, rng, blades=None if rng.random() < 0.6 else int(rng.integers(5, 10)))
    m3 = mask[..., None] if lin.ndim == 3 else mask
    bg_w = (1.0 - m3).astype(np.float32)
    num = convolve(lin * bg_w, k)
    den = convolve(np.ascontiguousarray(bg_w[..., 0] if lin.ndim == 3 else bg_w), k)
    den = den[..., None] if lin.ndim == 3 else den
    fallback = convolve(lin, k)
    bg = np.where(den > 1e-3, num / np.maximum(den, 1e-3), fallback)
    return m3 * lin + (1 - m3) * bg


def blur(img_u8: np.ndarray, kind: str, strength: float, rng: np.random.Generator, **finish_kw) -> np.ndarray:
    """One camera-like rendering of ``img_u8`` (BGR or gray uint8).

    kind: "sharp" (strength = Gaussian sigma of residual lens softness, may be 0),
    "defocus" (disc/polygon radius px), "shake" / "linear" (path length px).
    """
    lin = to_linear(img_u8)
    if kind == "sharp":
        if strength > 0:
            lin = cv2.GaussianBlur(lin, (0, 0), strength)
    elif kind == "defocus":
        blades = None if rng.random() < 0.6 else int(rng.integers(5, 10))
        lin = convolve(lin, defocus_kernel(strength, rng, blades))
    elif kind == "shake":
        lin = convolve(lin, shake_kernel(strength, rng))
    elif kind == "linear":
        lin = convolve(lin, linear_kernel(strength, rng))
    else:
        raise ValueError(kind)
    return finish(lin, rng, **finish_kw)
