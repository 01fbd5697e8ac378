"""The Lightroom plug-in end to end: the real daemon (`python -m autocull serve`) on a free loopback
port, the plug-in's real Lua code run by the Lightroom SDK simulator (../shared/lrsim) against a
catalog of real photos from ../shared/data, referenced in place (never copied into the repo).

Skipped, with the reason, when ../shared is absent. Needs lua5.1, lua-socket and lua-cjson
(`make test` installs them).
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO / ".." / "shared"
LRSIM = SHARED / "lrsim" / "lrsim"
DATA = SHARED / "data"
PLUGIN = REPO / "plugin.lrplugin"
PLUGIN_ID = "org.autocull.lightroom"

pytestmark = pytest.mark.skipif(
    not (LRSIM.is_file() and (DATA / "near_duplicates").is_dir() and (DATA / "yale_faces").is_dir()),
    reason=f"../shared is absent ({SHARED.resolve()}): the plug-in end-to-end tests need the Lightroom SDK "
           "simulator (../shared/lrsim) and the real photos (../shared/data)",
)

FLAG = {"pick": 1, "reject": -1, None: 0}


# ------------------------------------------------------------------ helpers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, token=None, body=None, timeout=30):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, headers=headers, method=method)
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def wait_health(url, proc=None, timeout=90):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"the daemon exited with {proc.returncode}")
        try:
            return http("GET", url + "/health", timeout=2)
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"no /health at {url} after {timeout} s")


class Daemon:
    """The real daemon in its own process group, with its own config (token) and cache dirs."""

    def __init__(self, base: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config, self.cache = base / "config", base / "cache"
        base.mkdir(parents=True, exist_ok=True)
        self.log = base / "daemon.log"
        env = dict(os.environ, AUTOCULL_CONFIG_DIR=str(self.config), AUTOCULL_CACHE_DIR=str(self.cache))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "autocull", "serve", "--port", str(self.port), "--workers", "2"],
            cwd=REPO, env=env, stdout=open(self.log, "wb"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_health(self.url, self.proc)
        self.token_file = self.config / "token"
        self.token = self.token_file.read_text().strip()

    def job(self, job_id):
        return http("GET", f"{self.url}/v1/jobs/{job_id}", self.token)

    def analyse(self, paths, timeout=300):
        """Runs a job directly (fills the daemon's cache) and returns its final snapshot."""
        job = http("POST", f"{self.url}/v1/jobs", self.token,
                   {"photos": [{"id": str(i), "path": p} for i, p in enumerate(paths)]})
        t0 = time.time()
        while time.time() - t0 < timeout:
            st = http("GET", f"{self.url}/v1/jobs/{job['id']}?results=0", self.token)
            if st["state"] in ("done", "cancelled", "failed"):
                return self.job(job["id"])
            time.sleep(0.2)
        raise AssertionError("direct job did not finish")

    def stop(self):
        kill_group(self.proc.pid)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass


def kill_group(pgid):
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pgid, sig)
        except ProcessLookupError:
            return
        time.sleep(1.0)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    d = Daemon(tmp_path_factory.mktemp("daemon"))
    yield d
    d.stop()


class Run:
    def __init__(self, result, log, stderr, returncode):
        self.result, self.log, self.stderr, self.returncode = result, log, stderr, returncode
        self.photos = {p["uuid"]: p for p in result["photos"]}

    def job_ids(self):
        return list(dict.fromkeys(re.findall(r"/v1/jobs/([0-9a-f]{8,})", self.log)))

    def http_lines(self):
        return [line for line in self.log.splitlines() if " http " in line]


