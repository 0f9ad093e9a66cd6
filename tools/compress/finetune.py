"""Fine-tuning after pruning / during QAT / for distillation.

Uses the trainer's ``fit`` when the data came from a trainer DataBundle and no custom loss is
needed; otherwise (distillation, or no trainer) a small, deterministic loop over `TaskData`.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from tensor_agent.tools.core.runtime import first_output


def _trainer_fit():
    try:
        from tensor_agent.tools.core.engine.loop import fit

        return fit
    except ImportError:
        return None


def finetune(model, data, *, epochs: int = 3, lr: float = 1e-3, batch_size: int = 64, seed: int = 0,
             loss_fn: Optional[Callable[[Any, Any, tuple], Any]] = None, ctx=None, use_trainer: bool = True,
             on_epoch: Optional[Callable[[int], None]] = None, desc: str = "fine-tune") -> dict:
    """Train `model` in place for a few epochs.

    Args:
        model: the torch module (may carry pruning masks or fake-quant observers).
        data: `TaskData`.
        loss_fn: ``(logits, targets, inputs) -> loss``; default cross-entropy (classification) or MSE.
        use_trainer: hand plain cross-entropy fine-tuning to the trainer's ``fit`` when available.
        on_epoch: called after each epoch with the epoch index (e.g. to re-apply masks).

    Returns:
        dict with ``epochs``, ``final_loss`` and ``engine`` (trainer or compressor loop).
    """
    import torch
    import torch.nn.functional as F

    fit = _trainer_fit() if (use_trainer and loss_fn is None and on_epoch is None) else None
    if fit is not None and getattr(data, "bundle", None) is not None and data.bundle.modality != "text":
        from tensor_agent.tools.core.engine.config import TrainConfig

        cfg = TrainConfig.build(epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, optimizer="adam",
                                schedule="cosine", weight_decay=0.0, restore_best=False,
                                num_threads=torch.get_num_threads())  # keep the caller's thread setting
        res = fit(model, data.bundle, cfg, ctx=ctx)
        hist = getattr(res, "history", None) or []
        last = hist[-1] if hist else {}
        loss = last.get("train_loss") if isinstance(last, dict) else getattr(last, "train_loss", None)
        return {"epochs": epochs, "final_loss": loss, "engine": "trainer.fit"}

    if loss_fn is None:
        if data.task == "classification":
            loss_fn = lambda out, y, _x: F.cross_entropy(out, y)
        else:
            loss_fn = lambda out, y, _x: F.mse_loss(out.reshape(y.shape), y.float())
    def step(inputs, y, _gen):
        return loss_fn(first_output(model(*inputs)), y, inputs)

    return train_loop(model, data, step, epochs=epochs, lr=lr, batch_size=batch_size, seed=seed, ctx=ctx,
                      desc=desc, on_epoch=on_epoch, engine="compressor loop")


def train_loop(model, data, step: Callable[[tuple, Any, Any], Any], *, epochs: int, lr: float, batch_size: int,
               seed: int, ctx=None, desc: str = "fine-tune", on_epoch: Optional[Callable[[int], None]] = None,
               engine: str = "compressor loop") -> dict:
    """The compressor's deterministic Adam + cosine loop over `TaskData`.

    `step(inputs, y, gen)` returns the loss of one batch; `gen` is a per-epoch torch.Generator
    seeded from `seed` (for augmentation draws that must be identical across compared runs).
    """
    import torch

    torch.manual_seed(seed)
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        return {"epochs": 0, "final_loss": None, "engine": f"{engine} (no trainable parameters)"}
    opt = torch.optim.Adam(params, lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, epochs))
    bar = None
    if bool(getattr(ctx, "progress", False)):
        from tqdm.auto import tqdm

        bar = tqdm(total=epochs, desc=desc, leave=False)
    last = None
    for ep in range(epochs):
        model.train()
        gen = torch.Generator().manual_seed(10_000 + seed * 1_000 + ep)
        total = n = 0.0
        for inputs, y in data.batches("train", batch_size, shuffle=True, seed=seed + ep):
            opt.zero_grad(set_to_none=True)
            loss = step(inputs, y, gen)
            loss.backward()
            opt.step()
            total += float(loss.detach()) * int(y.shape[0])
            n += int(y.shape[0])
        sched.step()
        last = total / max(1.0, n)
        if on_epoch is not None:
            on_epoch(ep)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{last:.4f}")
    if bar is not None:
        bar.close()
    model.eval()
    return {"epochs": epochs, "final_loss": last, "engine": engine}
