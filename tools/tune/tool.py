"""`tune_model(plan, ctx)`: hyperparameter search with Optuna on the thread's model and data.

Decides from the plan (architecture, data, settings, tune: trials / time budget / params) and the tune
options only. Steps: task spec -> study in the shared storage -> default configuration and warm-start
configurations enqueued -> trials (TPE + successive-halving / median pruning; N local workers; each an
MLflow child run of one parent run) -> the selected configuration (the default unless another validates
better beyond the noise, select.py) refitted, saved and made the current model -> importances, history PNG,
memory records.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from typing import Any, Optional

from pydantic import BaseModel, Field

from tensor_agent.catalogue import default_dataset
from tensor_agent.errors import InputError, UnsatisfiableError

from .objective import TaskSpec
from .spaces import select, space_for

#: epochs of one trial when the user states none
TRIAL_EPOCHS = {"image": 10, "tabular": 60, "graph": 100, "text": 2, "sequence": 5, "text_generation": 3}
#: tasks the shared training loop can train
FIT_TASKS = ("classification", "regression", "node_classification", "generation")


class TuneArgs(BaseModel):
    """The search request (plan.tune and the tune options)."""

    trials: int = Field(default=20, ge=1, le=10_000, description="Trials in the study.")
    budget_s: Optional[float] = Field(default=None, gt=0, description="Wall-clock budget of the search.")
    params: list[str] = Field(default_factory=list, description="Only these parameters (empty: the family's space).")
    workers: int = Field(default=1, ge=1, le=64, description="Local worker processes.")
    storage: Optional[str] = Field(default=None, description="Optuna storage URL (default: workspace journal).")
    study: Optional[str] = Field(default=None, description="Study name (continue it when it exists).")
    warm_start: bool = Field(default=True, description="Enqueue best configurations of similar tasks first.")
    enqueue_default: bool = Field(default=True, description="Run the default configuration as trial 0.")
    pruning: bool = Field(default=True, description="Prune bad trials from per-epoch (per-round) validation scores.")
    sampler: str = Field(default="tpe", description="tpe or random.")
    use_memory: bool = Field(default=True, description="Read and write the vector memory.")
    seed: int = Field(default=0, description="Seed of the sampler and of every trial.")


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else re.split(r"[,+ ]+", str(value))
    return [str(v).strip() for v in items if str(v).strip()]


def tune_args(plan, ctx) -> TuneArgs:
    """plan.tune first; an explicit option wins over the message (noted in plan.notes by the contract)."""
    opts, tune = ctx.options, plan.tune
    vals: dict[str, Any] = {}
    if tune is not None:
        vals.update({k: v for k, v in (("trials", tune.trials), ("budget_s", tune.time_budget_s)) if v is not None})
        if tune.params:
            vals["params"] = list(tune.params)
    for key, fld in (("trials", "trials"), ("tune_budget_s", "budget_s"), ("workers", "workers"),
                     ("storage", "storage"), ("study", "study"), ("warm_start", "warm_start"),
                     ("pruning", "pruning"), ("sampler", "sampler"), ("use_memory", "use_memory"),
                     ("enqueue_default", "enqueue_default")):
        if opts.get(key) is not None:
            vals[fld] = opts[key]
    if opts.get("tune_params") is not None:
        vals["params"] = _split(opts["tune_params"])
    if plan.settings.seed is not None:
        vals["seed"] = plan.settings.seed
    if "trials" not in vals and "budget_s" in vals:
        vals["trials"] = 10_000  # the time budget decides
    return TuneArgs(**vals)


def _target(plan, ctx) -> tuple[str, str, dict, list[str]]:
    """(family, dataset, load options, notes): what to tune on what."""
    from tensor_agent.tools.core.zoo.registry import get_family

    notes: list[str] = []
    current = ctx.current_model()
    family = ctx.options.get("family") or plan.architecture or (current.family if current else None)
    if not family:
        raise UnsatisfiableError("no model to tune: name a family (e.g. 'tune a CNN') or design one first",
                                 hint="e.g. @TENSOR tune the hyperparameters of a CNN on digits")
    fam = get_family(family)
    dataset = (plan.data.ref if plan.data else None) or (current.dataset if current and current.family == family
                                                         else None)
    if not dataset:
        dataset = default_dataset(fam.modality)
        if not dataset:
            raise InputError(f"no dataset to tune {family} on", hint="name one or pass dataset=/data_path=")
        notes.append(f"no dataset given: tuned on the built-in '{dataset}' set for {fam.modality}")
    load = {k: ctx.options[k] for k in ("target_column", "text_column", "node_features", "image_size", "seq_len",
                                        "classes", "train_per_class") if ctx.options.get(k) is not None}
    if plan.data and plan.data.target_column:
        load.setdefault("target_column", plan.data.target_column)
    return fam.name, str(dataset), load, notes


def _defaults(family: str, space, stated: dict, variant: Optional[str]) -> dict:
    """The default configuration: TrainConfig / family defaults with the user's stated settings."""
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.zoo.registry import get_family

    fam = get_family(family)
    hp = fam.variants.get(variant or fam.default_variant, {})
    base = TrainConfig().model_dump()
    vals = {"lr": base["lr"], "weight_decay": base["weight_decay"], "batch_size": base["batch_size"],
            "schedule": base["schedule"], "warmup_epochs": base["warmup_epochs"], "lora_r": base["lora_r"],
            "lora_alpha": base["lora_alpha"], "dropout": float(hp.get("dropout", 0.1)),
            "variant": variant or fam.default_variant, "max_depth": int(hp.get("max_depth", 4)),
            "eta": float(hp.get("learning_rate", 0.1)), "rounds": int(hp.get("n_estimators", 100)),
            "subsample": float(hp.get("subsample", 1.0)), "colsample_bytree": 1.0, "min_child_weight": 1.0}
    vals.update({k: v for k, v in stated.items() if k in vals})
    return {p.name: vals[p.name] for p in space if p.name in vals and p.contains(vals[p.name])}


