"""The ``autocull`` command: ``analyze`` (JSON lines or a table) and ``serve`` (the local daemon).

Exit codes are named below; one place (``fail``) prints errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import threading
from pathlib import Path

from autocull import __version__, decode

EXIT_OK = 0
EXIT_ERROR = 1          # an unexpected failure of the tool itself
EXIT_USAGE = 2          # bad command line, missing path, invalid settings
EXIT_SOME_FAILED = 3    # every photo was attempted, some could not be analysed

DEFAULT_PORT = 47474


class UsageError(Exception):
    pass


def fail(message: str, code: int) -> int:
    print(f"autocull: error: {message}", file=sys.stderr)
    return code


def collect(paths, recursive: bool) -> list[str]:
    """Expand files and folders into photo paths: folders list their photos sorted by name
    (entries with a photo extension, so a broken one is reported, not skipped); with
    ``recursive`` sub-folders are walked too. Explicit files are kept whatever they are."""
    out: list[str] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir() and p.suffix.lower() not in decode.PHOTO_EXT:
            out.extend(_list_dir(p, recursive))
        elif p.exists() or p.is_symlink():
            # a file, or a directory named like a photo ("x.jpg"): reported as that photo's error
            out.append(str(p.absolute()))
        else:
            raise UsageError(f"{raw}: no such file or folder")
    return out


def _list_dir(folder: Path, recursive: bool) -> list[str]:
    out = []
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"{folder}: cannot list folder ({exc.strerror or exc})") from None
    for e in entries:
        if e.name.startswith("."):
            continue
        is_dir = e.is_dir(follow_symlinks=True)
        if is_dir and recursive:
            out.extend(_list_dir(Path(e.path), True))
        elif Path(e.name).suffix.lower() in decode.PHOTO_EXT:
            out.append(str(Path(e.path).absolute()))
    return out


class Progress:
    """A progress bar on stderr when it is a terminal; otherwise silent."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.done, self.enabled = total, 0, enabled and total > 0
        self._lock = threading.Lock()

    def step(self):
        with self._lock:
            self.done += 1
            if self.enabled:
                width = 30
                fill = int(width * self.done / self.total)
                sys.stderr.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} photos")
                if self.done == self.total:
                    sys.stderr.write("\n")
                sys.stderr.flush()


def analyse_paths(paths, settings, workers=None, use_cache=True, progress=None, cancel=None):
    """Analyse a list of photo paths and return schema-1 objects in input order."""
    from autocull import pipeline
    from autocull.runner import Runner

    cache = None
    if use_cache:
        from autocull.cache import Cache
        from autocull.paths import cache_dir

        cache = Cache(cache_dir() / "results.sqlite", pipeline.analysis_version())
    records: list = [None] * len(paths)

    def on_result(i, rec):
        records[i] = rec
        if progress:
            progress.step()

    runner = Runner(workers=workers or max(1, min(len(paths), os.cpu_count() or 1)), cache=cache)
    try:
        runner.run(paths, on_result, cancel=cancel, in_process=len(paths) <= 1)
    finally:
        runner.close()
        if cache:
            cache.close()
    return pipeline.finalise([r for r in records if r is not None], settings)


def _table(results) -> str:
    stars = lambda r: ("*" * r) if r else "-"  # noqa: E731
    rows = [("file", "verdict", "stars", "label", "flag", "reasons")]
    for r in results:
        rows.append((Path(r["path"]).name, r["verdict"] or "error", stars(r["rating"]), r["label"] or "-",
                     r["flag"] or "-", "; ".join(r["reasons"] or [])))
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    lines = []
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row[:5], widths)) + "  " + row[5])
    return "\n".join(lines)


def cmd_analyze(args) -> int:
    from autocull import config

    try:
        settings = config.load(args.config, options=_cli_options(args))
        paths = collect(args.paths, args.recursive)
    except (config.ConfigError, UsageError) as exc:
        return fail(str(exc), EXIT_USAGE)
    if not paths:
        return fail("no photos found in " + ", ".join(args.paths), EXIT_USAGE)
    progress = Progress(len(paths), enabled=sys.stderr.isatty() and not args.quiet)
    results = analyse_paths(paths, settings, workers=args.workers, use_cache=not args.no_cache, progress=progress)
    if args.jsonl:
        out = sys.stdout
        for r in results:
            out.write(json.dumps(r, ensure_ascii=False) + "\n")
        out.flush()
    else:
        print(_table(results))
    failed = sum(1 for r in results if not r["ok"])
    if failed:
        if not args.jsonl:
            print(f"{failed} of {len(results)} photos could not be analysed", file=sys.stderr)
        return EXIT_SOME_FAILED
    return EXIT_OK


def _cli_options(args) -> dict:
    opts = {}
    if args.strictness:
        opts["strictness"] = args.strictness
    sens = {}
    if args.blur_sensitivity is not None:
        sens["blur"] = args.blur_sensitivity
    if args.eyes_sensitivity is not None:
        sens["eyes"] = args.eyes_sensitivity
    if sens:
        opts["sensitivity"] = sens
    return opts


def cmd_serve(args) -> int:
    from autocull import config
    from autocull.daemon.app import serve

    try:
        config.load(args.config)
    except config.ConfigError as exc:
        return fail(str(exc), EXIT_USAGE)
    return serve(port=args.port, workers=args.workers, settings_file=args.config)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="autocull", description="A local first pass over a photo shoot.")
    p.add_argument("--version", action="version", version=f"autocull {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyze", aliases=["analyse"], help="analyse photos and print verdicts")
    a.add_argument("paths", nargs="+", metavar="PATH", help="photo files and folders")
    a.add_argument("-r", "--recursive", action="store_true", help="walk sub-folders")
    a.add_argument("--jsonl", action="store_true", help="one schema-1 JSON object per photo on stdout")
    a.add_argument("--config", help="settings TOML file (default: the user's autocull.toml if present)")
    a.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    a.add_argument("--no-cache", action="store_true", help="ignore and do not fill the results cache")
    a.add_argument("--strictness", choices=["loose", "normal", "strict"], help="how alike frames must be to group")
    a.add_argument("--blur-sensitivity", type=float, help="0-1, higher rejects more as blurry (default 0.5)")
    a.add_argument("--eyes-sensitivity", type=float, help="0-1, higher rejects more as closed eyes (default 0.5)")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=cmd_analyze)
    s = sub.add_parser("serve", help="run the local daemon for the Lightroom plug-in (127.0.0.1 only)")
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    s.add_argument("--workers", type=int, help="worker processes (default: one per CPU core)")
    s.add_argument("--config", help="settings TOML file")
    s.set_defaults(func=cmd_serve)
    return p


def main(argv=None) -> int:
    logging.basicConfig(level=os.environ.get("AUTOCULL_LOG", "WARNING"), stream=sys.stderr,
                        format="autocull: %(levelname)s: %(message)s")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse prints its own usage message
        return EXIT_USAGE if exc.code not in (0, None) else EXIT_OK
    if getattr(args, "workers", None) is not None and args.workers < 1:
        return fail("--workers must be at least 1", EXIT_USAGE)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # the one place that reports an unexpected failure
        logging.getLogger("autocull").debug("unexpected", exc_info=True)
        return fail(f"{type(exc).__name__}: {exc}", EXIT_ERROR)
