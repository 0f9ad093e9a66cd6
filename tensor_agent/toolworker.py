"""Run a CLI turn's tools in a second process that imports torch while this one imports LangGraph (issue 17).

A cold `tensor-agent ask` needs both LangGraph (~1.5 s to import) and torch (~2-3 s), one after the
other on one core: imports hold the GIL, so a thread does not help, while the machine's second core
sits idle. `start(settings, tools)` launches `python -m tensor_agent.toolworker` at the top of `ask`
(only when the planned turn runs torch tools); the child imports torch and the tools' modules at
once. When the graph reaches a tool node, `_run_tool` hands the call to the worker: the same tool
function, the same plan (as JSON) and the same context fields, so the result is identical to an
in-process run. All tools of the turn run in the worker, so the model one tool builds is the model
the next one trains (the in-process session lives there).

Protocol: JSON lines on two private pipes (no pickle; the child's stdout goes to stderr, so a library
that prints cannot corrupt the protocol or the CLI's `--json` output). While a tool runs, the worker
may send `{"progress": ...}` (re-emitted as graph progress events) and `{"memory": method, "kwargs"}`
(answered by this process's memory, usually the memory sidecar: one store owner per turn). The reply
is `{"ok": payload, "artifacts": ...}` or `{"error": {...}}` with the exit code, hint and payload of
the tool's error. A worker that is gone (crashed, killed) makes `run` return None and the caller runs
the tool in process, as it would without a worker. `TENSOR_TOOL_WORKER=0` turns it off.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import TensorError

_ACTIVE: dict[str, "ToolWorker"] = {}
_LOCK = threading.Lock()


def _key(settings: Any) -> str:
    return str(Path(settings.home).expanduser().resolve())


def start(settings: Any, verbose: bool = False) -> Optional["ToolWorker"]:
    """Start the worker of `settings`' workspace (once per process): it begins importing torch at once.
    `warm(tools)` then names the turn's tools, or `discard` drops a worker the turn does not need."""
    if os.environ.get("TENSOR_TOOL_WORKER") == "0" or "torch" in sys.modules:
        return None  # (torch already loaded here: nothing to overlap, the tools are faster in process)
    with _LOCK:
        key = _key(settings)
        if key not in _ACTIVE:
            try:
                _ACTIVE[key] = ToolWorker(settings, verbose)
            except OSError:  # no process could be started: the tools run in process, as without a worker
                return None
        return _ACTIVE[key]


def discard(settings: Any) -> None:
    """Stop the worker of `settings`' workspace without waiting (nothing ran in it)."""
    with _LOCK:
        worker = _ACTIVE.pop(_key(settings), None)
    if worker is not None:
        worker.kill()


def active(settings: Any) -> Optional["ToolWorker"]:
    """The running worker of `settings`' workspace, if `start` launched one in this process."""
    return _ACTIVE.get(_key(settings))


def stop(settings: Any, timeout: float = 60.0) -> None:
    """Close the worker of `settings`' workspace and wait for it (its plots and writes finish first)."""
    with _LOCK:
        worker = _ACTIVE.pop(_key(settings), None)
    if worker is not None:
        worker.close(timeout)


def stop_all(timeout: float = 60.0) -> None:
    with _LOCK:
        workers = list(_ACTIVE.values())
        _ACTIVE.clear()
    for worker in workers:
        worker.close(timeout)


atexit.register(stop_all)


class WorkerError(TensorError):
    """A tool's TensorError as raised in the worker: same message, hint, exit code and payload."""

    def __init__(self, message: str, *, hint: Optional[str], exit_code: int, payload: Any = None):
        super().__init__(message, hint=hint)
        self.exit_code = exit_code
        if payload is not None:
            self.payload = payload


def _rebuild(info: dict) -> Exception:
    if info.get("tensor"):
        return WorkerError(info.get("message", ""), hint=info.get("hint"), exit_code=int(info.get("exit_code", 1)),
                           payload=info.get("payload"))
    cls = type(str(info.get("type") or "Exception"), (RuntimeError,), {})  # the name the answer shows
    return cls(info.get("message", ""))


