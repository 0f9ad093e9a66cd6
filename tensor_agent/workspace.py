"""Keep every file the agent (and the libraries it loads) writes under the workspace, and stay offline.

`prepare_environment(home)` runs first thing in the CLI's `main` and in `TensorAgent.__init__`:

* MLflow telemetry off (``MLFLOW_DISABLE_TELEMETRY``), ``DO_NOT_TRACK``, Chroma's anonymised telemetry off;
* caches and configs that libraries put under ``~`` go to ``$TENSOR_HOME/cache`` (``XDG_CACHE_HOME``,
  ``XDG_CONFIG_HOME``, ``MPLCONFIGDIR``, ``HF_HOME``, ``TORCH_HOME``) and temporary files (torch-geometric
  writes generated modules there) to ``$TENSOR_HOME/tmp`` (``TMPDIR``);
* Hugging Face libraries offline (``HF_HUB_OFFLINE``, ``TRANSFORMERS_OFFLINE``): nothing downloads at run time.

A variable the user already set is never overridden. `check_writable(home)` turns a read-only workspace
into one clear InputError (exit 2) instead of a database error deep inside a tool.
"""

from __future__ import annotations

import errno
import os
import tempfile
import threading
from pathlib import Path
from typing import Optional

from tensor_agent.errors import InputError

_LOCK = threading.Lock()
#: values this module set (a later workspace may replace them; a user's own value is never replaced)
_OURS: dict[str, str] = {}

#: variables that only switch something off (no path): set when unset
FLAGS: dict[str, str] = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
    "ANONYMIZED_TELEMETRY": "False",          # chromadb (posthog)
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    "TOKENIZERS_PARALLELISM": "false",
}

#: variables naming a directory: workspace-relative default
DIRS: dict[str, tuple[str, ...]] = {
    "XDG_CACHE_HOME": ("cache",),
    "XDG_CONFIG_HOME": ("cache", "config"),
    "MPLCONFIGDIR": ("cache", "matplotlib"),
    "HF_HOME": ("cache", "huggingface"),
    "TORCH_HOME": ("cache", "torch"),
    "TMPDIR": ("tmp",),
    "TORCHINDUCTOR_CACHE_DIR": ("cache", "torchinductor"),
    "TRITON_CACHE_DIR": ("cache", "triton"),
    "KERAS_HOME": ("cache", "keras"),
}


def workspace_home(home: Optional[str | os.PathLike] = None) -> Path:
    """The workspace directory: `home`, else TENSOR_HOME, else ~/.tensor-agent (not created here)."""
    env = os.environ.get("TENSOR_HOME")
    return Path(home or env or Path.home() / ".tensor-agent").expanduser()


def prepare_environment(home: Optional[str | os.PathLike] = None) -> dict[str, str]:
    """Point caches, configs and temp files of the libraries at the workspace; switch telemetry off.

    Idempotent and cheap (no heavy imports). Variables the user set are kept. Returns what it set.
    If the workspace cannot be created (read-only), the directory variables are left alone:
    `check_writable` reports that case clearly where a write is actually needed.
    """
    root = workspace_home(home)
    set_now: dict[str, str] = {}
    with _LOCK:
        for key, value in FLAGS.items():
            if not os.environ.get(key):
                os.environ[key] = value
                set_now[key] = value
        for key, parts in DIRS.items():
            current = os.environ.get(key)
            if current and current != _OURS.get(key):
                continue  # the user's own setting
            target = root.joinpath(*parts)
            try:
                target.mkdir(parents=True, exist_ok=True)
            except OSError:
                continue
            os.environ[key] = _OURS[key] = str(target)
            set_now[key] = str(target)
        if "TMPDIR" in set_now:
            tempfile.tempdir = None  # gettempdir() caches its answer: forget it so TMPDIR applies
    _quiet_onnxruntime_telemetry()
    return set_now


def _quiet_onnxruntime_telemetry() -> None:
    """ONNX Runtime's telemetry switch, if it is already imported (never imports it)."""
    import sys

    ort = sys.modules.get("onnxruntime")
    if ort is not None and hasattr(ort, "disable_telemetry_events"):
        try:
            ort.disable_telemetry_events()
        except Exception:  # noqa: BLE001 - best effort; only exists on some builds
            pass


def check_writable(home: str | os.PathLike) -> Path:
    """Create the workspace if needed and make sure files can be written in it.

    Raises:
        InputError: the workspace (or its parent) is read-only or not a directory; nothing is changed.
    """
    root = Path(home).expanduser()
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = root / f".write-probe-{os.getpid()}-{threading.get_ident()}"
        with open(probe, "w") as fh:
            fh.write("ok")
        probe.unlink()
    except OSError as exc:
        why = "is read-only" if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM) else \
            f"cannot be written ({exc.strerror or exc})"
        raise InputError(f"workspace {root} {why}",
                         hint="make it writable, or point TENSOR_HOME (or --home) at a writable directory; "
                              "nothing was changed") from None
    return root


def is_inside(path: str | os.PathLike, root: str | os.PathLike) -> bool:
    """True when `path` (symlinks resolved) lies inside `root`."""
    try:
        return Path(path).resolve().is_relative_to(Path(root).resolve())
    except (OSError, RuntimeError):
        return False
