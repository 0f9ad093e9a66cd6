"""Save and load a `ModelHandle` as a directory: `handle.json` + the model file(s).

Writes go to a temporary sibling directory that is renamed into place at the end, so a failed save
never leaves a half-written model behind.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle

META = "handle.json"


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items() if _json_safe(v) is not _DROP}
    if isinstance(value, (list, tuple)):
        return [v for v in (_json_safe(x) for x in value) if v is not _DROP]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if isinstance(value, Path):
        return str(value)
    return _DROP


_DROP = object()


def _target_dir(handle: ModelHandle, directory: str | os.PathLike, name: str | None) -> Path:
    d = Path(directory)
    if name:
        return d / name
    if d.exists() and any(d.iterdir()) and not (d / META).exists():
        # a parent folder (e.g. settings.models_dir): make a fresh sub-directory
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = f"{handle.family}-{handle.dataset or 'model'}-{stamp}".replace("/", "_")
        cand, i = d / base, 1
        while cand.exists():
            cand, i = d / f"{base}-{i}", i + 1
        return cand
    if d.exists() and not any(d.iterdir()):
        return d
    return d


def save_model(handle: ModelHandle, directory: str | os.PathLike, name: str | None = None) -> str:
    """Save `handle` and return the directory it was saved to.

    Args:
        handle: the model handle (torch module, xgboost model or sklearn estimator).
        directory: the model directory, or a parent folder (such as `settings.models_dir`) in which a new
            sub-directory `<family>-<dataset>-<time>` is created.
        name: an explicit sub-directory name under `directory`.
    """
    target = _target_dir(handle, directory, name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-" + target.name + "-", dir=target.parent))
    try:
        kind = handle.kind
        files: dict[str, str] = {}
        if kind == "torch":
            import torch

            torch.save(handle.module, tmp / "model.pt")
            torch.save(handle.module.state_dict(), tmp / "state_dict.pt")
            files = {"module": "model.pt", "state_dict": "state_dict.pt"}
        elif kind == "xgboost":
            model = handle.module
            model.save_model(str(tmp / "model.json"))
            files = {"module": "model.json", "class": type(model).__name__}
        else:
            import pickle

            with open(tmp / "model.pkl", "wb") as fh:
                pickle.dump(handle.module, fh)
            files = {"module": "model.pkl"}
        meta = {"family": handle.family, "kind": kind, "task": handle.task,
                "input_spec": _json_safe(handle.input_spec), "num_classes": handle.num_classes,
                "dataset": handle.dataset, "metrics": _json_safe(handle.metrics),
                "mlflow_run_id": handle.mlflow_run_id, "extra": _json_safe(handle.extra), "files": files,
                "saved_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
        (tmp / META).write_text(json.dumps(meta, indent=2))
        if target.exists():
            old = target.with_name(f".old-{target.name}-{os.getpid()}")
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    handle.path = str(target)
    return str(target)


def load_model(path: str | os.PathLike) -> ModelHandle:
    """Load a model directory written by `save_model`.

    Raises:
        UnsatisfiableError: the directory does not exist or holds no saved model.
    """
    d = Path(path)
    if not (d / META).exists():
        raise UnsatisfiableError(f"no saved model at {d}", hint="train or design a model first")
    try:
        meta = json.loads((d / META).read_text())
    except json.JSONDecodeError as exc:
        raise InputError(f"{d / META}: corrupt model metadata ({exc.msg})") from None
    kind, files = meta.get("kind", "torch"), meta.get("files", {})
    if kind == "torch":
        import torch

        module = torch.load(d / files.get("module", "model.pt"), map_location="cpu", weights_only=False)
        module.eval()
    elif kind == "xgboost":
        import xgboost as xgb

        cls = getattr(xgb, files.get("class", "XGBClassifier"), xgb.XGBClassifier)
        module = cls()
        module.load_model(str(d / files.get("module", "model.json")))
    else:
        import pickle

        with open(d / files.get("module", "model.pkl"), "rb") as fh:
            module = pickle.load(fh)
    return ModelHandle(module=module, family=meta["family"], kind=kind, task=meta.get("task", "classification"),
                       input_spec=meta.get("input_spec") or {}, num_classes=meta.get("num_classes"),
                       dataset=meta.get("dataset"), metrics=meta.get("metrics") or {},
                       mlflow_run_id=meta.get("mlflow_run_id"), path=str(d), extra=meta.get("extra") or {})