def lrsim(tmp: Path, catalog, command, *args, prefs: dict | None = None, env=None, timeout=300,
          new_session=False, name="run") -> Run:
    """Runs lrsim with the plug-in; catalog: a dict (written to JSON) or a path."""
    if isinstance(catalog, dict):
        cat = tmp / f"{name}-catalog.json"
        cat.write_text(json.dumps(catalog))
    else:
        cat = catalog
    out, log = tmp / f"{name}-out.json", tmp / f"{name}-calls.log"
    cmd = [str(LRSIM), str(PLUGIN), str(cat), command, *args, "--out", str(out), "--log", str(log),
           "--prefs", str(tmp / f"{name}-prefs.json"), "--strict-globals", "--timeout", str(timeout)]
    for k, v in (prefs or {}).items():
        cmd += ["--pref", f"{k}={json.dumps(v) if not isinstance(v, str) else v}"]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout + 60, env=env,
                       start_new_session=new_session)
    assert out.exists(), f"lrsim wrote no result (exit {p.returncode}):\n{p.stderr[-3000:]}"
    run = Run(json.loads(out.read_text()), log.read_text() if log.exists() else "", p.stderr, p.returncode)
    run.out_path = out
    return run


# lrsim's own result snapshot lists smart-collection members and warns that membership is not
# simulated; that warning comes from lrsim (where '?'), not from the plug-in.
LRSIM_OWN_WARNINGS = ("smart collection membership is not simulated",)


def assert_clean(run: Run):
    r = run.result
    assert r["violations"] == [], r["violations"]
    assert r["errors"] == [], r["errors"]
    plugin_warnings = [w for w in r["warnings"]
                       if not (w["where"] == "?" and w["message"].startswith(LRSIM_OWN_WARNINGS))]
    assert plugin_warnings == [], plugin_warnings
    assert run.returncode == 0, run.stderr[-3000:]


def prefs_for(d: Daemon, **extra):
    p = {"daemonUrl": d.url, "tokenFile": str(d.token_file), "autoStart": False}
    p.update(extra)
    return p


def messages(run: Run, type_="message"):
    return [d for d in run.result["dialogs"] if d["type"] == type_]


def marks(p):
    return (p["rating"], p["colorNameForLabel"], p["pickStatus"], p["label"])


def files(folder, pattern="*", n=None):
    found = sorted((DATA / folder).glob(pattern))
    return [str(f.resolve()) for f in found[:n]]


# ------------------------------------------------------------------ catalogs

# Photos the photographer already marked: these marks must survive (overwrite is off).
USER_MARKS = {
    "U-STAR4": {"rating": 4},
    "U-RED": {"colorNameForLabel": "red"},
    "U-PICK": {"pickStatus": 1},
    "U-TEXT": {"label": "Client pick"},  # a custom label text (no colour)
}


def main_catalog(tmp: Path):
    paths = (files("near_duplicates/ukbench_simbench", "*.jpg")                        # a group of 4
             + files("near_duplicates/imagededup_testdata", "ukbench00120*.jpg", 3)    # duplicates
             + files("yale_faces/sleepy", "*.gif", 2)                                   # closed eyes
             + files("yale_faces/normal", "*.gif", 2))
    assert len(paths) == 11
    photos = [{"uuid": f"P{i:02d}", "path": p, "captureTime": 1746100000 + i} for i, p in enumerate(paths)]
    for (uuid, m), photo in zip(USER_MARKS.items(), (photos[1], photos[5], photos[7], photos[9])):
        photo["uuid"] = uuid
        photo.update(m)
    # the original is offline: the plug-in must send Lightroom's preview instead
    photos.append({"uuid": "P-OFFLINE", "path": "/Volumes/Card/DCIM/IMG_4242.CR3", "fileFormat": "RAW",
                   "preview": files("near_duplicates/imagededup_testdata", "ukbench09012.jpg")[0]})
    # a file no decoder opens: counted and listed, never silently skipped
    bad = tmp / "IMG_BROKEN.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 this is not really a JPEG" + bytes(range(256)) * 4)
    photos.append({"uuid": "P-BROKEN", "path": str(bad)})
    # a virtual copy shares its master's file: not sent (it would pair up with its master)
    photos.append({"uuid": "P-VC", "path": photos[0]["path"], "isVirtualCopy": True})
    return {"photos": photos}


# ------------------------------------------------------------------ tests

