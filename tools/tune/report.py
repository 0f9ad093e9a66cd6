"""The answer of `tune_model`: a pydantic report, parameter importances and the optimisation-history PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from pydantic import BaseModel, Field


class WarmStart(BaseModel):
    params: dict = Field(description="The enqueued configuration.")
    source: str = Field(description="Where it came from (an earlier study or a memory record).")
    why: str = Field(description="Why it was chosen.")
    trial: Optional[int] = Field(default=None, description="Trial number it ran as.")
    value: Optional[float] = Field(default=None, description="Its validation score in this study.")


class TuneReport(BaseModel):
    """What one hyperparameter search did and found."""

    study: str = Field(description="Optuna study name.")
    storage: str = Field(description="Optuna storage URL of the study.")
    family: str = Field(description="Model family tuned.")
    variant: Optional[str] = Field(default=None, description="Variant of the refitted model.")
    dataset: str = Field(description="Dataset tuned on.")
    metric: str = Field(description="Validation score optimised.")
    direction: str = Field(description="maximize or minimize.")
    sampler: str = Field(default="tpe", description="Sampler (TPE unless asked otherwise).")
    pruning: bool = Field(default=True, description="Pruning of bad trials from per-epoch validation scores.")
    pruner: str = Field(default="", description="The pruning rule (successive halving for torch, median for XGBoost).")
    space: list[str] = Field(default_factory=list, description="Parameters searched.")
    trials_requested: int = Field(description="Trials asked for.")
    trials: dict = Field(default_factory=dict, description="Trial counts by state (complete, pruned, fail).")
    best_value: Optional[float] = Field(default=None, description="Validation score of the refitted configuration.")
    best_params: dict = Field(default_factory=dict, description="The refitted configuration.")
    best_trial: Optional[int] = Field(default=None, description="Number of the refitted (selected) trial.")
    selection: str = Field(default="", description="Why this trial was refitted (the default unless another "
                                                   "validated better beyond the noise).")
    search_best_value: Optional[float] = Field(default=None, description="Best validation score of the search.")
    search_best_trial: Optional[int] = Field(default=None, description="Trial with the best validation score.")
    search_best_params: dict = Field(default_factory=dict, description="Configuration of that trial.")
    default_value: Optional[float] = Field(default=None, description="Validation score of the default configuration.")
    default_params: dict = Field(default_factory=dict, description="The default configuration (trial 0).")
    warm_start: list[WarmStart] = Field(default_factory=list, description="Configurations enqueued from "
                                                                           "similar earlier tasks.")
    importances: dict = Field(default_factory=dict, description="Parameter importances (fANOVA, sum 1).")
    top_params: list[str] = Field(default_factory=list, description="The most important parameters, first first.")
    test_metrics: dict = Field(default_factory=dict, description="Held-out metrics of the refitted best model.")
    val_metrics: dict = Field(default_factory=dict, description="Validation metrics of the refitted best model.")
    model_path: Optional[str] = Field(default=None, description="Saved refitted model (the thread's current model).")
    mlflow_run_id: Optional[str] = Field(default=None, description="MLflow parent run; trials are its children.")
    history_png: Optional[str] = Field(default=None, description="Optimisation history and importances PNG.")
    device: str = Field(default="cpu", description="Device the refitted model trained on.")
    workers: int = Field(default=1, description="Worker processes that ran trials.")
    wall_s: float = Field(default=0.0, description="Search wall time, seconds.")
    join_command: str = Field(default="", description="Command that joins another worker to this study.")
    wandb: dict = Field(default_factory=dict, description="W&B export of the parent run (trackers=mlflow,wandb).")
    memory_ids: list[str] = Field(default_factory=list, description="Memory records written.")
    notes: list[str] = Field(default_factory=list, description="What was decided and why.")
    warnings: list[str] = Field(default_factory=list, description="Problems that did not stop the search.")
    summary: str = Field(default="", description="One readable paragraph.")


def importances(study, warnings: list[str]) -> dict:
    """fANOVA importances of the searched parameters ({} with a note when there are too few trials)."""
    import optuna
    from optuna.trial import TrialState

    done = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if len(done) < 3:
        warnings.append(f"parameter importances need at least 3 completed trials (have {len(done)})")
        return {}
    try:
        imp = optuna.importance.get_param_importances(study)
    except (RuntimeError, ValueError) as exc:  # e.g. every trial had the same value
        warnings.append(f"parameter importances unavailable: {exc}")
        return {}
    return {k: round(float(v), 4) for k, v in imp.items()}


def plot_history(trials: list[Any], metric: str, direction: str, imp: dict, path: Path) -> str:
    """Two panels: every trial's score with the running best (pruned trials marked), and importances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.trial import TrialState

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), gridspec_kw={"width_ratios": [3, 2]})
    ax = axes[0]
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    ax.scatter([t.number for t in done], [t.value for t in done], s=18, label="complete")
    pruned = [t for t in trials if t.state == TrialState.PRUNED and t.intermediate_values]
    if pruned:
        ax.scatter([t.number for t in pruned], [t.intermediate_values[max(t.intermediate_values)] for t in pruned],
                   s=14, marker="x", color="grey", label="pruned (last report)")
    best, xs, ys = None, [], []
    for t in sorted(done, key=lambda t: t.number):
        if best is None or (t.value > best if direction == "maximize" else t.value < best):
            best = t.value
        xs.append(t.number)
        ys.append(best)
    if xs:
        ax.step(xs, ys, where="post", color="C3", label="best so far")
    ax.set_xlabel("trial")
    ax.set_ylabel(metric)
    ax.set_title("optimisation history")
    ax.legend(fontsize=8)
    ax = axes[1]
    if imp:
        names = list(imp)[::-1]
        ax.barh(names, [imp[n] for n in names], color="C2")
        ax.set_xlabel("importance (fANOVA)")
    else:
        ax.text(0.5, 0.5, "too few completed trials", ha="center", va="center")
        ax.set_axis_off()
    ax.set_title("parameter importances")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
