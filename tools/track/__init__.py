"""Experiment tracking (`tensor_agent.tools.track`): the MLflow model registry (register, aliases, versions,
roll back, archive), run comparison (table + PNG) and export to Weights & Biases (offline by default).
Importing this package is cheap (mlflow and wandb load when an action runs)."""

from __future__ import annotations

__all__ = ["track_experiment"]


def track_experiment(plan, ctx):
    """See `tensor_agent.tools.track.tool.track_experiment`."""
    from .tool import track_experiment as _track

    return _track(plan, ctx)