def test_auto_cull_selected_apply_flags_and_clear(daemon, tmp_path):
    catalog = main_catalog(tmp_path)
    before = {p["uuid"]: p for p in catalog["photos"]}
    run = lrsim(tmp_path, catalog, "menu", "Auto-Cull Selected", "--select", "all",
                prefs=prefs_for(daemon, writeChunk=5), name="cull")
    assert_clean(run)

    # exactly one job; every photo of the catalog was in it and came back
    jobs = run.job_ids()
    assert len(jobs) == 1, jobs
    job = daemon.job(jobs[0])
    assert job["state"] == "done"
    results = {r["id"]: r for r in job["results"]}
    assert set(results) == set(before) - {"P-VC"}, "every photo must be sent, offline original included"

    written = 0
    for uuid, r in results.items():
        p = run.photos[uuid]
        props = p["pluginProperties"]
        if not r["ok"]:
            continue
        assert props["verdict"] == r["verdict"], uuid
        if uuid in USER_MARKS:
            # her marks survive, her verdict is still recorded
            assert marks(p) == marks(lrsim_photo_defaults(before[uuid])), uuid
            assert props["cullStatus"] == "kept marks"
        else:
            assert props["cullStatus"] == "culled"
            assert p["rating"] == r["rating"], (uuid, r)
            assert p["colorNameForLabel"] == (r["label"] or "none"), (uuid, r)
            assert p["pickStatus"] == FLAG[r["flag"]], (uuid, r)
            written += r["rating"] is not None
    assert written >= 5, "the daemon's verdicts must show up as stars on the catalog"
    verdicts = {r["verdict"] for r in results.values() if r["ok"]}
    assert {"keeper", "reject"} <= verdicts

    # the offline photo was judged from Lightroom's preview, and says so
    assert run.photos["P-OFFLINE"]["pluginProperties"]["judgedFrom"] == "preview"
    assert results["P-OFFLINE"]["ok"]
    # the broken file is an error, counted and listed, with no marks
    broken = run.photos["P-BROKEN"]
    assert not results["P-BROKEN"]["ok"]
    assert broken["pluginProperties"]["cullStatus"] == "error"
    assert "IMG_BROKEN.jpg" in broken["pluginProperties"]["cullError"]
    assert marks(broken) == (None, "none", 0, None)

    # one named action in chunked write blocks (13 photos, 5 per block)
    steps = run.result["undoSteps"]
    assert [s["name"] for s in steps] == ["Auto-Cull"] * math.ceil(13 / 5)

    # the closing summary
    (summary,) = messages(run)
    assert summary["message"] == "Auto-Cull finished"
    n_keep = sum(r["verdict"] == "keeper" for r in results.values() if r["ok"])
    n_rej = sum(r["verdict"] == "reject" for r in results.values() if r["ok"])
    assert f"Keepers: {n_keep}\n" in summary["info"]
    assert f"Rejects: {n_rej} (" in summary["info"]
    assert "Errors: 1 photo could not be analysed" in summary["info"]
    assert "IMG_BROKEN.jpg" in summary["info"]
    assert "IMG_4242.CR3" in summary["info"]  # judged from a preview
    assert "kept on 4 photos" in summary["info"]
    assert "Virtual copies skipped (their master photo is culled): 1" in summary["info"]
    assert run.photos["P-VC"]["pluginProperties"] == {}
    (progress,) = run.result["progress"]
    assert progress["done"] and not progress["canceled"] and progress["updates"] >= 2

    # ---- Apply Auto-Cull Flags: stored verdicts, new mapping, no analysis
    new_map = {"map_keeper_rating": 1, "map_keeper_color": "purple", "map_keeper_flag": "leave"}
    applied = lrsim(tmp_path, run.out_path, "menu", "Apply Auto-Cull Flags", "--select", "all",
                    prefs=prefs_for(daemon, **new_map), name="apply")
    assert_clean(applied)
    assert applied.http_lines() == [], "Apply Auto-Cull Flags must not analyse again"
    assert {s["name"] for s in applied.result["undoSteps"]} == {"Apply Auto-Cull Flags"}
    changed = 0
    for uuid, r in results.items():
        p, old = applied.photos[uuid], run.photos[uuid]
        if uuid in USER_MARKS or not r["ok"]:
            assert marks(p) == marks(old), uuid
        elif r["verdict"] == "keeper":
            assert (p["rating"], p["colorNameForLabel"], p["pickStatus"]) == (1, "purple", 0), uuid
            changed += 1
        else:
            assert marks(p) == marks(old), uuid
    assert changed == sum(r["verdict"] == "keeper" for u, r in results.items() if r["ok"] and u not in USER_MARKS) > 0

    # ---- Clear Auto-Cull Marks restores exactly what was there (after cull + apply)
    cleared = lrsim(tmp_path, applied.out_path, "menu", "Clear Auto-Cull Marks", "--select", "all",
                    prefs=prefs_for(daemon), name="clear")
    assert_clean(cleared)
    assert cleared.http_lines() == []
    for uuid, b in before.items():
        p = cleared.photos[uuid]
        assert marks(p) == marks(lrsim_photo_defaults(b)), uuid
        assert p["pluginProperties"] == {}, uuid
    assert {s["name"] for s in cleared.result["undoSteps"]} == {"Clear Auto-Cull Marks"}
    assert len(cleared.result["undoSteps"]) <= math.ceil(13 / 5)


