"""The `compress_model` tool: compress, measure before/after on this machine, judge, promote or keep.

Which model: ``ctx.options["model_path"]`` (a saved model directory), ``ctx.options["model_uri"]``
(``runs:/<id>/model`` or any MLflow artifact URI of a saved model), else the conversation's
current model. Which techniques: ``plan.constraint("technique")`` (all technique constraints, or
``ctx.options["technique"]``), else by device (mobile/edge: INT8 back-ends, plus structured
pruning for CNNs, chosen by measurement), else INT8 chosen by measurement.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from tensor_agent.tools.core.context import json_safe as _json_safe
from tensor_agent.errors import InputError, TensorError, UnsatisfiableError
from tensor_agent.tools.compress.report import (DEFAULT_TOLERANCE_POINTS, CompressionReport, ModelStats,
                                                TechniqueResult, Verdict)

SPEED_WORDS = re.compile(r"\b(fast|faster|speed|speed[- ]?up|latency|inference|real[- ]?time|throughput)\b", re.I)
MOBILE_DEVICES = {"mobile", "edge", "phone"}


@dataclass
class Goals:
    """What the request asks of the compressed model."""

    tolerance_points: float = DEFAULT_TOLERANCE_POINTS
    accuracy_target: Optional[float] = None
    speed: bool = False
    min_speedup: float = 1.05
    latency_ms: Optional[float] = None
    size_mb: Optional[float] = None
    sparsity: Optional[float] = None
    macs_reduction: Optional[float] = None
    max_params: Optional[int] = None

    def describe(self) -> list[str]:
        out = [f"accuracy drop <= {self.tolerance_points:g} point(s)"]
        if self.accuracy_target is not None:
            out.append(f"accuracy >= {self.accuracy_target:.3f}")
        if self.speed:
            out.append(f"faster than the original (>= {self.min_speedup:g}x)")
        if self.latency_ms is not None:
            out.append(f"latency <= {self.latency_ms:g} ms")
        if self.size_mb is not None:
            out.append(f"size <= {self.size_mb:g} MB")
        if self.sparsity is not None:
            out.append(f"sparsity >= {self.sparsity:.0%}")
        if self.max_params is not None:
            out.append(f"params <= {self.max_params}")
        return out


# --------------------------------------------------------------------------------------------- the model
def resolve_model(ctx):
    """The model to compress: model_path, model_uri, or the conversation's current model.

    Raises:
        UnsatisfiableError: none of them is available.
        InputError: model_path does not exist.
    """
    opts = ctx.options or {}
    if opts.get("model_path"):
        p = Path(str(opts["model_path"])).expanduser()
        if not p.exists():
            raise InputError(f"model_path {p} does not exist", hint="pass the directory train_model saved")
        return _load_path(p)
    if opts.get("model_uri"):
        return _load_uri(ctx, str(opts["model_uri"]))
    handle = ctx.current_model()
    if handle is None or getattr(handle, "module", None) is None:
        raise UnsatisfiableError("there is no model to compress in this conversation",
                                 hint="train or load a model first, or pass model_path=<saved model dir> "
                                      "or model_uri=runs:/<run id>/model")
    return handle


def _load_path(p: Path):
    from tensor_agent.tools.core.model_store import load_model

    # a model directory in the safe format only: bare files (pickles) and paths outside the directory are
    # refused with exit 2 by the model store; nothing is unpickled
    return load_model(p)


def _load_uri(ctx, uri: str):
    import os

    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    try:
        import mlflow
        from mlflow.artifacts import download_artifacts
    except ImportError:  # pragma: no cover
        raise UnsatisfiableError("mlflow is not installed, so model_uri cannot be read") from None
    if not re.match(r"^(runs|models|file|s3|gs|https?|mlflow-artifacts|dbfs|wasbs?)[:]", uri) and \
            not Path(uri).exists():
        raise InputError(f"model_uri {uri!r} is not an MLflow URI", hint="use runs:/<run id>/model")
    dst = ctx.settings.path("artifacts", "downloads", re.sub(r"[^A-Za-z0-9_.-]+", "_", uri)[-80:])
    try:
        mlflow.set_tracking_uri(ctx.settings.tracking_uri)
        local = download_artifacts(artifact_uri=uri, dst_path=str(dst), tracking_uri=ctx.settings.tracking_uri)
    except Exception as exc:  # noqa: BLE001
        raise UnsatisfiableError(f"cannot fetch model_uri {uri} ({type(exc).__name__}: {str(exc)[:160]})",
                                 hint="check the run id with `mlflow ui` or pass model_path=") from None
    p = Path(local)
    cands = [p] + [d for d in p.rglob("*") if d.is_dir()] if p.is_dir() else [p]
    for d in cands:
        if (Path(d) / "handle.json").exists():
            h = _load_path(Path(d))
            if h.mlflow_run_id is None and uri.startswith("runs:/"):
                h.mlflow_run_id = uri.split("/")[1]
            return h
    if p.is_file():
        return _load_path(p)
    raise UnsatisfiableError(f"model_uri {uri} holds no saved model (no handle.json)",
                             hint="log models with train_model, or pass model_path=")


# --------------------------------------------------------------------------------------------- the request
def _techniques_from(plan, ctx) -> list[str]:
    vals: list[str] = []
    opt = (ctx.options or {}).get("technique")
    if opt:
        vals.extend([opt] if isinstance(opt, str) else list(opt))
    for c in getattr(plan, "constraints", []) or []:
        if c.name == "technique":
            v = c.value
            vals.extend([v] if isinstance(v, str) else list(v or []))
    # training-only techniques are not ours
    return [v for v in vals if str(v).lower() not in {"lora", "adapter", "feature_extraction", "full_fine_tune"}]


def goals_from(plan, ctx, techniques: list[str]) -> Goals:
    opts = ctx.options or {}
    g = Goals()
    tol = opts.get("tolerance_points", opts.get("tolerance"))
    if tol is not None:
        try:
            g.tolerance_points = float(tol)
        except (TypeError, ValueError):
            raise InputError(f"tolerance_points must be a number of accuracy points, got {tol!r}") from None
        if g.tolerance_points < 0:
            raise InputError(f"tolerance_points must be >= 0, got {tol!r}")
    acc = plan.constraint("accuracy_target")
    if acc is not None:
        g.accuracy_target = float(acc) / (100.0 if float(acc) > 1 else 1.0)
    device = str(plan.constraint("device") or opts.get("device") or "").lower()
    g.latency_ms = plan.constraint("latency_ms")
    g.size_mb = plan.constraint("size_mb")
    g.max_params = plan.constraint("max_params")
    g.speed = bool(opts.get("speed")) or g.latency_ms is not None or device in MOBILE_DEVICES | {"cpu"} \
        or bool(SPEED_WORDS.search(getattr(plan, "text", "") or ""))
    if opts.get("min_speedup") is not None:
        g.min_speedup = float(opts["min_speedup"])
    return g


# --------------------------------------------------------------------------------------------- judging
def judge(before: ModelStats, after: ModelStats, goals: Goals, technique: str, details: dict) -> Verdict:
    """Check a result against the goals; every check is a line with its numbers."""
    checks, failures = [], []

    def check(ok: bool, line: str):
        (checks if ok else failures).append(line)
        if not ok:
            checks.append("FAILED: " + line)

    if before.metric is not None and after.metric is not None:
        drop = (before.metric - after.metric) * 100.0
        check(drop <= goals.tolerance_points + 1e-9,
              f"{after.metric_name} {before.metric:.4f} -> {after.metric:.4f} (drop {drop:.2f} points, "
              f"tolerance {goals.tolerance_points:g})")
        if goals.accuracy_target is not None:
            check(after.metric >= goals.accuracy_target,
                  f"{after.metric_name} {after.metric:.4f} vs target {goals.accuracy_target:.4f}")
    else:
        check(False, "held-out metric not measured (no dataset known for this model): cannot verify accuracy")
    speedup = (before.latency_ms_median / after.latency_ms_median
               if before.latency_ms_median and after.latency_ms_median else None)
    if goals.speed and technique not in {"onnx", "torchscript", "torchserve"}:
        check(speedup is not None and speedup >= goals.min_speedup,
              f"speed-up {speedup or 0:.2f}x at batch {after.batch_size}, {after.threads} thread(s) "
              f"(needs >= {goals.min_speedup:g}x: speed was a goal)")
    if goals.latency_ms is not None:
        check(after.latency_ms_median is not None and after.latency_ms_median <= goals.latency_ms,
              f"latency {after.latency_ms_median or float('nan'):.2f} ms vs budget {goals.latency_ms:g} ms")
    if goals.size_mb is not None:
        check(after.size_bytes / 1e6 <= goals.size_mb,
              f"size {after.size_bytes / 1e6:.3f} MB vs budget {goals.size_mb:g} MB")
    if goals.max_params is not None:
        check(after.params <= goals.max_params, f"params {after.params} vs budget {goals.max_params}")
    if technique in {"pruning", "lottery_ticket"}:
        target = details.get("target_sparsity", goals.sparsity) or 0.0
        check(after.sparsity >= target - 0.005, f"sparsity {after.sparsity:.3f} vs target {target:.3f}")
    if technique == "structured_pruning":
        want = details.get("macs_target")
        ratio = (before.macs / after.macs) if before.macs and after.macs else None
        if want:
            check(ratio is not None and ratio >= want * 0.98, f"MACs reduced {ratio or 0:.2f}x (target {want:g}x)")
        else:
            check(ratio is not None and ratio > 1.0, f"MACs reduced {ratio or 0:.2f}x")
    if technique in {"dynamic_int8", "static_int8", "qat", "onnx_int8", "distillation"}:
        check(after.size_bytes < before.size_bytes,
              f"size {before.size_bytes} -> {after.size_bytes} bytes ({before.size_bytes / after.size_bytes:.2f}x)")
    if technique in {"onnx", "torchscript", "torchserve"}:
        diff = details.get("max_abs_diff")
        check(diff is not None and diff <= 1e-4, f"export parity max |diff| {diff if diff is not None else 'n/a'} "
                                                 f"(<= 1e-4)")
    return Verdict(met=not failures, checks=checks, failures=failures)


def _result(technique: str, backend: str, before: ModelStats, after: ModelStats, goals: Goals, details: dict,
            artifacts: dict, notes: list) -> TechniqueResult:
    def ratio(a, b):
        return (a / b) if a and b else None

    weight_ratio = details.get("linear_weight_ratio")
    return TechniqueResult(
        technique=technique, backend=backend, before=before, after=after,
        size_ratio=ratio(before.size_bytes, after.size_bytes), weight_size_ratio=weight_ratio,
        param_ratio=ratio(before.params, after.params), macs_ratio=ratio(before.macs, after.macs),
        speedup=ratio(before.latency_ms_median, after.latency_ms_median),
        metric_drop_points=((before.metric - after.metric) * 100.0
                            if before.metric is not None and after.metric is not None else None),
        verdict=judge(before, after, goals, technique, details), details=_json_safe(details),
        artifacts=dict(artifacts), notes=list(notes))




# --------------------------------------------------------------------------------------------- the tool
def compress_model(plan, ctx) -> CompressionReport:
    """Compress the conversation's model as the plan asks, measure, judge and promote (or keep the original).

    Options (``ctx.options``): model_path, model_uri, technique, dataset, calibration_data, sparsity,
    tolerance_points, threads, batch_size, runs, finetune_epochs, student_ratio, temperature, alpha,
    macs_reduction, onnx_mode, archive (TorchServe .mar), speed, min_speedup, seed.

    Raises:
        UnsatisfiableError: no model; a technique that does not apply to this model.
        InputError: bad options (sparsity outside (0, 1), calibration data of the wrong shape, ...).
    """
    import torch

    from tensor_agent.tools.compress.data import check_calibration, load_task_data
    from tensor_agent.tools.core.runtime import Runner, evaluate_runner, time_interleaved
    from tensor_agent.tools.compress.pipeline import StepEnv, order_techniques
    from tensor_agent.tools.compress.prune import check_sparsity
    from tensor_agent.tools.compress.quantize import layer_counts, require_torch_module

    opts = dict(ctx.options or {})
    handle = resolve_model(ctx)
    if getattr(handle, "kind", "torch") != "torch":
        raise UnsatisfiableError(f"compression works on PyTorch models; this one is a {handle.kind} model "
                                 f"({handle.family})", hint="gradient-boosted trees are already small: "
                                                            "compress a neural model instead")
    require_torch_module(handle.module, "compression")

    # ---- what to do
    requested = _techniques_from(plan, ctx)
    device = str(plan.constraint("device") or opts.get("device") or "").lower()
    sparsity = opts.get("sparsity", plan.constraint("sparsity"))
    if sparsity is not None:
        sparsity = check_sparsity(sparsity)
    if opts.get("archive") and "torchserve" not in requested:
        requested.append("torchserve")
    auto = not requested  # nothing named: choose among the INT8 back-ends by measurement
    techniques = order_techniques(requested) if requested else []
    counts = layer_counts(handle.module)
    if auto:
        techniques = ["int8"] + techniques  # quantize is before export in stage order
    goals = goals_from(plan, ctx, techniques)
    goals.sparsity = sparsity if any(t in {"pruning", "lottery_ticket"} for t in techniques) else None
    seed = int(opts.get("seed", 0))
    threads = int(opts.get("threads", 1))
    runs = int(opts.get("runs", 20))
    bs = int(opts.get("batch_size") or plan.constraint("batch_size") or 32)
    if threads < 1 or runs < 1 or bs < 1:
        raise InputError(f"threads, runs and batch_size must be >= 1 (got {threads}, {runs}, {bs})")

    # ---- data, example inputs, calibration
    torch.manual_seed(seed)
    data = None
    ds_name = opts.get("dataset") or handle.dataset
    if ds_name:
        data = load_task_data(str(ds_name), handle, seed=int(opts.get("data_seed", handle.extra.get("seed", 0)
                                                                          if isinstance(handle.extra, dict) else 0)))
    if data is not None:
        example = data.sample(bs, "test", seed=seed)
    else:
        example = _example_inputs(handle, bs)
    try:
        with torch.no_grad():
            handle.module.eval()(*example)
    except Exception as exc:  # noqa: BLE001
        raise UnsatisfiableError(f"the model does not run on its inputs (shapes {[tuple(x.shape) for x in example]}: "
                                 f"{type(exc).__name__}: {str(exc)[:160]})",
                                 hint="pass dataset= with the data the model was trained on") from None
    calibration = None
    if opts.get("calibration_data") is not None:
        calibration = check_calibration(opts["calibration_data"], example)
    elif data is not None:
        calibration = data.sample(int(opts.get("calibration_size", 256)), "train", seed=seed)

    out_dir = ctx.settings.path("artifacts", "compress", f"{handle.family}-{time.strftime('%Y%m%d-%H%M%S')}")
    env = StepEnv(handle=handle, data=data, example_inputs=example, calibration=calibration, out_dir=out_dir,
                  ctx=ctx, threads=threads, seed=seed, sparsity=sparsity,
                  epochs=opts.get("finetune_epochs"), options=opts)
    eval_batches = (lambda: data.batches("test", 256)) if data is not None else None
    task = data.task if data is not None else handle.task

    def log(msg: str) -> None:
        if ctx.progress:
            ctx.log(f"[compress] {msg}")

    # ---- the original, measured once (latency re-measured next to each result)
    base = Runner("torch-fp32", module=handle.module.eval(), threads=threads)
    static = base.static_stats(example)
    m_name, m_val, m_n = evaluate_runner(base, eval_batches(), task) if eval_batches else (None, None, 0)
    lat = time_interleaved({"b": base.timed_fn(example)}, runs=runs, threads=threads)["b"]
    base_stats = ModelStats(backend="torch-fp32", size_bytes=static["size_bytes"], gzip_bytes=static["gzip_bytes"],
                            params=static["params"], nonzero_params=static["nonzero_params"],
                            sparsity=static["sparsity"], macs=static["macs"], latency_ms_median=lat["median"],
                            latency_ms_p90=lat["p90"], batch_size=bs, threads=threads, runs=lat["runs"],
                            metric_name=m_name, metric=m_val, eval_examples=m_n)

    def measure(before_runner, before_stats, comp) -> TechniqueResult:
        from tensor_agent.tools.core.runtime import measure_pair

        b, a = measure_pair(before_runner, comp.runner, example, eval_batches=eval_batches, task=task,
                            threads=threads, runs=runs, before_stats=before_stats)
        details = dict(comp.details)
        if comp.technique == "structured_pruning":
            details["macs_target"] = float(opts.get("macs_reduction", 2.0)) if sparsity is None else None
        return _result(comp.technique, comp.runner.backend, b, a, goals, details, comp.artifacts, comp.notes)

    # ---- run the pipeline
    from tensor_agent.tools.compress.pipeline import get_technique

    results: list[TechniqueResult] = []
    report = CompressionReport(source={"family": handle.family, "path": handle.path, "dataset": ds_name,
                                       "mlflow_run_id": handle.mlflow_run_id, "layers": counts},
                               goal=goals.describe(), techniques=list(techniques),
                               tolerance_points=goals.tolerance_points)
    final_runner, final_stats = base, base_stats
    chains: list[tuple[Any, ModelStats, list[int]]] = [(base, base_stats, [])]  # candidate chains (mobile)
    if auto and device in MOBILE_DEVICES and counts["conv"] > 0 and data is not None:
        log("mobile target: structured pruning as an extra candidate chain")
        _, fn = get_technique("structured_pruning")
        for comp in fn(handle.module, env):
            res = measure(base, base_stats, comp)
            results.append(res)
            chains.append((comp.runner, res.after, [len(results) - 1]))
    export_only = [t for t in techniques if t in {"onnx", "torchscript", "torchserve"}]
    body = [t for t in techniques if t not in export_only]
    from tensor_agent.tools.compress.pipeline import stage_of

    groups: list[list[str]] = []  # techniques of one stage are alternatives, stages run in order
    for t in body:
        if groups and stage_of(groups[-1][0]) == stage_of(t):
            groups[-1].append(t)
        else:
            groups.append([t])
    for group in groups:
        new_chains = []
        for runner, stats, idx in chains:
            if runner.module is None:
                env.notes.append(f"{', '.join(group)} skipped after an ONNX Runtime step (needs a torch module)")
                new_chains.append((runner, stats, idx))
                continue
            for t in group:
                _, fn = get_technique(t)
                log(f"{t} on {runner.backend}")
                for comp in fn(runner.module, env):
                    res = measure(runner, stats, comp)
                    results.append(res)
                    new_chains.append((comp.runner, res.after, idx + [len(results) - 1]))
        chains = new_chains

    # ---- end-to-end view of each chain vs the original; choose the best that meets the goals
    finals: list[tuple[int, Any]] = []
    for runner, stats, idx in chains:
        if not idx:
            continue
        if len(idx) == 1:
            finals.append((idx[0], runner))
            continue
        comps = [results[i] for i in idx]
        lat2 = time_interleaved({"b": base.timed_fn(example), "a": runner.timed_fn(example)}, runs=runs,
                                threads=threads)
        b = base_stats.model_copy(update={"latency_ms_median": lat2["b"]["median"], "latency_ms_p90": lat2["b"]["p90"]})
        a = stats.model_copy(update={"latency_ms_median": lat2["a"]["median"], "latency_ms_p90": lat2["a"]["p90"]})
        details = {"steps": [c.technique for c in comps], "step_backends": [c.backend for c in comps]}
        res = _result("pipeline", runner.backend, b, a, goals, details, {}, [" -> ".join(details["steps"])])
        results.append(res)
        finals.append((len(results) - 1, runner))

    chosen = None
    for i, runner in finals:
        r = results[i]
        if not r.verdict.met:
            continue
        if chosen is None or _better(r, results[chosen[0]], goals):
            chosen = (i, runner)

    # ---- exports of the chosen (or original) model
    export_from = chosen[1] if chosen is not None else base
    for t in export_only:
        _, fn = get_technique(t)
        if export_from.module is None:
            env.notes.append(f"{t}: the chosen model is already ONNX ({export_from.onnx_path})")
            continue
        for comp in fn(export_from.module, env):
            results.append(measure(export_from, None if export_from is not base else base_stats, comp))

    report.results = results
    report.chosen = chosen[0] if chosen is not None else None
    notes = list(env.notes)
    if chosen is not None:
        r = results[chosen[0]]
        report.backend = r.backend
        new = _promote(ctx, handle, chosen[1], r, techniques, example)
        r.promoted = True
        report.promoted = True
        report.model_path = new.path
    report.mlflow_run_id = _log_mlflow(ctx, handle, report, out_dir, notes)
    if report.promoted and report.mlflow_run_id:
        cur = ctx.current_model()
        if cur is not None:
            cur.mlflow_run_id = report.mlflow_run_id
            ctx.set_model(cur)
    report.message = _message(report, base_stats, notes)
    return report


def _better(r, best, goals: Goals) -> bool:
    """Faster wins when speed is a goal; otherwise smaller; ties broken by the metric."""
    if goals.speed:
        key = lambda x: (-(x.speedup or 0), x.after.size_bytes, -(x.after.metric or 0))
    else:
        key = lambda x: (x.after.size_bytes, -(x.speedup or 0), -(x.after.metric or 0))
    return key(r) < key(best)


def _example_inputs(handle, bs: int) -> tuple:
    try:
        from tensor_agent.tools.core.zoo.registry import example_inputs_for

        return example_inputs_for(handle, bs)
    except Exception:  # noqa: BLE001 - no designer family: use the spec
        pass
    try:
        from tensor_agent.tools.core.zoo.spec import example_inputs

        return example_inputs(handle.input_spec, bs)
    except Exception:  # noqa: BLE001
        raise UnsatisfiableError("cannot build example inputs for this model (no dataset and no input spec)",
                                 hint="pass dataset=<name> with the data it was trained on") from None


def _promote(ctx, handle, runner, result: TechniqueResult, techniques: list[str], example: tuple):
    from tensor_agent.tools.core.context import ModelHandle
    from tensor_agent.tools.core.model_store import save_model

    if runner.module is not None:
        import torch

        module, kind = runner.module, "torch"
        if isinstance(module, torch.fx.GraphModule):  # FX INT8 graphs do not unpickle: store as TorchScript
            from tensor_agent.tools.compress.export import PortableModule

            module = PortableModule(module, example)
    else:
        from tensor_agent.tools.compress.export import OnnxRuntimeModule

        module, kind = OnnxRuntimeModule(runner.onnx_path, threads=runner.threads), "onnx"
    metrics = dict(handle.metrics or {})
    if result.after.metric_name and result.after.metric is not None:
        metrics[result.after.metric_name] = result.after.metric
    extra = dict(handle.extra or {})
    extra.update({"compressed_from": handle.path, "compression": result.details.get("steps", [result.technique]),
                  "backend": result.backend, "size_bytes": result.after.size_bytes,
                  "source_mlflow_run_id": handle.mlflow_run_id})
    new = ModelHandle(module=module, family=handle.family, kind=kind, task=handle.task, input_spec=handle.input_spec,
                      num_classes=handle.num_classes, dataset=handle.dataset, metrics=metrics,
                      mlflow_run_id=handle.mlflow_run_id, extra=extra)
    save_model(new, ctx.settings.models_dir, name=f"{handle.family}-{result.technique}-{time.strftime('%Y%m%d-%H%M%S')}")
    ctx.set_model(new)
    return new


def _plot(report: CompressionReport, base: Optional[ModelStats], path: Path) -> Optional[str]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover
        return None
    if not report.results:
        return None
    labels = ["original"] + [f"{i}:{r.technique}" for i, r in enumerate(report.results)]
    first = report.results[0].before
    rows = [first] + [r.after for r in report.results]
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for ax, (title, vals) in zip(axes, [("size (KB)", [s.size_bytes / 1024 for s in rows]),
                                        (f"latency ms (batch {first.batch_size}, {first.threads} thr)",
                                         [s.latency_ms_median or 0 for s in rows]),
                                        ("held-out metric", [s.metric or 0 for s in rows])]):
        colors = ["grey"] + ["tab:green" if r.promoted else ("tab:blue" if r.verdict.met else "tab:red")
                             for r in report.results]
        ax.bar(range(len(vals)), vals, color=colors)
        ax.set_xticks(range(len(vals)), labels, rotation=30, ha="right", fontsize=8)
        ax.set_title(title)
    fig.suptitle("compression: grey original, green promoted, blue ok, red failed")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return str(path)


def _log_mlflow(ctx, handle, report: CompressionReport, out_dir: Path, notes: list) -> Optional[str]:
    report.plot = _plot(report, None, out_dir / "compression.png")
    try:
        from tensor_agent.tools.core.tracking import mlflow_run
    except ImportError:
        notes.append("MLflow logging skipped: the trainer's tracking module is not available")
        return None
    try:
        with mlflow_run(ctx, f"compress-{handle.family}", parent_run_id=handle.mlflow_run_id,
                        tags={"tensor.tool": "compress_model", "tensor.promoted": report.promoted,
                              "tensor.backend": report.backend}) as run:
            run.log_params({"techniques": ",".join(report.techniques), "tolerance_points": report.tolerance_points,
                            "source_path": handle.path, "goal": "; ".join(report.goal)})
            for i, r in enumerate(report.results):
                pre = f"{i}_{r.technique}"
                run.log_metrics({f"{pre}.size_bytes_before": r.before.size_bytes,
                                 f"{pre}.size_bytes_after": r.after.size_bytes,
                                 f"{pre}.latency_ms_before": r.before.latency_ms_median,
                                 f"{pre}.latency_ms_after": r.after.latency_ms_median,
                                 f"{pre}.metric_before": r.before.metric, f"{pre}.metric_after": r.after.metric,
                                 f"{pre}.params_after": r.after.params, f"{pre}.sparsity_after": r.after.sparsity,
                                 f"{pre}.speedup": r.speedup, f"{pre}.size_ratio": r.size_ratio,
                                 f"{pre}.verdict_met": float(r.verdict.met)})
            if report.chosen is not None:
                r = report.results[report.chosen]
                run.log_metrics({"chosen.size_ratio": r.size_ratio, "chosen.speedup": r.speedup,
                                 "chosen.metric_after": r.after.metric})
            run.log_dict(report.model_dump(mode="json"), "compression_report.json")
            if report.plot:
                run.log_artifact(report.plot)
            return run.run_id
    except TensorError as exc:
        notes.append(f"MLflow logging failed: {exc}")
    except Exception as exc:  # noqa: BLE001 - tracking must not lose a measured result
        notes.append(f"MLflow logging failed: {type(exc).__name__}: {str(exc)[:160]}")
    return None


def _message(report: CompressionReport, base: ModelStats, notes: list) -> str:
    lines = []
    if report.promoted and report.chosen is not None:
        r = report.results[report.chosen]
        lines.append(f"Kept {r.technique} on {r.backend}: {r.size_ratio or 0:.2f}x smaller, {r.speedup or 0:.2f}x "
                     f"faster at batch {r.after.batch_size} ({r.after.threads} thread(s)), "
                     f"{r.after.metric_name or 'metric'} {_fmt(r.before.metric)} -> {_fmt(r.after.metric)}. "
                     f"It is now the current model ({report.model_path}).")
    elif report.results and all(r.technique in {"onnx", "torchscript", "torchserve"} for r in report.results):
        for r in report.results:
            lines.append(f"Exported {r.technique} ({r.backend}): parity max |diff| {r.details.get('max_abs_diff')}, "
                         f"files: {', '.join(r.artifacts.values())}. The current model is unchanged.")
    else:
        fails = [f"{r.technique} ({r.backend}): " + "; ".join(r.verdict.failures) for r in report.results
                 if not r.verdict.met]
        lines.append("No compressed model met the goals; the original stays the current model.")
        lines.extend("  - " + f for f in fails[:6])
    lines.append("")
    lines.append(report.table())
    lines.extend(f"note: {n}" for n in notes)
    return "\n".join(lines)


def _fmt(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{v:.4f}"