def build_spec(plan, ctx, args: TuneArgs) -> tuple[TaskSpec, list[str]]:
    """The task spec every worker runs (family, data, base configuration, space, metric)."""
    from tensor_agent.tools.core.datasets import dataset_spec
    from tensor_agent.tools.core.zoo.registry import get_family

    family, dataset, load, notes = _target(plan, ctx)
    fam = get_family(family)
    facts = dataset_spec(dataset)
    modality = facts.get("modality") or fam.modality
    task = facts.get("task") or plan.task or fam.tasks[0]
    if modality != fam.modality:
        raise UnsatisfiableError(f"family {family!r} takes {fam.modality} data; dataset {dataset!r} is {modality}",
                                 hint="name a family for this data or another dataset")
    if fam.kind == "torch" and task not in FIT_TASKS:
        raise UnsatisfiableError(f"tuning {family} ({task}) is not supported: the training loop trains "
                                 f"{', '.join(FIT_TASKS)}")
    stated = plan.settings.stated()
    strategy = stated.get("strategy") or ("lora" if family == "bert" and plan.pretrained is not False else None)
    if strategy not in (None, "scratch", "lora"):
        raise UnsatisfiableError(f"tuning supports training from scratch or LoRA, not {strategy!r}",
                                 hint="use strategy=lora or strategy=scratch")
    strategy = None if strategy == "scratch" else strategy
    variant = plan.variant or ctx.options.get("variant") or ("minilm-l6" if strategy == "lora" else None)
    space = select(space_for(family, strategy=strategy), args.params, family)
    if args.params:
        notes.append(f"searched only {', '.join(p.name for p in space)} (as asked)")
    base = {k: v for k, v in stated.items() if k not in ("time_budget_s", "seed", "strategy", "patience")}
    base.setdefault("epochs", TRIAL_EPOCHS.get(modality, 5))
    metric = "val_accuracy" if fam.kind == "torch" and task in ("classification", "node_classification") else "val_loss"
    spec = TaskSpec(family=family, variant=variant, dataset=dataset, load_opts=load,
                    data_seed=int(ctx.options.get("data_seed", 0)), task=task, modality=modality, strategy=strategy,
                    base_config=base if fam.kind == "torch" else {}, space=space,
                    defaults=_defaults(family, space, stated, variant), metric=metric,
                    direction="maximize" if metric == "val_accuracy" else "minimize", seed=args.seed,
                    hparams={"pretrained": True} if strategy == "lora" else {})
    return spec, notes


def _study_name(spec: TaskSpec) -> str:
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", os.path.basename(spec.dataset.rstrip("/")))[:40]
    return f"tune-{spec.family}-{stem}-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid() % 10000}"


def _log(ctx):
    if not ctx.progress:
        return lambda s: None
    return lambda s: print(f"[tune] {s}", file=sys.stderr, flush=True)


def launch_workers(n: int, study: str, url: str, settings, *, threads: Optional[int] = None) -> list:
    """Start `n` worker processes on one study (each: `python -m tensor_agent.tools.tune.worker`).

    The MLflow store is created first: several processes creating one SQLite store at once would race.
    """
    from tensor_agent.tools.core.tracking import _experiment_id, get_client

    _experiment_id(get_client(settings), settings)
    env = dict(os.environ, TENSOR_HOME=str(settings.home))
    if threads:
        env["TENSOR_THREADS"] = str(threads)
    cmd = [sys.executable, "-m", "tensor_agent.tools.tune.worker", "--study", study, "--storage", url,
           "--home", str(settings.home), "--quiet"]
    return [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            for _ in range(n)]


def join_command(study: str, url: str) -> str:
    return f"python -m tensor_agent.tools.tune.worker --study {study} --storage '{url}'"


def tune_model(plan, ctx):
    """Tune the thread's model family on its data with Optuna; refit the best configuration.

    Args:
        plan: the resolved plan (architecture, data, settings, tune).
        ctx: ToolContext; options trials, tune_params, tune_budget_s, workers, storage, study, warm_start,
            pruning, sampler, use_memory.

    Returns:
        TuneReport.

    Raises:
        UnsatisfiableError: no model/family to tune, a family/task the search cannot train.
        InputError: an unknown parameter to tune, a storage outside the workspace.
        BackendUnavailable: the Optuna storage or MLflow cannot be reached.
    """
    from .study import run_search

    args = tune_args(plan, ctx)
    spec, notes = build_spec(plan, ctx, args)
    return run_search(plan, ctx, spec, args, notes=notes, study_name=args.study or _study_name(spec))