def lrsim_photo_defaults(spec):
    """The marks lrsim gives a catalog photo spec (label text follows the colour)."""
    color = spec.get("colorNameForLabel", "none")
    label = spec.get("label") or {"red": "Red", "yellow": "Yellow", "green": "Green", "blue": "Blue",
                                  "purple": "Purple"}.get(color)
    if spec.get("label"):
        color = "none"
    return {"rating": spec.get("rating"), "colorNameForLabel": color, "pickStatus": spec.get("pickStatus", 0),
            "label": label}


def test_nothing_selected_says_so_instead_of_culling_the_filmstrip(daemon, tmp_path):
    catalog = {"photos": [{"uuid": "A", "path": files("near_duplicates/ukbench_simbench", "*.jpg", 1)[0]}]}
    run = lrsim(tmp_path, catalog, "menu", "Auto-Cull Selected", "--select", "none", prefs=prefs_for(daemon))
    assert_clean(run)
    (msg,) = messages(run)
    assert "no photos selected" in msg["message"]
    assert run.result["undoSteps"] == []
    assert run.http_lines() == []
    assert run.photos["A"]["pluginProperties"] == {}


def test_cancel_mid_job_writes_nothing_for_unfinished_photos(daemon, tmp_path):
    # The first 20 photos are in the daemon's cache (they come back at once), the other ~80 are new
    # to it and take seconds: the user's cancel (at the 3rd progress update, < 1 s in) lands mid-job.
    conditions = ("centerlight", "glasses", "happy", "leftlight", "rightlight", "noglasses", "sad", "surprised", "wink")
    paths = [p for c in conditions for p in files(f"yale_faces/{c}", "*.gif")]
    cached = paths[:20]
    assert daemon.analyse(cached)["state"] == "done"
    catalog = {"photos": [{"uuid": f"C{i:02d}", "path": p} for i, p in enumerate(paths)]}
    run = lrsim(tmp_path, catalog, "menu", "Auto-Cull Selected", "--select", "all", "--cancel-after", "3",
                prefs=prefs_for(daemon))
    assert_clean(run)
    (job_id,) = run.job_ids()
    assert re.search(rf"DELETE \S+/v1/jobs/{job_id} -> 200", run.log), "the plug-in must cancel the job"
    job = daemon.job(job_id)
    finished = {r["id"] for r in job.get("results") or []}
    print(f"cancelled job: state {job['state']}, {len(finished)} of {len(paths)} finished")
    assert len(finished) < len(paths), "the cancel came after the job ended: the test proves nothing"
    assert {f"C{i:02d}" for i in range(len(cached))} <= finished
    for uuid, p in run.photos.items():
        if uuid in finished:
            assert p["pluginProperties"].get("cullStatus") in ("culled", "error"), uuid
        else:
            assert p["pluginProperties"] == {}, uuid
            assert marks(p) == (None, "none", 0, None), uuid
    (summary,) = messages(run)
    assert summary["message"] == "Auto-Cull cancelled"
    assert f"{len(paths) - len(finished)} photos not analysed: nothing was written to them" in summary["info"]
    (progress,) = run.result["progress"]
    assert progress["canceled"] and progress["done"]
    assert {s["name"] for s in run.result["undoSteps"]} <= {"Auto-Cull"}
    assert len(run.result["undoSteps"]) == (1 if finished else 0)