def _describe(exc: BaseException) -> dict:
    if isinstance(exc, TensorError):
        return {"tensor": True, "message": exc.message, "hint": exc.hint, "exit_code": exc.exit_code,
                "payload": getattr(exc, "payload", None), "type": type(exc).__name__}
    return {"tensor": False, "type": type(exc).__name__, "message": str(exc)}


class ToolWorker:
    """The parent's handle on the worker process (see the module docstring)."""

    def __init__(self, settings: Any, verbose: bool = False):
        self._settings = settings
        self._lock = threading.Lock()
        self._used = False  # a worker that never ran a tool is killed at close, not waited for
        req_r, self._req = os.pipe()  # parent -> child
        self._rep, rep_w = os.pipe()  # child -> parent
        try:
            self._proc: Optional[subprocess.Popen] = subprocess.Popen(
                [sys.executable, "-m", "tensor_agent.toolworker", str(Path(settings.home)), str(req_r), str(rep_w),
                 "1" if verbose else "0"],
                pass_fds=(req_r, rep_w), stdin=subprocess.DEVNULL, stdout=2,
                env=dict(os.environ, TENSOR_WORKER_PARENT=str(os.getpid())))
        finally:
            os.close(req_r)
            os.close(rep_w)
        self._out = os.fdopen(self._req, "w", buffering=1)
        self._in = os.fdopen(self._rep, "r")

    def warm(self, tools: list[str]) -> None:
        """Tell the worker which tools this turn runs: it imports their modules after torch."""
        with self._lock:
            try:
                self._send({"warm": list(tools)})
            except (BrokenPipeError, OSError):
                self._proc = None

    def kill(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.kill()
            proc.wait()
        self.close()

    def run(self, name: str, plan: dict, ctx: Any) -> Optional[Any]:
        """Run tool `name` in the worker; its JSON payload, or None when the worker is gone.

        Raises:
            WorkerError / the tool's exception type: the tool failed (as it would have in process).
        """
        request = {"tool": name, "plan": plan, "thread_id": ctx.thread_id, "options": ctx.options,
                   "artifacts": ctx.artifacts, "results": ctx.results, "progress": ctx.progress}
        with self._lock:
            if self._proc is None or self._proc.poll() is not None:
                return None
            self._used = True
            try:
                self._send(request)
                reply = self._serve_until_reply(ctx)
            except (BrokenPipeError, OSError, ValueError):
                reply = None
            if reply is None:
                self._proc = None
                return None
        ctx.artifacts.clear()
        ctx.artifacts.update(reply.get("artifacts") or {})
        if "error" in reply:
            raise _rebuild(reply["error"])
        return reply["ok"]

    def _send(self, obj: dict) -> None:
        self._out.write(json.dumps(obj, default=str) + "\n")
        self._out.flush()

    def _serve_until_reply(self, ctx: Any) -> Optional[dict]:
        """Answer the worker's progress and memory messages until the tool's reply (None on EOF)."""
        while True:
            line = self._in.readline()
            if not line:
                return None
            msg = json.loads(line)
            if "progress" in msg:
                if getattr(ctx, "on_progress", None):
                    ctx.on_progress(msg["progress"])
            elif "memory" in msg:
                self._send(_memory_call(self._settings, msg["memory"], msg.get("kwargs") or {}))
            else:
                return msg

    def close(self, timeout: float = 60.0) -> None:
        if not self._used and self._proc is not None:
            self._proc.kill()  # nothing ran in it (the turn failed before its tools): no need to wait
        proc, self._proc = self._proc, None
        for f in (self._out, self._in):
            try:
                f.close()
            except OSError:
                pass
        if proc is not None:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _memory_call(settings: Any, method: str, kwargs: dict) -> dict:
    """A memory method the worker asked for, run on this process's memory (the sidecar if one runs)."""
    from tensor_agent.memory.sidecar import REMOTE, _failure, _reply

    try:
        if method not in REMOTE:
            raise ValueError(f"the tool worker cannot ask for memory.{method}")
        from tensor_agent.memory import open_memory

        return json.loads(_reply(getattr(open_memory(settings), method)(**kwargs)))
    except Exception as exc:  # noqa: BLE001 - the worker raises it with its class
        return json.loads(_failure(exc))


if __name__ == "__main__":
    from tensor_agent.toolworker_child import main

    main(sys.argv[1:])
