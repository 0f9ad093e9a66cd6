"""Hyperparameter search with Optuna (`tensor_agent.tools.tune`).

`tune_model(plan, ctx)` searches the family's space (spaces.py) with TPE and pruning (successive halving for
torch families, median for XGBoost), every trial an MLflow child run of one parent run, in a shared Optuna
storage (storage.py) that several worker processes or machines can work on (runner.py, worker.py); the
selected configuration (select.py: the default unless another validates better beyond the noise) is refitted
and becomes the thread's current model. Importing this package is cheap (optuna and torch load when a search runs).
"""

from __future__ import annotations

__all__ = ["tune_model"]


def tune_model(plan, ctx):
    """See `tensor_agent.tools.tune.tool.tune_model`."""
    from .tool import tune_model as _tune

    return _tune(plan, ctx)
