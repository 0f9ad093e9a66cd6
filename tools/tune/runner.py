"""The worker loop shared by the tool, `tensor-agent tune --workers N` and a joining machine.

Every worker asks the shared study for trials until the study holds the requested number of finished or
running trials, or the deadline passes (an ask-and-tell loop: no trial is lost or run twice, and trials of
dead workers are marked FAIL first). Each trial is an MLflow child run of the study's parent run.
"""

from __future__ import annotations

import json
import time
from typing import Callable, Optional

from .objective import Diverged, TaskSpec, run_trial
from .storage import fail_dead_trials, mark_owner

TASK_ATTR, PARENT_ATTR, TRIALS_ATTR, DEADLINE_ATTR = "task", "mlflow_parent_run_id", "n_trials", "deadline"


def study_spec(study) -> TaskSpec:
    """The task spec stored with a study (InputError when the study was not made by tune_model)."""
    from tensor_agent.errors import InputError

    raw = study.user_attrs.get(TASK_ATTR)
    if not raw:
        raise InputError(f"study {study.study_name!r} has no task spec (not created by tensor-agent tune)")
    return TaskSpec.from_json(raw)


def quiet_libraries() -> None:
    """Library noise off (optuna's per-trial INFO lines, MLflow's database messages)."""
    import logging

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


def make_pruner(spec: TaskSpec, enabled: bool = True):
    """Torch families: successive halving on the per-epoch validation score (Optuna's default reduction factor
    4: rungs at epochs 1, 4, 16, ...; a trial goes on only while it is in the best quarter of the trials that
    reached the rung). XGBoost: the median
    rule on the per-round validation loss after 10 rounds. The default configuration is never pruned."""
    import optuna

    if not enabled:
        return optuna.pruners.NopPruner()
    if spec.kind == "xgboost":
        return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=10)
    return optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=4, min_early_stopping_rate=0)


def pruner_name(spec: TaskSpec, enabled: bool = True) -> str:
    if not enabled:
        return "no pruning"
    return "median pruning" if spec.kind == "xgboost" else "successive-halving pruning"


def make_sampler(kind: str = "tpe", seed: Optional[int] = None, n_trials: int = 20):
    import optuna

    if kind == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    startup = max(3, min(8, n_trials // 4))
    return optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup, multivariate=True)


def load_study(name: str, storage, *, sampler=None, pruner=None):
    import optuna

    return optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)


def _active(study) -> int:
    from optuna.trial import TrialState

    return len(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED,
                                                        TrialState.RUNNING)))


def run_worker(study, ctx, *, n_trials: Optional[int] = None, deadline: Optional[float] = None,
               log: Callable[[str], None] = lambda s: None) -> list[int]:
    """Run trials of `study` until it holds `n_trials` trials or `deadline` (epoch seconds) passes.

    Returns the numbers of the trials this worker finished (complete, pruned or failed).
    """
    from optuna.trial import TrialState

    quiet_libraries()
    spec = study_spec(study)
    n_trials = int(n_trials or study.user_attrs.get(TRIALS_ATTR) or 20)
    deadline = deadline or study.user_attrs.get(DEADLINE_ATTR)
    parent = study.user_attrs.get(PARENT_ATTR)
    mine: list[int] = []
    while True:
        for num in fail_dead_trials(study):
            log(f"trial {num}: its worker died, marked failed")
        if deadline is not None and time.time() >= deadline - 1.0:
            break
        if _active(study) >= n_trials:
            break
        trial = study.ask()
        mark_owner(trial)
        ahead = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED,
                                                                      TrialState.RUNNING)) if t.number < trial.number]
        if len(ahead) >= n_trials:  # another worker took the last slot at the same moment
            trial.set_user_attr("surplus", True)
            study.tell(trial, state=TrialState.FAIL)
            break
        state, value = _one_trial(study, trial, spec, ctx, parent, deadline)
        study.tell(trial, value if state == TrialState.COMPLETE else None, state=state)
        mine.append(trial.number)
        shown = f"{value:.4g}" if value is not None else state.name.lower()
        log(f"trial {trial.number}: {shown} {json.dumps(trial.params, default=str)}")
    return mine


def _one_trial(study, trial, spec: TaskSpec, ctx, parent: Optional[str], deadline: Optional[float]):
    """Run one trial inside an MLflow child run; returns (state, value)."""
    import optuna
    from optuna.trial import TrialState

    from tensor_agent.tools.core.tracking import mlflow_run

    params = {p.name: p.suggest(trial) for p in spec.space}
    tags = {"optuna.study": study.study_name, "optuna.trial": trial.number, "tensor.family": spec.family,
            "tensor.dataset": spec.dataset, "tensor.stage": "tune-trial",
            "warm_start": trial.user_attrs.get("source")}
    steps: list[tuple[int, float]] = []
    baseline = trial.user_attrs.get("source") == "default"  # measured in full: the reference of the selection
    with mlflow_run(ctx, f"{study.study_name}-trial-{trial.number}", parent_run_id=parent, tags=tags) as run:
        run.log_params(params)

        def report(step: int, value: float, score: Optional[float] = None) -> None:
            steps.append((step, value))
            trial.report(value if score is None else score, step)  # accuracy ties broken by the loss
            if not baseline and trial.should_prune():
                raise optuna.TrialPruned(f"pruned at step {step}")

        try:
            try:
                out = run_trial(spec, params, report=report, deadline=deadline)
            finally:
                _log_curve(run, spec.metric, steps)
        except optuna.TrialPruned as exc:
            run.set_tags({"optuna.state": "PRUNED", "pruned": str(exc)})
            return TrialState.PRUNED, None
        except Diverged as exc:
            trial.set_user_attr("reason", str(exc)[:500])
            run.set_tags({"optuna.state": "FAIL", "error": str(exc)[:500]})
            return TrialState.FAIL, None
        run.log_metrics({"objective": out.value, **{f"val_{k}": v for k, v in out.val_metrics.items()},
                         **{f"test_{k}": v for k, v in out.test_metrics.items()}, "epochs_run": out.epochs_run})
        run.set_tags({"optuna.state": "COMPLETE"})
        trial.set_user_attr("test_metrics", out.test_metrics)
        trial.set_user_attr("val_metrics", out.val_metrics)
        trial.set_user_attr("epochs_run", out.epochs_run)
        trial.set_user_attr("stopped_reason", out.stopped_reason)
        for key in ("n_val", "folds"):
            if out.extra.get(key) is not None:
                trial.set_user_attr(key, out.extra[key])
        return TrialState.COMPLETE, out.value


def _log_curve(run, metric: str, steps: list[tuple[int, float]]) -> None:
    """The per-epoch (per-round) validation curve of a trial, in batched MLflow writes."""
    import math

    from mlflow.entities import Metric

    ts = int(time.time() * 1000)
    items = [Metric(metric, float(v), ts, int(s)) for s, v in steps if math.isfinite(v)]
    for i in range(0, len(items), 1000):
        run.client.log_batch(run.run_id, metrics=items[i:i + 1000])
