"""Handing results over: save the kept model (no pickle), export files whose parity holds, record lineage.

Nothing is delivered when a check failed: a failed export's file is deleted before the outputs
are published, and the answer says FAILED. Everything is written in the run's temp directory and
published with `Outputs.commit` (os.replace) at the very end.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.compress import lineage
from tensor_agent.tools.compress.judge import make_result
from tensor_agent.tools.compress.techniques import QUANTIZERS
from tensor_agent.tools.core.context import ModelHandle


# --------------------------------------------------------------------------------------------- saving
def _handle_like(src, module, kind: str, metrics: dict, extra: dict) -> ModelHandle:
    return ModelHandle(module=module, family=src.family, kind=kind, task=src.task, input_spec=src.input_spec,
                       num_classes=src.num_classes, dataset=src.dataset, metrics=metrics,
                       mlflow_run_id=src.mlflow_run_id, extra=extra)


def save_step(job, runner, h: ModelHandle) -> Path:
    """Write one model into a pending models directory through the safe model store; returns its temp path.

    ONNX Runtime results are stored as their .onnx file, torch INT8 results as an INT8 state dict plus
    the quantization recipe the store replays on the rebuilt float architecture, float results as
    safetensors: nothing is pickled.
    """
    from tensor_agent.tools.core.model_store import OnnxModel, save_model

    name = f"{h.family}-{'-'.join(h.extra.get('compression') or ['compressed'])}"
    d = job.outputs.model_dir(name)
    if runner.module is None:
        h = copy.copy(h)
        h.module = OnnxModel(Path(runner.onnx_path).read_bytes(), threads=job.request.threads, source_path=str(runner.onnx_path))
    save_model(h, d)
    return d


def promote(job, out) -> list[dict]:
    """Save every model of the kept chain, make the last one current, add the lineage nodes."""
    steps = out.chain_of(out.chosen)
    saved: list = []
    techs: list[str] = []
    for j, step in enumerate(steps):
        techs.append(step.technique)
        sr = out.results[out.steps.index(step)]
        quantized = step.technique in QUANTIZERS
        metrics = ({sr.after.metric_name: sr.after.metric}  # measured here; training-time numbers do not carry
                   if sr.after.metric_name and sr.after.metric is not None else {})
        extra = dict(job.handle.extra or {}, compression=list(techs), backend=step.comp.runner.backend,
                     compressed_from=job.handle.path, size_bytes=sr.after.size_bytes)
        kind = "onnx" if step.comp.runner.module is None else "torch"
        h = _handle_like(job.handle, step.comp.runner.module, kind, metrics, extra)
        path = save_step(job, step.comp.runner, h)
        saved.append((h, path, step, sr, quantized))
    return saved


def publish(job, out, saved) -> Optional[ModelHandle]:
    """After commit: final paths on the handles, the last one current, lineage nodes for each step."""
    from tensor_agent.tools.core.model_store import OnnxModel

    parent = job.node
    float_id = job.node["id"] if not job.node.get("quantized") else job.node.get("float_parent")
    final = out.results[out.chosen]
    new = None
    for n, (h, path, step, sr, quantized) in enumerate(saved):
        h.path = job.outputs.final_path(path)
        if h.kind == "onnx":
            h.module = OnnxModel((Path(h.path) / "model.onnx").read_bytes(), threads=job.request.threads, source_path=str(Path(h.path) / "model.onnx"))
        last = n == len(saved) - 1
        speed = final.speedup_interval if last else sr.speedup_interval
        node = lineage.add(job.ctx, step=step.technique, steps=list(h.extra.get("compression") or []),
                           parent=parent["id"], float_parent=float_id, quantized=quantized, family=h.family,
                           kind=h.kind, path=h.path, backend=step.comp.runner.backend, metrics=h.metrics,
                           size_bytes=(final if last else sr).after.size_bytes,
                           speedup=speed.model_dump() if speed is not None else None,
                           vs=job.node["id"] if last else parent["id"],
                           batch_size=final.after.batch_size, threads=final.after.threads,
                           latency_ms=(final if last else sr).after.latency_ms_median)
        parent = node
        if not quantized:
            float_id = node["id"]
        new = h
    if new is not None:
        job.ctx.set_model(new)
    return new


# --------------------------------------------------------------------------------------------- exports
def _export_file(job, model, fmt: str) -> tuple[dict, dict]:
    """Write `model` in format `fmt` under the run's temp dir: (files, details with max_abs_diff)."""
    from tensor_agent.tools.compress.export import export_onnx, export_torchscript, onnx_parity, torchserve_archive
    from tensor_agent.tools.compress.quantize import require_torch_module
    from tensor_agent.tools.core.model_store import OnnxModel
    from tensor_agent.tools.core.runtime import first_output

    path = job.outputs.path("export", fmt, "model.onnx" if fmt == "onnx" else "model")
    if fmt == "onnx" and hasattr(model, "onnx_bytes"):  # already ONNX: the file itself, re-run from disk
        path.write_bytes(model.onnx_bytes)
        got, want = OnnxModel(path.read_bytes())(*job.example), model(*job.example)
        return {"onnx": str(path)}, {"exporter": "copy of the ONNX Runtime model",
                                     "max_abs_diff": float((got.float() - want.float()).abs().max())}
    require_torch_module(model, fmt, float_only=False)
    if fmt == "onnx":
        exp = export_onnx(model, job.example, path, input_names=_input_names(job))
        return {"onnx": exp.path}, {"exporter": exp.exporter, "max_abs_diff": onnx_parity(model, exp.path, job.example)}
    if fmt == "torchscript":
        res = export_torchscript(model, job.example, path)
        return {res.format: res.path}, {"exporter": res.exporter, "max_abs_diff": res.max_abs_diff}
    import torch

    files = torchserve_archive(model, job.example, path.parent, name=str(job.handle.family))
    loaded = torch.jit.load(files["torchscript"])
    with torch.no_grad():
        diff = float((first_output(loaded(*job.example)) - first_output(model(*job.example))).abs().max())
    return files, {"max_abs_diff": diff}


def _input_names(job) -> Optional[list[str]]:
    names = getattr(job.data, "input_names", None) if job.data is not None else None
    return names if names and len(names) == len(job.example) else None


def export(job, model, fmt: str, before_stats, node_id: int) -> tuple[Any, dict]:
    """One export of `model`: a judged result; its files kept only when parity holds."""
    from tensor_agent.tools.compress.job import measure_static
    from tensor_agent.tools.core.runtime import Runner

    try:
        files, details = _export_file(job, model, fmt)
    except UnsatisfiableError as exc:
        files, details = {}, {"error": str(exc), "max_abs_diff": None}
    after = before_stats
    if files.get("onnx"):
        after = measure_static(Runner("onnxruntime", onnx_path=files["onnx"], threads=job.request.threads),
                               job.example, job.eval_batches(), job.task, job.request.batch_size, job.request.threads)
    r = make_result(fmt, "export", before_stats, after, job.request.goals, details, files,
                    [details["error"]] if details.get("error") else [])
    if not r.verdict.met:
        for f in files.values():
            job.outputs.discard(f)
        r.artifacts = {}
    return r, {"format": fmt, "files": dict(files), "parent": node_id, "delivered": r.verdict.met,
               "max_abs_diff": details.get("max_abs_diff")}
