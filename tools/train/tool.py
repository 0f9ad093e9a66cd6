"""`train_model(plan, ctx)`: the trainer tool.

Decides from the plan only (data source, settings, family/variant/pretrained, registration name) plus
tool-specific options; trains with the trainer registered for the data kind (registry.py); saves the
model, logs an MLflow run and makes the model the conversation's current one. The answer reports the
result next to its baselines, the device, the time budget, the preprocessing and every choice made.
"""

from __future__ import annotations

import shutil
import sys
import time
from typing import Optional

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle

from .inputs import data_reference, load_options, resolve_config
from .models import choose_model, family_hint
from .registry import TrainJob, TrainOutcome, get_trainer
from .report import TrainingReport, plot_curves_async, summarize


def train_model(plan, ctx) -> TrainingReport:
    """Train the model the plan asks for (or this turn's design) on the plan's data; report measured results.

    Raises:
        InputError (exit 2): bad data, options or registration name (before any training), or a diverging
            run (its MLflow run is marked FAILED and nothing is saved).
        UnsatisfiableError (exit 3): the family does not fit the data or fails to build (nothing else is
            trained), or a step after training failed (the trained model is kept; the message names it).
    """
    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.loop import set_threads

    set_threads()
    reg_name = _register_name(plan)
    ref, source, notes = data_reference(plan, ctx)
    seed = plan.settings.seed or 0
    data = load_dataset(ref, seed=seed, **load_options(plan, ctx, ref, family_hint(plan, ctx)))
    handle, design, more = choose_model(plan, ctx, data)
    config, cfg_notes = resolve_config(plan, ctx, data, handle)
    if "strategy" in (handle.extra or {}) and plan.settings.strategy is None:
        config = config.model_copy(update={"strategy": handle.extra["strategy"]})
    report = TrainingReport(dataset=data.name, dataset_info=data.describe(), family=handle.family, kind=handle.kind,
                            variant=(handle.extra or {}).get("variant"), strategy=config.strategy,
                            config=config.model_dump(mode="json"), notes=notes + more + cfg_notes,
                            budget_s=config.time_budget_s, budget_default=plan.settings.time_budget_s is None,
                            data_source=source, preprocessing=list(data.meta.get("preprocessing") or []))
    report.warnings += _data_warnings(data)
    _train_and_save(ctx, handle, data, config, report, design)
    if reg_name:
        from .runs import register

        report.registered_model = register(ctx, report.mlflow_run_id, reg_name, report.model_path)
    report.config.pop("checkpoint_dir", None)
    report.message = summarize(report)
    return report


def _register_name(plan) -> Optional[str]:
    """The validated registration name (exit 2 before any training when it is invalid)."""
    from tensor_agent.contract import REGISTER_NAME

    name = plan.register_name
    if name and not REGISTER_NAME.fullmatch(str(name)):
        raise InputError(f"invalid registration name {name!r}: use letters, digits, '.', '_' or '-' "
                         "(1-100 characters, no '/' or '..')", hint="e.g. register=digits-cnn")
    return name


def _data_warnings(data) -> list[str]:
    per = data.sizes.get("train", 0) / data.num_classes if data.num_classes else None
    if per is not None and per < 20 and data.modality in ("image", "tabular", "text", "sequence"):
        return [f"only {per:.0f} training examples per class in '{data.name}': too few for a reliable model; "
                "aim for at least 100 per class (see the majority-class rate above)"]
    return []


def _progress(ctx, text: str) -> None:
    if getattr(ctx, "progress", False):
        print(f"[train] {text}", file=sys.stderr, flush=True)


