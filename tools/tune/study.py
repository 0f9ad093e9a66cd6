"""The search itself: study, enqueued trials, workers, refit, importances, PNG, memory (see tool.py)."""

from __future__ import annotations

import json
import os
import subprocess
import time
from typing import Any, Optional

from tensor_agent.errors import TensorError
from tensor_agent.tools.core.context import ModelHandle

from .objective import TaskSpec, run_trial
from .report import TuneReport, WarmStart, importances, plot_history
from .runner import (DEADLINE_ATTR, PARENT_ATTR, TASK_ATTR, TRIALS_ATTR, make_pruner, make_sampler, pruner_name,
                     run_worker, study_spec)
from .storage import open_storage, storage_url

WORKER_GRACE_S = 120.0


def create_study(name: str, storage, spec: TaskSpec, args, notes: list[str]):
    import optuna

    sampler = make_sampler(args.sampler, seed=args.seed, n_trials=args.trials)
    pruner = make_pruner(spec, args.pruning)
    study = optuna.create_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner,
                                direction=spec.direction, load_if_exists=True)
    if study.user_attrs.get(TASK_ATTR):
        existing = study_spec(study)
        if existing.model_dump() != spec.model_dump():
            notes.append(f"continued study {name!r} with its own task ({existing.family} on {existing.dataset})")
        return study, existing, True
    study.set_user_attr(TASK_ATTR, spec.to_json())
    study.set_user_attr("sampler", args.sampler)
    study.set_user_attr("pruning", bool(args.pruning))
    return study, spec, False


def _enqueue(study, spec: TaskSpec, storage, args, ctx, warnings: list[str], continued: bool) -> list[dict]:
    """Enqueue the default configuration and the warm-start candidates (new studies only)."""
    from .warm import warm_candidates

    if continued:
        return []
    if spec.defaults and args.enqueue_default:
        study.enqueue_trial(spec.defaults, user_attrs={"source": "default"})
    warm: list[dict] = []
    if args.warm_start:
        getter = (lambda: ctx.memory) if args.use_memory else None
        warm = warm_candidates(spec, storage, exclude=study.study_name, memory_getter=getter, warnings=warnings)
        for c in warm:
            study.enqueue_trial(c["params"], user_attrs={"source": c["source"], "why": c["why"]}, skip_if_exists=True)
    return warm


