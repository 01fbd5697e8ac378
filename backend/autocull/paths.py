"""Where AutoCull keeps its token, settings and cache (overridable for tests and portable setups)."""

from __future__ import annotations

import os
from pathlib import Path


def config_dir() -> Path:
    """``$AUTOCULL_CONFIG_DIR`` or the platform's user config dir (e.g. ~/.config/autocull)."""
    env = os.environ.get("AUTOCULL_CONFIG_DIR")
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir("autocull", appauthor=False))


def cache_dir() -> Path:
    """``$AUTOCULL_CACHE_DIR`` or the platform's user cache dir (e.g. ~/.cache/autocull)."""
    env = os.environ.get("AUTOCULL_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("autocull", appauthor=False))
