"""Optimizer and learning-rate schedule registries (torch imported inside the functions)."""

from __future__ import annotations

import math
from typing import Any, Callable

from tensor_agent.errors import InputError

from .config import TrainConfig

_OPTIMIZERS: dict[str, Callable] = {}
_SCHEDULES: dict[str, Callable] = {}


def register_optimizer(name: str):
    """Decorator: add an optimizer factory `fn(param_groups, config) -> torch.optim.Optimizer`."""
    def deco(fn):
        _OPTIMIZERS[name] = fn
        return fn
    return deco


def register_schedule(name: str):
    """Decorator: add a schedule factory `fn(optimizer, config, epochs_after_warmup) -> LRScheduler`."""
    def deco(fn):
        _SCHEDULES[name] = fn
        return fn
    return deco


def list_optimizers() -> list[str]:
    return list(_OPTIMIZERS)


def list_schedules() -> list[str]:
    return list(_SCHEDULES)


def param_groups(model, weight_decay: float) -> list[dict]:
    """Trainable parameters; no weight decay on biases and norm weights (1-D tensors)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    if not decay and not no_decay:
        raise InputError("the model has no trainable parameters", hint="check the transfer strategy")
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


@register_optimizer("sgd")
def _sgd(groups, c: TrainConfig):
    import torch

    return torch.optim.SGD(groups, lr=c.lr, momentum=c.momentum, nesterov=c.momentum > 0)


@register_optimizer("adam")
def _adam(groups, c: TrainConfig):
    import torch

    return torch.optim.Adam(groups, lr=c.lr)  # L2 through weight_decay of the groups


@register_optimizer("adamw")
def _adamw(groups, c: TrainConfig):
    import torch

    return torch.optim.AdamW(groups, lr=c.lr)


@register_optimizer("lamb")
def _lamb(groups, c: TrainConfig):
    from timm.optim.lamb import Lamb

    return Lamb(groups, lr=c.lr)


def build_optimizer(model, config: TrainConfig):
    """The optimizer named by `config.optimizer` over the trainable parameters of `model`."""
    try:
        fn = _OPTIMIZERS[config.optimizer]
    except KeyError:
        raise InputError(f"unknown optimizer '{config.optimizer}' (known: {', '.join(_OPTIMIZERS)})") from None
    return fn(param_groups(model, config.weight_decay), config)


@register_schedule("constant")
def _constant(opt, c: TrainConfig, n: int):
    import torch

    return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: 1.0)


@register_schedule("step")
def _step(opt, c: TrainConfig, n: int):
    import torch

    return torch.optim.lr_scheduler.StepLR(opt, step_size=c.step_size, gamma=c.gamma)


@register_schedule("exponential")
def _exp(opt, c: TrainConfig, n: int):
    import torch

    return torch.optim.lr_scheduler.ExponentialLR(opt, gamma=c.gamma)


@register_schedule("cosine")
def _cosine(opt, c: TrainConfig, n: int):
    import torch

    return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, n), eta_min=c.eta_min)


@register_schedule("cosine_warm_restarts")
def _cwr(opt, c: TrainConfig, n: int):
    import torch

    return torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=c.t0, T_mult=c.t_mult, eta_min=c.eta_min)


def build_scheduler(optimizer, config: TrainConfig):
    """Per-epoch schedule, preceded by `warmup_epochs` of linear warm-up (lr*(e+1)/(W+1) for e < W)."""
    import torch

    try:
        fn = _SCHEDULES[config.schedule]
    except KeyError:
        raise InputError(f"unknown schedule '{config.schedule}' (known: {', '.join(_SCHEDULES)})") from None
    w = config.warmup_epochs
    main = fn(optimizer, config, config.epochs - w)
    if w <= 0:
        return main
    warm = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / (w + 1), end_factor=1.0, total_iters=w)
    return torch.optim.lr_scheduler.SequentialLR(optimizer, [warm, main], milestones=[w])


def closed_form_lr(config: TrainConfig, epoch: int) -> float:
    """The learning rate of `epoch` (0-based) in closed form (used to check the logged curve)."""
    base, w = config.lr, config.warmup_epochs
    if epoch < w:
        return base * (epoch + 1) / (w + 1)
    e = epoch - w
    s = config.schedule
    if s == "constant":
        return base
    if s == "step":
        return base * config.gamma ** (e // config.step_size)
    if s == "exponential":
        return base * config.gamma ** e
    if s == "cosine":
        n = max(1, config.epochs - w)
        return config.eta_min + (base - config.eta_min) * (1 + math.cos(math.pi * e / n)) / 2
    if s == "cosine_warm_restarts":
        t_i, t_cur = config.t0, e
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= config.t_mult
        return config.eta_min + (base - config.eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2
    raise InputError(f"unknown schedule '{s}'")


def describe(config: TrainConfig) -> dict[str, Any]:
    return {"optimizer": config.optimizer, "lr": config.lr, "schedule": config.schedule,
            "warmup_epochs": config.warmup_epochs, "weight_decay": config.weight_decay}
