"""ONNX export and parity (shared layer): used by the compressor and the deployer."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.core.runtime import first_output


@dataclass
class ExportResult:
    """A file written by an exporter and how well it matches the torch model."""

    format: str
    path: str
    exporter: str
    max_abs_diff: Optional[float] = None
    parity_ok: Optional[bool] = None
    notes: list[str] = field(default_factory=list)


def _quiet():
    ctx = warnings.catch_warnings()
    ctx.__enter__()
    warnings.simplefilter("ignore")
    return ctx


def export_onnx(model, example_inputs: tuple, path: str | Path, *, input_names: Optional[Sequence[str]] = None,
                opset: int = 17, dynamic_batch: bool = True) -> ExportResult:
    """Export a torch module to ONNX (TorchScript-based exporter, then the dynamo exporter as fallback).

    Raises:
        UnsatisfiableError: neither exporter can convert the model.
    """
    import torch

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    names = list(input_names or ([f"input_{i}" for i in range(len(example_inputs))] if len(example_inputs) > 1
                                  else ["input"]))
    dyn = {n: {0: "batch"} for n in names} if dynamic_batch else None
    if dyn is not None:
        dyn["output"] = {0: "batch"}
    errors = []
    w = _quiet()
    try:
        try:
            with torch.no_grad():
                torch.onnx.export(model, tuple(example_inputs), str(path), dynamo=False, input_names=names,
                                  output_names=["output"], dynamic_axes=dyn, opset_version=opset,
                                  do_constant_folding=True)
            return ExportResult("onnx", str(path), "torch.onnx (TorchScript)")
        except Exception as exc:  # noqa: BLE001 - try the other exporter
            errors.append(f"torchscript exporter: {type(exc).__name__}: {str(exc)[:200]}")
        try:
            shapes = tuple({0: torch.export.Dim("batch", min=1)} for _ in example_inputs) if dynamic_batch else None
            with torch.no_grad():
                torch.onnx.export(model, tuple(example_inputs), str(path), dynamo=True, input_names=names,
                                  output_names=["output"], dynamic_shapes=shapes, verbose=False,
                                  external_data=False)
            return ExportResult("onnx", str(path), "torch.onnx (dynamo)")
        except Exception as exc:  # noqa: BLE001
            errors.append(f"dynamo exporter: {type(exc).__name__}: {str(exc)[:200]}")
    finally:
        w.__exit__(None, None, None)
    raise UnsatisfiableError(f"this model cannot be exported to ONNX ({'; '.join(errors)})",
                             hint="try technique=torchscript or dynamic_int8 instead")


def onnx_parity(model, onnx_path: str, inputs: tuple, *, threads: int = 1) -> float:
    """Max absolute difference between torch and ONNX Runtime outputs on `inputs`."""
    import onnxruntime as ort
    import torch

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.log_severity_level = 3
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
    feeds = {i.name: x.detach().cpu().numpy() for i, x in zip(sess.get_inputs(), inputs)}
    got = torch.from_numpy(sess.run(None, feeds)[0])
    with torch.no_grad():
        want = first_output(model.eval()(*inputs)).float()
    return float((got.float() - want).abs().max())


