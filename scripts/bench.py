"""AutoCull benchmark: a shoot of N 24-megapixel photos through ``autocull analyze`` and a daemon job,
against the floor of merely decoding the same files.

    python scripts/bench.py --n 200            # what `make bench` runs
    python scripts/bench.py --n 10 --keep      # small, and keep the generated shoot for a rerun

1. Generates (or reuses, when a previous ``--keep`` left it) a shoot under ``bench_out/``: N photos of
   6000x4000, half JPEG (quality 90), half DNG (Bayer CFA in 16-bit samples, 48 MB, + an embedded
   JPEG preview of 1620-2000 px), each an 8x8 grid of the real photos in scikit-image's data module
   (cropped, upscaled 1.2-1.7x, sharpened, with fine texture and sensor noise; a third of the frames
   show one face); singles, blurred frames (defocus, camera shake) and bursts of 3-5 frames
   0.2-0.5 s apart (shifted, rotated, all but one softer), with real EXIF.
2. Decode floor: ``autocull.decode.load`` of every file (the scales the analysis uses: for a JPEG
   one decode at the detail analysers' scale, the analysis image reduced from it), in this
   process one by one (per-photo times) and across the same number of worker processes as
   ``analyze`` (wall time once the workers are up); the faster of the two is the floor that
   ``analyze`` and the daemon are divided by. The files are in the page cache for every part,
   having just been written or read.
3. ``autocull analyze --jsonl --no-cache`` in a subprocess (default workers): photos/s, wall time,
   peak RSS of its process tree.
4. A daemon job: ``python -m autocull serve --port <free>`` with config and cache in a temp dir,
   POST /v1/jobs, poll GET /v1/jobs/<id>?results=0, GET the results; photos/s, peak RSS; then the
   same job again (served from the cache).
5. Per-photo latency: ``autocull.pipeline.analyse_one`` in this process over a sample, with its
   per-step timings (decode, faces, eyes, sharpness, exposure, encode) — median and p95, against
   the per-step budgets (sharpness <= 15 ms; faces + eyes <= 40 ms with one face).
   Then 8 portrait-framed JPEGs of the same size (one large face, as a portrait has it): faces + eyes.
6. Grouping: ``training/groups/bench_grouping.bench(n)`` when present.

Prints a summary and writes it as JSON to ``bench_out/bench.json``. No timing is asserted. The
generated shoot is deleted at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import multiprocessing as mp
import os
import platform
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

GEN_VERSION = 6
WIDTH, HEIGHT = 6000, 4000
SCENES = ("astronaut", "coffee", "chelsea", "rocket", "motorcycle_left", "motorcycle_right")
GRID_COLS, GRID_ROWS = 8, 8        # a frame is a grid of real photos, each upscaled only 1.2-1.7x
BUDGETS_MS = {"sharpness": 15.0, "faces+eyes (one face)": 40.0}


def log(msg: str = "") -> None:
    print(msg, file=sys.stderr, flush=True)


# ====================================================================== generation

def shoot_plan(n: int, seed: int, size: tuple[int, int] = (WIDTH, HEIGHT)) -> list[dict]:
    """The N photos: layout, blur, burst jitter, file type, capture time (deterministic).

    A 24 MP frame is a grid of GRID_COLS x GRID_ROWS tiles, each a crop of one of the real photos
    upscaled only 1.2-1.7x (a single 500-700 px photo blown up to 6000 px would be soft at 100 %, so
    every frame would look blurry). About a third of the frames have the astronaut in one tile:
    one face. Frames of a burst share the layout, with a small shift/rotation and softer focus in
    all but one."""
    rng = np.random.default_rng(seed)
    plan: list[dict] = []
    t = datetime(2026, 6, 1, 10, 0, 0)
    counts = {"jpg": 0, "dng": 0}
    others = [s for s in SCENES if s != "astronaut"]
    while len(plan) < n:
        ext = "jpg" if counts["jpg"] <= counts["dng"] else "dng"
        tiles = [(str(rng.choice(others)), float(rng.uniform(1.2, 1.6)), float(rng.uniform(0, 1)),
                  float(rng.uniform(0, 1))) for _ in range(GRID_COLS * GRID_ROWS)]
        portrait = bool(rng.random() < 0.33)
        if portrait:
            tiles[int(rng.integers(0, len(tiles)))] = ("astronaut", float(rng.uniform(1.5, 1.7)), 0.5, 0.0)
        t += timedelta(seconds=float(rng.uniform(4, 60)))
        kind = rng.choice(["single", "blurred", "burst"], p=[0.5, 0.15, 0.35])
        if kind == "burst":
            nframes = int(rng.integers(3, 6))
            best = int(rng.integers(0, nframes))
            frames = []
            for i in range(nframes):
                if i:
                    t += timedelta(seconds=float(rng.uniform(0.2, 0.5)))
                blur = None if i == best else _random_blur(rng, mild=True)
                frames.append(dict(blur=blur, jitter=(float(rng.normal(0, 12)), float(rng.normal(0, 8)),
                                                      float(rng.normal(0, 0.6))), when=t))
        else:
            frames = [dict(blur=_random_blur(rng) if kind == "blurred" else None, jitter=None, when=t)]
            nframes = 1
        for f in frames:
            if len(plan) >= n:
                break
            f["when"] = f["when"].isoformat(timespec="milliseconds")
            plan.append(dict(index=len(plan), name=f"BENCH_{len(plan) + 1:04d}.{ext}", ext=ext,
                             size=list(size), tiles=tiles, faces=int(portrait), kind=str(kind), burst_size=nframes,
                             preview_side=int(rng.integers(1620, 2001)) if ext == "dng" else None,
                             seed=int(rng.integers(0, 2 ** 31)), **f))
            counts[ext] += 1
    return plan


def _random_blur(rng, mild: bool = False):
    """(kind, size in full-resolution pixels, angle): defocus radius or motion length."""
    if rng.random() < 0.5:
        return ("defocus", float(rng.uniform(4, 8) if mild else rng.uniform(12, 24)), 0.0)
    return ("motion", float(rng.uniform(8, 16) if mild else rng.uniform(24, 48)), float(rng.uniform(0, 180)))


_SOURCES: dict | None = None
_TEXTURE: np.ndarray | None = None
_NOISE: np.ndarray | None = None


def _assets():
    """Source photos, a fine-detail texture tile and a noise tile (loaded once per process)."""
    global _SOURCES, _TEXTURE, _NOISE
    if _SOURCES is None:
        import cv2
        from skimage import data

        left, right, _ = data.stereo_motorcycle()
        _SOURCES = {"astronaut": data.astronaut(), "coffee": data.coffee(), "chelsea": data.chelsea(),
                    "rocket": data.rocket(), "motorcycle_left": left, "motorcycle_right": right}
        g = data.gravel().astype(np.float32)
        hp = g - cv2.GaussianBlur(g, (0, 0), 2)
        _TEXTURE = np.clip(hp / (hp.std() + 1e-6) * 2.0, -8, 8).astype(np.int16)    # +-2 levels typical
        rng = np.random.default_rng(12345)
        _NOISE = np.clip(rng.normal(0, 3.0, (1024, 1024, 3)), -12, 12).astype(np.int16)
    return _SOURCES, _TEXTURE, _NOISE


def _tile(tile: np.ndarray, h: int, w: int, dy: int, dx: int) -> np.ndarray:
    reps = (-(-(h + dy) // tile.shape[0]), -(-(w + dx) // tile.shape[1])) + (1,) * (tile.ndim - 2)
    return np.tile(tile, reps)[dy:dy + h, dx:dx + w]


def render(spec: dict) -> np.ndarray:
    """One 6000x4000 RGB uint8 frame."""
    import cv2

    from make_sample_shoot import defocus, jitter, motion

    src, texture, noise = _assets()
    rng = np.random.default_rng(spec["seed"])
    width, height = spec.get("size") or (WIDTH, HEIGHT)
    tw, th = width // GRID_COLS, height // GRID_ROWS
    width, height = tw * GRID_COLS, th * GRID_ROWS
    aspect = tw / th
    frame = np.empty((height, width, 3), np.uint8)
    blur = spec.get("blur")
    for k, (scene, up, fx, fy) in enumerate(spec["tiles"]):
        img = src[scene]
        h, w = img.shape[:2]
        cwid = int(min(tw / up, w, h * aspect))      # upscaled by `up`, or a little more for a small source
        ch = int(cwid / aspect)
        x0, y0 = int((w - cwid) * fx), int((h - ch) * fy)
        crop = img[y0:y0 + ch, x0:x0 + cwid]
        scale = tw / cwid
        if spec.get("jitter"):
            dx, dy, ang = spec["jitter"]
            crop = jitter(crop, dx / scale, dy / scale, ang)
        big = cv2.resize(crop, (tw, th), interpolation=cv2.INTER_CUBIC)
        soft = cv2.GaussianBlur(big, (0, 0), 1.5)
        big = cv2.addWeighted(big, 1.6, soft, -0.6, 0)                     # crisp, not smeared
        r, c = divmod(k, GRID_COLS)
        frame[r * th:(r + 1) * th, c * tw:(c + 1) * tw] = big
    if blur:
        # over the whole frame, so tile seams blur too; at half size (same blur, a quarter of the work)
        half = cv2.resize(frame, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        if blur[0] == "defocus":
            half = defocus(half, max(1.0, blur[1] / 2))
        else:
            half = motion(half, max(2, int(round(blur[1] / 2))), blur[2])
        frame = cv2.resize(half, (width, height), interpolation=cv2.INTER_LINEAR)
    full = frame.astype(np.int16)
    if not blur:     # fine detail only survives in a sharp frame
        full += _tile(texture, height, width, int(rng.integers(0, 512)), int(rng.integers(0, 512)))[..., None]
    full += _tile(noise, height, width, int(rng.integers(0, 1024)), int(rng.integers(0, 1024)))
    return np.clip(full, 0, 255).astype(np.uint8)


def _exif_bytes(when: datetime, exposure_time: float, f_number: float, iso: int) -> bytes:
    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    def rat(x, lim=100000):
        f = Fraction(x).limit_denominator(lim)
        return IFDRational(f.numerator, f.denominator)

    exif = Image.Exif()
    exif[0x010F] = "AutoCull"
    exif[0x0110] = "Bench Camera"
    exif[0x0112] = 1
    ifd = exif.get_ifd(0x8769)
    ifd[0x9003] = when.strftime("%Y:%m:%d %H:%M:%S")
    ifd[0x9291] = f"{when.microsecond // 1000:03d}"
    ifd[0x9204] = rat(0.0, 100)
    ifd[0x829A] = rat(exposure_time)
    ifd[0x829D] = rat(f_number, 100)
    ifd[0x8827] = iso
    return exif.tobytes()


def _jpeg_with_exif(img: np.ndarray, when: datetime, shutter: float) -> bytes:
    """RGB uint8 -> JPEG q90 bytes with an EXIF APP1 (capture time, shutter, f/2.8, ISO 400)."""
    import simplejpeg

    jpg = simplejpeg.encode_jpeg(img, quality=90, colorspace="RGB", colorsubsampling="420")
    payload = _exif_bytes(when, shutter, 2.8, 400)
    return jpg[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + jpg[2:]


def write_one(spec: dict, outdir: str, raw_bits: int) -> tuple[str, int]:
    """Render and write one photo; returns (name, bytes)."""
    from dngwriter import write_dng

    img = render(spec)
    when = datetime.fromisoformat(spec["when"])
    path = Path(outdir) / spec["name"]
    tmp = path.with_name(path.name + ".tmp")
    # a burst keeps one exposure; only a lone shaken frame was shot slow
    shutter = 1 / 15 if spec["kind"] == "blurred" and spec["blur"][0] == "motion" else 1 / 250
    if spec["ext"] == "jpg":
        tmp.write_bytes(_jpeg_with_exif(img, when, shutter))
    else:
        write_dng(tmp, img, preview_side=spec["preview_side"], bits=raw_bits, make="AutoCull",
                  model="Bench Camera", capture_time=when, exposure_time=shutter, f_number=2.8, iso=400,
                  exposure_bias=0.0)
    os.replace(tmp, path)
    return spec["name"], path.stat().st_size


def estimate_bytes(plan: list[dict], raw_bits: int) -> int:
    def one(p):
        w, h = p["size"]
        return w * h * (1 if raw_bits == 8 else 2) + 1_000_000 if p["ext"] == "dng" else w * h // 2
    return sum(one(p) for p in plan)


def generate(outdir: Path, n: int, seed: int, raw_bits: int, workers: int,
             size: tuple[int, int] = (WIDTH, HEIGHT)) -> tuple[list[Path], float, bool]:
    """Create (or reuse) the shoot; returns (paths, seconds spent, reused). workers <= 1: in-process."""
    plan = shoot_plan(n, seed, size)
    manifest = outdir / "manifest.json"
    key = dict(version=GEN_VERSION, n=n, seed=seed, raw_bits=raw_bits, size=list(size))
    paths = [outdir / p["name"] for p in plan]
    try:
        m = json.loads(manifest.read_text())
        if m.get("key") == key and all((outdir / f).stat().st_size == b for f, b in m["files"].items()):
            return paths, 0.0, True
    except (OSError, ValueError, KeyError):
        pass
    if outdir.exists():
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)
    need = estimate_bytes(plan, raw_bits)
    free = shutil.disk_usage(outdir).free
    if need > free * 0.8:
        raise SystemExit(f"bench: the shoot needs about {need / 1e9:.1f} GB but {outdir} has "
                         f"{free / 1e9:.1f} GB free: use a smaller --n, --raw-bits 8 or another --out")
    log(f"generating {n} photos of {size[0]}x{size[1]} in {outdir} (about {need / 1e9:.1f} GB, {workers} workers)...")
    t0 = time.perf_counter()
    files = {}

    def note(i):
        if i % 10 == 0 or i == len(plan):
            log(f"  {i}/{len(plan)} written ({time.perf_counter() - t0:.0f} s)")

    if workers <= 1:
        for i, p in enumerate(plan, 1):
            name, nbytes = write_one(p, str(outdir), raw_bits)
            files[name] = nbytes
            note(i)
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
            futs = [pool.submit(write_one, p, str(outdir), raw_bits) for p in plan]
            for i, f in enumerate(futs, 1):
                name, nbytes = f.result()
                files[name] = nbytes
                note(i)
    manifest.write_text(json.dumps(dict(key=key, files=files, plan=plan), indent=0))
    return paths, time.perf_counter() - t0, False


# ====================================================================== measuring

def stats_ms(values) -> dict:
    v = np.asarray([x for x in values if x is not None], dtype=np.float64)
    if not v.size:
        return {"n": 0, "median": None, "p95": None, "mean": None}
    return {"n": int(v.size), "median": round(float(np.median(v)), 2),
            "p95": round(float(np.percentile(v, 95)), 2), "mean": round(float(v.mean()), 2)}


class TreeRss:
    """Samples the summed RSS of a process and its descendants (Linux /proc) every 0.1 s."""

    def __init__(self, pid: int):
        self.pid, self.peak_total, self.peak_single = pid, 0, 0
        self.supported = Path("/proc/self/stat").exists()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self):
        if self.supported:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self.supported:
            self._thread.join(2)

    def _tree(self) -> list[int]:
        parent = {}
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    stat = Path(f"/proc/{d}/stat").read_text()
                    parent[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    pass
        out, todo = [], [self.pid]
        while todo:
            p = todo.pop()
            out.append(p)
            todo.extend(c for c, pp in parent.items() if pp == p)
        return out

    def sample(self):
        page = os.sysconf("SC_PAGE_SIZE")
        total = 0
        for p in self._tree():
            try:
                rss = int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page
            except (OSError, ValueError, IndexError):
                continue
            total += rss
            self.peak_single = max(self.peak_single, rss)
        self.peak_total = max(self.peak_total, total)

    def _loop(self):
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(0.1)

    def result(self) -> dict:
        if not self.supported:
            ru = __import__("resource").getrusage(__import__("resource").RUSAGE_CHILDREN).ru_maxrss
            mb = ru / (1024 * 1024) if sys.platform == "darwin" else ru / 1024
            return {"peak_rss_mb": None, "peak_single_process_rss_mb": round(mb, 1),
                    "note": "largest child process so far (getrusage); no /proc to sum the tree"}
        return {"peak_rss_mb": round(self.peak_total / 2 ** 20, 1),
                "peak_single_process_rss_mb": round(self.peak_single / 2 ** 20, 1)}


def _decode_init() -> None:
    import cv2, rawpy, simplejpeg  # noqa: F401,E401

    from autocull import decode  # noqa: F401


def _noop(_):
    time.sleep(0.05)


def _decode_one(path: str) -> float:
    from autocull import decode

    t0 = time.perf_counter()
    decode.load(path)
    return (time.perf_counter() - t0) * 1000


def decode_floor(paths: list[Path], workers: int) -> dict:
    from autocull import decode

    per = []
    sources = {}
    t0 = time.perf_counter()
    for p in paths:
        t1 = time.perf_counter()
        d = decode.load(p)
        per.append((time.perf_counter() - t1) * 1000)
        sources[d.source] = sources.get(d.source, 0) + 1
    seq = time.perf_counter() - t0
    out = {"sequential_s": round(seq, 2), "per_photo_ms": stats_ms(per),
           "per_photo_ms_jpeg": stats_ms(x for x, p in zip(per, paths) if p.suffix == ".jpg"),
           "per_photo_ms_dng": stats_ms(x for x, p in zip(per, paths) if p.suffix == ".dng"),
           "sources": sources, "workers": workers}
    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                             initializer=_decode_init) as pool:
        list(pool.map(_noop, range(workers * 4)))     # workers started and imports done: not timed
        t0 = time.perf_counter()
        list(pool.map(_decode_one, [str(p) for p in paths], chunksize=1))
        wall = time.perf_counter() - t0
    out.update(parallel_wall_s=round(wall, 2), parallel_photos_per_s=round(len(paths) / wall, 2))
    out["floor_s"] = round(min(seq, wall), 2)   # the faster way to merely decode them all
    out["floor_is"] = "sequential" if seq <= wall else f"{workers} workers"
    return out


def _env(tmp: Path) -> dict:
    env = dict(os.environ)
    env["AUTOCULL_CONFIG_DIR"] = str(tmp / "config")
    env["AUTOCULL_CACHE_DIR"] = str(tmp / "cache")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def run_analyze(shoot: Path, n: int, tmp: Path) -> dict:
    cmd = [sys.executable, "-m", "autocull", "analyze", "--jsonl", "--no-cache", "-q", str(shoot)]
    t0 = time.perf_counter()
    first = None
    records = []
    err_path = tmp / "analyze.stderr"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, env=_env(tmp), cwd=str(REPO))
        with TreeRss(proc.pid) as rss:
            for line in proc.stdout:
                if first is None:
                    first = time.perf_counter() - t0
                records.append(json.loads(line))
            rc = proc.wait()
    wall = time.perf_counter() - t0
    ok = sum(1 for r in records if r.get("ok"))
    out = {"cmd": " ".join(cmd[1:]), "exit_code": rc, "photos": len(records), "ok": ok, "wall_s": round(wall, 2),
           "photos_per_s": round(len(records) / wall, 2) if wall else None,
           "first_result_s": round(first, 2) if first else None, **rss.result(),
           "verdicts": _count(r.get("verdict") for r in records),
           "sources": _count(r.get("source") for r in records),
           "groups": len({r["group"]["id"] for r in records if r.get("group")})}
    if rc not in (0, 3) or len(records) != n:
        out["stderr_tail"] = err_path.read_text(errors="replace")[-2000:]
    errors = [r.get("error") for r in records if not r.get("ok")]
    if errors:
        out["errors"] = errors[:5]
    return out


def _loadavg():
    """1-minute load average (other work on the machine inflates every timing), or None."""
    try:
        return round(os.getloadavg()[0], 2)
    except (AttributeError, OSError):
        return None


def _count(values) -> dict:
    out = {}
    for v in values:
        out[str(v)] = out.get(str(v), 0) + 1
    return out


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _http(method: str, url: str, token: str | None = None, body=None, timeout: float = 60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    def parse(raw: bytes):
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return {"raw": raw[:500].decode("utf-8", "replace")}

    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, parse(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, parse(exc.read())


def _job(base: str, token: str, paths: list[Path], poll: float = 0.2) -> dict:
    photos = [{"id": f"p{i}", "path": str(p)} for i, p in enumerate(paths)]
    t0 = time.perf_counter()
    status, job = _http("POST", f"{base}/v1/jobs", token, {"photos": photos, "options": {}})
    if status != 202:
        raise RuntimeError(f"POST /v1/jobs -> {status}: {job}")
    jid = job["id"]
    first = None
    while True:
        status, snap = _http("GET", f"{base}/v1/jobs/{jid}?results=0", token)
        if status != 200:
            raise RuntimeError(f"GET /v1/jobs/{jid} -> {status}: {snap}")
        if first is None and snap.get("done"):
            first = time.perf_counter() - t0
        if snap["state"] in ("done", "cancelled", "failed"):
            break
        time.sleep(poll)
    done_s = time.perf_counter() - t0
    status, full = _http("GET", f"{base}/v1/jobs/{jid}", token)
    wall = time.perf_counter() - t0
    results = full.get("results") or []
    return {"state": snap["state"], "photos": len(results), "ok": sum(1 for r in results if r.get("ok")),
            "wall_s": round(wall, 2), "done_s": round(done_s, 2),
            "photos_per_s": round(len(paths) / wall, 2) if wall else None,
            "first_result_s": round(first, 2) if first else None, "groups": full.get("groups"),
            "verdicts": _count(r.get("verdict") for r in results)}


def run_daemon(paths: list[Path], tmp: Path) -> dict:
    port = _free_port()
    env = _env(tmp / "daemon")
    cmd = [sys.executable, "-m", "autocull", "serve", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    err_path = tmp / "daemon.stderr"
    with open(err_path, "wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env, cwd=str(REPO))
        try:
            with TreeRss(proc.pid) as rss:
                t0 = time.perf_counter()
                while True:
                    if proc.poll() is not None:
                        raise RuntimeError(f"daemon exited ({proc.returncode}): "
                                           f"{err_path.read_text(errors='replace')[-1500:]}")
                    try:
                        status, health = _http("GET", f"{base}/health", timeout=2)
                        if status == 200:
                            break
                    except (urllib.error.URLError, ConnectionError, socket.timeout):
                        pass
                    if time.perf_counter() - t0 > 90:
                        raise RuntimeError("daemon did not answer /health within 90 s")
                    time.sleep(0.2)
                startup = time.perf_counter() - t0
                token = (Path(env["AUTOCULL_CONFIG_DIR"]) / "token").read_text().strip()
                job = _job(base, token, paths)
                again = _job(base, token, paths)
            out = {"cmd": " ".join(cmd[1:]), "startup_s": round(startup, 2), "health": health, **job,
                   **rss.result(), "repeat_job_cached": {k: again[k] for k in ("wall_s", "photos_per_s", "ok")}}
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return out


def _one_face(rows: list[dict]) -> list[dict]:
    """The timed rows of photos where exactly one face was found."""
    return [r for r in rows if r["faces_n"] == 1 and "faces" in r and "eyes" in r]


def _faces_eyes_ms(rows) -> dict:
    return stats_ms(r["faces"] + r["eyes"] for r in rows)


def per_photo(paths: list[Path], sample: int, with_face: set[str] = frozenset()) -> dict:
    """analyse_one in this process over an even sample of JPEGs and DNGs (a third of it frames
    with a face, when there are some), after one warm-up call."""
    from autocull import pipeline

    pick = []
    for ext in (".jpg", ".dng"):
        group = [p for p in paths if p.suffix == ext]
        k = min(len(group), max(1, sample // 2))
        faces = [p for p in group if p.name in with_face]
        plain = [p for p in group if p.name not in with_face]
        kf = min(len(faces), max(1, k // 3) if faces else 0)
        for lst, m in ((faces, kf), (plain, k - kf)):
            m = min(m, len(lst))
            if m:
                pick += [lst[int(i)] for i in np.linspace(0, len(lst) - 1, m).round().astype(int)]
    pick = sorted(set(pick))
    if not pick:
        return {}
    t0 = time.perf_counter()
    warm = pipeline.analyse_one(pick[0])
    warmup_ms = (time.perf_counter() - t0) * 1000
    rows = []
    for p in pick:
        t1 = time.perf_counter()
        rec = pipeline.analyse_one(p)
        wall = (time.perf_counter() - t1) * 1000
        tm = rec.get("_timings") or {}
        nfaces = len(((rec.get("eyes") or {}).get("faces")) or [])
        rows.append(dict(path=p, ok=rec.get("ok"), error=rec.get("error"), wall=wall, faces_n=nfaces, **tm))
    # A JPEG is decoded once in the decode step, at the scale the detail analysers work at (1/2 for
    # these 6000 px frames); anything finer (a full decode, when a face's eyes need it) is decoded
    # lazily by the step that asks for it, and that step's timing carries the cost.
    from autocull import decode

    full_ms = []
    for p in pick:
        if p.suffix == ".jpg":
            d = decode.load(p)
            t1 = time.perf_counter()
            d.full()
            full_ms.append((time.perf_counter() - t1) * 1000)
    steps = ["decode", "faces", "eyes", "sharpness", "exposure", "encode"]
    one_face = _one_face(rows)
    out = {"sample": len(rows), "warmup_first_call_ms": round(warmup_ms, 1),
           "warmup_ok": bool(warm.get("ok")), "ok": sum(1 for r in rows if r["ok"]),
           "total_ms": stats_ms(r["wall"] for r in rows),
           "total_ms_jpeg": stats_ms(r["wall"] for r in rows if r["path"].suffix == ".jpg"),
           "total_ms_dng": stats_ms(r["wall"] for r in rows if r["path"].suffix == ".dng"),
           "steps_ms": {s: stats_ms(r.get(s) for r in rows) for s in steps},
           "faces+eyes_ms_one_face": _faces_eyes_ms(one_face),
           "faces+eyes_ms_one_face_jpeg": _faces_eyes_ms(r for r in one_face if r["path"].suffix == ".jpg"),
           "faces+eyes_ms_one_face_dng": _faces_eyes_ms(r for r in one_face if r["path"].suffix == ".dng"),
           "faces_ms_no_face": stats_ms(r["faces"] for r in rows if r["faces_n"] == 0 and "faces" in r),
           "photos_with_faces": sum(1 for r in rows if r["faces_n"]),
           "jpeg_full_res_decode_ms": stats_ms(full_ms)}
    errs = [r["error"] for r in rows if not r["ok"]]
    if errs:
        out["errors"] = errs[:3]
    return out


def write_portraits(outdir: Path, k: int, size: tuple[int, int], seed: int = 11) -> list[Path]:
    """``k`` portrait-framed JPEGs (q90, with EXIF): the astronaut's head and shoulders large in
    the frame (face box about 12-20 % of the frame's width, as a portrait at 24 MP has it) over a
    softened scene, with fine texture and sensor noise."""
    import cv2

    src, texture, noise = _assets()
    rng = np.random.default_rng(seed)
    w, h = size
    paths = []
    others = [n for n in SCENES if n != "astronaut"]
    for i in range(k):
        bg = cv2.resize(src[others[i % len(others)]], (w // 4, h // 4), interpolation=cv2.INTER_AREA)
        bg = cv2.resize(cv2.GaussianBlur(bg, (0, 0), 6), (w, h), interpolation=cv2.INTER_LINEAR)
        person = src["astronaut"][0:300, 60:420]              # head and shoulders (face ~ 100 px wide)
        f = w * rng.uniform(0.12, 0.20) / 100.0
        person = cv2.resize(person, None, fx=f, fy=f, interpolation=cv2.INTER_CUBIC)
        ph, pw = min(person.shape[0], h), min(person.shape[1], w)
        x = int(rng.uniform(0.1, 0.9) * (w - pw))
        y = int(rng.uniform(0.1, 0.5) * (h - ph))
        bg[y:y + ph, x:x + pw] = person[:ph, :pw]
        img = bg.astype(np.int16) + _tile(texture, h, w, i, i)[..., None] + _tile(noise, h, w, 3 * i, i)
        img = np.clip(img, 0, 255).astype(np.uint8)
        path = outdir / f"PORTRAIT_{i + 1:02d}.jpg"
        path.write_bytes(_jpeg_with_exif(img, datetime(2026, 6, 2, 9, 0, i), 1 / 250))
        paths.append(path)
    return paths


def per_portrait(outdir: Path, k: int, size: tuple[int, int]) -> dict:
    """faces + eyes on portrait-framed 24 MP JPEGs (one large face: found by the whole-frame
    pass, so no tiles), in this process after one warm-up call."""
    from autocull import pipeline

    paths = write_portraits(outdir, k, size)
    pipeline.analyse_one(paths[0])
    rows = []
    for p in paths:
        rec = pipeline.analyse_one(p)
        tm = rec.get("_timings") or {}
        fs = ((rec.get("eyes") or {}).get("faces")) or []
        rows.append(dict(faces_n=len(fs), state=(rec.get("eyes") or {}).get("state"),
                         face_w=round(fs[0]["box"][2]) if fs else None, **tm))
    one = _one_face(rows)
    return {"n": len(rows), "one_face": len(one),
            "faces+eyes_ms": _faces_eyes_ms(one),
            "faces_ms": stats_ms(r["faces"] for r in one), "eyes_ms": stats_ms(r["eyes"] for r in one),
            "face_width_px": [r["face_w"] for r in rows], "states": [r["state"] for r in rows]}


def grouping_bench(n: int) -> dict | None:
    path = REPO / "training" / "groups" / "bench_grouping.py"
    if not path.is_file():
        return None
    try:
        spec = importlib.util.spec_from_file_location("bench_grouping", path)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        fn = getattr(mod, "bench", None)
        if fn is None:
            return {"error": "training/groups/bench_grouping.py has no bench(n)"}
        res = fn(n)
        return res if isinstance(res, dict) else {"result": res}
    except Exception as exc:   # a teammate's benchmark failing must not sink this one
        return {"error": f"{type(exc).__name__}: {exc}"}


# ====================================================================== report

def _fmt(s: dict | None, key: str = "median") -> str:
    return "-" if not s or s.get(key) is None else f"{s[key]:.1f}"


def summary(r: dict) -> str:
    L = []
    sh = r["shoot"]
    L.append(f"AutoCull bench — {sh['n']} photos of {sh['megapixels']} MP ({sh['jpeg']} JPEG q90, {sh['dng']} DNG "
             f"{sh['raw_bits']}-bit CFA with 1620-2000 px previews), {sh['gb']:.2f} GB; "
             f"{r['machine']['cpus']} CPUs, Python {r['machine']['python']}, load average "
             f"{r['machine'].get('load_avg_start')} at start, {r['machine'].get('load_avg_end')} at end")
    fl = r.get("decode_floor")
    if fl and "error" not in fl:
        L.append(f"decode floor      : {fl['per_photo_ms']['median']:.1f} ms median, "
                 f"{fl['per_photo_ms']['p95']:.1f} ms p95 per photo "
                 f"(JPEG {_fmt(fl['per_photo_ms_jpeg'])}, DNG {_fmt(fl['per_photo_ms_dng'])} ms); "
                 f"all {r['shoot']['n']}: {fl['sequential_s']} s one by one, {fl['parallel_wall_s']} s on "
                 f"{fl['workers']} workers; floor {fl['floor_s']} s")
    for key, label in (("analyze", "analyze --jsonl"), ("daemon", "daemon job")):
        a = r.get(key)
        if not a:
            continue
        if "error" in a:
            L.append(f"{label:<18}: failed: {a['error']}")
            continue
        ratio = a.get("ratio_to_decode_floor")
        L.append(f"{label:<18}: {a['photos_per_s']:.2f} photos/s ({a['ok']}/{a['photos']} ok, {a['wall_s']} s), "
                 f"peak RSS {a.get('peak_rss_mb')} MB (largest process {a.get('peak_single_process_rss_mb')} MB)"
                 + (f", {ratio:.2f}x the decode floor" if ratio else ""))
        if key == "daemon" and a.get("repeat_job_cached"):
            c = a["repeat_job_cached"]
            L.append(f"{'':<18}  same job again (cache): {c['wall_s']} s; daemon start {a['startup_s']} s")
    for key in ("decode_floor", "per_photo"):
        if r.get(key, {}).get("error"):
            L.append(f"{key:<18}: failed: {r[key]['error']}")
    pp = r.get("per_photo")
    if pp and "total_ms" in pp:
        L.append(f"per photo         : {_fmt(pp['total_ms'])} ms median, {_fmt(pp['total_ms'], 'p95')} ms p95 "
                 f"(JPEG {_fmt(pp['total_ms_jpeg'])}, DNG {_fmt(pp['total_ms_dng'])} ms median), one process, "
                 f"sample of {pp['sample']}; ratio to decode {pp.get('ratio_to_decode', '-')}x")
        L.append("  step (ms)         median     p95")
        for s, st in pp["steps_ms"].items():
            L.append(f"  {s:<16} {_fmt(st):>7} {_fmt(st, 'p95'):>7}")
        fe = pp["faces+eyes_ms_one_face"]
        sm = pp["steps_ms"].get("sharpness")
        L.append(f"  budgets: sharpness {_fmt(sm)} ms median (budget 15); faces+eyes with one face "
                 f"{_fmt(fe)} ms median over {fe['n']} photos (budget 40)")
        L.append("    (these frames' one face is small: 2-3 % of the frame's width, found only by tiled detection)")
        fj, fdn, fn = (pp.get(k) for k in ("faces+eyes_ms_one_face_jpeg", "faces+eyes_ms_one_face_dng",
                                           "faces_ms_no_face"))
        if fj and fdn and fn:
            L.append(f"  faces+eyes with one face: JPEG {_fmt(fj)} ms (n={fj['n']}), DNG {_fmt(fdn)} ms "
                     f"(n={fdn['n']}); faces step with no face found {_fmt(fn)} ms (n={fn['n']})")
        fd = pp.get("jpeg_full_res_decode_ms")
        if fd and fd.get("n"):
            L.append(f"  a JPEG's lazy full-resolution decode (paid inside the first step that needs it): "
                     f"{_fmt(fd)} ms median")
    pt = r.get("portraits")
    if pt and "faces+eyes_ms" in pt:
        L.append(f"portraits (one large face, {pt['one_face']}/{pt['n']} found, face boxes {pt['face_width_px']} px): "
                 f"faces+eyes {_fmt(pt['faces+eyes_ms'])} ms median, {_fmt(pt['faces+eyes_ms'], 'p95')} ms p95 "
                 f"(faces {_fmt(pt['faces_ms'])}, eyes {_fmt(pt['eyes_ms'])}; budget 40); eyes: {pt['states']}")
    elif pt:
        L.append(f"portraits: {pt}")
    g = r.get("grouping")
    if g is not None:
        L.append(f"grouping          : {json.dumps(g)}")
    return "\n".join(L)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="AutoCull benchmark (no timing asserts).")
    ap.add_argument("--n", type=int, default=200, help="photos in the generated shoot (default 200)")
    ap.add_argument("--out", default=str(REPO / "bench_out"), help="output folder (default bench_out/)")
    ap.add_argument("--keep", action="store_true", help="keep the generated shoot (reused by the next run)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--raw-bits", type=int, default=14, choices=[8, 12, 14, 16],
                    help="DNG raw precision: 12/14/16 bits in 16-bit samples (48 MB at 24 MP), "
                         "8 = 8-bit samples + a linearization table (24 MB)")
    ap.add_argument("--gen-workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="processes generating the shoot (1: in this process)")
    ap.add_argument("--size", default=f"{WIDTH}x{HEIGHT}", help="frame size WxH (default 6000x4000, 24 MP)")
    ap.add_argument("--sample", type=int, default=24, help="photos timed one by one in-process (default 24)")
    ap.add_argument("--group-n", type=int, default=100_000, help="encoded photos for the grouping benchmark")
    ap.add_argument("--skip", action="append", default=[],
                    choices=["floor", "analyze", "daemon", "per-photo", "grouping"], help="skip a part (repeatable)")
    args = ap.parse_args(argv)
    if args.n < 2:
        ap.error("--n must be at least 2")
    try:
        size = tuple(int(v) for v in args.size.lower().split("x"))
        assert len(size) == 2 and min(size) >= 64
    except (ValueError, AssertionError):
        ap.error("--size must be WxH, e.g. 6000x4000")

    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    shoot = out / f"shoot-n{args.n}-s{args.seed}-b{args.raw_bits}-{size[0]}x{size[1]}"
    workers = os.cpu_count() or 1
    report: dict = {"when": datetime.now().isoformat(timespec="seconds"),
                    "machine": {"cpus": workers, "platform": platform.platform(),
                                "python": platform.python_version(), "load_avg_start": _loadavg()}}
    paths, gen_s, reused = generate(shoot, args.n, args.seed, args.raw_bits, args.gen_workers, size)
    with_face = {p["name"] for p in shoot_plan(args.n, args.seed, size) if p["faces"]}
    nbytes = sum(p.stat().st_size for p in paths)
    report["shoot"] = {"dir": str(shoot), "n": len(paths), "size": list(size),
                       "megapixels": round(size[0] * size[1] / 1e6, 1),
                       "jpeg": sum(p.suffix == ".jpg" for p in paths), "dng": sum(p.suffix == ".dng" for p in paths),
                       "raw_bits": args.raw_bits, "gb": nbytes / 1e9, "generated_s": round(gen_s, 1), "reused": reused}
    log(f"shoot: {len(paths)} photos, {nbytes / 1e9:.2f} GB" + (" (reused)" if reused else f" in {gen_s:.0f} s"))
    try:
        with tempfile.TemporaryDirectory(prefix="autocull-bench-") as td:
            tmp = Path(td)
            if "floor" not in args.skip:
                log("decode floor...")
                try:
                    report["decode_floor"] = decode_floor(paths, workers)
                except Exception as exc:
                    report["decode_floor"] = {"error": f"{type(exc).__name__}: {exc}"}
            if "analyze" not in args.skip:
                log("autocull analyze --jsonl --no-cache ...")
                try:
                    report["analyze"] = run_analyze(shoot, len(paths), tmp)
                except Exception as exc:
                    report["analyze"] = {"error": f"{type(exc).__name__}: {exc}"}
            if "daemon" not in args.skip:
                log("daemon job...")
                try:
                    report["daemon"] = run_daemon(paths, tmp)
                except Exception as exc:
                    report["daemon"] = {"error": f"{type(exc).__name__}: {exc}"}
            floor = report.get("decode_floor")
            floor = floor if floor and "error" not in floor else None
            for key in ("analyze", "daemon"):
                a = report.get(key)
                if floor and a and a.get("wall_s"):
                    a["ratio_to_decode_floor"] = round(a["wall_s"] / floor["floor_s"], 2)
            if "per-photo" not in args.skip:
                log(f"per-photo timings over {args.sample} photos...")
                try:
                    pp = per_photo(paths, args.sample, with_face)
                    if floor and pp.get("total_ms", {}).get("median") and pp["steps_ms"]["decode"]["median"]:
                        pp["ratio_to_decode"] = round(pp["total_ms"]["median"] / pp["steps_ms"]["decode"]["median"], 2)
                    report["per_photo"] = pp
                except Exception as exc:
                    report["per_photo"] = {"error": f"{type(exc).__name__}: {exc}"}
                log("portrait-framed photos (one large face)...")
                try:
                    pdir = tmp / "portraits"
                    pdir.mkdir()
                    report["portraits"] = per_portrait(pdir, 8, size)
                except Exception as exc:
                    report["portraits"] = {"error": f"{type(exc).__name__}: {exc}"}
            if "grouping" not in args.skip:
                log(f"grouping benchmark ({args.group_n} encoded photos)...")
                report["grouping"] = grouping_bench(args.group_n)
    finally:
        if not args.keep:
            shutil.rmtree(shoot, ignore_errors=True)
    report["shoot"]["kept"] = bool(args.keep)
    report["machine"]["load_avg_end"] = _loadavg()
    (out / "bench.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    try:
        text = summary(report)
    except Exception as exc:   # never lose the numbers to a formatting slip
        text = f"(summary failed: {exc}); see {out / 'bench.json'}"
    print(text)
    print(f"\nfull report: {out / 'bench.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
