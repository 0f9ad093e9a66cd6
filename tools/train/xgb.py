"""XGBoost for tabular data, with early stopping on the validation split (missing values stay NaN)."""

from __future__ import annotations

import time
from typing import Any, Optional

from tensor_agent.errors import InputError

from tensor_agent.tools.core.datasets import DataBundle
from tensor_agent.tools.core.engine.loop import FitResult, regression_metrics


def _numpy(split) -> tuple[Any, Any]:
    X, y = split.tensors[0].numpy(), split.tensors[-1].numpy()
    return X.reshape(len(X), -1), y


def _metrics(model, X, y, cls: bool, scale: dict) -> dict:
    import numpy as np
    import torch

    if cls:
        proba = model.predict_proba(X)
        ll = float(-np.mean(np.log(proba[np.arange(len(y)), y] + 1e-12)))
        return {"accuracy": float((proba.argmax(1) == y).mean()), "loss": ll}
    pred = model.predict(X)
    out = {"loss": float(np.mean((pred - y) ** 2))}
    out.update(regression_metrics(torch.as_tensor(pred), torch.as_tensor(y), mean=scale.get("mean", 0.0),
                                  std=scale.get("std", 1.0)))
    return out


def _budget_callback(seconds: float):
    """An xgboost callback that stops boosting once `seconds` of wall time are used."""
    import xgboost as xgb

    class Budget(xgb.callback.TrainingCallback):
        def __init__(self):
            super().__init__()
            self.t0 = time.perf_counter()

            self.hit = False

        def after_iteration(self, model, epoch, evals_log) -> bool:
            self.hit = time.perf_counter() - self.t0 > seconds
            return self.hit

    return Budget()


def train_xgboost(data: DataBundle, *, model=None, n_estimators: Optional[int] = None,
                  learning_rate: Optional[float] = None, max_depth: int = 3,
                  early_stopping_rounds: Optional[int] = None, seed: int = 0, n_jobs: int = 2,
                  time_budget_s: Optional[float] = None, **params: Any) -> FitResult:
    """Fit an XGBClassifier/XGBRegressor (or `model`, an unfitted xgboost sklearn estimator) on `data`.

    Only the values given change `model`'s own settings (the designed variant's learning rate and rounds
    stand otherwise). History holds the validation loss per boosting round; `best_epoch` is the
    early-stopping round.
    """
    import xgboost as xgb

    if data.modality != "tabular":
        raise InputError(f"XGBoost trains on tabular data; dataset '{data.name}' is {data.modality}",
                         hint="use a neural family (cnn, bert, gcn, ...) for this modality")
    t0 = time.perf_counter()
    (Xtr, ytr), (Xva, yva), (Xte, yte) = _numpy(data.train), _numpy(data.val), _numpy(data.test)
    cls = data.task == "classification"
    stop = early_stopping_rounds or 40
    if model is None:
        Est = xgb.XGBClassifier if cls else xgb.XGBRegressor
        model = Est(n_estimators=n_estimators or 600, learning_rate=learning_rate or 0.05, max_depth=max_depth,
                    subsample=0.9, colsample_bytree=0.8, tree_method="hist", **params)
    budget = _budget_callback(time_budget_s) if time_budget_s else None
    update = {"early_stopping_rounds": stop, "random_state": seed, "n_jobs": n_jobs,
              "callbacks": [budget] if budget is not None else None}
    if n_estimators:
        update["n_estimators"] = n_estimators
    if learning_rate:
        update["learning_rate"] = learning_rate
    model.set_params(**update)
    model.fit(Xtr, ytr, eval_set=[(Xtr, ytr), (Xva, yva)], verbose=False)
    ev = model.evals_result()
    metric = next(iter(ev["validation_1"]))
    lr = float(model.get_params().get("learning_rate") or 0.3)
    res = FitResult(model=model)
    res.history = [{"epoch": i + 1, "lr": lr, "train_loss": float(a), "val_loss": float(b)}
                   for i, (a, b) in enumerate(zip(ev["validation_0"][metric], ev["validation_1"][metric]))]
    res.lr_curve = [lr] * len(res.history)
    best = getattr(model, "best_iteration", None)
    res.best_epoch = int(best) + 1 if best is not None else len(res.history)
    res.epochs_run = len(res.history)
    res.stopped_reason = "time_budget" if budget is not None and budget.hit else \
        "early_stopping" if res.epochs_run < int(model.get_params()["n_estimators"]) else "completed"
    scale = data.meta.get("target_scale") or {}
    res.val_metrics = _metrics(model, Xva, yva, cls, scale)
    res.test_metrics = _metrics(model, Xte, yte, cls, scale)
    res.trainable_params = res.total_params = int(model.get_booster().num_boosted_rounds())
    res.wall_s = time.perf_counter() - t0
    res.message = f"{res.epochs_run} boosting rounds, best round {res.best_epoch} on validation {metric}"
    return res
