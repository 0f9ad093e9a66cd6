"""INT8 quantization: torch.ao dynamic, static (FX, with calibration), QAT, and ONNX Runtime INT8.

`torch.ao.quantization` is deprecated in torch 2.14 but works and is fast on x86 (fbgemm/x86
engine); torchao's int8 configs were far slower than fp32 on this CPU without torch.compile,
so they are not offered. Every function returns a `Compressed` (not yet measured).
"""

from __future__ import annotations

import copy
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.core.runtime import Runner, linear_weight_bytes


@dataclass
class Compressed:
    """A compression result before measurement."""

    technique: str
    runner: Runner
    details: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def module(self):
        return self.runner.module


def _nn():
    import torch.nn as nn

    return nn


def layer_counts(model) -> dict[str, int]:
    """How many Linear / Conv / recurrent / attention layers a model has."""
    nn = _nn()
    counts = {"linear": 0, "conv": 0, "rnn": 0, "embedding": 0}
    for m in model.modules():
        if isinstance(m, nn.Linear):
            counts["linear"] += 1
        elif isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
            counts["conv"] += 1
        elif isinstance(m, (nn.LSTM, nn.GRU, nn.RNN)):
            counts["rnn"] += 1
        elif isinstance(m, nn.Embedding):
            counts["embedding"] += 1
    return counts


def is_quantized(model) -> bool:
    """Whether a module already holds INT8 (quantized) layers."""
    return any("quantized" in type(m).__module__ and "Quant" not in type(m).__name__ or
               type(m).__module__.startswith("torch.ao.nn.quantized") for m in model.modules())


def require_torch_module(model, technique: str, *, float_only: bool = True) -> None:
    """Raise a clear error when `model` is not a (float) torch module."""
    import torch

    if not isinstance(model, torch.nn.Module):
        raise UnsatisfiableError(f"technique '{technique}' needs a PyTorch model, got {type(model).__name__}",
                                 hint="gradient-boosted trees and sklearn models are not quantized or pruned here")
    if float_only and is_quantized(model):
        raise UnsatisfiableError(f"technique '{technique}' needs a float model and this one is already INT8-quantized",
                                 hint="compress the original model (model_path=...) instead of the quantized one")


