"""The daemon: token, Host check, bounded bodies, jobs on real files, cancel, cache across restarts."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import time
import urllib.request

import pytest

from autocull.daemon.app import create_app, load_or_create_token
from conftest import REPO, shared
from schema import check

TOKEN = "test-token-123"
AUTH = {"Authorization": f"Bearer {TOKEN}", "Host": "127.0.0.1:47474"}


@pytest.fixture
def app(tmp_path):
    app = create_app({"TOKEN": TOKEN, "WORKERS": 2, "CACHE_PATH": tmp_path / "cache.sqlite",
                      "MAX_BODY_BYTES": 64 * 1024, "MAX_PHOTOS": 200})
    yield app
    app.extensions["autocull"]["runner"].close()


@pytest.fixture
def client(app):
    return app.test_client()


def photos(n=None):
    files = sorted(p for p in shared("near_duplicates", "ukbench_simbench").iterdir() if p.suffix == ".jpg")
    files += sorted(p for p in shared("yale_faces", "happy").iterdir())
    files = files[:n] if n else files
    return [{"id": f"u{i}", "path": str(p)} for i, p in enumerate(files)]


def wait_for(client, job_id, states=("done", "cancelled", "failed"), timeout=300):
    t0 = time.time()
    seen = []
    while time.time() - t0 < timeout:
        r = client.get(f"/v1/jobs/{job_id}?results=0", headers=AUTH).get_json()
        seen.append(r["done"])
        if r["state"] in states:
            return r, seen
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {seen[-5:]}")


def test_health_needs_no_token(client):
    r = client.get("/health", headers={"Host": "localhost:47474"})
    assert r.status_code == 200
    body = r.get_json()
    assert body["name"] == "autocull" and body["schema"] == 1 and "version" in body
    assert set(body["models"]) == {"blur", "eyes"}


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}])
def test_no_or_wrong_token_is_401(client, headers):
    r = client.post("/v1/jobs", json={"photos": photos(1)}, headers={"Host": "127.0.0.1", **headers})
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("host", ["evil.example.com", "127.0.0.1.nip.io", "192.168.1.5:47474", ""])
def test_wrong_host_is_refused(client, host):
    r = client.get("/health", headers={"Host": host})
    assert r.status_code in (400, 403)
    assert "error" in r.get_json()
    r = client.get("/v1/jobs/x", headers={**AUTH, "Host": host})
    assert r.status_code in (400, 403)


def test_oversize_body_is_413(client):
    big = [{"id": str(i), "path": "/x/" + "a" * 200 + ".jpg"} for i in range(1000)]
    r = client.post("/v1/jobs", data=json.dumps({"photos": big}), content_type="application/json", headers=AUTH)
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "body_too_large"


def test_too_many_photos_is_413(client):
    many = [{"id": str(i), "path": f"/x/{i}.jpg"} for i in range(201)]
    r = client.post("/v1/jobs", json={"photos": many}, headers=AUTH)
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "too_many_photos"


@pytest.mark.parametrize("body,code", [
    ({"photos": []}, "bad_request"),
    ({"photos": [{"id": "1", "path": "relative.jpg"}]}, "bad_request"),
    ({"photos": [{"id": "1"}]}, "bad_request"),
    ({"photos": [{"id": "1", "path": "/x.jpg"}], "options": {"mapping": {"keeper": {"rating": 5}}}}, "bad_options"),
])
def test_bad_requests_are_400_with_one_error_shape(client, body, code):
    r = client.post("/v1/jobs", json=body, headers=AUTH)
    assert r.status_code == 400
    err = r.get_json()["error"]
    assert err["code"] == code and err["message"]


def test_unknown_job_is_404(client):
    assert client.get("/v1/jobs/nope", headers=AUTH).status_code == 404
    assert client.delete("/v1/jobs/nope", headers=AUTH).status_code == 404
    assert client.get("/no/such/route", headers=AUTH).get_json()["error"]["code"] == "not_found"


def test_job_on_real_files_with_progress_and_groups(client, tmp_path):
    ph = photos()
    copy = tmp_path / "elsewhere" / "copy.jpg"  # the same photo imported twice, in another folder
    copy.parent.mkdir()
    copy.write_bytes(open(ph[0]["path"], "rb").read())
    ph.append({"id": "copy", "path": str(copy)})
    ph.append({"id": "broken", "path": str(tmp_path / "missing.jpg")})
    r = client.post("/v1/jobs", json={"photos": ph, "options": {"sensitivity": {"blur": 0.5}}}, headers=AUTH)
    assert r.status_code == 202
    job = r.get_json()
    assert job["state"] in ("queued", "running") and job["total"] == len(ph)
    final, seen = wait_for(client, job["id"])
    assert final["state"] == "done" and final["done"] == len(ph)
    assert seen == sorted(seen) and len(set(seen)) > 2  # progress went up in steps
    res = client.get(f"/v1/jobs/{job['id']}", headers=AUTH).get_json()["results"]
    assert [o["id"] for o in res] == [p["id"] for p in ph]
    for o in res:
        check(o)
    assert res[-1]["ok"] is False and "missing.jpg: file not found" in res[-1]["error"]
    # groups are computed across the whole job: the copy is found with its original
    assert res[-2]["group"] and res[0]["group"]
    assert res[0]["group"]["id"] == res[-2]["group"]["id"]


def test_cancel_keeps_finished_photos_only(client):
    ph = photos() * 3
    for i, p in enumerate(ph):
        p = dict(p, id=f"c{i}")
        ph[i] = p
    job = client.post("/v1/jobs", json={"photos": ph}, headers=AUTH).get_json()
    t0 = time.time()
    while client.get(f"/v1/jobs/{job['id']}?results=0", headers=AUTH).get_json()["done"] < 2:
        assert time.time() - t0 < 120
        time.sleep(0.05)
    r = client.delete(f"/v1/jobs/{job['id']}", headers=AUTH)
    assert r.status_code == 200 and r.get_json()["state"] == "cancelled"
    snap = client.get(f"/v1/jobs/{job['id']}", headers=AUTH).get_json()
    assert snap["state"] == "cancelled"
    assert 2 <= snap["done"] < len(ph)
    assert len(snap["results"]) == snap["done"]
    for o in snap["results"]:
        check(o)


def test_token_file_created_0600(tmp_path):
    p = tmp_path / "cfg" / "token"
    tok = load_or_create_token(p)
    assert len(tok) >= 32
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert load_or_create_token(p) == tok


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method, url, token=None, body=None):
    req = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body else None)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, json.loads(resp.read())


def _alive(pid) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split()[2] != "Z"
    except OSError:
        return False


def _start(port, env):
    proc = subprocess.Popen([sys.executable, "-m", "autocull", "serve", "--port", str(port), "--workers", "2"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    for _ in range(300):
        try:
            _http("GET", f"http://127.0.0.1:{port}/health")
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("daemon did not start: " + proc.stderr.read().decode())


def test_daemon_killed_mid_job_loses_nothing_already_analysed(tmp_path):
    env = dict(os.environ, AUTOCULL_CONFIG_DIR=str(tmp_path / "cfg"), AUTOCULL_CACHE_DIR=str(tmp_path / "cache"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    ph = photos()
    proc = _start(port, env)
    try:
        token = (tmp_path / "cfg" / "token").read_text().strip()
        status, job = _http("POST", f"{base}/v1/jobs", token, {"photos": ph})
        assert status == 202
        t0 = time.time()
        while _http("GET", f"{base}/v1/jobs/{job['id']}?results=0", token)[1]["done"] < 3:
            assert time.time() - t0 < 120
            time.sleep(0.05)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    finally:
        os.kill(proc.pid, signal.SIGKILL)  # no clean shutdown, only the daemon's own process
        proc.wait()
    # its worker processes notice and exit rather than linger
    t0 = time.time()
    while any(_alive(c) for c in children) and time.time() - t0 < 15:
        time.sleep(0.2)
    assert children and not any(_alive(c) for c in children)
    db = tmp_path / "cache" / "results.sqlite"
    cached = sqlite3.connect(db).execute("SELECT COUNT(*) FROM results").fetchone()[0]
    assert cached >= 3
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _start(port, env)
    try:
        assert (tmp_path / "cfg" / "token").read_text().strip() == token  # same token after restart
        _, job = _http("POST", f"{base}/v1/jobs", token, {"photos": ph})
        t0 = time.time()
        while True:
            snap = _http("GET", f"{base}/v1/jobs/{job['id']}?results=0", token)[1]
            if snap["state"] == "done":
                break
            # the cached photos are answered at once, before any worker runs
            assert time.time() - t0 < 300
            time.sleep(0.05)
        res = _http("GET", f"{base}/v1/jobs/{job['id']}", token)[1]["results"]
        assert len(res) == len(ph) and all(o["ok"] for o in res)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_repeated_job_is_answered_from_cache(tmp_path):
    cache = tmp_path / "c.sqlite"
    ph = photos(4)
    a = create_app({"TOKEN": TOKEN, "WORKERS": 1, "CACHE_PATH": cache})
    try:
        c = a.test_client()
        job = c.post("/v1/jobs", json={"photos": ph}, headers=AUTH).get_json()
        wait_for(c, job["id"])
        first = c.get(f"/v1/jobs/{job['id']}", headers=AUTH).get_json()["results"]
    finally:
        a.extensions["autocull"]["runner"].close()
    b = create_app({"TOKEN": TOKEN, "WORKERS": 1, "CACHE_PATH": cache})  # a restarted daemon
    try:
        c = b.test_client()
        job = c.post("/v1/jobs", json={"photos": ph}, headers=AUTH).get_json()
        wait_for(c, job["id"])
        second = c.get(f"/v1/jobs/{job['id']}", headers=AUTH).get_json()["results"]
        assert b.extensions["autocull"]["runner"]._pool is None  # no worker was ever started
        assert second == first
    finally:
        b.extensions["autocull"]["runner"].close()


def test_sigterm_stops_the_workers_too(tmp_path):
    env = dict(os.environ, AUTOCULL_CONFIG_DIR=str(tmp_path / "cfg"), AUTOCULL_CACHE_DIR=str(tmp_path / "cache"))
    port = _free_port()
    proc = _start(port, env)
    token = (tmp_path / "cfg" / "token").read_text().strip()
    _http("POST", f"http://127.0.0.1:{port}/v1/jobs", token, {"photos": photos(2)})
    time.sleep(1.0)  # the worker pool is up
    children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
    assert children
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    time.sleep(0.5)
    assert not any(_alive(c) for c in children)
