"""Everything one compression run needs, prepared before any technique runs.

`resolve_model` finds the model (model_path, model_uri or the thread's current model), `rebase`
moves a float-only request on an INT8 model to its float parent (and re-quantizes after), and
`prepare` loads the held-out data, example and calibration inputs and measures the original once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.compress import lineage
from tensor_agent.tools.compress.request import Request
from tensor_agent.tools.compress.store import Outputs, load_model_dir, no_model, require_dir
from tensor_agent.tools.core.stats import ModelStats


@dataclass
class Job:
    """A prepared compression run."""

    ctx: Any
    request: Request
    handle: Any                    # the model acted on (maybe the float parent of the current model)
    node: dict                     # its lineage node
    techniques: list[str]
    data: Any                      # TaskData or None
    example: tuple
    calibration: Optional[tuple]
    outputs: Outputs
    env: Any                       # techniques.StepEnv
    base: Any                      # Runner of the original
    base_stats: ModelStats
    notes: list[str] = field(default_factory=list)

    @property
    def task(self) -> str:
        return self.data.task if self.data is not None else self.handle.task

    def eval_batches(self) -> Optional[Callable]:
        return (lambda: self.data.batches("test", 256)) if self.data is not None else None

    def log(self, msg: str) -> None:
        if self.ctx.progress:
            self.ctx.log(f"[compress] {msg}")


# --------------------------------------------------------------------------------------------- the model
def resolve_model(ctx, request: Request):
    """The model to compress: model_path, model_uri, or the conversation's current model.

    Raises:
        UnsatisfiableError: none of them is available.
        InputError: model_path does not exist or is not a model directory.
    """
    opts = request.options
    if opts.get("model_path"):
        return load_model_dir(require_dir(opts["model_path"]), ctx.settings.home)
    if opts.get("model_uri"):
        return _load_uri(ctx, str(opts["model_uri"]))
    handle = ctx.current_model()
    if handle is None or getattr(handle, "module", None) is None:
        raise no_model()
    return handle


def _load_uri(ctx, uri: str):
    import os

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    from mlflow.artifacts import download_artifacts

    if not re.match(r"^(runs|models|file|s3|gs|https?|mlflow-artifacts|dbfs|wasbs?)[:]", uri):
        raise InputError(f"model_uri {uri!r} is not an MLflow URI", hint="use runs:/<run id>/model")
    dst = ctx.settings.path("artifacts", "downloads", re.sub(r"[^A-Za-z0-9_.-]+", "_", uri)[-80:])
    try:
        local = Path(download_artifacts(artifact_uri=uri, dst_path=str(dst), tracking_uri=ctx.settings.tracking_uri))
    except Exception as exc:  # noqa: BLE001 - MLflow raises many kinds; report which, do not go on
        raise UnsatisfiableError(f"cannot fetch model_uri {uri} ({type(exc).__name__}: {str(exc)[:160]})",
                                 hint="check the run id with `mlflow ui` or pass model_path=") from None
    cands = [local] + sorted(d for d in local.rglob("*") if d.is_dir()) if local.is_dir() else []
    for d in cands:
        if (d / "handle.json").exists():
            h = load_model_dir(d, ctx.settings.home)
            if h.mlflow_run_id is None and uri.startswith("runs:/"):
                h.mlflow_run_id = uri.split("/")[1]
            return h
    raise UnsatisfiableError(f"model_uri {uri} holds no saved model directory (no handle.json)",
                             hint="log models with train_model, or pass model_path=")


def rebase(ctx, handle, node: dict, techniques: list[str]) -> tuple[Any, dict, list[str], list[str]]:
    """Techniques that need float weights on an INT8 model go to its float parent, then re-quantize.

    Returns (handle, node, techniques, notes). Raises UnsatisfiableError when no float parent is known.
    """
    from tensor_agent.tools.compress.techniques import EXPORTS, order_techniques, stage_of

    work = [t for t in techniques if t not in EXPORTS]
    if not node.get("quantized") or (techniques and not work):
        return handle, node, techniques, []
    q = lineage.quantizer_of(node) or "int8"
    parent = lineage.float_parent(ctx, node)
    asked = ", ".join(work) or "compression"
    if parent is None or not parent.get("path") or not Path(parent["path"]).is_dir():
        raise UnsatisfiableError(
            f"the current model is already INT8 ({node.get('backend')}) and {asked} needs float weights; "
            "its float parent is not known in this conversation",
            hint="the order that works is distill -> prune -> quantize -> export: pass model_path=<the float "
                 f"model> with technique={','.join(work + ([q] if q not in work else []))}")
    float_handle = load_model_dir(parent["path"], ctx.settings.home)
    requant = [] if any(stage_of(t) == "quantize" for t in work) else [q]
    new = order_techniques(techniques + requant)
    note = (f"The current model is INT8 ({q} on {node.get('backend')}). {asked} works on float weights, so I "
            f"applied it to its float parent ({parent.get('path')})" +
            (f" and re-quantized with {q}" if requant else "") +
            " (the order that works: distill -> prune -> quantize -> export).")
    return float_handle, parent, new, [note]


# --------------------------------------------------------------------------------------------- inputs
def _example_inputs(handle, data, bs: int, seed: int) -> tuple:
    if data is not None:
        return data.sample(bs, "test", seed=seed)
    from tensor_agent.tools.core.zoo.registry import example_inputs_for, list_families
    from tensor_agent.tools.core.zoo.spec import example_inputs

    if handle.family in list_families():
        return example_inputs_for(handle, bs)
    if handle.input_spec:
        return example_inputs(handle.input_spec, bs)
    raise UnsatisfiableError("cannot build example inputs for this model (no dataset and no input spec)",
                             hint="pass dataset=<name> with the data it was trained on")


def _calibration(request: Request, data, example: tuple, seed: int):
    from tensor_agent.tools.compress.data import check_calibration, load_task_data

    cal = request.options.get("calibration_data")
    n = int(request.options.get("calibration_size", 256))
    if isinstance(cal, str):
        return load_task_data(cal).sample(n, "train", seed=seed)
    if cal is not None:
        return check_calibration(cal, example)
    return data.sample(n, "train", seed=seed) if data is not None else None


def _check_runs(handle, example: tuple) -> None:
    import torch

    try:
        with torch.no_grad():
            handle.module.eval()(*example)
    except Exception as exc:  # noqa: BLE001 - any failure here means the inputs do not fit the model
        raise UnsatisfiableError(f"the model does not run on its inputs (shapes {[tuple(x.shape) for x in example]}: "
                                 f"{type(exc).__name__}: {str(exc)[:160]})",
                                 hint="pass dataset= with the data the model was trained on") from None


def base_runner(handle, threads: int):
    """A Runner of the model as it is (torch float/INT8 module, or an ONNX file)."""
    from tensor_agent.tools.core.runtime import Runner

    backend = (handle.extra or {}).get("backend") or "torch-fp32"
    if hasattr(handle.module, "onnx_bytes"):  # an ONNX Runtime model of the store
        return Runner(backend, onnx_path=onnx_file(handle), threads=threads)
    return Runner(backend, module=handle.module.eval(), threads=threads)


def onnx_file(handle) -> str:
    """A path of the ONNX bytes of an ONNX-backed handle (its stored file)."""
    src = getattr(handle.module, "source_path", None)
    if src and Path(src).is_file():
        return str(src)
    raise UnsatisfiableError("this ONNX Runtime model has no file on disk to measure",
                             hint="save it first (compress_model saves every kept model)")


def measure_static(runner, example: tuple, eval_batches, task: str, bs: int, threads: int) -> ModelStats:
    """Size, params, sparsity, MACs and held-out metric of a runner (latency comes from the paired timing)."""
    from tensor_agent.tools.core.runtime import evaluate_runner

    st = runner.static_stats(example)
    name, value, n = evaluate_runner(runner, eval_batches(), task) if eval_batches is not None else (None, None, 0)
    return ModelStats(backend=runner.backend, size_bytes=st["size_bytes"], gzip_bytes=st.get("gzip_bytes"),
                      params=st["params"], nonzero_params=st["nonzero_params"], sparsity=st["sparsity"],
                      macs=st.get("macs"), batch_size=bs, threads=threads, metric_name=name, metric=value,
                      eval_examples=n)


def prepare(ctx, request: Request, handle, node: dict, techniques: list[str], notes: list[str]) -> Job:
    """Load data and inputs, open the outputs, measure the original once."""
    import torch

    from tensor_agent.tools.compress.data import load_task_data
    from tensor_agent.tools.compress.techniques import StepEnv

    torch.manual_seed(request.seed)
    ds = request.dataset or handle.dataset
    extra = handle.extra if isinstance(handle.extra, dict) else {}
    seed = int(request.options.get("data_seed", extra.get("seed", 0)))
    data = load_task_data(str(ds), handle, seed=seed) if ds else None
    example = _example_inputs(handle, data, request.batch_size, request.seed)
    _check_runs(handle, example)
    calibration = _calibration(request, data, example, request.seed)
    settings = ctx.settings
    outputs = Outputs(settings.path("artifacts", "compress"), settings.models_dir, str(handle.family))
    env = StepEnv(handle=handle, data=data, example_inputs=example, calibration=calibration,
                  out_dir=outputs.tmp, ctx=ctx, threads=request.threads, seed=request.seed,
                  sparsity=request.sparsity, epochs=request.options.get("finetune_epochs"), options=request.options)
    base = base_runner(handle, request.threads)
    eval_batches = (lambda: data.batches("test", 256)) if data is not None else None
    stats = measure_static(base, example, eval_batches, data.task if data is not None else handle.task,
                           request.batch_size, request.threads)
    return Job(ctx=ctx, request=request, handle=handle, node=node, techniques=techniques, data=data,
               example=example, calibration=calibration, outputs=outputs, env=env, base=base, base_stats=stats,
               notes=list(notes))
