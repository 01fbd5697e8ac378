"""The daemon: ``create_app(config)`` builds the Flask app; ``serve()`` runs it with waitress.

Security: loopback only; every route but ``GET /health`` needs ``Authorization: Bearer <token>``
(the token file is created on first start, mode 0600); requests whose Host header is not the
loopback address or ``localhost`` are refused (DNS rebinding, browser CSRF). Bodies and batches are
bounded. Every error has one JSON shape: ``{"error": {"code": "...", "message": "..."}}``.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import sys
from pathlib import Path

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from autocull import SCHEMA, __version__, config as config_mod, models
from autocull.paths import cache_dir, config_dir

MAX_BODY_BYTES = 4 * 1024 * 1024
MAX_PHOTOS = 10_000
_HOST_RE = re.compile(r"^(127\.0\.0\.1|localhost|\[::1\])(:\d{1,5})?$", re.IGNORECASE)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str):
    resp = jsonify({"error": {"code": code, "message": message}})
    resp.status_code = status
    return resp


def token_path() -> Path:
    return config_dir() / "token"


def load_or_create_token(path: Path | None = None) -> str:
    """Read the daemon token, creating it (random, file mode 0600) on first start."""
    path = path or token_path()
    try:
        tok = path.read_text().strip()
        if tok:
            return tok
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    tok = secrets.token_urlsafe(32)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(tok + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return tok


def _validate_photos(body) -> list[dict]:
    if not isinstance(body, dict):
        raise ApiError(400, "bad_request", "body must be a JSON object with a 'photos' list")
    photos = body.get("photos")
    if not isinstance(photos, list) or not photos:
        raise ApiError(400, "bad_request", "'photos' must be a non-empty list of {id, path}")
    if len(photos) > MAX_PHOTOS:
        raise ApiError(413, "too_many_photos", f"{len(photos)} photos in one job; the limit is {MAX_PHOTOS}")
    out = []
    for i, p in enumerate(photos):
        if not isinstance(p, dict) or not isinstance(p.get("path"), str) or not p["path"]:
            raise ApiError(400, "bad_request", f"photos[{i}]: needs a 'path' string")
        if not os.path.isabs(p["path"]):
            raise ApiError(400, "bad_request", f"photos[{i}]: path must be absolute: {p['path']}")
        pid = p.get("id")
        if pid is not None and not isinstance(pid, (str, int)):
            raise ApiError(400, "bad_request", f"photos[{i}]: id must be a string or number")
        out.append({"id": pid, "path": p["path"]})
    return out


def create_app(config: dict | None = None) -> Flask:
    """Build the app. config keys: TOKEN (else read/created in the config dir), WORKERS,
    CACHE_PATH, SETTINGS_FILE, MAX_BODY_BYTES, MAX_PHOTOS, RUNNER (an object with run())."""
    from autocull import pipeline
    from autocull.cache import Cache
    from autocull.daemon.jobs import JobManager
    from autocull.runner import Runner

    config = dict(config or {})
    app = Flask("autocull")
    app.config["MAX_CONTENT_LENGTH"] = config.get("MAX_BODY_BYTES", MAX_BODY_BYTES)
    app.json.sort_keys = False  # keep the schema's field order
    token = config.get("TOKEN") or load_or_create_token()
    settings_file = config.get("SETTINGS_FILE")
    config_mod.load(settings_file)  # fail at start, not per job, on a bad settings file
    cache = Cache(config.get("CACHE_PATH") or cache_dir() / "results.sqlite", pipeline.analysis_version())
    runner = config.get("RUNNER") or Runner(workers=config.get("WORKERS"), cache=cache)
    jobs = JobManager(runner)
    max_photos = config.get("MAX_PHOTOS", MAX_PHOTOS)
    app.extensions["autocull"] = {"jobs": jobs, "cache": cache, "runner": runner}

    @app.before_request
    def guard():
        host = request.headers.get("Host", "")
        if not _HOST_RE.match(host):
            raise ApiError(403, "forbidden_host", f"Host '{host}' refused: use 127.0.0.1 or localhost")
        if request.path == "/health" and request.method == "GET":
            return None
        auth = request.headers.get("Authorization", "")
        given = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not given or not hmac.compare_digest(given.encode(), token.encode()):
            raise ApiError(401, "unauthorized", "missing or wrong token (Authorization: Bearer <token>)")
        return None

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError):
        return error_response(exc.status, exc.code, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        code = {413: "body_too_large", 404: "not_found", 405: "method_not_allowed"}.get(exc.code, "http_error")
        msg = exc.description or exc.name
        if exc.code == 413:
            msg = f"request body larger than {app.config['MAX_CONTENT_LENGTH']} bytes"
        return error_response(exc.code or 500, code, msg)

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        app.logger.exception("internal error")
        return error_response(500, "internal_error", f"{type(exc).__name__}: {exc}")

    @app.get("/health")
    def health():
        return jsonify({"name": "autocull", "version": __version__, "schema": SCHEMA,
                        "models": {n: models.available(n) for n in ("blur", "eyes")},
                        "analysis_version": pipeline.analysis_version()})

    @app.post("/v1/jobs")
    def create_job():
        body = request.get_json(silent=True)
        if body is None:
            raise ApiError(400, "bad_request", "body must be JSON (Content-Type: application/json)")
        photos = _validate_photos(body)
        if len(photos) > max_photos:
            raise ApiError(413, "too_many_photos", f"{len(photos)} photos in one job; the limit is {max_photos}")
        try:
            settings = config_mod.load(settings_file, options=body.get("options"))
        except config_mod.ConfigError as exc:
            raise ApiError(400, "bad_options", str(exc)) from None
        job = jobs.submit(photos, settings)
        return jsonify(job.snapshot(with_results=False)), 202

    def _job(job_id):
        job = jobs.get(job_id)
        if job is None:
            raise ApiError(404, "unknown_job", f"no job {job_id}")
        return job

    @app.get("/v1/jobs/<job_id>")
    def get_job(job_id):
        with_results = request.args.get("results", "1") not in ("0", "false", "no")
        return jsonify(_job(job_id).snapshot(with_results=with_results))

    @app.delete("/v1/jobs/<job_id>")
    def cancel_job(job_id):
        job = _job(job_id)
        jobs.cancel(job_id)
        job.finished.wait(timeout=10)  # in-flight photos are abandoned, so this is quick
        return jsonify({"id": job.id, "state": job.state if job.finished.is_set() else "cancelling"})

    return app


def serve(port: int = 47474, workers: int | None = None, settings_file: str | None = None) -> int:
    """Run the daemon on 127.0.0.1:port until interrupted."""
    import signal

    import waitress

    # SIGTERM ends the daemon like Ctrl-C does, so the worker processes are shut down with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = create_app({"WORKERS": workers, "SETTINGS_FILE": settings_file})
    print(f"autocull {__version__} listening on http://127.0.0.1:{port} (token in {token_path()})",
          file=sys.stderr, flush=True)
    try:
        waitress.serve(app, host="127.0.0.1", port=port, threads=8, ident="autocull")
    finally:
        app.extensions["autocull"]["runner"].close()
    return 0