def _run_workers(study, url: str, ctx, args, log, warnings: list[str]) -> int:
    """This process plus `workers - 1` local worker processes; waits for all of them."""
    from .tool import launch_workers

    procs = []
    if args.workers > 1:
        threads = max(1, (int(os.environ.get("TENSOR_THREADS", "0") or 0) or 2) // args.workers)
        procs = launch_workers(args.workers - 1, study.study_name, url, ctx.settings, threads=threads)
        log(f"started {len(procs)} worker processes on study {study.study_name}")
    try:
        run_worker(study, ctx, n_trials=args.trials, deadline=study.user_attrs.get(DEADLINE_ATTR), log=log)
    finally:
        for p in procs:
            try:
                _, err = p.communicate(timeout=(args.budget_s or 0) + WORKER_GRACE_S if args.budget_s else None)
            except subprocess.TimeoutExpired:  # stop it; its trial is failed by the next worker, the study stays usable
                p.kill()
                _, err = p.communicate()
            if p.returncode:
                warnings.append(f"worker process {p.pid} exited with {p.returncode}: {(err or '').strip()[-300:]}")
    return 1 + len(procs)


def _best(study, spec: TaskSpec):
    """(selected trial, why, best trial by validation score, COMPLETE trials); see select.py."""
    from optuna.trial import TrialState

    from .select import select_trial

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    chosen, why, top = select_trial(done, spec.metric, spec.direction)
    return chosen, why, top, done


def _refit(spec: TaskSpec, params: dict, ctx, run_id: Optional[str], study: str) -> tuple[ModelHandle, Any]:
    """Train the best configuration again (same seed) and save it as the thread's current model."""
    from tensor_agent.tools.core.model_store import save_model

    from .objective import load_data

    out = run_trial(spec, params)
    if spec.kind == "torch":
        out.module = out.module.cpu()  # the thread's current model lives on the CPU between tools
    data = load_data(spec)
    extra = {"variant": out.variant, "tuned_params": params, "study": study, "modality": spec.modality,
             **{k: v for k, v in out.extra.items() if v is not None}}
    handle = ModelHandle(module=out.module, family=spec.family, kind=spec.kind, task=spec.task,
                         input_spec=out.extra.get("input_spec") or data.input_spec, num_classes=data.num_classes,
                         dataset=spec.dataset, metrics=dict(out.test_metrics), mlflow_run_id=run_id, extra=extra)
    save_model(handle, ctx.settings.models_dir, name=study)
    ctx.set_model(handle)
    return handle, out


def _counts(study) -> dict:
    counts: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        if t.user_attrs.get("surplus"):
            continue
        counts[t.state.name.lower()] = counts.get(t.state.name.lower(), 0) + 1
    return counts


def run_search(plan, ctx, spec: TaskSpec, args, *, notes: list[str], study_name: str) -> TuneReport:
    """Run the whole search (see the module docstring of tool.py)."""
    from tensor_agent.tools.core.tracking import mlflow_run

    from .tool import _log, join_command

    from .runner import quiet_libraries

    quiet_libraries()
    t0, log, warnings = time.time(), _log(ctx), []
    url = storage_url(ctx.settings, args.storage)
    storage = open_storage(url)
    study, spec, continued = create_study(study_name, storage, spec, args, notes)
    tags = {"tensor.stage": "tune", "tensor.family": spec.family, "tensor.dataset": spec.dataset,
            "optuna.study": study_name, "optuna.storage": url}
    with mlflow_run(ctx, study_name, tags=tags) as parent:
        if not continued:
            study.set_user_attr(PARENT_ATTR, parent.run_id)
            study.set_user_attr(TRIALS_ATTR, args.trials)
            study.set_user_attr(DEADLINE_ATTR, (t0 + args.budget_s) if args.budget_s else None)
        parent.log_params({"space": ",".join(p.name for p in spec.space), "trials": args.trials,
                           "budget_s": args.budget_s, "workers": args.workers, "sampler": args.sampler,
                           "pruning": args.pruning, "metric": spec.metric})
        warm = _enqueue(study, spec, storage, args, ctx, warnings, continued)
        log(f"study {study_name}: {args.trials} trials" + (f", {args.budget_s:g}s" if args.budget_s else "") +
            (f", {len(warm)} warm-start configurations" if warm else ""))
        workers = _run_workers(study, url, ctx, args, log, warnings)
        wall = time.time() - t0
        report = _finish(plan, ctx, study, spec, args, parent, warm, url, warnings, notes)
        report.workers, report.wall_s = workers, round(wall, 2)
        report.join_command = join_command(study_name, url)
    from tensor_agent.tools.core.wandb_export import export_run, wanted

    if wanted(plan, ctx):
        from tensor_agent.tools.core.tracking import get_client

        report.wandb = export_run(ctx, get_client(ctx.settings), report.mlflow_run_id)
    report.memory_ids = _remember(plan, ctx, study, spec, report, args, warnings)
    report.summary = _summary(report)
    return report


def _finish(plan, ctx, study, spec, args, parent, warm, url, warnings, notes) -> TuneReport:
    """Refit the winner, importances, PNG and the report (inside the parent MLflow run)."""
    from tensor_agent.errors import UnsatisfiableError

    best, why, top, done = _best(study, spec)
    if best is None:
        raise UnsatisfiableError(f"no trial of study {study.study_name} completed ({_counts(study)})",
                                 hint="give the search more time or trials, or check the failed trials' errors")
    handle, out = _refit(spec, dict(best.params), ctx, parent.run_id, study.study_name)
    if abs(out.value - best.value) > 1e-9 * max(1.0, abs(best.value)):
        warnings.append(f"the refit of trial {best.number} scored {out.value:.6g} on validation, its trial "
                        f"{best.value:.6g} (training is not bit-reproducible here)")
    imp = importances(study, warnings)
    png = ctx.settings.artifacts_dir / f"{study.study_name}.png"
    plot_history(study.get_trials(deepcopy=False), spec.metric, spec.direction, imp, png)
    parent.log_params({f"best_{k}": v for k, v in best.params.items()})
    parent.log_metrics({"best_value": best.value, **{f"test_{k}": v for k, v in out.test_metrics.items()},
                        **{f"val_{k}": v for k, v in out.val_metrics.items()}})
    parent.set_tags({"tensor.device": out.extra.get("device", "cpu"), "tune.selected_trial": best.number,
                     "tune.selection": why[:500]})
    parent.log_artifact(png, "plots")
    parent.log_artifacts(handle.path, "model")
    parent.log_dict({"importances": imp, "best_params": best.params}, "tune.json")
    default = next((t for t in done if t.user_attrs.get("source") == "default"), None)
    ws = []
    trials = study.get_trials(deepcopy=False)
    for c in warm:
        t = next((t for t in trials if t.user_attrs.get("source") == c["source"]), None)
        if t is None:  # the same configuration was already queued (e.g. it is the default): not run twice
            t = next((t for t in trials if t.params == c["params"]), None)
            if t is not None:
                c = {**c, "why": c["why"] + f"; identical to trial {t.number} ({t.user_attrs.get('source')}), "
                                            "so it ran once"}
        ws.append(WarmStart(**c, trial=t.number if t else None, value=t.value if t else None))
    return TuneReport(
        study=study.study_name, storage=url, family=spec.family, variant=out.variant, dataset=spec.dataset,
        metric=spec.metric, direction=spec.direction, sampler=args.sampler, pruning=args.pruning,
        space=[p.name for p in spec.space], trials_requested=args.trials, trials=_counts(study),
        best_value=best.value, best_params=dict(best.params), best_trial=best.number, selection=why,
        search_best_value=top.value, search_best_trial=top.number,
        search_best_params=dict(top.params), pruner=pruner_name(spec, args.pruning),
        default_value=default.value if default else None, default_params=dict(default.params) if default else {},
        warm_start=ws, importances=imp, top_params=list(imp)[:3], test_metrics=out.test_metrics,
        val_metrics=out.val_metrics, model_path=handle.path, mlflow_run_id=parent.run_id, history_png=str(png),
        device=str(out.extra.get("device", "cpu")), notes=notes, warnings=warnings)


def _remember(plan, ctx, study, spec: TaskSpec, report: TuneReport, args, warnings: list[str]) -> list[str]:
    """Record the winner (design + outcome) and every trial (stage 'tune') in the vector memory."""
    if not args.use_memory:
        return []
    from optuna.trial import TrialState

    base = {"family": spec.family, "variant": report.variant or "", "modality": spec.modality, "task": spec.task,
            "dataset": spec.dataset}
    try:
        mem = ctx.memory
        if mem is None:
            warnings.append("vector memory unavailable: trials and winner were not recorded")
            return []
        design_id = mem.remember_design(plan, {**base, "hparams": {
            "tuned_by": "optuna", "params": report.best_params, "metric": spec.metric,
            "best_value": report.best_value, "study": report.study},
            "rationale": f"tuned with Optuna ({report.trials}) in study {report.study}"})
        ids = [design_id, mem.remember_outcome({**base, "test_metrics": report.test_metrics, "stage": "train",
                                                "mlflow_run_id": report.mlflow_run_id,
                                                "run_key": f"{report.study}-best"}, design_id)]
        for t in study.get_trials(deepcopy=False)[:100]:
            if t.state not in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL) or t.user_attrs.get("surplus"):
                continue
            ids.append(mem.remember_outcome({
                **base, "metric": spec.metric, "value": t.value, "stage": "tune", "run_key": f"{report.study}-{t.number}",
                "success": t.state == TrialState.COMPLETE, "reason": "" if t.state == TrialState.COMPLETE else
                t.user_attrs.get("reason", t.state.name.lower()) + "; params " + json.dumps(t.params, default=str)},
                design_id))
        return ids
    except TensorError:
        raise
    except Exception as exc:  # noqa: BLE001 - memory is best-effort; the failure is reported, not hidden
        warnings.append(f"could not record the trials in the vector memory ({type(exc).__name__}: {exc})")
        return []


