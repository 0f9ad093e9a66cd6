"""Generative training: DDPM diffusion on digits (writes a PNG grid of samples) and a character-level
language model (reports perplexity and writes a sample text)."""

from __future__ import annotations

import copy
import math
import os
import time
from pathlib import Path
from typing import Any, Optional

from tensor_agent.tools.core.engine.config import TrainConfig
from tensor_agent.tools.core.datasets import DataBundle
from tensor_agent.tools.core.engine.loop import FitResult, fit


# ------------------------------------------------------------------------------------------------ diffusion
def make_diffusion_model(data: DataBundle, variant: Optional[str] = None):
    """The registry's diffusion UNet for the bundle's image shape; build failures propagate."""
    from tensor_agent.tools.core.zoo.registry import create_model

    kw = {"variant": variant} if variant else {}
    return create_model("diffusion", input_spec=data.input_spec, task="generation", **kw).module


#: decay of the exponential moving average of the weights that sampling uses (horizon ~200 steps), warmed
#: up as (1 + n) / (10 + n) so the first hundred steps do not drag the average towards the random init
EMA_DECAY = 0.995
#: Min-SNR-gamma loss weighting (Hang et al., 2023): the noise error at timestep t is weighted by
#: min(SNR(t), gamma) / SNR(t), so the nearly-clean timesteps no longer dominate the gradient
MIN_SNR_GAMMA = 5.0


class WeightEMA:
    """An exponential moving average of a module's parameters, kept outside the module (the optimizer,
    the state dict and checkpoints never see it); `copy_to` writes the average into the module."""

    def __init__(self, decay: float = EMA_DECAY) -> None:
        self.decay = float(decay)
        self.shadow: Optional[list] = None
        self.updates = 0

    def update(self, module) -> None:
        import torch

        params = [p.detach() for p in module.parameters()]
        if self.shadow is None:
            self.shadow = [p.clone() for p in params]
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        with torch.no_grad():
            torch._foreach_lerp_(self.shadow, params, 1 - d)  # shadow += (1 - d) * (param - shadow)
        self.updates += 1

    def copy_to(self, module) -> bool:
        """Load the average into `module`; False when no update happened."""
        import torch

        if self.shadow is None:
            return False
        with torch.no_grad():
            for p, s in zip(module.parameters(), self.shadow):
                p.copy_(s)
        return True


def noise_schedule(num_train_timesteps: int, beta_schedule: str):
    """alphas_cumprod (T,) of diffusers' DDPM/DDIM schedulers for 'linear' (1e-4 .. 0.02) or
    'squaredcos_cap_v2' (cosine, Nichol & Dhariwal)."""
    import torch

    T = int(num_train_timesteps)
    if beta_schedule == "squaredcos_cap_v2":
        s = torch.linspace(0, T, T + 1) / T
        ac = torch.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
        betas = (1 - ac[1:] / ac[:-1]).clamp(max=0.999)
    elif beta_schedule == "linear":
        betas = torch.linspace(1e-4, 0.02, T)
    else:
        from tensor_agent.errors import InputError

        raise InputError(f"unknown beta schedule {beta_schedule!r} (known: linear, squaredcos_cap_v2)")
    return torch.cumprod(1 - betas, 0)


def _build_objective(net, *, ema_decay: Optional[float] = EMA_DECAY, min_snr_gamma: Optional[float] = MIN_SNR_GAMMA):
    import torch

    class NoisePrediction(torch.nn.Module):
        """DDPM training objective: forward(x0) returns the (Min-SNR weighted) noise-prediction error
        (B, C, H, W), whose mean square is the loss. Each training forward first folds the weights of the
        previous optimizer step into the EMA."""

        def __init__(self, net):
            super().__init__()
            self.net = net
            self.T = int(getattr(net, "num_train_timesteps", 1000))
            ac = noise_schedule(self.T, str(getattr(net, "beta_schedule", "linear")))
            self.register_buffer("alphas_cumprod", ac, persistent=False)
            self.ema = WeightEMA(ema_decay) if ema_decay else None
            self.min_snr_gamma = min_snr_gamma

        def forward(self, x0):  # (B, C, H, W)
            if self.training and self.ema is not None:
                self.ema.update(self.net)
            b = x0.shape[0]
            t = torch.randint(0, self.T, (b,), device=x0.device)
            noise = torch.randn_like(x0)
            a = self.alphas_cumprod[t].view(b, 1, 1, 1)
            xt = a.sqrt() * x0 + (1 - a).sqrt() * noise
            err = self.net(xt, t) - noise
            if self.min_snr_gamma:
                snr = a / (1 - a)
                err = err * (snr.clamp(max=self.min_snr_gamma) / snr).sqrt()
            return err

    return NoisePrediction(net)