def test_dead_daemon_gives_a_clear_dialog(tmp_path):
    port = free_port()  # nothing listens there
    catalog = {"photos": [{"uuid": "A", "path": files("near_duplicates/ukbench_simbench", "*.jpg", 1)[0]}]}
    cases = {
        "not-running": ({"autoStart": False}, f"not running at http://127.0.0.1:{port}"),
        "no-launcher": ({"autoStart": True, "launcherPath": ""}, "Plug-in Manager"),
        "bad-launcher": ({"autoStart": True, "launcherPath": str(tmp_path / "no" / "python")}, "does not exist"),
    }
    for name, (extra, expected) in cases.items():
        run = lrsim(tmp_path, catalog, "menu", "Auto-Cull Selected", "--select", "all", name=name,
                    prefs={"daemonUrl": f"http://127.0.0.1:{port}", "tokenFile": str(tmp_path / "token"), **extra})
        assert_clean(run)
        (msg,) = messages(run)
        assert msg["message"] == "Auto-Cull could not run"
        assert msg["style"] == "critical"
        assert expected in msg["info"], (name, msg["info"])
        assert run.result["undoSteps"] == []
        assert run.photos["A"]["pluginProperties"] == {}
        assert run.result["progress"][0]["done"]


def test_plugin_starts_the_daemon_when_it_is_down(tmp_path):
    """Lifecycle: /health fails, the plug-in starts the backend by absolute path, detached, waits
    for /health, checks the version and reads the token the daemon wrote."""
    config, cache = tmp_path / "config", tmp_path / "cache"
    port = free_port()
    env = dict(os.environ, AUTOCULL_CONFIG_DIR=str(config), AUTOCULL_CACHE_DIR=str(cache))
    catalog = {"photos": [{"uuid": f"S{i}", "path": p}
                          for i, p in enumerate(files("near_duplicates/ukbench_simbench", "*.jpg"))]}
    try:
        run = lrsim(tmp_path, catalog, "menu", "Auto-Cull Selected", "--select", "all", env=env, new_session=True,
                    prefs={"daemonUrl": f"http://127.0.0.1:{port}", "autoStart": True, "jobSize": 2,
                           "launcherPath": sys.executable, "tokenFile": str(config / "token")})
        assert_clean(run)
        assert len(run.job_ids()) == 2, "4 photos at 2 per job (selections over the service's limit are split)"
        assert re.search(rf"execute\s+nohup '{re.escape(sys.executable)}' -m autocull serve --port {port} .*&",
                         run.log), "the plug-in must start the backend detached, by absolute path"
        assert (config / "token").exists()
        health = http("GET", f"http://127.0.0.1:{port}/health")
        assert health["name"] == "autocull"
        (summary,) = messages(run)
        assert summary["message"] == "Auto-Cull finished", summary
        assert all(p["pluginProperties"].get("cullStatus") in ("culled", "kept marks") for p in run.photos.values())
    finally:
        # the daemon the plug-in started lives in lrsim's (new) session: end that whole group
        for line in subprocess.run(["ps", "-eo", "pid,pgid,args"], capture_output=True, text=True).stdout.splitlines():
            parts = line.split(None, 2)
            if len(parts) == 3 and f"--port {port}" in parts[2] and "autocull" in parts[2]:
                kill_group(int(parts[1]))


