"""Trainers register per data kind, like families: `@register_trainer("tabular")` + one `get_trainer`.

A trainer is `fn(job: TrainJob) -> TrainOutcome`. It trains `job.handle` on `job.data` with
`job.config` and returns the fit result, the trained module and the facts to keep on the handle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from tensor_agent.errors import UnsatisfiableError

_TRAINERS: dict[str, Callable[["TrainJob"], "TrainOutcome"]] = {}


@dataclass
class TrainJob:
    """Everything a trainer needs."""

    handle: Any            # ModelHandle (module built, untrained or from an earlier turn)
    data: Any              # DataBundle
    config: Any            # TrainConfig
    ctx: Any               # ToolContext
    art_dir: Path          # where plots / samples go
    on_epoch: Optional[Callable[[dict], None]] = None
    options: dict = field(default_factory=dict)


@dataclass
class TrainOutcome:
    """What a trainer returns."""

    result: Any            # FitResult
    module: Any            # the trained model
    extra: dict = field(default_factory=dict)      # facts put on the handle (tokenizer path, itos, ...)
    sample_png: Optional[str] = None
    sample_text: Optional[str] = None
    task: Optional[str] = None                     # task of the trained model when it differs from the data's


def register_trainer(kind: str) -> Callable:
    """Decorator: register `fn(job) -> TrainOutcome` as the trainer of data kind `kind`."""

    def deco(fn: Callable) -> Callable:
        _TRAINERS[kind] = fn
        return fn

    return deco


def _load() -> None:
    from . import trainers  # noqa: F401 - registers the built-in trainers


def list_trainers() -> list[str]:
    _load()
    return list(_TRAINERS)


def get_trainer(kind: str) -> Callable[[TrainJob], TrainOutcome]:
    """The trainer of data kind `kind` (tabular, image, sequence, text, text_generation, image_generation,
    graph); UnsatisfiableError naming the known kinds otherwise."""
    _load()
    if kind not in _TRAINERS:
        raise UnsatisfiableError(f"no trainer for {kind!r} data (known: {', '.join(_TRAINERS)})",
                                 hint="train on one of the known data kinds")
    return _TRAINERS[kind]
