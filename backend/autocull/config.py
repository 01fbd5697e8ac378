"""Settings: defaults, a TOML file, and per-request options, merged in that order.

```toml
[thresholds]
blur = 0.5          # blur probability at or above which a photo is blurry (sensitivity.blur = 1 - blur)
eyes = 0.5          # closed-eye probability at or above which a face counts as closed

[groups]
strictness = "normal"   # "loose" | "normal" | "strict"

[mapping.keeper]
rating = 3
label = "green"
flag = "pick"
```
Ratings 4 and 5 are the photographer's: a mapping may not set them.
"""

from __future__ import annotations

import copy
import os
import tomllib
from pathlib import Path

VERDICT_KEYS = ("keeper", "alternate", "closed_eyes", "blurry", "exposure", "unsure")
LABELS = ("red", "yellow", "green", "blue", "purple")
FLAGS = ("pick", "reject")

DEFAULTS: dict = {
    "mapping": {
        "keeper": {"rating": 3, "label": "green", "flag": "pick"},
        "alternate": {"rating": 2, "label": "blue", "flag": None},
        "closed_eyes": {"rating": 1, "label": "yellow", "flag": "reject"},
        "blurry": {"rating": 1, "label": "red", "flag": "reject"},
        "exposure": {"rating": 1, "label": "purple", "flag": "reject"},
        "unsure": {"rating": None, "label": None, "flag": None},
    },
    "thresholds": {"blur": 0.5, "eyes": 0.5},
    "groups": {"strictness": "normal"},
}


class ConfigError(ValueError):
    """An invalid setting; the message names the key and what is allowed."""


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in (over or {}).items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _none(v):
    return None if v in (None, "", "none", 0) else v


def validate(settings: dict) -> dict:
    """Check and normalise a merged settings dict; raises ConfigError naming the bad key."""
    m = settings.get("mapping")
    if not isinstance(m, dict):
        raise ConfigError("mapping: must be a table")
    for key, mark in m.items():
        if key not in VERDICT_KEYS:
            raise ConfigError(f"mapping.{key}: unknown verdict (expected one of {', '.join(VERDICT_KEYS)})")
        if not isinstance(mark, dict):
            raise ConfigError(f"mapping.{key}: must be a table with rating, label, flag")
        unknown = set(mark) - {"rating", "label", "flag"}
        if unknown:
            raise ConfigError(f"mapping.{key}: unknown keys {sorted(unknown)}")
        r = _none(mark.get("rating"))
        if r is not None and (not isinstance(r, int) or isinstance(r, bool) or not 1 <= r <= 3):
            raise ConfigError(f"mapping.{key}.rating: {r!r} is not allowed (1-3 or none; 4 and 5 stars are yours)")
        lab = _none(mark.get("label"))
        if lab is not None and lab not in LABELS:
            raise ConfigError(f"mapping.{key}.label: {lab!r} is not one of {', '.join(LABELS)} or none")
        fl = _none(mark.get("flag"))
        if fl is not None and fl not in FLAGS:
            raise ConfigError(f"mapping.{key}.flag: {fl!r} is not pick, reject or none")
        m[key] = {"rating": r, "label": lab, "flag": fl}
    for k in ("blur", "eyes"):
        v = settings["thresholds"].get(k)
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 < float(v) < 1.0:
            raise ConfigError(f"thresholds.{k}: {v!r} must be a number between 0 and 1")
        settings["thresholds"][k] = float(v)
    st = settings["groups"].get("strictness")
    if st not in ("loose", "normal", "strict"):
        raise ConfigError(f"groups.strictness: {st!r} must be loose, normal or strict")
    return settings


def options_to_settings(options: dict | None) -> dict:
    """Translate request options ({"mapping", "sensitivity": {"blur", "eyes"}, "strictness",
    "thresholds"}) into the settings layout."""
    options = options or {}
    if not isinstance(options, dict):
        raise ConfigError("options: must be an object")
    out: dict = {}
    if "mapping" in options:
        out["mapping"] = options["mapping"]
    sens = options.get("sensitivity") or {}
    if not isinstance(sens, dict):
        raise ConfigError("options.sensitivity: must be an object")
    thr = dict(options.get("thresholds") or {})
    for k in ("blur", "eyes"):
        if k in sens:
            v = sens[k]
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0.0 < float(v) < 1.0:
                raise ConfigError(f"options.sensitivity.{k}: {v!r} must be a number between 0 and 1")
            thr[k] = 1.0 - float(v)
    if thr:
        out["thresholds"] = thr
    if "strictness" in options:
        out["groups"] = {"strictness": options["strictness"]}
    unknown = set(options) - {"mapping", "sensitivity", "thresholds", "strictness"}
    if unknown:
        raise ConfigError(f"options: unknown keys {sorted(unknown)}")
    return out


def default_config_file() -> Path:
    from autocull.paths import config_dir

    return config_dir() / "autocull.toml"


def load(path: str | os.PathLike | None = None, options: dict | None = None) -> dict:
    """Defaults, then the TOML file (``path``, else the user's config file if it exists), then options."""
    settings = copy.deepcopy(DEFAULTS)
    p = Path(path) if path else default_config_file()
    if path or p.is_file():
        try:
            with open(p, "rb") as fh:
                settings = _merge(settings, tomllib.load(fh))
        except FileNotFoundError:
            raise ConfigError(f"{p}: settings file not found") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{p}: invalid TOML ({exc})") from None
    settings = _merge(settings, options_to_settings(options))
    return validate(settings)