def classifier_head_names(model, num_classes: Optional[int] = None) -> list[str]:
    """Names of the final Linear layer(s) producing the class logits (kept in fp32 by default)."""
    nn = _nn()
    linears = [(n, m) for n, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        return []
    if num_classes is not None:
        named = [n for n, m in linears if m.out_features == num_classes]
        if named:
            return named[-1:]
    return [linears[-1][0]]


def dynamic_int8(model, *, per_channel: bool = True, keep_fp32: Optional[list[str]] = None) -> Compressed:
    """Post-training dynamic INT8 of Linear/LSTM/GRU layers (weights int8, activations quantized on the fly).

    Args:
        per_channel: one weight scale per output channel (less error than per-tensor for Linear layers).
        keep_fp32: module names left in fp32 (default: none; the tool keeps the classifier head).

    Raises:
        UnsatisfiableError: the model has no Linear or recurrent layer.
    """
    import torch
    from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic

    require_torch_module(model, "dynamic_int8")
    counts = layer_counts(model)
    if counts["linear"] + counts["rnn"] == 0:
        raise UnsatisfiableError("dynamic INT8 quantizes Linear/LSTM/GRU layers and this model has none "
                                 f"(layers: {counts})", hint="use technique=static_int8 for convolutional models")
    before_w = linear_weight_bytes(model)
    keep = set(keep_fp32 or [])
    lin_q = per_channel_dynamic_qconfig if per_channel else default_dynamic_qconfig
    spec: dict = {}
    layers: dict[str, str] = {}  # the recipe: which layers, so the INT8 model can be rebuilt without pickle
    for name, m in model.named_modules():
        if name in keep:
            continue
        if isinstance(m, torch.nn.Linear):
            spec[name], layers[name] = lin_q, "linear"
        elif isinstance(m, (torch.nn.LSTM, torch.nn.GRU)):
            spec[name], layers[name] = default_dynamic_qconfig, "rnn"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = quantize_dynamic(copy.deepcopy(model).eval(), spec, dtype=torch.qint8)
    after_w = linear_weight_bytes(q)
    details = {"linear_weight_bytes_before": before_w, "linear_weight_bytes_after": after_w,
               "linear_weight_ratio": (before_w / after_w) if after_w else None,
               "layers_quantized": len(spec), "kept_fp32": sorted(keep), "per_channel": per_channel,
               "engine": torch.backends.quantized.engine,
               "recipe": {"quantizer": "dynamic", "layers": layers, "per_channel": per_channel}}
    return Compressed("dynamic_int8", Runner("torch-int8-dynamic", module=q, macs_reference=model), details)


def _fx_prepare(model, example_inputs: tuple, *, qat: bool):
    import torch
    from torch.ao.quantization import get_default_qat_qconfig_mapping, get_default_qconfig_mapping
    from torch.ao.quantization.quantize_fx import prepare_fx, prepare_qat_fx

    engine = torch.backends.quantized.engine or "x86"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = copy.deepcopy(model)
        try:
            if qat:
                return prepare_qat_fx(m.train(), get_default_qat_qconfig_mapping(engine), example_inputs)
            return prepare_fx(m.eval(), get_default_qconfig_mapping(engine), example_inputs)
        except Exception as exc:  # noqa: BLE001 - FX tracing failures are many kinds
            raise UnsatisfiableError(
                f"static INT8 / QAT need an FX-traceable model and this one is not "
                f"({type(exc).__name__}: {str(exc)[:160]})",
                hint="use technique=dynamic_int8 or onnx int8 for this model") from None


def _fx_convert(prepared, example_inputs: tuple):
    import torch
    from torch.ao.quantization.quantize_fx import convert_fx

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        q = convert_fx(prepared.eval())
        try:
            with torch.no_grad():
                q(*example_inputs)
        except Exception as exc:  # noqa: BLE001
            raise UnsatisfiableError(f"the INT8 model does not run: an operator has no quantized kernel "
                                     f"({type(exc).__name__}: {str(exc)[:160]})",
                                     hint="use technique=dynamic_int8 or onnx int8") from None
    return q


def static_int8(model, example_inputs: tuple, calibration: tuple, *, batch_size: int = 64) -> Compressed:
    """Post-training static INT8 (FX graph mode): observers, calibration, conversion.

    Args:
        example_inputs: a batch of real inputs (used for tracing).
        calibration: inputs (tuple of tensors, batch first) run through the observers.

    Raises:
        UnsatisfiableError: no Conv/Linear layer, not FX-traceable, or an op without an INT8 kernel.
    """
    import torch

    require_torch_module(model, "static_int8")
    counts = layer_counts(model)
    if counts["conv"] + counts["linear"] == 0:
        raise UnsatisfiableError(f"static INT8 quantizes Conv/Linear layers and this model has none ({counts})")
    prepared = _fx_prepare(model, example_inputs, qat=False)
    n = int(calibration[0].shape[0])
    with torch.no_grad():
        for i in range(0, n, batch_size):
            prepared(*(c[i:i + batch_size] for c in calibration))
    q = _fx_convert(prepared, example_inputs)
    return Compressed("static_int8", Runner("torch-int8-static", module=q, macs_reference=model),
                      {"calibration_examples": n, "engine": torch.backends.quantized.engine, "mode": "fx",
                       "recipe": {"quantizer": "fx_static", "engine": torch.backends.quantized.engine}})


def qat_int8(model, data, example_inputs: tuple, *, epochs: int = 3, lr: float = 2e-4, batch_size: int = 64,
             seed: int = 0, ctx=None) -> Compressed:
    """Quantization-aware training: fake-quant fine-tuning for a few epochs, then INT8 conversion.

    Observers and batch-norm statistics are frozen for the last epoch (the usual QAT recipe).
    """
    import torch
    from torch.ao.quantization import disable_observer
    from torch.ao.nn.intrinsic.qat import freeze_bn_stats

    from tensor_agent.tools.compress.finetune import finetune

    require_torch_module(model, "qat")
    counts = layer_counts(model)
    if counts["conv"] + counts["linear"] == 0:
        raise UnsatisfiableError(f"QAT quantizes Conv/Linear layers and this model has none ({counts})")
    torch.manual_seed(seed)
    prepared = _fx_prepare(model, example_inputs, qat=True)

    def on_epoch(ep: int) -> None:
        if ep >= epochs - 2:
            prepared.apply(disable_observer)
            prepared.apply(freeze_bn_stats)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        info = finetune(prepared, data, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx,
                        on_epoch=on_epoch, desc="QAT")
    q = _fx_convert(prepared, example_inputs)
    return Compressed("qat", Runner("torch-int8-qat", module=q, macs_reference=model),
                      {"epochs": epochs, "lr": lr, "finetune": info, "engine": torch.backends.quantized.engine,
                       "recipe": {"quantizer": "fx_qat", "engine": torch.backends.quantized.engine}})


class _Reader:
    """ONNX Runtime calibration data reader over tensors."""

    def __init__(self, names: list[str], calibration: tuple, batch_size: int = 32):
        self.batches = []
        n = int(calibration[0].shape[0])
        for i in range(0, n, batch_size):
            self.batches.append({k: c[i:i + batch_size].detach().cpu().numpy() for k, c in zip(names, calibration)})
        self.i = 0

    def get_next(self):
        if self.i >= len(self.batches):
            return None
        self.i += 1
        return self.batches[self.i - 1]

    def rewind(self):
        self.i = 0


def onnx_int8(model, example_inputs: tuple, out_dir: str | Path, *, calibration: Optional[tuple] = None,
              mode: Optional[str] = None, input_names: Optional[list[str]] = None, threads: int = 1,
              fuse: bool = True) -> Compressed:
    """Export to ONNX (fp32) and quantize with ONNX Runtime.

    BERT-family encoders (dynamic mode, `fuse=True`) take the transformer recipe of `onnx_fusion`:
    export with eager attention, ONNX Runtime's transformer optimizer (LayerNorm, tanh GELU), then
    per-channel dynamic INT8; the fused fp32 graph must match the torch model within
    `FUSED_PARITY_TOLERANCE`, else the plain export is quantized (and the details say why).

    Args:
        mode: "dynamic" (MatMul/Gemm weights int8; transformers, MLPs) or "static" (QDQ, per-channel,
            calibrated; CNNs). Default: static for convolutional models with calibration data, else dynamic.
        fuse: apply the transformer recipe where it applies (False: plain export, as before).

    Raises:
        UnsatisfiableError: export fails, or static mode without calibration data.
    """
    require_torch_module(model, "onnx_int8")
    counts = layer_counts(model)
    if counts["conv"] + counts["linear"] == 0:
        raise UnsatisfiableError(f"ONNX INT8 quantizes Conv/MatMul layers and this model has none ({counts})")
    if mode is None:
        mode = "static" if counts["conv"] > 0 and calibration is not None else "dynamic"
    if mode == "static" and calibration is None:
        raise UnsatisfiableError("ONNX static INT8 needs calibration data", hint="pass calibration_data=... "
                                 "or compress a model trained on a known dataset")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fp32, details = _export_fp32(model, example_inputs, out_dir, input_names, threads,
                                 fuse=fuse and mode == "dynamic")
    q_path = out_dir / f"model_int8_{mode}.onnx"
    _quantize_file(fp32, q_path, mode, calibration, contrib_ops=bool(details.get("graph_fusion")))
    details["mode"] = mode
    runner = Runner(f"onnxruntime-int8-{mode}", onnx_path=str(q_path), threads=threads, macs_reference=model)
    artifacts = {"onnx_fp32": details.pop("_export_path"), "onnx_int8": str(q_path)}
    if details.get("graph_fusion"):
        artifacts["onnx_fp32_fused"] = str(fp32)
    return Compressed("onnx_int8", runner, details, artifacts)


def _export_fp32(model, example_inputs: tuple, out_dir: Path, input_names, threads: int, *, fuse: bool):
    """The fp32 ONNX file to quantize and its details (exporter, parity, fusion)."""
    from tensor_agent.tools.compress import onnx_fusion
    from tensor_agent.tools.compress.export import export_onnx, onnx_parity

    cfg = onnx_fusion.transformer_config(model) if fuse else None
    src, switched = (onnx_fusion.eager_attention_copy(model) if cfg is not None else (model, []))
    fp32 = out_dir / "model_fp32.onnx"
    exp = export_onnx(src, example_inputs, fp32, input_names=input_names)
    parity = onnx_parity(model, str(fp32), example_inputs, threads=threads)
    details: dict[str, Any] = {"exporter": exp.exporter, "fp32_onnx_bytes": fp32.stat().st_size,
                               "fp32_parity_max_abs_diff": parity, "_export_path": str(fp32)}
    if cfg is None:
        return fp32, details
    fused = out_dir / "model_fp32_fused.onnx"
    ops = onnx_fusion.fuse_transformer(fp32, fused, cfg)
    fused_parity = onnx_parity(model, str(fused), example_inputs, threads=threads)
    info = {"attention_export": "eager" if switched else "as is", "fused_ops": ops,
            "gelu": "tanh approximation (FastGelu)" if ops.get("FastGelu") else "exact",
            "fused_fp32_parity_max_abs_diff": fused_parity, "tolerance": onnx_fusion.FUSED_PARITY_TOLERANCE}
    if fused_parity > onnx_fusion.FUSED_PARITY_TOLERANCE:
        fused.unlink(missing_ok=True)
        details["graph_fusion_skipped"] = info | {"why": f"fused fp32 graph differs from the model by "
                                                         f"{fused_parity:.2e} (> {onnx_fusion.FUSED_PARITY_TOLERANCE:g})"}
        return fp32, details
    details["graph_fusion"] = info
    return fused, details


def _quantize_file(fp32: Path, q_path: Path, mode: str, calibration: Optional[tuple], *, contrib_ops: bool) -> None:
    """ONNX Runtime INT8 of an fp32 file: dynamic (per-channel QInt8 weights) or static QDQ (calibrated)."""
    import onnx
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_dynamic, quantize_static

    from tensor_agent.tools.compress.onnx_fusion import _quiet_ort

    # contrib ops (FastGelu) have no ONNX shape inference: their outputs are float
    extra = {"DefaultTensorType": onnx.TensorProto.FLOAT} if contrib_ops else {}
    with _quiet_ort():  # the ORT quantizer logs pre-processing advice on the root logger
        if mode == "dynamic":
            quantize_dynamic(str(fp32), str(q_path), weight_type=QuantType.QInt8, per_channel=True,
                             extra_options=extra)
        else:
            import onnxruntime as ort

            names = [i.name for i in ort.InferenceSession(str(fp32), providers=["CPUExecutionProvider"]).get_inputs()]
            quantize_static(str(fp32), str(q_path), _Reader(names, calibration), quant_format=QuantFormat.QDQ,
                            per_channel=True, activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
