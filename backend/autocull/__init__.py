"""AutoCull: a local, explainable first pass over a photo shoot.

Pipeline: decode -> analyse (sharpness, faces/eyes, exposure, groups) -> policy -> outputs.
"""

__version__ = "0.1.1"
SCHEMA = 1
