"""Deploy targets: one decorator, one lookup, the typed report."""

from __future__ import annotations

from typing import Any, Callable, Optional

from pydantic import BaseModel, Field

from tensor_agent.errors import UnsatisfiableError

_TARGETS: dict[str, Callable[..., "TargetResult"]] = {}
_LOADED = False


class TargetResult(BaseModel):
    """What one target produced."""

    target: str = Field(description="docker, torchserve, tfserving, kserve, kubernetes, kubeflow or local.")
    ok: bool = Field(description="The artifact was built and checked.")
    path: Optional[str] = Field(default=None, description="Main artifact (build context, .mar, manifest, YAML).")
    files: list[str] = Field(default_factory=list, description="Every file written.")
    commands: list[str] = Field(default_factory=list, description="What to run next (build, run, curl, apply).")
    checks: list[str] = Field(default_factory=list, description="What was verified and how.")
    url: Optional[str] = Field(default=None, description="Where a local server answers (target local).")
    pid: Optional[int] = Field(default=None, description="Process id of a local server.")
    reason: Optional[str] = Field(default=None, description="Why it could not be done (ok false).")


class DeployReport(BaseModel):
    """The deploy tool's answer."""

    model_family: str
    model_path: Optional[str] = None
    served_format: str = Field(description="onnx, xgboost-json or torchscript: what the server loads.")
    parity_max_abs_diff: Optional[float] = Field(default=None, description="Served model vs in-process model.")
    targets: list[TargetResult] = Field(default_factory=list)
    mlflow_run_id: Optional[str] = None
    message: str = ""


def register_target(name: str) -> Callable[[Callable[..., TargetResult]], Callable[..., TargetResult]]:
    """Register `fn(bundle, ctx, options) -> TargetResult` as deploy target `name`."""

    def deco(fn: Callable[..., TargetResult]) -> Callable[..., TargetResult]:
        _TARGETS[name] = fn
        return fn

    return deco


def _load() -> None:
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from tensor_agent.tools.deploy import docker, kube, kubeflow, local, tfserving, torchserve  # noqa: F401


def list_targets() -> list[str]:
    _load()
    return list(_TARGETS)


def get_target(name: str) -> Callable[..., TargetResult]:
    """The target called `name`, or UnsatisfiableError listing the known ones."""
    _load()
    key = (name or "").strip().lower().replace("-", "").replace("_", "")
    key = {"k8s": "kubernetes", "tfserve": "tfserving", "tensorflowserving": "tfserving", "kfp": "kubeflow"}.get(key, key)
    if key not in _TARGETS:
        raise UnsatisfiableError(f"unknown deploy target '{name}' (known: {', '.join(_TARGETS)})",
                                 hint="e.g. docker, torchserve, kserve, kubeflow")
    return _TARGETS[key]


def run_target(name: str, bundle: Any, ctx: Any, options: dict) -> TargetResult:
    return get_target(name)(bundle, ctx, options)
