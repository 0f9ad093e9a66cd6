"""The trainer: datasets, the training loop, transfer learning, tracking and the `train_model` tool.

Importing this package is cheap (no torch): heavy modules load inside the wrappers below.
"""

from __future__ import annotations

from typing import Any

from tensor_agent.tools.core.engine.config import OPTIMIZERS, SCHEDULES, STRATEGIES, TrainConfig
from tensor_agent.tools.core.datasets import BUILTIN_SPECS, DEFAULT_FOR_MODALITY, DataBundle, TextSplit, dataset_spec

__all__ = [
    "TrainConfig", "OPTIMIZERS", "SCHEDULES", "STRATEGIES", "DataBundle", "TextSplit", "BUILTIN_SPECS",
    "DEFAULT_FOR_MODALITY", "dataset_spec", "load_dataset", "fit", "evaluate", "train_model", "FitResult",
    "TrainingReport", "register_trainer", "get_trainer",
]


def load_dataset(name_or_path: str, *, seed: int = 0, target_column: str | None = None, **opts: Any) -> DataBundle:
    """See `tensor_agent.tools.core.datasets.load_dataset`."""
    from tensor_agent.tools.core.datasets import load_dataset as _load

    return _load(name_or_path, seed=seed, target_column=target_column, **opts)


def fit(model, data: DataBundle, config: TrainConfig | None = None, *, ctx=None, loss_fn=None, **kw):
    """See `tensor_agent.tools.core.engine.loop.fit`."""
    from tensor_agent.tools.core.engine.loop import fit as _fit

    return _fit(model, data, config, ctx=ctx, loss_fn=loss_fn, **kw)


def evaluate(model, data: DataBundle, split: str = "test", **kw) -> dict:
    """See `tensor_agent.tools.core.engine.loop.evaluate`."""
    from tensor_agent.tools.core.engine.loop import evaluate as _evaluate

    return _evaluate(model, data, split, **kw)


def train_model(plan, ctx):
    """The trainer tool: see `tensor_agent.tools.train.tool.train_model`."""
    from .tool import train_model as _train_model

    return _train_model(plan, ctx)


def register_trainer(kind: str):
    """See `tensor_agent.tools.train.registry.register_trainer`."""
    from .registry import register_trainer as _register

    return _register(kind)


def get_trainer(kind: str):
    """See `tensor_agent.tools.train.registry.get_trainer`."""
    from .registry import get_trainer as _get

    return _get(kind)


def __getattr__(name: str):
    if name == "FitResult":
        from tensor_agent.tools.core.engine.loop import FitResult

        return FitResult
    if name == "TrainingReport":
        from .report import TrainingReport

        return TrainingReport
    raise AttributeError(name)