def _train_and_save(ctx, handle: ModelHandle, data, config, report: TrainingReport, design) -> None:
    from .runs import mark_killed_runs, open_run, run_tags

    opts = ctx.options
    track = opts.get("track", True) is not False
    if track:
        report.warnings += [f"MLflow run {r} was left RUNNING by a killed process: marked KILLED"
                            for r in mark_killed_runs(ctx)]
    run_name = f"{handle.family}-{data.name}".replace("/", "_")
    ck_dir = ctx.settings.path("checkpoints", f"{ctx.thread_id}-{run_name}".replace("/", "_"))
    if opts.get("resume", True) is False:
        shutil.rmtree(ck_dir, ignore_errors=True)
        ck_dir.mkdir(parents=True, exist_ok=True)
    if handle.kind == "torch":
        config = config.model_copy(update={"checkpoint_dir": str(ck_dir),
                                           "checkpoint_every_s": 5.0 if data.modality == "graph" else 0.0})
        from tensor_agent.tools.core.device import select_device

        report.device = select_device(config.device).describe()
    else:
        report.device = "cpu [XGBoost, 2 threads]"
    art_dir = ctx.settings.path("artifacts", "train", f"{run_name}-{time.strftime('%Y%m%d-%H%M%S')}")
    _progress(ctx, f"{handle.family} on {data.name} ({data.sizes}), device {report.device}, "
                   f"budget {config.time_budget_s:g}s")
    with open_run(ctx, run_name, run_tags(handle.family, data, report.device), track) as run:
        if run is not None:
            from .runs import log_start

            report.mlflow_run_id, report.tracking_uri = run.run_id, ctx.settings.tracking_uri
            log_start(run, config, data, handle.family, report.device, design)
        on_epoch = (lambda rec: run.log_metrics({k: v for k, v in rec.items() if k != "epoch"},
                                                step=rec["epoch"])) if run is not None else None
        out = get_trainer(data.modality)(TrainJob(handle, data, config, ctx, art_dir, on_epoch, dict(opts)))
        if out.result.diverged:
            raise InputError(out.result.message, hint="lower the learning rate")
        _record(handle, out, data, config, report, run)
        # drawn and logged to the run (plots/) by a child process: off the critical path
        report.curve_png = plot_curves_async(out.result.history, art_dir / "curves.png",
                                             f"{handle.family} on {data.name}", run)
        saved = _save(handle, ctx, run_name, report)
        if run is not None:
            _log_end(run, out, report, saved)
    shutil.rmtree(ck_dir, ignore_errors=True)  # finished: the next training starts fresh


def _record(handle: ModelHandle, out: TrainOutcome, data, config, report: TrainingReport, run) -> None:
    """Put the results on the handle and the report (and compute the baselines)."""
    from .baselines import baselines_for

    res = out.result
    handle.module, handle.dataset, handle.num_classes = out.module, data.name, data.num_classes
    handle.task = out.task or data.task
    if data.modality != "text":
        handle.input_spec = {**(handle.input_spec or {}), **data.input_spec}
    handle.metrics = {k: v for k, v in res.test_metrics.items() if isinstance(v, (int, float))}
    handle.extra = {**(handle.extra or {}), **out.extra, "strategy": config.strategy, "seed": config.seed,
                    "classes": data.meta.get("classes"), "dataset_info": data.describe(), "device": report.device}
    for key in ("preprocessor", "target_scale", "feature_names", "target_column"):
        if data.meta.get(key) is not None:
            handle.extra[key] = data.meta[key]
    if run is not None:
        handle.mlflow_run_id = run.run_id
    for name in ("history", "lr_curve", "val_metrics", "test_metrics", "best_epoch", "epochs_run", "stopped_reason",
                 "resumed_from", "trainable_params", "total_params"):
        setattr(report, name, getattr(res, name))
    report.wall_s = round(res.wall_s, 3)
    report.sample_png, report.sample_text = out.sample_png, out.sample_text
    report.warnings += list(getattr(res, "warnings", []) or [])
    if res.message:
        report.notes.append(res.message)
    report.baselines = baselines_for(data, res.test_metrics)


def _save(handle: ModelHandle, ctx, run_name: str, report: TrainingReport) -> str:
    """Save the trained model and make it current; a disk failure keeps it in this session (exit 3)."""
    from tensor_agent.tools.core.model_store import save_model

    suffix = (report.mlflow_run_id or time.strftime("%Y%m%d-%H%M%S"))[:12]
    try:
        saved = save_model(handle, ctx.settings.models_dir, name=f"{run_name}-{suffix}".replace("/", "_"))
    except OSError as exc:
        ctx.set_model(handle)
        raise UnsatisfiableError(f"training finished but saving the model failed ({exc}); it stays the current "
                                 "model of this session", hint="free disk space, then ask to save or export it") from None
    report.model_path = saved
    ctx.set_model(handle)
    return saved


def _log_end(run, out: TrainOutcome, report: TrainingReport, saved: str) -> None:
    """Final MLflow logging; a tracking failure keeps the saved model and says so (exit 3)."""
    from .runs import log_end

    try:
        log_end(run, out.result, report, saved, out.extra)
    except Exception as exc:  # noqa: BLE001 - any tracking failure: keep the model, name it
        raise UnsatisfiableError(f"training finished and the model is saved at {saved}, but logging to MLflow "
                                 f"failed ({type(exc).__name__}: {str(exc)[:200]})",
                                 hint="the model is the current one; retry tracking later") from None


def resolve_dataset(plan, ctx) -> tuple[str, str, list[str]]:
    """(dataset name or path, source, notes) the trainer would use (for callers and tests)."""
    return data_reference(plan, ctx)


