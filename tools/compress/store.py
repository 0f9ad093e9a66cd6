"""Where the compressor reads and writes models: one loader, atomic outputs, orphan clean-up.

- `load_model_dir(path)` is the only place a model is read from disk: `core.model_store.load_model`
  (safetensors + JSON spec, INT8 recipes, ONNX; a bare file is refused: no pickle, no torch.load
  of modules).
- `Outputs` collects everything a compression writes in a hidden temp directory
  (``.tmp-compress-<pid>-...``) and moves it into place with `os.replace` only when the run
  finishes; `clean_orphans` removes temp directories of processes that no longer exist, so a
  SIGKILL leaves neither half-written files nor a changed original.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.core.procs import pid_alive

_TMP = re.compile(r"^\.tmp-compress-(\d+)-")


def load_model_dir(path: str | os.PathLike, workspace=None):
    """The ModelHandle saved at `path`, through the safe model store (the only loader used here).

    Raises:
        InputError: not a model directory, a bare file, a file in the wrong format (the store says which).
    """
    from tensor_agent.tools.core.model_store import load_model

    return load_model(path, workspace=workspace)




def clean_orphans(*dirs: Path) -> list[str]:
    """Remove ``.tmp-compress-<pid>-*`` directories left by processes that are gone; returns what was removed."""
    removed = []
    for base in dirs:
        if not Path(base).is_dir():
            continue
        for p in Path(base).iterdir():
            m = _TMP.match(p.name)
            if p.is_dir() and m and int(m.group(1)) != os.getpid() and not pid_alive(int(m.group(1))):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(str(p))
    return removed


class Outputs:
    """A compression's files, written in a temp directory and published atomically by `commit`."""

    def __init__(self, artifacts_dir: Path, models_dir: Path, name: str):
        self.artifacts_dir, self.models_dir = Path(artifacts_dir), Path(models_dir)
        self.artifacts_dir.mkdir(parents=True, exist_ok=True)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.final = _fresh(self.artifacts_dir / f"{name}-{stamp}")
        self.tmp = Path(tempfile.mkdtemp(prefix=f".tmp-compress-{os.getpid()}-", dir=self.artifacts_dir))
        self.pending_models: list[tuple[Path, Path]] = []  # (temp dir, final dir)
        self.models_tmp: Optional[Path] = None

    def path(self, *parts: str) -> Path:
        """A path inside the temp directory (its final place is the same under `self.final`)."""
        p = self.tmp.joinpath(*parts)
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def final_path(self, p: str | Path) -> str:
        """Where a temp path will be after `commit`."""
        p = Path(p)
        for tmp, final in self.pending_models:
            if p == tmp or tmp in p.parents:
                return str(final / p.relative_to(tmp))
        if p == self.tmp or self.tmp in p.parents:
            return str(self.final / p.relative_to(self.tmp))
        return str(p)

    def model_dir(self, name: str) -> Path:
        """A (not yet existing) temp path for a model directory that `commit` moves into the models directory."""
        if self.models_tmp is None:
            self.models_tmp = Path(tempfile.mkdtemp(prefix=f".tmp-compress-{os.getpid()}-", dir=self.models_dir))
        final = _fresh(self.models_dir / name)
        while any(f == final for _, f in self.pending_models):
            final = _fresh(final.with_name(final.name + "-1"))
        tmp = self.models_tmp / final.name
        self.pending_models.append((tmp, final))
        return tmp

    def discard(self, p: str | Path) -> None:
        """Delete a file or directory that must not be delivered (failed parity, failed verdict)."""
        p = Path(p)
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

    def commit(self) -> None:
        """Publish: each model directory, then the artifacts directory (each one os.replace)."""
        for tmp, final in self.pending_models:
            os.replace(tmp, final)
        if self.models_tmp is not None:
            shutil.rmtree(self.models_tmp, ignore_errors=True)
        os.replace(self.tmp, self.final)

    def abort(self) -> None:
        if self.models_tmp is not None:
            shutil.rmtree(self.models_tmp, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


def _fresh(p: Path) -> Path:
    cand, i = p, 1
    while cand.exists():
        cand, i = p.with_name(f"{p.name}-{i}"), i + 1
    return cand


def require_dir(path: Optional[str]) -> Path:
    p = Path(str(path)).expanduser()
    if not p.exists():
        raise InputError(f"model_path {p} does not exist", hint="pass the directory train_model saved")
    return p


def no_model() -> UnsatisfiableError:
    return UnsatisfiableError("there is no model to compress in this conversation",
                              hint="train or load a model first, or pass model_path=<saved model dir> "
                                   "or model_uri=runs:/<run id>/model")