def _summary(r: TuneReport) -> str:
    parts = [f"Tuned {r.family} on {r.dataset}: {sum(r.trials.values())} trials ({', '.join(f'{v} {k}' for k, v in r.trials.items())}) "
             f"in {r.wall_s:.0f}s with {r.sampler.upper()}" + (f" + {r.pruner}" if r.pruning else "") + "."]
    if r.search_best_trial is not None and r.search_best_trial != r.best_trial:
        parts.append(f"Best {r.metric} in the search {r.search_best_value:.4g} (trial {r.search_best_trial}).")
    if r.default_value is not None:
        parts.append(f"The default configuration scored {r.default_value:.4g}.")
    parts.append(f"Refitted trial {r.best_trial} ({r.metric} {r.best_value:.4g}): " +
                 ", ".join(f"{k}={_fmt(v)}" for k, v in r.best_params.items()) + f"; {r.selection}.")
    if r.test_metrics:
        parts.append("Refitted best model, test: " + ", ".join(f"{k} {v:.4g}" for k, v in r.test_metrics.items()) + ".")
    if r.top_params:
        parts.append("Most important: " + ", ".join(f"{k} ({r.importances[k]:.2f})" for k in r.top_params) + ".")
    for w in r.warm_start:
        parts.append(f"Warm start from {w.source}: {w.why}" + (f" -> scored {w.value:.4g} here" if w.value is not None
                                                                  else "") + ".")
    return " ".join(parts)


def _fmt(v: Any) -> str:
    return f"{v:.3g}" if isinstance(v, float) else str(v)
