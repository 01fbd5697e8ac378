"""SQLite cache of per-photo analysis records, keyed by path, size, mtime and analysis version.

A repeated job is answered from here, and a daemon killed mid-job loses nothing already stored:
each record is committed as soon as its photo is analysed. Failed photos are not cached (a file
on an offline drive may be readable next time).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    path TEXT NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL, version TEXT NOT NULL,
    record TEXT NOT NULL, PRIMARY KEY (path, size, mtime_ns, version))
"""


def file_key(path: str):
    """(size, mtime_ns) of a regular file, or None when it cannot be stat'ed."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


class Cache:
    def __init__(self, db_path: str | os.PathLike, version: str):
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.version = version
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        self._db.commit()

    def get(self, path: str) -> dict | None:
        key = file_key(path)
        if key is None:
            return None
        with self._lock:
            row = self._db.execute(
                "SELECT record FROM results WHERE path=? AND size=? AND mtime_ns=? AND version=?",
                (path, key[0], key[1], self.version)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, path: str, record: dict) -> None:
        if not record.get("ok"):
            return
        key = file_key(path)
        if key is None:
            return
        rec = {k: v for k, v in record.items() if k != "id"}
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)",
                             (path, key[0], key[1], self.version, json.dumps(rec)))
            self._db.commit()

    def close(self) -> None:
        with self._lock:
            self._db.close()
