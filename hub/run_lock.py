"""One run at a time per data root.

`hub run` executes in its own process, so Dagster's run queue (``max_concurrent_runs``) never
sees it. The lock is an OS-level ``flock`` on ``state/run.lock``, held for the run's life: the
kernel drops it when the holder exits, however it exits (kill -9 included), so a stale lock
cannot outlive its process. The holder's pid, host and start time are written inside the file
only so that a refused run can say who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path


class RunInProgress(RuntimeError):
    """Another live process holds the run lock of this data root."""


def _holder_text(lock_path: Path) -> str:
    try:
        holder = json.loads(lock_path.read_text() or "{}")
    except (OSError, ValueError):
        holder = {}
    since = holder.get("started_at", "an unknown time")
    pid = holder.get("pid", "unknown")
    host = holder.get("host")
    return f"since {since} (pid {pid}{' on ' + host if host else ''})"


@contextlib.contextmanager
def run_lock(lock_path: Path, root: Path) -> Iterator[None]:
    """Hold the run lock of ``root`` for the ``with`` block, or raise :class:`RunInProgress` at once."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunInProgress(
                f"a run is in progress on {root} {_holder_text(lock_path)}; "
                "wait for it to finish, or stop that process"
            ) from None
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        try:
            yield
        finally:
            # Cleared before the unlock, so a reader never sees a finished run as the holder.
            os.ftruncate(fd, 0)
    finally:
        os.close(fd)
