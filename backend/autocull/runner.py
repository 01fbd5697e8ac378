"""Analysing many photos across worker processes, with the cache in front.

Used by both ``autocull analyze`` and the daemon's jobs. Each worker process loads the models
once (``_warm``); a photo's failure is its own record, never the batch's.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

from autocull import pipeline


def _exit_with_parent(parent: int) -> None:
    """A worker whose daemon was killed (SIGKILL, crash) exits instead of lingering."""
    while True:
        time.sleep(2.0)
        if os.getppid() != parent:
            os._exit(0)


def _warm(parent: int | None = None) -> None:
    if parent is not None:
        threading.Thread(target=_exit_with_parent, args=(parent,), daemon=True).start()
    from autocull import models

    for name in ("blur", "eyes"):
        if models.available(name):
            models.interpreter(name)


def default_workers() -> int:
    return max(1, os.cpu_count() or 1)


class Runner:
    """A lazily started process pool shared by every batch."""

    def __init__(self, workers: int | None = None, cache=None):
        self.workers = workers or default_workers()
        self.cache = cache
        self._pool = None
        self._lock = threading.Lock()

    def _executor(self):
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=mp.get_context("spawn"),
                                                 initializer=_warm, initargs=(os.getpid(),))
            return self._pool

    def run(self, paths, on_result, cancel: threading.Event | None = None, in_process: bool = False) -> bool:
        """Analyse ``paths`` and call ``on_result(index, record)`` as each finishes (any order).

        Cached records come back first without touching a worker. Returns False when cancelled
        (records already delivered stay delivered). ``in_process`` skips the pool (tiny batches).
        """
        cancel = cancel or threading.Event()
        todo = []
        for i, p in enumerate(paths):
            p = os.path.abspath(str(p))
            rec = self.cache.get(p) if self.cache else None
            if rec is not None:
                on_result(i, rec)
            else:
                todo.append((i, p))
        if not todo:
            return not cancel.is_set()
        if in_process or self.workers == 1 and len(todo) == 1:
            for i, p in todo:
                if cancel.is_set():
                    return False
                self._deliver(i, p, pipeline.analyse_one(p), on_result)
            return True
        pool = self._executor()
        pending = {}
        queue = list(reversed(todo))
        window = self.workers * 2  # bounded in-flight work: cancel takes effect quickly
        while queue or pending:
            while queue and len(pending) < window and not cancel.is_set():
                i, p = queue.pop()
                pending[pool.submit(pipeline.analyse_one, p)] = (i, p)
            if cancel.is_set():
                for f in pending:
                    f.cancel()
                return False
            done, _ = wait(list(pending), timeout=0.25, return_when=FIRST_COMPLETED)
            for f in done:
                i, p = pending.pop(f)
                try:
                    rec = f.result()
                except Exception as exc:  # a worker that died (e.g. out of memory) fails only this photo
                    rec = pipeline.empty_record(p, f"{p}: analysis worker failed ({type(exc).__name__}: {exc})")
                    if "BrokenProcessPool" in type(exc).__name__:
                        self._reset()
                        pool = self._executor()
                self._deliver(i, p, rec, on_result)
        return True

    def _deliver(self, i, p, rec, on_result):
        if self.cache is not None:
            self.cache.put(p, rec)
        on_result(i, rec)

    def _reset(self):
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self):
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None
