"""Designed models are real: a designed CNN learns digits; the diffusion family samples with DDPM and DDIM."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration


def test_designed_cnn_learns_digits(ctx):
    import numpy as np
    import torch
    from sklearn.datasets import load_digits

    from tensor_agent.tools.design import design_for

    ctx.options["use_memory"] = False
    design, handle = design_for(None, modality="image", input_spec={"shape": [1, 8, 8]}, num_classes=10,
                                constraints={"max_params": 200_000, "latency_ms": 20}, ctx=ctx)
    assert design.feasible and design.family == "cnn"
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X / 16.0, dtype=torch.float32).view(-1, 1, 8, 8)  # (N, 1, 8, 8)
    y = torch.tensor(y)
    rng = np.random.default_rng(0)
    idx = torch.tensor(rng.permutation(len(X)))
    tr, te = idx[:1400], idx[1400:]
    torch.manual_seed(0)
    model = handle.module
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(5):
        model.train()
        for b in tr.split(64):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X[b]), y[b])
            loss.backward()
            opt.step()
    model.eval()
    with torch.no_grad():
        acc = (model(X[te]).argmax(1) == y[te]).float().mean().item()
    assert acc > 0.85, acc


@pytest.mark.parametrize("latent", [False, True])
def test_diffusion_family_trains_and_samples(latent):
    import torch

    from tensor_agent.tools.design import create_model

    spec = {"shape": [1, 16, 16]} if latent else {"shape": [1, 8, 8]}
    h = create_model("diffusion", variant="unet-micro", input_spec=spec, latent=latent)
    net = h.module
    assert h.extra["latent"] is latent and (net.vae is not None) is latent
    sched = net.scheduler("ddpm")
    x0 = torch.rand(4, *net.latent_shape()) * 2 - 1
    noise = torch.randn_like(x0)
    t = torch.randint(0, net.num_train_timesteps, (4,))
    opt = torch.optim.AdamW(net.unet.parameters(), lr=1e-3)
    loss = torch.nn.functional.mse_loss(net(sched.add_noise(x0, noise, t), t), noise)
    loss.backward()
    opt.step()
    assert torch.isfinite(loss)
    net.eval()
    for sampler in ("ddim", "ddpm"):
        out = net.sample(2, steps=4, sampler=sampler)
        assert tuple(out.shape) == (2, *spec["shape"]) and out.abs().max() <= 1.0


def test_gpt_and_t5_generate():
    import torch

    from tensor_agent.tools.design import create_model

    gpt = create_model("gpt", variant="gpt-micro", input_spec={"shape": [16], "vocab_size": 50}).module.eval()
    out = gpt.generate(torch.randint(0, 50, (1, 4)), max_new_tokens=5, do_sample=False)
    assert out.shape[1] == 9
    t5 = create_model("t5", variant="t5-micro", input_spec={"shape": [8], "vocab_size": 50, "target_len": 4})
    out = t5.module.eval().generate(torch.randint(2, 50, (1, 8)), max_new_tokens=4, do_sample=False)
    assert out.shape[0] == 1 and 1 < out.shape[1] <= 5
