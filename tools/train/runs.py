"""The trainer's MLflow bookkeeping: stale runs, parameters, the final log, registration.

* A run left RUNNING by a process that no longer exists (killed mid-training) is marked KILLED when the
  next training starts (tracking.mark_killed_runs; runs carry their process id and host in tags).
* Every TrainConfig field is logged as `train.<field>`, plus the device.
* Registration happens after the run is closed: a registry failure keeps the trained model, names its
  path and the command that finishes the step, and exits 3.
"""

from __future__ import annotations

import contextlib
from typing import Any, Optional

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.core.tracking import EXPERIMENT, get_client


def mark_killed_runs(ctx) -> list[str]:
    """Mark RUNNING runs whose process is gone as KILLED (tracking.mark_killed_runs); returns their ids so the
    answer can say so."""
    from tensor_agent.tools.core import tracking

    client = get_client(ctx.settings)
    exp = client.get_experiment_by_name(EXPERIMENT)
    return tracking.mark_killed_runs(client, exp.experiment_id) if exp is not None else []


def run_tags(family: str, data, device: str) -> dict[str, Any]:
    return {"tensor.family": family, "tensor.dataset": data.name, "tensor.modality": data.modality,
            "tensor.device": device}


def open_run(ctx, run_name: str, tags: dict, track: bool):
    """An MLflow run context (or a null context when tracking is off)."""
    if not track:
        return contextlib.nullcontext(None)
    from tensor_agent.tools.core.tracking import mlflow_run

    return mlflow_run(ctx, run_name, tags=tags, mark_killed=False)  # the trainer has just run mark_killed_runs


def log_start(run, config, data, family: str, device: str, design: Optional[dict]) -> None:
    run.log_params({**{f"train.{k}": v for k, v in config.model_dump().items() if k != "checkpoint_dir"},
                    "device": device, "dataset": data.name, "dataset.source": data.meta.get("source"),
                    "dataset.seed": data.seed, "dataset.sizes": data.sizes, "family": family,
                    "modality": data.modality, "task": data.task})
    run.log_dict(data.describe(), "dataset.json")
    if data.meta.get("preprocessor"):
        run.log_dict(data.meta["preprocessor"], "preprocessor.json")
    if design:
        run.log_dict(design, "design.json")


def log_end(run, res, report, saved_path: str, extra: dict) -> None:
    run.log_metrics({f"test_{k}": v for k, v in res.test_metrics.items()})
    run.log_metrics({f"final_val_{k}": v for k, v in res.val_metrics.items()})
    run.log_metrics({"wall_s": res.wall_s, "trainable_params": res.trainable_params,
                     "total_params": res.total_params, "epochs_run": res.epochs_run})
    base = {f"baseline_{k}": v for k, v in (report.baselines or {}).items() if isinstance(v, (int, float))}
    if base:
        run.log_metrics(base)
    run.set_tags({"tensor.model_path": saved_path, "tensor.stopped_reason": res.stopped_reason})
    for p in (report.sample_png,):  # the curve PNG is logged by the process that draws it (plot_curves_async)
        if p:
            run.log_artifact(p, "plots")
    if extra.get("sample_text_path"):
        run.log_artifact(extra["sample_text_path"], "samples")
    run.log_artifacts(saved_path, "model")
    run.flush()  # the batched metrics: a store failure here is reported like any other tracking failure


def register(ctx, run_id: Optional[str], name: str, model_path: str) -> dict:
    """Register the run's model under `name`; UnsatisfiableError (exit 3) keeping the model on failure."""
    if run_id is None:
        raise UnsatisfiableError(f"cannot register '{name}': tracking is off (track=false), so there is no MLflow "
                                 f"run. The trained model is kept at {model_path}",
                                 hint="train again without track=false to register it")
    from tensor_agent.tools.core.tracking import finish_registration_command, register_model

    finish = finish_registration_command(ctx.settings, run_id, name)

    try:
        return register_model(ctx, run_id, name)
    except Exception as exc:  # noqa: BLE001 - any registry failure: keep the model, say how to finish
        raise UnsatisfiableError(f"training finished but registering '{name}' failed ({type(exc).__name__}: "
                                 f"{str(exc)[:200]}). The trained model is kept at {model_path} and MLflow run "
                                 f"{run_id} points at it", hint=f"finish with: {finish}") from None
