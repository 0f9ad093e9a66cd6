"""Open the memory in a second process while the answer is being computed (issue 11/17: cold answers).

A cold `tensor-agent ask` spends ~1.2 s importing chromadb and ~0.2 s opening the store, all on one
core while the other sits idle: importing chromadb in a thread does not help (imports hold the GIL).
`start(settings)` launches `python -m tensor_agent.memory.sidecar HOME` at the top of the CLI's `ask`;
the child imports chromadb, opens the same store through the usual `Store` (file lock, generation
counter: safe next to other processes) and warms the numpy embedder (no torch), in parallel with the parent's imports
of torch and LangGraph. `open_memory(settings)` then returns a `SidecarMemory` whose `recommend` and
`remember_turn` run in the child; every other method opens the store in this process as before.

The child is a pure speed-up: the same `Memory` code runs on the same store and answers the same
way. Errors come back with their class (InputError -> exit 2, BackendUnavailable -> exit 4), so a
corrupted store reads exactly as it would in process. Requests are JSON lines (no pickle). The child
exits when the parent closes its stdin (or dies); `stop_all` waits for it at exit so every write is
committed before the CLI returns.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any, Optional

#: methods the child runs (their arguments and results are JSON)
REMOTE = ("recommend", "remember_turn")
_ACTIVE: dict[str, "SidecarMemory"] = {}
_LOCK = threading.Lock()


def _key(settings: Any) -> Optional[str]:
    """The store directory a sidecar serves, or None for a Chroma server (no sidecar there)."""
    if getattr(settings, "chroma_url", None) or os.environ.get("TENSOR_CHROMA_URL"):
        return None
    return str((Path(settings.home) / "memory").resolve())


def start(settings: Any) -> Optional["SidecarMemory"]:
    """Start the child for `settings`' store (once per process); None when the store is a server."""
    key = _key(settings)
    if key is None or os.environ.get("TENSOR_MEMORY_SIDECAR") == "0":
        return None
    with _LOCK:
        if key not in _ACTIVE:
            _ACTIVE[key] = SidecarMemory(settings)
        return _ACTIVE[key]


def register(settings: Any, memory: "SidecarMemory") -> bool:
    """Serve `settings`' store through `memory` in this process (the tool worker's parent-backed memory);
    False for a Chroma server, which every process reaches directly."""
    key = _key(settings)
    if key is None:
        return False
    with _LOCK:
        _ACTIVE[key] = memory
    return True


def active(settings: Any) -> Optional["SidecarMemory"]:
    """The running sidecar of `settings`' store, if `start` launched one in this process."""
    key = _key(settings)
    return _ACTIVE.get(key) if key else None


def stop(settings: Any, timeout: float = 30.0) -> None:
    """Close the sidecar of `settings`' store (if one runs) and wait for it."""
    key = _key(settings)
    with _LOCK:
        side = _ACTIVE.pop(key, None) if key else None
    if side is not None:
        side.close(timeout)


def stop_all(timeout: float = 30.0) -> None:
    """Close every sidecar and wait for it (its writes are committed when it exits)."""
    with _LOCK:
        items = list(_ACTIVE.items())
        _ACTIVE.clear()
    for _, side in items:
        side.close(timeout)


atexit.register(stop_all)


