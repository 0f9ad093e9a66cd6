"""Helpers shared by the deploy targets: copying the bundle, pinned requirements, YAML checked by Kubernetes types."""

from __future__ import annotations

import json
import shutil
from importlib import metadata
from pathlib import Path

TEMPLATES = Path(__file__).resolve().parent / "templates"
#: what the serving app needs, per served format
REQUIREMENTS = {"onnx": ["onnxruntime"], "xgboost-json": ["xgboost"], "torchscript": ["torch"]}
BASE_REQUIREMENTS = ["numpy", "starlette", "uvicorn"]


def copy_bundle(bundle, dest: Path) -> list[Path]:
    """Copy the bundle's files (model, metadata, tokenizer) into `dest`; returns the copies."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for p in sorted(bundle.dir.iterdir()):
        if p.is_file():
            out.append(Path(shutil.copy2(p, dest / p.name)))
    return out


def pinned(names: list[str]) -> list[str]:
    """`name==version` for each installed package (so the image runs what was tested here)."""
    out = []
    for n in names:
        try:
            out.append(f"{n}=={metadata.version(n)}")
        except metadata.PackageNotFoundError:
            out.append(n)
    return out


def requirements(bundle) -> list[str]:
    names = BASE_REQUIREMENTS + REQUIREMENTS[bundle.format] + (["tokenizers"] if bundle.metadata.get("tokenizer") else [])
    return pinned(names)


def image_name(bundle) -> str:
    return f"tensor-{bundle.metadata['name']}".lower().replace("_", "-")


def k8s_check(doc: dict, kind: str):
    """Deserialize `doc` into the Kubernetes client's model class `kind` (e.g. V1Deployment); raises on mismatch."""
    from kubernetes.client import ApiClient

    class _Resp:
        data = json.dumps(doc)

    obj = ApiClient().deserialize(_Resp(), kind)
    if obj is None:
        raise ValueError(f"{kind}: nothing deserialized")
    return obj
