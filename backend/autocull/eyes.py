"""Public eye-state API: ``autocull.eyes.closed_probability(eye_image) -> float`` (see autocull.analyse.eyes)."""
from autocull.analyse.eyes import closed_probability, prepare_patch  # noqa: F401
