"""Diffusion training parts: the noise schedule matches diffusers' samplers, the weight EMA, Min-SNR weighting,
and train_diffusion hands back (and measures) the EMA weights that sampling uses."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("schedule", ["linear", "squaredcos_cap_v2"])
def test_noise_schedule_matches_the_samplers(schedule):
    import torch
    from diffusers import DDIMScheduler

    from tensor_agent.tools.train.generative import noise_schedule

    ours = noise_schedule(1000, schedule)
    ref = DDIMScheduler(num_train_timesteps=1000, beta_schedule=schedule).alphas_cumprod
    assert ours.shape == (1000,) and torch.allclose(ours, ref.float(), atol=1e-5)


def test_unknown_schedule_is_an_input_error():
    from tensor_agent.errors import InputError
    from tensor_agent.tools.train.generative import noise_schedule

    with pytest.raises(InputError, match="beta schedule"):
        noise_schedule(10, "quadratic")


def test_weight_ema_averages_and_copies():
    import torch

    from tensor_agent.tools.train.generative import WeightEMA

    lin = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        lin.weight.fill_(0.0)
    ema = WeightEMA(decay=0.9)
    assert not ema.copy_to(lin)  # nothing averaged yet
    ema.update(lin)  # shadow starts at the weights: 0
    with torch.no_grad():
        lin.weight.fill_(1.0)
    for _ in range(200):
        ema.update(lin)
    assert 0.99 < float(ema.shadow[0].mean()) <= 1.0 and ema.updates == 201
    with torch.no_grad():
        lin.weight.fill_(5.0)
    ema.update(lin)  # one step at decay 0.9 moves the average a tenth of the way
    assert ema.copy_to(lin) and float(lin.weight.detach().mean()) == pytest.approx(1.4, abs=0.01)


def test_min_snr_weighting_shrinks_only_low_noise_errors():
    import torch

    from tensor_agent.tools.train.generative import _build_objective

    class Zero(torch.nn.Module):  # predicts no noise: the raw error is -noise at every timestep
        num_train_timesteps, beta_schedule = 1000, "linear"

        def forward(self, x, t):
            self.t = t
            return torch.zeros_like(x)

    net = Zero()
    plain = _build_objective(net, ema_decay=None, min_snr_gamma=None).eval()
    weighted = _build_objective(net, ema_decay=None, min_snr_gamma=5.0).eval()
    x0 = torch.zeros(4096, 1, 2, 2)
    torch.manual_seed(0)
    e_plain = plain(x0)
    torch.manual_seed(0)
    e_w = weighted(x0)
    ratio = (e_w / e_plain).flatten(1)[:, 0]  # (B,) sqrt(min(SNR, 5) / SNR)
    snr = plain.alphas_cumprod[net.t] / (1 - plain.alphas_cumprod[net.t])
    assert torch.allclose(ratio, (snr.clamp(max=5.0) / snr).sqrt(), atol=1e-5)
    assert ratio.max() <= 1.0 + 1e-6 and ratio.min() < 0.2  # clean timesteps are down-weighted


def test_train_diffusion_returns_the_ema_weights():
    import copy

    import torch

    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.train.generative import make_diffusion_model, train_diffusion

    data = copy.copy(load_dataset("digits_images", seed=0))
    x = data.train.tensors[0][:128]
    data.train = torch.utils.data.TensorDataset(x, torch.zeros(len(x)))
    net = make_diffusion_model(data, "unet-micro")
    start = [p.detach().clone() for p in net.parameters()]
    cfg = TrainConfig(optimizer="adamw", lr=2e-3, epochs=2, batch_size=32, schedule="constant", restore_best=False)
    res, out, _ = train_diffusion(data, cfg, model=net, ema_decay=0.5)
    assert out is net and "EMA (decay 0.5) over 9 steps" in res.message  # 8 optimizer steps + the last weights
    moved = sum(float((p.detach() - s).abs().sum()) for p, s in zip(net.parameters(), start))
    assert moved > 0 and res.test_metrics["loss"] > 0
    # the returned weights are the average, not the last optimizer step: retraining without EMA differs
    net2 = make_diffusion_model(data, "unet-micro")
    with torch.no_grad():
        for p, s in zip(net2.parameters(), start):
            p.copy_(s)
    train_diffusion(data, cfg, model=net2, ema_decay=None)
    diff = sum(float((a - b).detach().abs().sum()) for a, b in zip(net.parameters(), net2.parameters()))
    assert diff > 1e-3


def test_thread_probe_picks_a_candidate_and_leaves_no_trace(monkeypatch):
    import torch

    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.zoo.registry import create_model
    from tensor_agent.tools.train.generative import _build_objective, _thread_choice, fastest_threads

    net = create_model("diffusion", variant="unet-micro", input_spec={"kind": "image", "shape": [1, 8, 8]},
                       task="generation").module
    obj = _build_objective(net)
    x0 = torch.rand(8, 1, 8, 8) * 2 - 1
    before = torch.get_num_threads()
    n, spent = fastest_threads(obj, x0, steps=1)
    assert n in (1, 2) and spent > 0 and torch.get_num_threads() == before
    assert all(p.grad is None for p in net.parameters()) and obj.ema.shadow is None  # EMA untouched
    monkeypatch.delenv("TENSOR_THREADS", raising=False)
    monkeypatch.setenv("TENSOR_DEVICE", "cpu")
    cfg, note = _thread_choice(obj, x0, TrainConfig(time_budget_s=30))
    assert cfg.num_threads in (1, 2) and cfg.time_budget_s < 30 and "probe" in note and obj.ema is not None
    fixed, note = _thread_choice(obj, x0, TrainConfig(num_threads=1, time_budget_s=30))
    assert fixed.num_threads == 1 and fixed.time_budget_s == 30 and note == ""  # a stated choice is kept
