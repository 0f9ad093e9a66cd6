"""The tool worker process (see `tensor_agent.toolworker`): imports torch and the tools at once, then
runs each tool request it gets on its pipe, exactly as the graph's tool node would in process."""

from __future__ import annotations

import json
import os
import threading
from typing import Any

from tensor_agent.toolworker import _describe


class _Channel:
    """JSON lines to and from the parent over the two inherited pipe descriptors."""

    def __init__(self, rfd: int, wfd: int):
        self._in = os.fdopen(rfd, "r")
        self._out = os.fdopen(wfd, "w", buffering=1)
        self._lock = threading.Lock()

    def send(self, obj: dict) -> None:
        with self._lock:
            self._out.write(json.dumps(obj, default=str) + "\n")
            self._out.flush()

    def call(self, obj: dict) -> dict:
        """Send `obj` and read the parent's one-line answer (memory calls, while a tool runs)."""
        with self._lock:
            self._out.write(json.dumps(obj, default=str) + "\n")
            self._out.flush()
            line = self._in.readline()
        if not line:
            raise OSError("the parent closed the tool worker's pipe")
        return json.loads(line)

    def requests(self):
        for line in self._in:
            if line.strip():
                yield json.loads(line)


def _parent_memory(settings: Any, channel: _Channel):
    """A memory whose `recommend` / `remember_turn` the parent answers (one store owner per turn)."""
    from tensor_agent.memory.sidecar import SidecarMemory, _error

    class ParentMemory(SidecarMemory):
        def __init__(self):  # no process of its own: the parent holds the store
            self._settings, self._local, self._lock, self._proc = settings, None, threading.Lock(), None

        def _ask(self, method: str, **kwargs: Any) -> Any:
            reply = channel.call({"memory": method, "kwargs": kwargs})
            if "error" in reply:
                raise _error(reply["error"])
            return reply["ok"]

    return ParentMemory()


def _warm(tools: list[str]) -> None:
    """Import the modules of the turn's tools (torch is already in)."""
    from tensor_agent.tools import get_tool

    for name in tools:
        try:
            get_tool(name)
        except Exception:  # noqa: BLE001 - the request reports it, as in process
            pass


def _run(request: dict, settings: Any, channel: _Channel) -> dict:
    from tensor_agent.schema import Plan
    from tensor_agent.tools import get_tool
    from tensor_agent.tools.core.context import ToolContext, json_safe

    ctx = ToolContext(settings=settings, thread_id=str(request.get("thread_id") or "default"),
                      options=dict(request.get("options") or {}), artifacts=dict(request.get("artifacts") or {}),
                      progress=bool(request.get("progress")), results=dict(request.get("results") or {}))
    ctx.on_progress = lambda info: channel.send({"progress": json_safe(info)})
    try:
        out = get_tool(request["tool"])(Plan.model_validate(request["plan"]), ctx)
        payload = out.model_dump(mode="json") if hasattr(out, "model_dump") else out
        return {"ok": payload, "artifacts": ctx.artifacts}
    except Exception as exc:  # noqa: BLE001 - every failure goes back with its exit code and payload
        return {"error": _describe(exc), "artifacts": ctx.artifacts}


def serve(home: str, rfd: int, wfd: int, verbose: bool = False) -> int:
    """Import torch, then run tool requests until the parent closes the pipe."""
    from tensor_agent.cli import _quiet_libraries
    from tensor_agent.config import Settings
    from tensor_agent.workspace import prepare_environment

    prepare_environment(home)
    _quiet_libraries(verbose=verbose or bool(os.environ.get("TENSOR_VERBOSE")))
    from tensor_agent.tools.core.plots import prestart

    prestart()  # this process draws the turn's PNGs: its plot child imports matplotlib now
    import torch  # noqa: F401 - the point of the worker: while the parent imports LangGraph

    from tensor_agent.tools.core import measure  # noqa: F401
    channel = _Channel(rfd, wfd)
    settings = Settings.from_env(home)
    from tensor_agent.memory import sidecar

    sidecar.register(settings, _parent_memory(settings, channel))
    for request in channel.requests():
        if "warm" in request:
            _warm(request["warm"])
        else:
            channel.send(_run(request, settings, channel))
    return _exit()


def _exit() -> int:
    """Run the exit handlers (plots finish, memory closes, trackers flush), then leave without the
    interpreter teardown of torch (about 0.3 s of a cold answer)."""
    import atexit
    import sys
    import time

    t0 = time.perf_counter()
    atexit._run_exitfuncs()
    if os.environ.get("TENSOR_TRACE_WORKER"):
        print(f"[worker] exit handlers done in {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _die_with_parent() -> None:
    """A worker must not outlive its CLI: if the parent is killed (even SIGKILL), so is the tool it runs,
    exactly as when the tool ran in the parent (Linux: PR_SET_PDEATHSIG; elsewhere a watchdog thread)."""
    parent = int(os.environ.get("TENSOR_WORKER_PARENT") or os.getppid())
    try:
        import ctypes

        if ctypes.CDLL(None, use_errno=True).prctl(1, 9, 0, 0, 0) != 0:  # PR_SET_PDEATHSIG, SIGKILL
            raise OSError("prctl failed")
    except (OSError, AttributeError):
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(137)

        threading.Thread(target=watch, daemon=True, name="parent-watchdog").start()
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(137)


def main(argv: list[str]) -> None:
    """`python -m tensor_agent.toolworker HOME RFD WFD VERBOSE`: quiet on Ctrl-C and on a parent that went away."""
    import sys

    _die_with_parent()
    try:
        code = serve(argv[0], int(argv[1]), int(argv[2]), verbose=argv[3:4] == ["1"])
    except KeyboardInterrupt:
        code = 130  # the parent reports the interruption
    except (BrokenPipeError, OSError):
        code = 1  # the parent is gone: nobody to answer
    sys.stderr.flush()
    os._exit(code)
