"""The `compress_model` tool: read the request, find the model, run the pipeline, deliver.

Which model: ``model_path`` (a saved model directory), ``model_uri`` (``runs:/<id>/model``), else
the conversation's current model. What to do: ``plan.techniques`` (or the plan's technique
constraints); none named means INT8 back-ends chosen by paired measurement (plus structured
pruning for CNNs on mobile/edge). Techniques that need float weights on an INT8 model run on its
float parent from the thread's lineage, and the model is re-quantized after. Only export
techniques: the current model is exported. A follow-up question (plan constraint ``question``:
speed, size, accuracy, lineage) is answered from the lineage without running anything.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.compress import deliver, followup, lineage, pipeline, summary
from tensor_agent.tools.compress.job import Job, prepare, rebase, resolve_model
from tensor_agent.tools.compress.judge import judge  # noqa: F401  (public: tests and benches judge results)
from tensor_agent.tools.compress.report import CompressionReport
from tensor_agent.tools.compress.request import Goals, Request, read_request  # noqa: F401
from tensor_agent.tools.compress.store import clean_orphans


def compress_model(plan, ctx) -> CompressionReport:
    """Compress the conversation's model as the plan asks, measure, judge, keep the best or nothing.

    Raises:
        InputError: bad options (range, unknown technique, calibration shape, model_path).
        UnsatisfiableError: no model; a technique that does not apply; an export whose check failed.
    """
    request = read_request(plan, ctx.options)
    clean_orphans(ctx.settings.path("artifacts", "compress"), ctx.settings.models_dir)
    if request.followup:
        return followup.answer(ctx, request.followup)
    with warnings.catch_warnings():  # torch warns about its own quantized tensors while loading INT8 models
        warnings.simplefilter("ignore")
        handle = resolve_model(ctx, request)
    _require_compressible(handle)
    node = lineage.ensure_root(ctx, handle)
    handle, node, techniques, notes = rebase(ctx, handle, node, request.techniques or ["int8"])
    job = prepare(ctx, request, handle, node, techniques, notes)
    try:
        return _run(job)
    except BaseException:
        job.outputs.abort()
        raise


def _require_compressible(handle) -> None:
    from tensor_agent.tools.compress.quantize import require_torch_module

    if handle.kind == "onnx":
        return
    if handle.kind != "torch":
        raise UnsatisfiableError(f"compression works on PyTorch models; this one is a {handle.kind} model "
                                 f"({handle.family})", hint="gradient-boosted trees are already small: "
                                                            "compress a neural model instead")
    require_torch_module(handle.module, "compression", float_only=False)


def _run(job: Job) -> CompressionReport:
    req = job.request
    report = CompressionReport(source={"family": job.handle.family, "path": job.handle.path,
                                       "dataset": job.data.name if job.data is not None else None,
                                       "mlflow_run_id": job.handle.mlflow_run_id},
                               goal=req.goals.describe(), techniques=list(job.techniques),
                               tolerance_points=req.goals.tolerance_points)
    lineage.update(job.ctx, job.node["id"], size_bytes=job.base_stats.size_bytes)
    out = pipeline.run(job)
    report.results, report.chosen, report.choice = list(out.results), out.chosen, list(out.choice)
    keep = out.chosen is not None and not req.options.get("keep_fp32")
    saved = deliver.promote(job, out) if keep else []
    pending = _exports(job, out, report)
    report.plot = summary.plot(report, job.outputs.path("compression.png"))
    job.outputs.commit()
    report.plot = job.outputs.final_path(report.plot) if report.plot else None
    if keep:
        new = deliver.publish(job, out, saved)
        report.results[out.chosen].promoted = report.promoted = True
        report.backend, report.model_path = report.results[out.chosen].backend, new.path
    _record_exports(job, report, pending)
    report.status = ("failed" if any(not r.verdict.met for r in report.results if r.backend == "export")
                     else "unchanged" if out.steps and not keep else "ok")
    notes = list(job.notes) + list(job.env.notes)
    report.mlflow_run_id = summary.log_mlflow(job.ctx, job.handle, report, notes)
    report.lineage = lineage.nodes(job.ctx)
    report.message = summary.message(report, notes)
    if report.status == "failed":
        raise UnsatisfiableError(report.message.splitlines()[0],
                                 hint="export the float model (model_path=<its directory>) or keep the ONNX "
                                      "Runtime INT8 back-end (technique=onnx_int8), whose file is ONNX already")
    return report


def _exports(job: Job, out, report: CompressionReport) -> list[dict]:
    """Export the kept model (or, for an export-only request, the current one); returns lineage records."""
    from tensor_agent.tools.compress.techniques import EXPORTS
    from tensor_agent.tools.core.model_store import OnnxModel

    formats = [t for t in job.techniques if t in EXPORTS]
    if not formats:
        return []
    if out.steps and out.chosen is None:
        job.notes.append(f"nothing exported ({', '.join(formats)}): no compressed model met the goals")
        return []
    model, before = job.handle.module, job.base_stats
    if out.chosen is not None:
        key = dict(out.finals)[out.chosen]
        runner = out.runners[key]
        model = runner.module if runner.module is not None else \
            OnnxModel(Path(runner.onnx_path).read_bytes(), threads=job.request.threads, source_path=runner.onnx_path)
        before = report.results[out.chosen].after
    records = []
    for fmt in formats:
        r, rec = deliver.export(job, model, fmt, before, job.node["id"])
        report.results.append(r)
        records.append(rec)
    return records


def _record_exports(job: Job, report: CompressionReport, records: list[dict]) -> None:
    parent = lineage.current(job.ctx) or job.node
    for rec in records:
        files = {k: job.outputs.final_path(v) for k, v in rec["files"].items()} if rec["delivered"] else {}
        report.delivered.update(files)
        lineage.add(job.ctx, step="export", parent=parent["id"], format=rec["format"], files=files,
                    delivered=rec["delivered"], max_abs_diff=rec["max_abs_diff"])
    for r in report.results:
        if r.backend == "export":
            r.artifacts = {k: job.outputs.final_path(v) for k, v in r.artifacts.items()}