class SidecarMemory:
    """`Memory` with `recommend` and `remember_turn` served by the child process (see module docstring)."""

    def __init__(self, settings: Any):
        self._settings = settings
        self._local = None
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tensor_agent.memory.sidecar", str(Path(settings.home))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, bufsize=1,
            env={**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1"),
                 "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")})

    # --- the remote part --------------------------------------------------------------------------
    def _ask(self, method: str, **kwargs: Any) -> Any:
        with self._lock:
            proc = self._proc
            if proc is None or proc.poll() is not None:
                return getattr(self._memory(), method)(**kwargs)  # the child is gone: the same call here
            try:
                proc.stdin.write(json.dumps({"method": method, "kwargs": kwargs}, default=str) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
            except (BrokenPipeError, OSError):
                line = ""
            if not line:
                self._proc = None
                return getattr(self._memory(), method)(**kwargs)
        reply = json.loads(line)
        if "error" in reply:
            raise _error(reply["error"])
        return reply["ok"]

    def recommend(self, modality, task, default_family, candidates, constraints=None):
        from .fitness import FamilyFitness, Recommendation

        out = self._ask("recommend", modality=modality, task=task, default_family=default_family,
                        candidates=list(candidates or []), constraints=constraints)
        return Recommendation(**{**out, "fitness": [FamilyFitness(**f) for f in out.get("fitness") or []]})

    def remember_turn(self, plan, results, errors=None, codes=None) -> list[str]:
        from .core import _as_dict

        plan = plan if isinstance(plan, dict) else _as_dict(plan)
        results = {k: (d if (d := _as_dict(v)) is not None else v) for k, v in (results or {}).items()}
        return self._ask("remember_turn", plan=plan, results=results, errors=errors or {}, codes=codes or {})

    # --- everything else: the store in this process --------------------------------------------
    def _memory(self):
        if self._local is None:
            from .core import Memory
            from .store import Store

            self._local = Memory(Store.open(self._settings))
        return self._local

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._memory(), name)

    def close(self, timeout: float = 30.0) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.stdin.close()
                proc.wait(timeout=timeout)
            except (OSError, subprocess.TimeoutExpired):
                proc.kill()
                proc.wait()
        if self._local is not None:
            self._local.close()
            self._local = None


def _error(info: dict) -> Exception:
    from tensor_agent import errors

    cls = getattr(errors, str(info.get("type")), None)
    if isinstance(cls, type) and issubclass(cls, errors.TensorError):
        return cls(info.get("message", ""), hint=info.get("hint"))
    return RuntimeError(f"memory: {info.get('type')}: {info.get('message')}")


# --- the child --------------------------------------------------------------------------------------
def _reply(value: Any) -> str:
    if hasattr(value, "__dataclass_fields__"):
        value = asdict(value)
    return json.dumps({"ok": value}, default=str)


def _failure(exc: BaseException) -> str:
    return json.dumps({"error": {"type": type(exc).__name__, "message": getattr(exc, "message", str(exc)),
                                 "hint": getattr(exc, "hint", None)}})


def serve(home: str) -> int:
    """Open the store of `home`, warm the embedder, then answer JSON-line requests until stdin closes."""
    import warnings

    warnings.filterwarnings("ignore")
    from tensor_agent.config import Settings
    from tensor_agent.workspace import prepare_environment

    prepare_environment(home)
    from .core import open_memory

    memory, opened = None, None
    try:
        memory = open_memory(Settings.from_env(home))
    except Exception as exc:  # noqa: BLE001 - reported to the parent on every request, as in process
        opened = exc
    if memory is not None:
        from .embed import get_numpy_model

        get_numpy_model()  # the numpy MiniLM (no torch) now, while the parent is busy: remember_turn is quick
    for line in sys.stdin:
        try:
            if opened is not None:
                raise opened
            req = json.loads(line)
            if req.get("method") not in REMOTE:
                raise ValueError(f"the memory sidecar does not serve {req.get('method')!r}")
            out = _reply(getattr(memory, req["method"])(**req.get("kwargs", {})))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent with its class
            out = _failure(exc)
        sys.stdout.write(out + "\n")
        sys.stdout.flush()
    if memory is not None:
        memory.close()  # every write is committed here; what follows is only interpreter teardown
    return 0


if __name__ == "__main__":
    import atexit

    code = serve(sys.argv[1])
    atexit._run_exitfuncs()
    sys.stdout.flush()
    os._exit(code)  # exit handlers ran; skip tearing chromadb down (about 0.3 s the CLI would wait for)
