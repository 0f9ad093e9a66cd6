"""The serving bundle: the model in a format a server loads without this project, plus metadata.

torch models go to ONNX when the export holds parity (<= 1e-4 on a fresh batch), else TorchScript;
XGBoost goes to its own JSON format; a model that already is ONNX (INT8 from the compressor) is
copied as it is. `metadata.json` names the inputs (shape without the batch axis, dtype), classes and
limits; a text model carries its tokenizer.json so the server can take raw text.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle

PARITY_TOL = 1e-4
MAX_BATCH = 256


@dataclass
class Bundle:
    """The files a server needs, in `dir`."""

    dir: Path
    format: str                       # onnx | xgboost-json | torchscript
    model_file: str                   # relative to dir
    metadata: dict
    handle: ModelHandle
    parity: Optional[float] = None
    example: Any = None               # one example input as nested lists (for curl and tests)
    notes: list[str] = field(default_factory=list)


def _inputs_meta(handle: ModelHandle, example: tuple) -> list[dict]:
    names = ["input"] if len(example) == 1 else [f"input_{i}" for i in range(len(example))]
    return [{"name": n, "shape": list(x.shape[1:]), "dtype": str(x.dtype).replace("torch.", "")}
            for n, x in zip(names, example)]


def _classes(handle: ModelHandle) -> Optional[list[str]]:
    classes = (handle.extra or {}).get("classes")
    if classes:
        return [str(c) for c in classes]
    return [str(i) for i in range(handle.num_classes)] if handle.num_classes else None


def _base_meta(handle: ModelHandle, fmt: str, model_file: str) -> dict:
    return {"name": f"{handle.family}-{handle.task}", "family": handle.family, "task": handle.task,
            "format": fmt, "model_file": model_file, "classes": _classes(handle),
            "num_classes": handle.num_classes, "dataset": handle.dataset, "max_batch": MAX_BATCH,
            "mlflow_run_id": handle.mlflow_run_id, "metrics": handle.metrics}


def _onnx_bytes(module: Any) -> Optional[bytes]:
    """The ONNX bytes of a model that already is ONNX (compressor output), else None."""
    data = getattr(module, "onnx_bytes", None)
    if isinstance(data, (bytes, bytearray)):
        return bytes(data)
    path = getattr(module, "path", None) or getattr(module, "source_path", None)
    if isinstance(path, str) and path.endswith(".onnx") and Path(path).is_file():
        return Path(path).read_bytes()
    return None


def _xgboost(handle: ModelHandle, out: Path) -> Bundle:
    import numpy as np

    module = handle.module
    booster = module.get_booster() if hasattr(module, "get_booster") else module
    booster.save_model(str(out / "model.json"))
    n = int((handle.input_spec or {}).get("shape", [booster.num_features()])[0])
    meta = _base_meta(handle, "xgboost-json", "model.json")
    meta["inputs"] = [{"name": "input", "shape": [n], "dtype": "float32"}]
    example = np.zeros((1, n), dtype="float32").tolist()
    return Bundle(out, "xgboost-json", "model.json", meta, handle, example=example)


def _torch(handle: ModelHandle, out: Path, threads: int) -> Bundle:
    import torch

    from tensor_agent.tools.core.onnx_io import export_onnx, onnx_parity
    from tensor_agent.tools.core.zoo.registry import example_inputs_for

    if (handle.input_spec or {}).get("kind") == "graph":
        raise UnsatisfiableError(f"serving a graph model ({handle.family}) over HTTP is not supported: a request "
                                 "would have to carry the whole graph", hint="serve node embeddings instead")
    example = example_inputs_for(handle, 2)
    fresh = example_inputs_for(handle, 3)
    notes: list[str] = []
    try:
        res = export_onnx(handle.module, example, out / "model.onnx")
        diff = onnx_parity(handle.module, res.path, fresh, threads=threads)
        if diff <= PARITY_TOL:
            meta = _base_meta(handle, "onnx", "model.onnx")
            meta["inputs"] = _inputs_meta(handle, example)
            return Bundle(out, "onnx", "model.onnx", meta, handle, diff, fresh[0][:1].tolist())
        notes.append(f"ONNX parity failed (max abs diff {diff:.3g} > {PARITY_TOL:g}): serving TorchScript instead")
        (out / "model.onnx").unlink(missing_ok=True)
    except UnsatisfiableError as exc:
        notes.append(f"no ONNX export ({exc}); serving TorchScript instead")
    with torch.no_grad():
        traced = torch.jit.trace(handle.module.eval(), example, check_trace=False)
        diff = float((traced(*fresh).float() - handle.module(*fresh).float()).abs().max())
    if diff > PARITY_TOL:
        raise UnsatisfiableError(f"neither ONNX nor TorchScript reproduces {handle.family} (max abs diff {diff:.3g})",
                                 hint="nothing was deployed")
    traced.save(str(out / "model.pt"))
    meta = _base_meta(handle, "torchscript", "model.pt")
    meta["inputs"] = _inputs_meta(handle, example)
    return Bundle(out, "torchscript", "model.pt", meta, handle, diff, fresh[0][:1].tolist(), notes)


def _tokenizer(handle: ModelHandle, bundle: Bundle) -> None:
    tok_dir = (handle.extra or {}).get("tokenizer_path")
    if not tok_dir or not (Path(tok_dir) / "tokenizer.json").is_file():
        return
    shutil.copyfile(Path(tok_dir) / "tokenizer.json", bundle.dir / "tokenizer.json")
    bundle.metadata["tokenizer"] = "tokenizer.json"
    bundle.metadata["max_length"] = int(bundle.metadata["inputs"][0]["shape"][0])


def build_bundle(handle: ModelHandle, out: Path, *, threads: int = 1) -> Bundle:
    """Write the serving files of `handle` into `out` (created) and return what was written.

    Raises:
        UnsatisfiableError: the model cannot be served faithfully (nothing is presented as delivered).
    """
    out.mkdir(parents=True, exist_ok=True)
    if handle.kind == "xgboost":
        bundle = _xgboost(handle, out)
    elif (data := _onnx_bytes(handle.module)) is not None:
        (out / "model.onnx").write_bytes(data)
        meta = _base_meta(handle, "onnx", "model.onnx")
        from tensor_agent.tools.core.zoo.registry import example_inputs_for

        example = example_inputs_for(handle, 1)
        meta["inputs"] = _inputs_meta(handle, example)
        bundle = Bundle(out, "onnx", "model.onnx", meta, handle, None, example[0].tolist())
    elif handle.kind == "torch":
        bundle = _torch(handle, out, threads)
    else:
        raise UnsatisfiableError(f"cannot serve a model of kind {handle.kind!r}", hint="deploy a torch or XGBoost model")
    if bundle.format != "xgboost-json":
        _tokenizer(handle, bundle)
    (out / "metadata.json").write_text(json.dumps(bundle.metadata, indent=2, default=str), encoding="utf-8")
    return bundle