def test_import_watcher_culls_newly_imported_photos(daemon, tmp_path):
    old = files("near_duplicates/imagededup_testdata", "ukbench0*.jpg")
    catalog = {"photos": [{"uuid": "OLD-1", "path": old[0]},                  # there before: not touched
                          {"uuid": "OLD-2", "path": old[1], "rating": 5}]}
    new = files("near_duplicates/imagededup_testdata", "ukbench09*.jpg", 3) + files("yale_faces/sleepy", "*.gif", 1)
    run = lrsim(tmp_path, catalog, "import", *new, "--clock", "virtual", "--import-at", "30", "--run-for", "3000",
                prefs=prefs_for(daemon, watchImports=True), name="watch")
    assert_clean(run)
    assert run.result["status"] == "deadline"  # the loop keeps watching
    imported = [p for p in run.photos.values() if p["imported"]]
    assert len(imported) == 4
    (job_id,) = run.job_ids()
    results = {r["id"]: r for r in daemon.job(job_id)["results"]}
    assert set(results) == {p["uuid"] for p in imported}
    for p in imported:
        r = results[p["uuid"]]
        assert p["pluginProperties"]["verdict"] == r["verdict"]
        assert (p["rating"], p["colorNameForLabel"], p["pickStatus"]) == (r["rating"], r["label"] or "none",
                                                                           FLAG[r["flag"]])
    for uuid in ("OLD-1", "OLD-2"):
        assert run.photos[uuid]["pluginProperties"] == {}
    assert run.photos["OLD-2"]["rating"] == 5
    assert run.result["dialogs"] == [], "no dialogs or bezels from the background loop"
    assert [s["name"] for s in run.result["undoSteps"]] == ["Auto-Cull"]
    # cheap polls: the job's status and results, nothing else, and only after the import settled
    first_job = min(float(m) for m in re.findall(r"\[\s*([\d.]+)\] http\s+POST", run.log))
    assert first_job >= 30 + 20


def test_import_watcher_is_off_by_default(tmp_path):
    catalog = {"photos": [{"uuid": "OLD-1", "path": files("near_duplicates/ukbench_simbench", "*.jpg", 1)[0]}]}
    new = files("near_duplicates/imagededup_testdata", "ukbench09*.jpg", 2)
    run = lrsim(tmp_path, catalog, "import", *new, "--clock", "virtual", "--run-for", "600",
                prefs={"daemonUrl": f"http://127.0.0.1:{free_port()}"}, name="off")
    assert_clean(run)
    assert run.http_lines() == []
    assert all(p["pluginProperties"] == {} for p in run.photos.values())
    assert run.result["status"] == "done"  # no background task was started


def test_daemon_dying_mid_job_is_reported_and_finished_photos_kept(tmp_path):
    """The daemon is killed mid-job: the plug-in reports it and writes the photos whose results it
    had already fetched (a snapshot of the running job every `snapshotSeconds`)."""
    import threading

    d = Daemon(tmp_path / "dying")
    paths = files("yale_faces", "*/*.gif")  # ~120 photos new to this daemon: seconds of work
    cached = paths[:15]  # in the daemon's cache: finished at once
    assert d.analyse(cached)["state"] == "done"
    catalog = {"photos": [{"uuid": f"D{i:02d}", "path": p} for i, p in enumerate(paths)]}
    cat = tmp_path / "dying.json"
    cat.write_text(json.dumps(catalog))
    killer = threading.Timer(1.5, d.stop)
    try:
        killer.start()
        run = lrsim(tmp_path, cat, "menu", "Auto-Cull Selected", "--select", "all",
                    prefs=prefs_for(d, snapshotSeconds=0.5), name="dying")
    finally:
        killer.join()
        d.stop()
    assert_clean(run)
    (summary,) = messages(run)
    assert summary["message"] == "Auto-Cull stopped early"
    assert "stopped responding" in summary["info"]
    kept = {u for u, p in run.photos.items() if p["pluginProperties"].get("cullStatus")}
    assert {f"D{i:02d}" for i in range(len(cached))} <= kept, "photos finished before the daemon died are kept"
    assert len(kept) < len(paths)
    assert f"{len(paths) - len(kept)} photos not analysed: nothing was written to them" in summary["info"]
    for u, p in run.photos.items():
        if u not in kept:
            assert p["pluginProperties"] == {} and marks(p) == (None, "none", 0, None), u