def fastest_threads(objective, x0, candidates=(1, 2), steps: int = 2) -> tuple[int, float]:
    """(thread count, seconds spent): time forward+backward passes of `objective` on `x0` (B, C, H, W) at
    each intra-op thread count (after one warm-up pass) and return the fastest. On a shared, loaded
    2-core machine two OpenMP threads were measured at 3.5 s per unet-micro step against 0.26 s for one
    (threads wait on each other at every barrier); on an idle machine two are faster. Gradients are reset."""
    import torch

    t_start, before = time.perf_counter(), torch.get_num_threads()
    best, best_s = before, math.inf
    ema, objective.ema = getattr(objective, "ema", None), None  # probing passes are not training steps
    try:
        for n in candidates:
            torch.set_num_threads(n)
            objective.train()
            for i in range(steps + 1):
                if i == 1:
                    t0 = time.perf_counter()
                objective(x0).pow(2).mean().backward()
                if i and time.perf_counter() - t0 > best_s * steps:  # already slower than the best: stop
                    break
            per_step = (time.perf_counter() - t0) / max(i, 1)
            if per_step < best_s:
                best, best_s = n, per_step
    finally:
        objective.ema = ema
        for p in objective.parameters():
            p.grad = None
        torch.set_num_threads(before)
    return best, time.perf_counter() - t_start


def sample_diffusion(net, n: int = 64, *, steps: int = 50, seed: int = 0):
    """Samples (n, C, H, W) in [-1, 1] by DDIM (the designer's `sample` when present)."""
    import torch

    if hasattr(net, "sample"):
        return net.sample(n, steps=steps, sampler="ddim", seed=seed)
    from diffusers import DDIMScheduler

    sched = DDIMScheduler(num_train_timesteps=net.num_train_timesteps, beta_schedule=net.beta_schedule)
    sched.set_timesteps(steps)
    g = torch.Generator().manual_seed(seed)
    x = torch.randn((n, *net.image_shape), generator=g)
    with torch.no_grad():
        for t in sched.timesteps:
            x = sched.step(net(x, t.expand(n)), t, x).prev_sample
    return x.clamp(-1, 1)


