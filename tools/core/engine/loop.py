"""The training loop: `fit` and `evaluate` for classification, regression, LM and node classification.

Forward convention: array splits are TensorDatasets with the target LAST, so the model is called as
`model(*inputs)`; text splits are encoded with `model.encode(texts)` (text wrappers in transfer.py);
graph splits are node masks and the model is called as `model(x, edge_index)`.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from tensor_agent.errors import InputError

from .config import TrainConfig
from tensor_agent.tools.core.datasets import DataBundle, TextSplit

DIVERGENCE_FACTOR = 1e3  # a batch loss this many times the first one counts as divergence


@dataclass
class FitResult:
    """What one call of `fit` did."""

    history: list[dict] = field(default_factory=list)  # one dict per epoch: epoch, lr, train_loss, val_*
    test_metrics: dict = field(default_factory=dict)
    val_metrics: dict = field(default_factory=dict)
    best_epoch: int = -1
    stopped_reason: str = "completed"  # completed | early_stopping | time_budget | diverged
    message: str = ""
    wall_s: float = 0.0
    lr_curve: list[float] = field(default_factory=list)
    model: Any = None
    epochs_run: int = 0
    resumed_from: Optional[int] = None
    trainable_params: int = 0
    total_params: int = 0

    @property
    def diverged(self) -> bool:
        return self.stopped_reason == "diverged"


def set_threads(n: Optional[int] = None) -> int:
    """Use at most 2 intra-op threads by default (shared 2-core machines); `TENSOR_THREADS` overrides."""
    import torch

    n = n or int(os.environ.get("TENSOR_THREADS", "0") or 0) or min(2, os.cpu_count() or 1)
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)
    return n


def count_params(model) -> tuple[int, int]:
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return trainable, total


def _set_dropout(model, p: float) -> None:
    import torch

    for m in model.modules():
        if isinstance(m, (torch.nn.Dropout, torch.nn.Dropout1d, torch.nn.Dropout2d)):
            m.p = p


def _split_tensors(split, model, config: TrainConfig) -> tuple:
    """A split as a tuple of tensors (inputs..., target)."""
    import torch

    if isinstance(split, torch.utils.data.TensorDataset):
        return tuple(split.tensors)
    if isinstance(split, TextSplit):
        enc = getattr(model, "encode", None)
        if enc is None:
            raise InputError("text data needs a text model with an `encode(texts)` method "
                             "(a transformer from tools/train/transfer.py)")
        return (*enc(split.texts, max_length=config.max_length), split.labels)
    if isinstance(split, (tuple, list)):
        return tuple(split)
    raise InputError(f"unsupported split type {type(split).__name__}")


def default_loss(task: str, config: Optional[TrainConfig] = None) -> Callable:
    import torch.nn.functional as F

    ls = config.label_smoothing if config else 0.0
    if task in ("classification", "node_classification"):
        return lambda out, y: F.cross_entropy(out, y, label_smoothing=ls)
    if task == "generation":  # next-token LM: out (B, T, V), y (B, T)
        return lambda out, y: F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    if task == "regression":
        return lambda out, y: F.mse_loss(out.reshape(y.shape), y)
    raise InputError(f"no default loss for task '{task}' (known: classification, regression, generation, "
                     f"node_classification)")


def _augment(x, gen):
    """Random small affine jitter of an image batch (B, C, H, W): rotation +-10 deg, scale 0.9-1.1,
    translation +-1 pixel."""
    import torch
    import torch.nn.functional as F

    b, _, h, w = x.shape
    r = (torch.rand(b, generator=gen) * 2 - 1) * (math.pi / 18)
    s = 1 + (torch.rand(b, generator=gen) * 2 - 1) * 0.1
    t = (torch.rand(b, 2, generator=gen) * 2 - 1) * torch.tensor([2.0 / w, 2.0 / h])
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.cos(r) / s
    theta[:, 0, 1] = -torch.sin(r) / s
    theta[:, 1, 0] = torch.sin(r) / s
    theta[:, 1, 1] = torch.cos(r) / s
    theta[:, :, 2] = t
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)  # (B, H, W, 2)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


def _metrics(task: str, loss_sum: float, n: int, correct: float, count: float, prefix: str) -> dict:
    loss = loss_sum / max(n, 1)
    out = {f"{prefix}loss": loss}
    if task in ("classification", "node_classification"):
        out[f"{prefix}accuracy"] = correct / max(count, 1)
    elif task == "generation":
        out[f"{prefix}perplexity"] = float(math.exp(min(loss, 50.0)))
        out[f"{prefix}token_accuracy"] = correct / max(count, 1)
    return out


def _batch_stats(task: str, out, y) -> tuple[float, float]:
    """(correct, count) for accuracy-like metrics."""
    if task in ("classification", "node_classification", "generation"):
        pred = out.argmax(-1)
        return float((pred == y).sum()), float(y.numel())
    return 0.0, 0.0


def evaluate(model, data: DataBundle, split: str = "test", *, loss_fn: Optional[Callable] = None,
             batch_size: int = 512, config: Optional[TrainConfig] = None, prefix: str = "") -> dict:
    """Loss and accuracy (or perplexity / MSE) of `model` on one split of `data`."""
    import torch

    config = config or TrainConfig()
    loss_fn = loss_fn or default_loss(data.task)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        if data.modality == "graph":
            g = data.meta["graph"]
            mask = getattr(data, split)
            out = model(g.x, g.edge_index)
            loss = float(loss_fn(out[mask], g.y[mask]))
            c, k = _batch_stats(data.task, out[mask], g.y[mask])
            res = _metrics(data.task, loss, 1, c, k, prefix)
        else:
            tensors = _split_tensors(getattr(data, split), model, config)
            n = len(tensors[-1])
            loss_sum, correct, count = 0.0, 0.0, 0.0
            for i in range(0, n, batch_size):
                *xs, y = (t[i:i + batch_size] for t in tensors)
                out = model(*xs)
                loss_sum += float(loss_fn(out, y)) * len(y)
                c, k = _batch_stats(data.task, out, y)
                correct += c
                count += k
            res = _metrics(data.task, loss_sum, n, correct, count, prefix)
    model.train(was_training)
    return res


def _atomic_save(obj: Any, path: Path) -> None:
    import torch

    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(obj, tmp)
    os.replace(tmp, path)


def _progress(ctx, total: int, desc: str):
    enabled = bool(ctx is not None and getattr(ctx, "progress", False))
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="epoch", leave=False)


def fit(model, data: DataBundle, config: Optional[TrainConfig] = None, *, ctx=None,
        loss_fn: Optional[Callable] = None, on_epoch: Optional[Callable[[dict], None]] = None) -> FitResult:
    """Train `model` on `data.train`, validate on `data.val` each epoch, test on `data.test` at the end.

    Handles: optimizer + per-epoch schedule with warm-up, L1 penalty, gradient clipping, dropout override,
    early stopping with patience on `config.monitor`, wall-clock budget, divergence (NaN/inf or exploding
    loss: stops cleanly, restores the last good weights, `stopped_reason="diverged"` and a message saying
    what to change), a checkpoint per epoch in `config.checkpoint_dir` and resuming from it.

    Args:
        model: a torch.nn.Module.
        data: the DataBundle to train on.
        config: TrainConfig (defaults if None).
        ctx: ToolContext (progress bar when ctx.progress is True).
        loss_fn: `fn(output, target) -> scalar`; the task's default otherwise.
        on_epoch: called with each epoch's record (e.g. MLflow logging).
    """
    import torch

    config = config or TrainConfig()
    set_threads(config.num_threads)
    t_start = time.perf_counter()
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    if config.dropout is not None:
        _set_dropout(model, config.dropout)
    loss_fn = loss_fn or default_loss(data.task, config)
    opt = _build_opt(model, config)
    from .optim import build_scheduler

    sched = build_scheduler(opt, config)
    res = FitResult(model=model)
    res.trainable_params, res.total_params = count_params(model)
    maximize = config.monitor == "val_accuracy"
    best_val = -math.inf if maximize else math.inf
    best_state = None
    bad_epochs = 0
    start_epoch = 0

    ckpt_path = None
    if config.checkpoint_dir:
        ckpt_dir = Path(config.checkpoint_dir)
        ckpt_dir.mkdir(parents=True, exist_ok=True)
        ckpt_path = ckpt_dir / "last.pt"
        if ckpt_path.exists():
            state = torch.load(ckpt_path, map_location="cpu", weights_only=False)
            model.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            sched.load_state_dict(state["scheduler"])
            gen.set_state(state["gen"])
            torch.set_rng_state(state["torch_rng"])
            res.history = state["history"]
            res.lr_curve = state["lr_curve"]
            best_val, best_state, bad_epochs = state["best_val"], state["best_state"], state["bad_epochs"]
            res.best_epoch = state["best_epoch"]
            start_epoch = state["epoch"] + 1
            res.resumed_from = start_epoch
            if state.get("stopped_reason") == "early_stopping":
                start_epoch = config.epochs  # it had already stopped (early stopping etc.)
                res.stopped_reason = state["stopped_reason"]

    graph = data.modality == "graph"
    if graph:
        g = data.meta["graph"]
        train_t = None
        n = int(data.train.sum())
    else:
        train_t = _split_tensors(data.train, model, config)
        n = len(train_t[-1])
        if n == 0:
            raise InputError(f"dataset '{data.name}' has an empty training split")
    augment = config.augment and data.modality == "image" and not graph and train_t[0].ndim == 4
    l1_params = [p for p in model.parameters() if p.requires_grad and p.ndim > 1] if config.l1 > 0 else []
    trainable = [p for p in model.parameters() if p.requires_grad]
    first_loss: Optional[float] = None
    bar = _progress(ctx, config.epochs - start_epoch, f"train {data.name}")
    deadline = t_start + config.time_budget_s if config.time_budget_s else None
    last_good = {k: v.detach().clone() for k, v in model.state_dict().items()}

    epoch = start_epoch - 1
    last_ckpt = time.perf_counter()
    for epoch in range(start_epoch, config.epochs):
        lr = opt.param_groups[0]["lr"]
        res.lr_curve.append(lr)
        model.train()
        loss_acc = torch.zeros(())
        seen = 0
        diverged = None
        out_of_time = False
        if graph:
            batches = [None]
        else:
            perm = torch.randperm(n, generator=gen)
            batches = [perm[i:i + config.batch_size] for i in range(0, n, config.batch_size)]
        for bi, idx in enumerate(batches):
            if graph:
                out = model(g.x, g.edge_index)
                loss = loss_fn(out[data.train], g.y[data.train])
                bs = 1
            else:
                *xs, y = (t[idx] for t in train_t)
                if augment:
                    xs[0] = _augment(xs[0], gen)
                out = model(*xs)
                loss = loss_fn(out, y)
                bs = len(idx)
            if l1_params:
                loss = loss + config.l1 * sum(p.abs().sum() for p in l1_params)
            lval = float(loss.detach())
            if first_loss is None:
                first_loss = abs(lval) + 1e-8
            if not math.isfinite(lval) or abs(lval) > DIVERGENCE_FACTOR * max(first_loss, 1.0):
                diverged = (bi, lval)
                break
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip:
                torch.nn.utils.clip_grad_norm_(trainable, config.grad_clip)
            opt.step()
            loss_acc += loss.detach() * bs
            seen += bs
            if deadline is not None and time.perf_counter() > deadline:
                out_of_time = True
                break
        if diverged is not None:
            model.load_state_dict(best_state if best_state is not None else last_good)
            bi, lval = diverged
            what = "NaN/inf" if not math.isfinite(lval) else f"{lval:.3g} (more than {DIVERGENCE_FACTOR:g}x the first)"
            res.stopped_reason = "diverged"
            res.message = (f"training diverged: the loss became {what} at epoch {epoch + 1}, batch {bi + 1} "
                           f"with lr={lr:g} ({config.optimizer}). Lower the learning rate (e.g. "
                           f"{min(config.lr / 100, 3e-3):g}), set grad_clip=1.0, or check the data for NaN/huge "
                           f"values; the weights of the last good epoch were kept.")
            res.epochs_run = epoch - start_epoch
            break
        rec: dict[str, Any] = {"epoch": epoch + 1, "lr": lr, "train_loss": float(loss_acc) / max(seen, 1)}
        last_epoch = epoch == config.epochs - 1 or out_of_time
        if (epoch + 1) % config.eval_every == 0 or last_epoch:
            rec.update(evaluate(model, data, "val", loss_fn=loss_fn, config=config, prefix="val_"))
        sched.step()
        res.history.append(rec)
        improved = False
        if config.monitor in rec:
            v = rec[config.monitor]
            improved = v > best_val if maximize else v < best_val
            if improved:
                best_val, res.best_epoch, bad_epochs = v, epoch + 1, 0
                if config.restore_best or config.patience:
                    best_state = {k: t.detach().clone() for k, t in model.state_dict().items()}
            else:
                bad_epochs += 1
        if bar is not None:
            bar.update(1)
            bar.set_postfix({k: f"{v:.4g}" for k, v in rec.items() if k != "epoch"})
        stop = None
        if config.patience and bad_epochs >= config.patience:
            stop = "early_stopping"
        elif out_of_time:
            stop = "time_budget"
        due = (time.perf_counter() - last_ckpt >= config.checkpoint_every_s or stop is not None
               or epoch == config.epochs - 1)
        if ckpt_path is not None and due:
            last_ckpt = time.perf_counter()
            _atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(),
                          "scheduler": sched.state_dict(), "gen": gen.get_state(),
                          "torch_rng": torch.get_rng_state(), "history": res.history, "lr_curve": res.lr_curve,
                          "best_val": best_val, "best_state": best_state, "bad_epochs": bad_epochs,
                          "best_epoch": res.best_epoch, "epoch": epoch, "stopped_reason": stop}, ckpt_path)
        if on_epoch is not None:
            on_epoch(rec)
        if stop:
            res.stopped_reason = stop
            res.message = (f"stopped early at epoch {epoch + 1}: {config.monitor} did not improve for "
                           f"{config.patience} epochs (best at epoch {res.best_epoch})" if stop == "early_stopping"
                           else f"stopped at epoch {epoch + 1}: the time budget of {config.time_budget_s:g}s "
                                f"was used up")
            break
    if bar is not None:
        bar.close()
    if res.stopped_reason != "diverged":
        res.epochs_run = epoch + 1 - start_epoch
        if config.restore_best and best_state is not None:
            model.load_state_dict(best_state)
        res.val_metrics = evaluate(model, data, "val", loss_fn=loss_fn, config=config)
        res.test_metrics = evaluate(model, data, "test", loss_fn=loss_fn, config=config)
    res.wall_s = time.perf_counter() - t_start
    return res


def _build_opt(model, config):
    from .optim import build_optimizer

    return build_optimizer(model, config)


def snapshot(model) -> dict:
    """A detached copy of the model's state (for callers that want to restore later)."""
    return copy.deepcopy(model.state_dict())
