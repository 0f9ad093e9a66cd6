"""PNGs drawn off the critical path.

`draw_async(draw, payload, path, run=...)` starts a child process that imports the drawing function
`draw` ("tensor_agent.<module>:<function>", called as `function(payload, path)`), writes the PNG and,
when a run is given, logs it to that MLflow run as an artifact. matplotlib's import and the drawing
cost 0.5-4 s on a busy machine; the answer does not wait for them. Every plot is complete before this
process exits (atexit) and `wait_for_plots()` waits for them explicitly (tests, benchmarks, servers that
hand the PNG out). `TENSOR_SYNC_PLOTS=1` draws (and logs) in-process instead.

The child gets only JSON (payload, path, where to log): for a local artifact store it copies the PNG
into the run's artifact directory without importing MLflow; for any other store it uses MlflowClient.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Optional

_PENDING: list[tuple[subprocess.Popen, str]] = []
_LOCK = threading.Lock()
_SPARE: Optional[subprocess.Popen] = None  # a child already importing matplotlib (see `prestart`)


def _spawn(warm: bool = False) -> subprocess.Popen:
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.Popen([sys.executable, "-m", "tensor_agent.tools.core.plots", *(["--warm"] if warm else [])],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)


def prestart() -> None:
    """Start one plot child now: it imports matplotlib while this process works, and the next
    `draw_async` hands it its job (a cold CLI answer then does not wait ~1 s for matplotlib at exit)."""
    global _SPARE
    if os.environ.get("TENSOR_SYNC_PLOTS") == "1":
        return
    with _LOCK:
        if _SPARE is None or _SPARE.poll() is not None:
            _SPARE = _spawn(warm=True)


def _take_child() -> subprocess.Popen:
    global _SPARE
    with _LOCK:
        proc, _SPARE = _SPARE, None
    return proc if proc is not None and proc.poll() is None else _spawn()


def _drop_spare() -> None:
    global _SPARE
    with _LOCK:
        proc, _SPARE = _SPARE, None
    if proc is not None:
        proc.stdin.close()  # an empty job: the child exits
        proc.wait(timeout=30)


def wait_for_plots(timeout: float = 60.0) -> list[str]:
    """Block until every plot started by `draw_async` is written; returns the paths that failed."""
    with _LOCK:
        procs = list(_PENDING)
        _PENDING.clear()
    failed = []
    for proc, path in procs:
        try:
            if proc.wait(timeout=timeout) != 0:
                failed.append(path)
        except subprocess.TimeoutExpired:
            proc.kill()
            failed.append(path)
    return failed


def _wait_at_exit() -> None:
    _drop_spare()
    for path in wait_for_plots():
        print(f"warning: the plot {path} could not be drawn (set TENSOR_SYNC_PLOTS=1 to see why)",
              file=sys.stderr)


atexit.register(_wait_at_exit)


def pending() -> int:
    """How many plots are still being drawn."""
    with _LOCK:
        return sum(1 for proc, _ in _PENDING if proc.poll() is None)


def _check_draw(draw: str) -> None:
    mod, _, fn = draw.partition(":")
    if not mod.startswith("tensor_agent.") or not fn.isidentifier():
        raise ValueError(f"plot function {draw!r} must be 'tensor_agent.<module>:<function>'")


def _resolve(draw: str):
    import importlib

    _check_draw(draw)
    mod, _, fn = draw.partition(":")
    return getattr(importlib.import_module(mod), fn)


def _log_target(run, artifact_path: Optional[str]) -> Optional[dict]:
    """Where the child logs the PNG: a local directory when the run's artifacts are local files."""
    if run is None:
        return None
    from urllib.parse import unquote, urlparse

    uri = run.artifact_uri()
    parsed = urlparse(uri)
    if parsed.scheme in ("file", "") and not parsed.netloc:
        base = Path(unquote(parsed.path))
        return {"dir": str(base / artifact_path if artifact_path else base)}
    return {"tracking_uri": run.client.tracking_uri, "run_id": run.run_id, "artifact_path": artifact_path}


def _log(path: str, target: Optional[dict]) -> None:
    if not target:
        return
    if "dir" in target:
        dest = Path(target["dir"])
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest / Path(path).name)
        return
    from mlflow.tracking import MlflowClient

    MlflowClient(tracking_uri=target["tracking_uri"]).log_artifact(target["run_id"], path,
                                                                    target.get("artifact_path"))


def draw_now(draw: str, payload: Any, path: str | os.PathLike, *, run=None,
             artifact_path: Optional[str] = "plots") -> Optional[str]:
    """Draw in this process (and log to `run`); returns the PNG path, or None when nothing was drawn."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    out = _resolve(draw)(payload, str(path))
    if out and run is not None:
        run.log_artifact(out, artifact_path)
    return out


def draw_async(draw: str, payload: Any, path: str | os.PathLike, *, run=None,
               artifact_path: Optional[str] = "plots") -> Optional[str]:
    """Start drawing `draw(payload, path)` in a child process (logged to `run` when given); returns the path.

    Args:
        draw: "tensor_agent.<module>:<function>"; the function takes (JSON payload, PNG path).
        payload: JSON-serialisable data the function draws.
        path: the PNG to write.
        run: a TrackedRun to log the PNG to (under `artifact_path`), or None.
        artifact_path: the run's artifact folder for the PNG.
    """
    _check_draw(draw)
    if os.environ.get("TENSOR_SYNC_PLOTS") == "1":
        return draw_now(draw, payload, path, run=run, artifact_path=artifact_path)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    job = {"draw": draw, "payload": payload, "path": str(path), "log": _log_target(run, artifact_path)}
    proc = _take_child()
    proc.stdin.write(json.dumps(job, default=str).encode())
    proc.stdin.close()
    with _LOCK:
        _PENDING.append((proc, str(path)))
    return str(path)


def _child() -> int:
    try:
        os.nice(5)  # drawing is background work: the answer's own processes come first on a busy machine
    except OSError:
        pass
    if "--warm" in sys.argv[1:]:  # started by `prestart`: import matplotlib before the job arrives
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot  # noqa: F401
    text = sys.stdin.read()
    if not text.strip():
        return 0  # a spare child that got no job
    job = json.loads(text)
    out = _resolve(job["draw"])(job["payload"], job["path"])
    if out:
        _log(out, job.get("log"))
    return 0


if __name__ == "__main__":  # the child of draw_async: the JSON job on stdin
    sys.exit(_child())
