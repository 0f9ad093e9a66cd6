"""The technique registry: ``@technique(name, stage)`` and the one factory `get_technique`.

A technique is ``fn(module, env) -> list[Compressed]``. ``int8`` returns several candidates
(torch dynamic, torch static, ONNX Runtime INT8) that the pipeline measures and chooses among.
Stages run in the order distill -> prune -> quantize -> export.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from tensor_agent.errors import InputError, TensorError, UnsatisfiableError

#: techniques of the export stage: they write a file of the current model, they do not change it
EXPORTS = ("onnx", "torchscript", "torchserve")
#: techniques that change the number format (their result is no longer a float model)
QUANTIZERS = ("int8", "dynamic_int8", "static_int8", "qat", "onnx_int8")

#: stage of each technique: pipelines run stages in this order
STAGES = ("distill", "prune", "quantize", "export")

_TECHNIQUES: dict[str, tuple[str, Callable]] = {}

ALIASES = {
    "quantization": "int8", "quantize": "int8", "int8_quantization": "int8", "ptq": "static_int8",
    "int8_dynamic": "dynamic_int8", "dynamic": "dynamic_int8", "int8_static": "static_int8",
    "static": "static_int8", "quantization_aware_training": "qat", "magnitude_pruning": "pruning",
    "unstructured_pruning": "pruning", "magnitude": "pruning", "prune": "pruning",
    "channel_pruning": "structured_pruning", "structured": "structured_pruning", "head_pruning": "structured_pruning",
    "lth": "lottery_ticket", "lottery": "lottery_ticket", "kd": "distillation", "distill": "distillation",
    "knowledge_distillation": "distillation", "jit": "torchscript", "torch_export": "torchscript",
    "ort_int8": "onnx_int8", "onnxruntime_int8": "onnx_int8", "onnx_runtime_int8": "onnx_int8",
    "mar": "torchserve", "model_archive": "torchserve", "export": "onnx", "onnx_export": "onnx",
}


def technique(name: str, stage: str) -> Callable[[Callable], Callable]:
    """Register a technique under `name` in pipeline `stage`."""
    if stage not in STAGES:
        raise ValueError(f"unknown stage {stage!r} (known: {', '.join(STAGES)})")

    def deco(fn: Callable) -> Callable:
        _TECHNIQUES[name] = (stage, fn)
        return fn

    return deco


def known_techniques() -> list[str]:
    return list(_TECHNIQUES)


def canonical(name: str) -> str:
    key = str(name).strip().lower().replace("-", "_").replace(" ", "_")
    return ALIASES.get(key, key)


def get_technique(name: str) -> tuple[str, Callable]:
    """(stage, fn) of a technique, or InputError naming the known ones."""
    key = canonical(name)
    if key not in _TECHNIQUES:
        raise InputError(f"unknown compression technique {name!r} (known: {', '.join(_TECHNIQUES)})",
                         hint="e.g. technique=int8, pruning, structured_pruning, distillation, onnx")
    return key, _TECHNIQUES[key][1]


def stage_of(name: str) -> str:
    """The pipeline stage of a technique."""
    key, _ = get_technique(name)
    return _TECHNIQUES[key][0]


def order_techniques(names: Iterable[str]) -> list[str]:
    """Canonical, de-duplicated, in stage order (distill -> prune -> quantize -> export)."""
    out: list[str] = []
    for n in names:
        key, _ = get_technique(n)
        if key not in out:
            out.append(key)
    return sorted(out, key=lambda k: STAGES.index(_TECHNIQUES[k][0]))


@dataclass
class StepEnv:
    """Everything a technique needs besides the module."""

    handle: Any
    data: Any  # TaskData or None
    example_inputs: tuple
    calibration: Optional[tuple]
    out_dir: Path
    ctx: Any = None
    threads: int = 1
    seed: int = 0
    sparsity: Optional[float] = None
    epochs: Optional[int] = None
    options: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def need_data(self, what: str):
        if self.data is None:
            raise UnsatisfiableError(f"{what} needs the model's training data and none is known",
                                     hint="pass dataset=<name or path> (the data the model was trained on)")
        return self.data


def _epochs(env: StepEnv, default: int) -> int:
    return int(env.epochs if env.epochs is not None else env.options.get("finetune_epochs", default))


# ------------------------------------------------------------------------------------------------ quantize
@technique("dynamic_int8", "quantize")
def _dynamic(module, env: StepEnv):
    from tensor_agent.tools.compress.quantize import classifier_head_names, dynamic_int8, layer_counts

    # the classifier head stays fp32 (tiny, and the most sensitive layer) unless it is the only Linear
    keep = classifier_head_names(module, getattr(env.handle, "num_classes", None))
    if layer_counts(module)["linear"] <= len(keep):
        keep = []
    return [dynamic_int8(module, per_channel=bool(env.options.get("per_channel", True)), keep_fp32=list(keep))]


@technique("static_int8", "quantize")
def _static(module, env: StepEnv):
    from tensor_agent.tools.compress.quantize import static_int8

    calib = env.calibration
    if calib is None:
        raise UnsatisfiableError("static INT8 needs calibration data",
                                 hint="pass calibration_data=<array (N, ...)> or dataset=<name>")
    return [static_int8(module, env.example_inputs, calib)]


@technique("qat", "quantize")
def _qat(module, env: StepEnv):
    from tensor_agent.tools.compress.quantize import qat_int8

    data = env.need_data("quantization-aware training")
    return [qat_int8(module, data, env.example_inputs, epochs=_epochs(env, 3), seed=env.seed, ctx=env.ctx,
                     lr=float(env.options.get("qat_lr", 2e-4)))]


@technique("onnx_int8", "quantize")
def _onnx_int8(module, env: StepEnv):
    from tensor_agent.tools.compress.quantize import onnx_int8

    return [onnx_int8(module, env.example_inputs, env.out_dir / "onnx_int8", calibration=env.calibration,
                      mode=env.options.get("onnx_mode"), input_names=_input_names(env), threads=env.threads)]


@technique("int8", "quantize")
def _int8_auto(module, env: StepEnv):
    """Every INT8 back-end that applies; the tool keeps the best that meets the goals."""
    from tensor_agent.tools.compress.quantize import layer_counts

    counts = layer_counts(module)
    tries: list[tuple[str, Callable]] = []
    if counts["linear"] + counts["rnn"]:
        tries.append(("dynamic_int8", _dynamic))
    if counts["conv"] and env.calibration is not None:
        tries.append(("static_int8", _static))
    tries.append(("onnx_int8", _onnx_int8))
    out, errors = [], []
    for name, fn in tries:
        try:
            out.extend(fn(module, env))
        except TensorError as exc:
            errors.append(f"{name}: {exc}")
    env.notes.extend(f"INT8 candidate skipped: {e}" for e in errors)
    if not out:
        raise UnsatisfiableError("no INT8 back-end applies to this model: " + "; ".join(errors))
    return out


def _input_names(env: StepEnv) -> Optional[list[str]]:
    names = getattr(env.data, "input_names", None) if env.data is not None else None
    return names if names and len(names) == len(env.example_inputs) else None


# ------------------------------------------------------------------------------------------------ prune
@technique("pruning", "prune")
def _magnitude(module, env: StepEnv):
    from tensor_agent.tools.compress.prune import magnitude_prune

    data = env.need_data("pruning (fine-tuning after it)")
    return [magnitude_prune(module, data, env.sparsity if env.sparsity is not None else 0.8,
                            epochs=_epochs(env, 6), steps=int(env.options.get("prune_steps", 3)),
                            lr=float(env.options.get("finetune_lr", 1e-3)), seed=env.seed, ctx=env.ctx)]


@technique("lottery_ticket", "prune")
def _lottery(module, env: StepEnv):
    from tensor_agent.tools.compress.prune import lottery_ticket

    data = env.need_data("lottery ticket pruning")
    return [lottery_ticket(module, data, env.sparsity if env.sparsity is not None else 0.8,
                           rounds=int(env.options.get("rounds", 3)), epochs=_epochs(env, 8),
                           rewind_epochs=int(env.options.get("rewind_epochs", 1)),
                           lr=float(env.options.get("finetune_lr", 1e-3)), seed=env.seed, ctx=env.ctx)]


@technique("structured_pruning", "prune")
def _structured(module, env: StepEnv):
    from tensor_agent.tools.compress.prune import structured_prune

    data = env.need_data("structured pruning (fine-tuning after it)")
    return [structured_prune(module, data, env.example_inputs,
                             macs_reduction=float(env.options.get("macs_reduction", 2.0)),
                             channel_ratio=env.sparsity, epochs=_epochs(env, 6),
                             lr=float(env.options.get("finetune_lr", 1e-3)), seed=env.seed,
                             num_classes=getattr(env.handle, "num_classes", None), ctx=env.ctx)]


# ------------------------------------------------------------------------------------------------ distill
@technique("distillation", "distill")
def _distill(module, env: StepEnv):
    import copy

    from tensor_agent.tools.compress.distill import TransferSet, distill

    data = env.need_data("distillation")
    transfer = None  # distill() picks its default transfer set unless the user sets one
    if "distill_shift" in env.options or "distill_mixup" in env.options:
        transfer = TransferSet(shift=int(env.options.get("distill_shift", 1)),
                               mixup=float(env.options.get("distill_mixup", 0.4)))
    h = copy.copy(env.handle)
    h.module = module
    return [distill(h, data, env.example_inputs, ratio=float(env.options.get("student_ratio", 4.0)),
                    temperature=float(env.options.get("temperature", 4.0)),
                    alpha=float(env.options.get("alpha", 0.7)), epochs=_epochs(env, 20),
                    lr=float(env.options.get("distill_lr", 3e-3)), seed=env.seed,
                    baseline=bool(env.options.get("distill_baseline", True)), transfer=transfer, ctx=env.ctx)]


# ------------------------------------------------------------------------------------------------ export
@technique("onnx", "export")
def _onnx(module, env: StepEnv):
    from tensor_agent.tools.compress.export import export_onnx, onnx_parity
    from tensor_agent.tools.core.runtime import Runner
    from tensor_agent.tools.compress.quantize import Compressed, require_torch_module

    require_torch_module(module, "onnx")
    exp = export_onnx(module, env.example_inputs, env.out_dir / "onnx" / "model.onnx", input_names=_input_names(env))
    diff = onnx_parity(module, exp.path, env.example_inputs, threads=env.threads)
    return [Compressed("onnx", Runner("onnxruntime-fp32", onnx_path=exp.path, threads=env.threads,
                                      macs_reference=module),
                       {"exporter": exp.exporter, "max_abs_diff": diff, "parity_ok": diff <= 1e-4},
                       {"onnx": exp.path})]


@technique("torchscript", "export")
def _torchscript(module, env: StepEnv):
    from tensor_agent.tools.compress.export import export_torchscript
    from tensor_agent.tools.core.runtime import Runner
    from tensor_agent.tools.compress.quantize import Compressed, require_torch_module

    require_torch_module(module, "torchscript", float_only=False)
    res = export_torchscript(module, env.example_inputs, env.out_dir / "torchscript" / "model")
    import torch

    loaded = torch.jit.load(res.path) if res.format == "torchscript" else torch.export.load(res.path).module()
    return [Compressed("torchscript", Runner(f"{res.format}", module=loaded, macs_reference=module),
                       {"exporter": res.exporter, "max_abs_diff": res.max_abs_diff, "parity_ok": res.parity_ok},
                       {res.format: res.path})]


@technique("torchserve", "export")
def _torchserve(module, env: StepEnv):
    from tensor_agent.tools.compress.export import torchserve_archive
    from tensor_agent.tools.core.runtime import Runner
    from tensor_agent.tools.compress.quantize import Compressed, require_torch_module

    import torch

    require_torch_module(module, "torchserve", float_only=False)
    files = torchserve_archive(module, env.example_inputs, env.out_dir / "torchserve",
                               name=str(getattr(env.handle, "family", "model")))
    loaded = torch.jit.load(files["torchscript"])
    with torch.no_grad():
        from tensor_agent.tools.core.runtime import first_output

        diff = float((first_output(loaded(*env.example_inputs)) - first_output(module(*env.example_inputs))).abs().max())
    return [Compressed("torchserve", Runner("torchscript", module=loaded, macs_reference=module),
                       {"max_abs_diff": diff, "parity_ok": diff <= 1e-4}, files)]
