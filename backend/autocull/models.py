"""Locating and loading the bundled ``.tflite`` models with ai-edge-litert.

One interpreter per model per process (they are not thread-safe; the daemon runs
analysis in worker processes, each with its own copies).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_CACHE: dict[str, object] = {}
_LOCK = threading.Lock()


def models_dir() -> Path:
    """The folder holding the models: ``$AUTOCULL_MODELS`` or ``<checkout>/models``."""
    env = os.environ.get("AUTOCULL_MODELS")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "models"


def model_path(name: str) -> Path:
    """Absolute path of ``models/<name>.tflite`` (or ``name`` itself when it is a path)."""
    p = Path(name)
    if p.suffix == ".tflite" and p.is_absolute():
        return p
    return models_dir() / f"{name}.tflite"


def available(name: str) -> bool:
    return model_path(name).is_file()


def interpreter(name: str):
    """A cached, allocated ``ai_edge_litert`` Interpreter (one thread) for a model.

    Raises FileNotFoundError naming the file when the model is missing.
    """
    key = str(model_path(name))
    with _LOCK:
        interp = _CACHE.get(key)
        if interp is None:
            if not Path(key).is_file():
                raise FileNotFoundError(f"{key}: model file not found")
            from ai_edge_litert.interpreter import Interpreter

            interp = Interpreter(model_path=key, num_threads=1)
            interp.allocate_tensors()
            _CACHE[key] = interp
        return interp
