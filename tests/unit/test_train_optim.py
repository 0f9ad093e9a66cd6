"""Every optimizer x schedule combination trains, and the logged LR curve matches the closed form."""

from __future__ import annotations

import math

import pytest

from tensor_agent.errors import InputError
from tensor_agent.tools.train import OPTIMIZERS, SCHEDULES, TrainConfig, fit, load_dataset
from tensor_agent.tools.core.engine.optim import closed_form_lr, list_optimizers, list_schedules


@pytest.fixture(scope="module")
def iris():
    return load_dataset("iris")


def _mlp():
    import torch

    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))


def test_registries_match_config():
    assert list_optimizers() == list(OPTIMIZERS)
    assert list_schedules() == list(SCHEDULES)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_optimizer_schedule_combination(iris, optimizer, schedule):
    cfg = TrainConfig(optimizer=optimizer, schedule=schedule, lr=0.05, epochs=7, batch_size=32, step_size=2,
                      gamma=0.6, t0=3, warmup_epochs=0 if optimizer != "adamw" else 2)
    res = fit(_mlp(), iris, cfg)
    assert res.epochs_run == 7 and res.stopped_reason == "completed"
    assert len(res.lr_curve) == 7
    for e, lr in enumerate(res.lr_curve):
        assert lr == pytest.approx(closed_form_lr(cfg, e), rel=1e-9, abs=1e-12), (e, res.lr_curve)
    assert [h["lr"] for h in res.history] == res.lr_curve
    assert math.isfinite(res.test_metrics["loss"])
    # training made progress on this easy set
    assert res.history[-1]["train_loss"] < res.history[0]["train_loss"]


def test_warm_restarts_restart(iris):
    cfg = TrainConfig(schedule="cosine_warm_restarts", lr=0.1, t0=3, t_mult=2, epochs=10)
    res = fit(_mlp(), iris, cfg)
    assert res.lr_curve[0] == pytest.approx(0.1) and res.lr_curve[3] == pytest.approx(0.1)
    assert res.lr_curve[9] == pytest.approx(0.1)  # restarts at 0, 3, 9
    assert res.lr_curve[2] < 0.05


def test_config_errors_name_field():
    with pytest.raises(InputError, match=r"optimizer='rmsprop'.*known: sgd, adam, adamw, lamb"):
        TrainConfig.build(optimizer="rmsprop")
    with pytest.raises(InputError, match="lr"):
        TrainConfig.build(lr=-1)
    with pytest.raises(InputError, match="schedule.*known: constant"):
        TrainConfig.build(schedule="linear")
    assert TrainConfig.build(optimizer="AdamW", schedule="Cosine-Warm-Restarts").schedule == "cosine_warm_restarts"