def test_create_smart_collections_once(tmp_path):
    catalog = {"photos": [{"uuid": "A", "path": files("near_duplicates/ukbench_simbench", "*.jpg", 1)[0]}]}
    first = lrsim(tmp_path, catalog, "menu", "Create AutoCull Smart Collections", name="coll1")
    assert_clean(first)
    names = {c["name"]: c for c in first.result["collections"]}
    assert names["AutoCull"]["type"] == "set"
    expected = {"Rejects", "Keepers", "Closed eyes", "Blurry", "Bursts", "Not readable"}
    assert {n for n, c in names.items() if c["type"] == "smart" and c["parent"] == "AutoCull"} == expected
    assert [s["name"] for s in first.result["undoSteps"]] == ["Create AutoCull Collections"]
    # asking again reuses them
    again = lrsim(tmp_path, first.out_path, "menu", "Create AutoCull Smart Collections", name="coll2")
    assert_clean(again)
    assert len(again.result["collections"]) == len(first.result["collections"]) == 7


def test_wrong_token_is_explained(daemon, tmp_path):
    bad = tmp_path / "token"
    bad.write_text("not-the-token\n")
    catalog = {"photos": [{"uuid": "A", "path": files("near_duplicates/ukbench_simbench", "*.jpg", 1)[0]}]}
    run = lrsim(tmp_path, catalog, "menu", "Auto-Cull Selected", "--select", "all",
                prefs=prefs_for(daemon, tokenFile=str(bad)))
    assert_clean(run)
    (msg,) = messages(run)
    assert msg["message"] == "Auto-Cull could not run"
    assert f"refused the token in {bad}" in msg["info"]
    assert run.result["undoSteps"] == []
    assert re.search(r"POST \S+/v1/jobs -> 401", run.log)


def test_overwrite_setting_then_clear_restores_her_marks(daemon, tmp_path):
    """With "overwrite" on, marks she set are replaced (4 and 5 stars excepted); Clear Auto-Cull Marks
    puts back exactly what she had, custom label text included."""
    catalog = main_catalog(tmp_path)
    catalog["photos"] = [p for p in catalog["photos"] if p["uuid"] in USER_MARKS]
    before = {p["uuid"]: lrsim_photo_defaults(p) for p in catalog["photos"]}
    run = lrsim(tmp_path, catalog, "menu", "Auto-Cull Selected", "--select", "all",
                prefs=prefs_for(daemon, overwrite=True), name="over")
    assert_clean(run)
    (job_id,) = run.job_ids()
    results = {r["id"]: r for r in daemon.job(job_id)["results"]}
    marked = 0
    for uuid, r in results.items():
        p = run.photos[uuid]
        assert p["pluginProperties"]["cullStatus"] == "culled"
        if uuid == "U-STAR4":
            assert p["rating"] == 4, "4 and 5 stars stay hers even with overwrite on"
        elif r["rating"] is not None:
            assert p["rating"] == r["rating"]
            marked += 1
        if r["label"]:
            assert p["colorNameForLabel"] == r["label"]
    assert marked >= 1
    cleared = lrsim(tmp_path, run.out_path, "menu", "Clear Auto-Cull Marks", "--select", "all",
                    prefs=prefs_for(daemon), name="over-clear")
    assert_clean(cleared)
    for uuid, b in before.items():
        assert marks(cleared.photos[uuid]) == marks(b), uuid
        assert cleared.photos[uuid]["pluginProperties"] == {}
