"""The training loop: early stopping, clipping, L1, divergence, budget, checkpoints and resume."""

from __future__ import annotations

import math

import pytest

from tensor_agent.tools.train import TrainConfig, evaluate, fit, load_dataset


@pytest.fixture(scope="module")
def bc():
    return load_dataset("breast_cancer")


def _mlp(f=30, c=2, seed=0):
    import torch

    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(f, 32), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(32, c))


def test_fit_trains_and_reports(bc):
    res = fit(_mlp(), bc, TrainConfig(epochs=15, lr=3e-3, batch_size=32))
    assert res.test_metrics["accuracy"] > 0.9
    assert len(res.history) == 15 and {"train_loss", "val_loss", "val_accuracy", "lr"} <= set(res.history[0])
    assert res.total_params == res.trainable_params > 0 and res.wall_s > 0
    assert evaluate(res.model, bc, "test")["accuracy"] == pytest.approx(res.test_metrics["accuracy"])


def test_same_seed_same_result(bc):
    cfg = TrainConfig(epochs=3, lr=1e-2, batch_size=32, seed=3)
    a, b = fit(_mlp(), bc, cfg), fit(_mlp(), bc, cfg)
    assert a.history[-1]["train_loss"] == b.history[-1]["train_loss"]


def test_early_stopping(bc):
    cfg = TrainConfig(epochs=200, lr=3e-2, patience=3, batch_size=32, schedule="constant")
    res = fit(_mlp(), bc, cfg)
    assert res.stopped_reason == "early_stopping" and res.epochs_run < 200
    assert res.epochs_run - res.best_epoch == 3
    assert "did not improve for 3 epochs" in res.message


def test_l1_shrinks_weights_and_dropout_override(bc):
    import torch

    plain = fit(_mlp(), bc, TrainConfig(epochs=8, lr=1e-2, schedule="constant"))
    l1 = fit(_mlp(), bc, TrainConfig(epochs=8, lr=1e-2, schedule="constant", l1=1e-2, dropout=0.3, grad_clip=0.5))
    norm = lambda m: sum(p.abs().sum().item() for p in m.parameters() if p.ndim > 1)
    assert norm(l1.model) < 0.8 * norm(plain.model)
    assert any(isinstance(m, torch.nn.Dropout) and m.p == 0.3 for m in l1.model.modules())


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_diverging_lr_stops_cleanly(bc, optimizer):
    res = fit(_mlp(), bc, TrainConfig(epochs=5, lr=1e3, optimizer=optimizer, schedule="constant"))
    assert res.diverged and res.stopped_reason == "diverged"
    assert "Lower the learning rate" in res.message and "lr=1000" in res.message
    # the last good weights are kept: still finite
    assert all(bool(p.isfinite().all()) for p in res.model.parameters())


def test_nan_in_data_is_detected(bc):
    import copy

    import torch

    bad = copy.copy(bc)
    x, y = bc.train.tensors
    x = x.clone()
    x[5, 3] = float("nan")
    bad.train = torch.utils.data.TensorDataset(x, y)
    res = fit(_mlp(), bad, TrainConfig(epochs=2, batch_size=600))
    assert res.diverged and "NaN" in res.message


def test_time_budget(bc):
    res = fit(_mlp(), bc, TrainConfig(epochs=10_000, time_budget_s=0.5, batch_size=8))
    assert res.stopped_reason == "time_budget" and res.epochs_run < 10_000
    assert res.test_metrics  # still evaluated


def test_checkpoint_and_resume_matches_uninterrupted(bc, tmp_path):
    cfg = dict(lr=1e-2, schedule="step", step_size=2, gamma=0.5, batch_size=64, seed=1)
    full = fit(_mlp(), bc, TrainConfig(epochs=4, **cfg))
    ck = tmp_path / "ck"

    def interrupt(rec):
        if rec["epoch"] == 2:
            raise KeyboardInterrupt  # killed after epoch 2 (its checkpoint is written before the callback)

    with pytest.raises(KeyboardInterrupt):
        fit(_mlp(), bc, TrainConfig(epochs=4, checkpoint_dir=str(ck), **cfg), on_epoch=interrupt)
    assert (ck / "last.pt").exists()
    resumed = fit(_mlp(seed=99), bc, TrainConfig(epochs=4, checkpoint_dir=str(ck), **cfg))
    assert resumed.resumed_from == 2 and len(resumed.history) == 4 and resumed.epochs_run == 2
    assert resumed.lr_curve == full.lr_curve
    assert resumed.history[-1]["train_loss"] == pytest.approx(full.history[-1]["train_loss"], abs=1e-6)
    assert resumed.test_metrics["loss"] == pytest.approx(full.test_metrics["loss"], abs=1e-6)


def test_progress_bar_respects_ctx(bc, ctx, capsys):
    ctx.progress = False
    fit(_mlp(), bc, TrainConfig(epochs=1), ctx=ctx)
    assert "train breast_cancer" not in capsys.readouterr().err


def test_mismatched_or_truncated_checkpoint_is_set_aside(bc, tmp_path):
    import torch

    ck = tmp_path / "ck"
    fit(_mlp(), bc, TrainConfig(epochs=1, checkpoint_dir=str(ck)))
    wider = torch.nn.Sequential(torch.nn.Linear(30, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    res = fit(wider, bc, TrainConfig(epochs=2, checkpoint_dir=str(ck)))
    assert res.resumed_from is None and res.epochs_run == 2
    assert any("does not match the requested model" in w for w in res.warnings)
    assert any(p.name.startswith("last.pt.bad-") for p in ck.iterdir())
    (ck / "last.pt").write_bytes((ck / "last.pt").read_bytes()[:100])  # killed mid-write
    res = fit(wider, bc, TrainConfig(epochs=3, checkpoint_dir=str(ck)))
    assert res.epochs_run == 3 and any("truncated or unreadable" in w for w in res.warnings)


def test_batchnorm_statistics_recomputed_with_few_batches():
    import torch

    from tensor_agent.tools.core.datasets import DataBundle
    from tensor_agent.tools.core.engine.loop import recalibrate_batchnorm

    g = torch.Generator().manual_seed(0)
    X = torch.randn(64, 3, generator=g) * 5 + 10
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4))
    assert recalibrate_batchnorm(model, (X,), 16)
    bn = model[1]
    with torch.no_grad():
        h = model[0](X)
    assert torch.allclose(bn.running_mean, h.mean(0), atol=1e-4) and bn.momentum == 0.1
    ds = lambda n: torch.utils.data.TensorDataset(torch.randn(n, 3, generator=g), torch.arange(n) % 2)
    data = DataBundle(name="t", task="classification", modality="tabular", train=ds(48), val=ds(16), test=ds(16),
                      num_classes=2, input_spec={"kind": "tabular", "shape": [3]})
    net = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    fit(net, data, TrainConfig(epochs=1, batch_size=16))
    assert int(net[1].num_batches_tracked) == 3  # exact average over the 3 training batches, not 3 EMA steps
