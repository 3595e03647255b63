"""One job at a time in a run directory: ``RUN_DIR/run.lock``.

Two builds into one run directory would both redo every shard (their outputs stay consistent:
shards are checksummed and renamed into place, but the work is done twice). The lock file is
created exclusively (``O_CREAT | O_EXCL``) and holds the owner's PID, host, command and start
time; a second job stops at once with a message naming the owner. A lock whose process is gone
(same host, PID not running) is stale and taken over; a lock from another host is never
guessed stale (its PID means nothing here): the message says which file to remove.
The same process may take it again (a build's restore and score stages nest).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = "run.lock"
_held: dict[Path, int] = {}  # lock files this process holds, and how many times


class RunLockedError(RuntimeError):
    """Another live job holds the run directory."""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _read(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _try_create(path: Path) -> bool:
    owner = {"pid": os.getpid(), "host": socket.gethostname(), "since": time.time(),
             "command": " ".join(sys.argv)[:300]}  # fmt: skip
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(owner, f)
    return True


def acquire(run_dir: str | os.PathLike) -> Path:
    """Take the lock of ``run_dir`` (created if missing); :class:`RunLockedError` when a live
    job holds it."""
    root = Path(run_dir)
    root.mkdir(parents=True, exist_ok=True)
    path = (root / LOCK_FILE).resolve()
    if path in _held:
        _held[path] += 1
        return path
    for _ in range(3):  # a race with another taker: look again
        if _try_create(path):
            _held[path] = 1
            return path
        owner = _read(path)
        pid, host = owner.get("pid"), owner.get("host")
        if not isinstance(pid, int) or not owner:
            time.sleep(0.2)  # being written right now, or garbage
            owner = _read(path)
            pid, host = owner.get("pid"), owner.get("host")
        if host not in (None, socket.gethostname()):
            raise RunLockedError(
                f"{root}: in use by process {pid} on host {host} (since "
                f"{_when(owner)}: {owner.get('command', '?')}); if that job is gone, remove "
                f"{path}"
            )
        if isinstance(pid, int) and _alive(pid) and pid != os.getpid():
            raise RunLockedError(
                f"{root}: in use by process {pid} (since {_when(owner)}: "
                f"{owner.get('command', '?')}); wait for it to finish or stop it, then rerun: "
                "the run resumes where it stopped"
            )
        with contextlib.suppress(FileNotFoundError):  # stale: its process is gone
            path.unlink()
    raise RunLockedError(f"{root}: could not take {path} (another job keeps taking it)")


def release(path: Path) -> None:
    _held[path] -= 1
    if _held[path] == 0:
        del _held[path]
        if _read(path).get("pid") == os.getpid():
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def run_lock(run_dir: str | os.PathLike) -> Iterator[Path]:
    """Hold the run directory's lock for the ``with`` block."""
    path = acquire(run_dir)
    try:
        yield path
    finally:
        release(path)


def _when(owner: dict) -> str:
    since = owner.get("since")
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since)) if since else "?"


__all__ = ["LOCK_FILE", "RunLockedError", "acquire", "release", "run_lock"]
