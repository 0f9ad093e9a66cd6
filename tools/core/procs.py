"""Process liveness, shared by everything that cleans up after a killed process (runs, trials, temp dirs)."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """Whether process `pid` on this host still runs (this process counts as alive; a zombie as dead)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True
    try:
        with open(f"/proc/{pid}/stat") as fh:  # a zombie child of ours counts as dead
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
