"""Background jobs: a list of photos analysed across worker processes, grouped when finished."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict

from autocull import pipeline

MAX_KEPT_JOBS = 50


class Job:
    def __init__(self, photos: list[dict], settings: dict):
        self.id = uuid.uuid4().hex[:16]
        self.photos = photos
        self.settings = settings
        self.state = "queued"
        self.total = len(photos)
        self.records: list = [None] * len(photos)
        self.done = 0
        self.final: list | None = None
        self.error: str | None = None
        self.created = time.time()
        self.cancel_event = threading.Event()
        self.finished = threading.Event()
        self._lock = threading.Lock()

    def on_result(self, i: int, rec: dict) -> None:
        rec = dict(rec, id=self.photos[i].get("id"), path=rec.get("path") or self.photos[i]["path"])
        with self._lock:
            if self.records[i] is None:
                self.done += 1
            self.records[i] = rec

    def finish(self, cancelled: bool) -> None:
        finished = [r for r in self.records if r is not None]
        final = pipeline.finalise(finished, self.settings)
        with self._lock:
            self.final = final
            self.state = "cancelled" if cancelled else "done"

    def snapshot(self, with_results: bool = True) -> dict:
        with self._lock:
            out = {"id": self.id, "state": self.state, "done": self.done, "total": self.total,
                   "error": self.error}
            if self.final is not None:
                out["groups"] = len({r["group"]["id"] for r in self.final if r.get("group")})
                results = self.final
            else:
                out["groups"] = None
                results = None
                if with_results:
                    results = [pipeline.preliminary(r, self.settings) for r in self.records if r is not None]
            if with_results:
                out["results"] = results
        return out


class JobManager:
    """Owns the jobs and runs each on its own thread over a shared worker pool."""

    def __init__(self, runner):
        self.runner = runner
        self.jobs: OrderedDict[str, Job] = OrderedDict()
        self._lock = threading.Lock()

    def submit(self, photos: list[dict], settings: dict) -> Job:
        job = Job(photos, settings)
        with self._lock:
            self.jobs[job.id] = job
            while len(self.jobs) > MAX_KEPT_JOBS:
                old_id, old = next(iter(self.jobs.items()))
                if old.state in ("queued", "running"):
                    break
                self.jobs.pop(old_id)
        threading.Thread(target=self._run, args=(job,), name=f"job-{job.id}", daemon=True).start()
        return job

    def _run(self, job: Job) -> None:
        job.state = "running"
        try:
            completed = self.runner.run([p["path"] for p in job.photos], job.on_result, cancel=job.cancel_event)
            job.finish(cancelled=not completed or job.cancel_event.is_set())
        except Exception as exc:  # the job fails as a whole only on an internal error; reported, not hidden
            job.error = f"{type(exc).__name__}: {exc}"
            job.state = "failed"
        finally:
            job.finished.set()

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self.jobs.get(job_id)

    def cancel(self, job_id: str) -> Job | None:
        job = self.get(job_id)
        if job is not None:
            job.cancel_event.set()
        return job
