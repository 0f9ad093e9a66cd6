"""XGBoost for tabular data, with early stopping on the validation split."""

from __future__ import annotations

import time
from typing import Any, Optional

from tensor_agent.errors import InputError

from tensor_agent.tools.core.datasets import DataBundle
from tensor_agent.tools.core.engine.loop import FitResult


def _numpy(split) -> tuple[Any, Any]:
    X, y = split.tensors[0].numpy(), split.tensors[-1].numpy()
    return X.reshape(len(X), -1), y


def train_xgboost(data: DataBundle, *, model=None, n_estimators: int = 600, learning_rate: Optional[float] = None,
                  max_depth: int = 3, early_stopping_rounds: int = 40, seed: int = 0, n_jobs: int = 2,
                  **params: Any) -> FitResult:
    """Fit an XGBClassifier/XGBRegressor (or `model`, an unfitted xgboost sklearn estimator) on `data`.

    History holds the validation loss (logloss/mlogloss/rmse) per boosting round; `best_epoch` is the
    early-stopping round.
    """
    import numpy as np
    import xgboost as xgb

    if data.modality != "tabular":
        raise InputError(f"XGBoost trains on tabular data; dataset '{data.name}' is {data.modality}",
                         hint="use a neural family (cnn, bert, gcn, ...) for this modality")
    t0 = time.perf_counter()
    Xtr, ytr = _numpy(data.train)
    Xva, yva = _numpy(data.val)
    Xte, yte = _numpy(data.test)
    cls = data.task == "classification"
    lr = learning_rate if learning_rate is not None else 0.05
    if model is None:
        Est = xgb.XGBClassifier if cls else xgb.XGBRegressor
        model = Est(n_estimators=n_estimators, learning_rate=lr, max_depth=max_depth, subsample=0.9,
                    colsample_bytree=0.8, random_state=seed, n_jobs=n_jobs, tree_method="hist",
                    early_stopping_rounds=early_stopping_rounds, **params)
    else:
        model.set_params(early_stopping_rounds=early_stopping_rounds, random_state=seed, n_jobs=n_jobs)
    model.fit(Xtr, ytr, eval_set=[(Xtr, ytr), (Xva, yva)], verbose=False)
    ev = model.evals_result()
    metric = next(iter(ev["validation_1"]))
    tr_curve, va_curve = ev["validation_0"][metric], ev["validation_1"][metric]
    res = FitResult(model=model)
    res.history = [{"epoch": i + 1, "lr": lr, "train_loss": float(a), "val_loss": float(b)}
                   for i, (a, b) in enumerate(zip(tr_curve, va_curve))]
    res.lr_curve = [lr] * len(res.history)
    best = getattr(model, "best_iteration", None)
    res.best_epoch = int(best) + 1 if best is not None else len(res.history)
    res.epochs_run = len(res.history)
    res.stopped_reason = "early_stopping" if res.epochs_run < n_estimators else "completed"

    def metrics(X, y) -> dict:
        if cls:
            proba = model.predict_proba(X)
            pred = proba.argmax(1)
            eps = 1e-12
            ll = float(-np.mean(np.log(proba[np.arange(len(y)), y] + eps)))
            return {"accuracy": float((pred == y).mean()), "loss": ll}
        pred = model.predict(X)
        return {"loss": float(np.mean((pred - y) ** 2)), "mae": float(np.mean(np.abs(pred - y)))}

    res.val_metrics = metrics(Xva, yva)
    res.test_metrics = metrics(Xte, yte)
    res.trainable_params = res.total_params = int(model.get_booster().num_boosted_rounds())
    res.wall_s = time.perf_counter() - t0
    res.message = (f"{res.epochs_run} boosting rounds, best round {res.best_epoch} on validation {metric}")
    return res
