"""Exposure and misfires from the luminance histogram.

``assess(decoded)`` / ``measure(gray)`` look at clipping and the detail that is left, not at the
mean alone, so a night scene (dark, but with lit highlights and texture) or a high-key portrait
(bright, but not clipped flat) is not rejected. Method: Rec. 601 luma histogram; clipped
fractions at the ends; percentiles; detail = fraction of pixels with a Sobel gradient above a
small threshold (a featureless frame has none).
"""

from __future__ import annotations

import cv2
import numpy as np

# Documented thresholds (fractions of pixels, levels on 0-255).
SHADOW_LEVEL = 4            # <= this is crushed black
HIGHLIGHT_LEVEL = 251       # >= this is blown white
OVER_CLIPPED = 0.30         # over: at least this much of the frame blown ...
OVER_DETAIL = 0.06          # ... or bright (mean > 0.8) with almost no detail left
UNDER_CLIPPED = 0.50        # under: half the frame crushed (or mean < 0.10) ...
UNDER_BRIGHTEST = 128       # ... and nothing bright anywhere (99.8th percentile below this)
MISFIRE_STD = 3.0           # featureless: luminance standard deviation below this ...
MISFIRE_DETAIL = 0.002      # ... and (almost) no edges
BLACK_P99 = 12              # lens cap / pocket shot: 99th percentile below this
WHITE_P1 = 245              # flash blast / white frame: 1st percentile above this
GRADIENT_LEVEL = 24         # Sobel magnitude counted as detail
STATS_SIDE = 512            # the statistics are taken on an image reduced towards this long side


def measure(gray: np.ndarray) -> dict:
    """Exposure evidence for a uint8 grayscale image (any size >= 1x1).

    Returns ``state`` ("ok" | "under" | "over" | "misfire"), ``why`` (a short text naming the
    evidence and threshold, or None), ``clipped_highlights`` and ``clipped_shadows`` (fractions
    0-1), ``mean`` (0-1), ``p01``/``p998`` (levels 0-255), ``detail`` (0-1, fraction of pixels
    on an edge).
    """
    g = np.asarray(gray)
    if g.ndim == 3:
        g = cv2.cvtColor(g, cv2.COLOR_BGR2GRAY)
    g = g.astype(np.uint8, copy=False)
    f = max(g.shape) // STATS_SIDE  # the statistics need no more pixels than this
    if f >= 2:  # an integer factor keeps OpenCV on its fast area-averaging path
        g = cv2.resize(g, (g.shape[1] // f, g.shape[0] // f), interpolation=cv2.INTER_AREA)
    n = float(g.size)
    hist = cv2.calcHist([g], [0], None, [256], [0, 256]).ravel().astype(np.float64)
    cdf = np.cumsum(hist) / n
    clipped_hi = float(hist[HIGHLIGHT_LEVEL:].sum() / n)
    clipped_lo = float(hist[:SHADOW_LEVEL + 1].sum() / n)
    mean = float((hist * np.arange(256)).sum() / n / 255.0)
    std = float(np.sqrt((hist * (np.arange(256) - mean * 255.0) ** 2).sum() / n))

    def pct(q):
        return int(np.searchsorted(cdf, q))

    p01, p99, p998 = pct(0.01), pct(0.99), pct(0.998)
    if min(g.shape) >= 3:
        # |gx|/4 + |gy|/4 of a 3x3 Sobel is about the size of a step edge (saturating at 255)
        gx = cv2.convertScaleAbs(cv2.Sobel(g, cv2.CV_16S, 1, 0, ksize=3), alpha=0.25)
        gy = cv2.convertScaleAbs(cv2.Sobel(g, cv2.CV_16S, 0, 1, ksize=3), alpha=0.25)
        detail = float(np.count_nonzero(cv2.add(gx, gy) > GRADIENT_LEVEL)) / n
    else:
        detail = 0.0

    state, why = "ok", None
    if p99 < BLACK_P99:
        state, why = "misfire", f"frame nearly all black (99th percentile {p99}/255 < {BLACK_P99})"
    elif p01 > WHITE_P1:
        state, why = "misfire", f"frame nearly all white (1st percentile {p01}/255 > {WHITE_P1})"
    elif std < MISFIRE_STD and detail < MISFIRE_DETAIL:
        state, why = "misfire", f"featureless frame (luminance spread {std:.1f} < {MISFIRE_STD}, no edges)"
    elif clipped_hi >= OVER_CLIPPED:
        state, why = "over", f"{clipped_hi:.0%} of the frame blown to white (threshold {OVER_CLIPPED:.0%})"
    elif mean > 0.8 and detail < OVER_DETAIL and clipped_hi > 0.05:
        state, why = "over", f"washed out: mean {mean:.2f}, detail {detail:.3f} < {OVER_DETAIL}"
    elif (clipped_lo >= UNDER_CLIPPED or mean < 0.10) and p998 < UNDER_BRIGHTEST:
        state, why = ("under", f"{clipped_lo:.0%} of the frame crushed to black, brightest 0.2% below "
                      f"{UNDER_BRIGHTEST}/255 (mean {mean:.2f})")
    return {"state": state, "why": why, "clipped_highlights": round(clipped_hi, 4),
            "clipped_shadows": round(clipped_lo, 4), "mean": round(mean, 4), "p01": p01, "p998": p998,
            "detail": round(detail, 4)}


def assess(decoded) -> dict:
    """The ``exposure`` object of the analyze contract for a :class:`autocull.decode.Decoded`."""
    return measure(decoded.gray)