def save_grid(images, path: str | Path, title: str = "samples") -> str:
    """A PNG grid of images (N, C, H, W) in [-1, 1]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    imgs = ((images.detach().cpu().float() + 1) / 2).clamp(0, 1)
    n = imgs.shape[0]
    cols = int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(cols * 0.8, rows * 0.8))
    for i, ax in enumerate(getattr(axes, "flat", [axes])):
        ax.axis("off")
        if i < n:
            im = imgs[i]
            if im.shape[0] == 1:
                ax.imshow(im[0].numpy(), cmap="gray", vmin=0, vmax=1)
            else:
                ax.imshow(im.permute(1, 2, 0).numpy())
    fig.suptitle(title, fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


def _thread_choice(objective, x0, config: TrainConfig) -> tuple[TrainConfig, str]:
    """`config` with the faster of 1 or 2 CPU threads (measured by `fastest_threads`; its seconds come off
    the time budget) when nobody chose: no config.num_threads, no TENSOR_THREADS, CPU training."""
    from tensor_agent.tools.core.device import select_device

    if config.num_threads or os.environ.get("TENSOR_THREADS") or (os.cpu_count() or 1) < 2 \
            or select_device(config.device).kind != "cpu":
        return config, ""
    n, spent = fastest_threads(objective, x0, steps=1)
    update: dict[str, Any] = {"num_threads": n}
    if config.time_budget_s:
        update["time_budget_s"] = round(max(config.time_budget_s - spent, 1.0), 1)
    return config.model_copy(update=update), f"{n} CPU thread(s), the faster in a {spent:.1f} s probe"


def train_diffusion(data: DataBundle, config: TrainConfig, *, ctx=None, model=None, sample_path=None,
                    n_samples: int = 64, sample_steps: int = 50, on_epoch=None, ema_decay: Optional[float] = EMA_DECAY,
                    min_snr_gamma: Optional[float] = MIN_SNR_GAMMA) -> tuple[FitResult, Any, Optional[str]]:
    """Train a noise-prediction UNet on `data` images; write a sample grid to `sample_path`.

    The returned UNet holds the EMA of the training weights (`ema_decay`; None: the last weights), which is
    what sampling uses; val/test losses are measured on those weights.

    Returns (FitResult with loss = Min-SNR weighted noise MSE, the UNet module, the PNG path).
    """
    import torch

    from tensor_agent.tools.core.engine.loop import evaluate

    net = model if model is not None else make_diffusion_model(data)
    objective = _build_objective(net, ema_decay=ema_decay, min_snr_gamma=min_snr_gamma)
    bundle = copy.copy(data)
    bundle.task = "denoising"
    tensors = lambda s: torch.utils.data.TensorDataset(s.tensors[0], torch.zeros(len(s.tensors[0])))
    bundle.train, bundle.val, bundle.test = tensors(data.train), tensors(data.val), tensors(data.test)
    loss_fn = lambda out, y: out.pow(2).mean()
    config, threads_note = _thread_choice(objective, bundle.train.tensors[0][:min(config.batch_size, 32)], config)
    res = fit(objective, bundle, config, ctx=ctx, loss_fn=loss_fn, on_epoch=on_epoch)
    res.model = net
    if threads_note:
        res.message = (res.message + "; " if res.message else "") + threads_note
    if not res.diverged and objective.ema is not None:
        objective.ema.update(net)  # the last optimizer step
        if objective.ema.copy_to(net):
            res.val_metrics = evaluate(objective, bundle, "val", loss_fn=loss_fn, config=config)
            res.test_metrics = evaluate(objective, bundle, "test", loss_fn=loss_fn, config=config)
            res.message = (res.message + "; " if res.message else "") + \
                f"weights = EMA (decay {objective.ema.decay:g}) over {objective.ema.updates} steps"
    png = None
    if sample_path is not None and not res.diverged:
        net.eval()
        imgs = sample_diffusion(net, n_samples, steps=sample_steps, seed=config.seed)
        png = save_grid(imgs, sample_path, f"DDIM samples ({sample_steps} steps) after {res.epochs_run} epochs")
        res.test_metrics["sample_pixel_mean"] = float(imgs.mean())
    return res, net, png


# ------------------------------------------------------------------------------------------------ LM
def make_lm(data: DataBundle, variant: Optional[str] = None):
    """The registry's GPT for the corpus vocabulary; build failures propagate."""
    from tensor_agent.tools.core.zoo.registry import create_model

    spec = {"kind": "tokens", "shape": [data.input_spec["seq_len"]], "vocab_size": data.input_spec["vocab_size"]}
    return create_model("gpt", input_spec=spec, task="generation", variant=variant or "gpt-micro").module


def generate_text(model, itos: list[str], prompt: str = "The ", *, length: int = 200, context: int = 64,
                  temperature: float = 0.8, seed: int = 0) -> str:
    """Sample `length` characters after `prompt` (unknown prompt characters are dropped)."""
    import torch

    stoi = {c: i for i, c in enumerate(itos)}
    ids = [stoi[c] for c in prompt if c in stoi] or [0]
    g = torch.Generator().manual_seed(seed)
    model.eval()
    with torch.no_grad():
        for _ in range(length):
            x = torch.tensor([ids[-context:]])  # (1, T)
            logits = model(x)[0, -1] / max(temperature, 1e-4)  # (V,)
            ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=g)))
    return "".join(itos[i] for i in ids)


def train_lm(data: DataBundle, config: TrainConfig, *, ctx=None, model=None, sample_path=None, prompt="The ",
             on_epoch=None) -> tuple[FitResult, Any, str]:
    """Train a next-character LM; test metrics include perplexity; write a sample text."""
    model = model if model is not None else make_lm(data)
    res = fit(model, data, config, ctx=ctx, on_epoch=on_epoch)
    text = ""
    if not res.diverged:
        text = generate_text(model, data.meta["itos"], prompt, context=data.input_spec["seq_len"], seed=config.seed)
        if sample_path is not None:
            Path(sample_path).parent.mkdir(parents=True, exist_ok=True)
            Path(sample_path).write_text(text, encoding="utf-8")
    return res, model, text
