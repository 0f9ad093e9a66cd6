"""The training loop: `fit` and `evaluate` for classification, regression, LM and node classification.

Forward convention: array splits are TensorDatasets with the target LAST, so the model is called as
`model(*inputs)`; text splits are encoded with `model.encode(texts)` (text wrappers in transfer.py);
graph splits are node masks and the model is called as `model(x, edge_index)`.

Device: `config.device` (None: CUDA, then MPS, then CPU; `TENSOR_DEVICE` overrides), mixed precision on
CUDA; the model is moved back to the CPU when `fit` returns (saving and the other tools work on CPU).
"""

from __future__ import annotations

import copy
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from tensor_agent.errors import InputError

from .config import TrainConfig
from tensor_agent.tools.core.datasets import DataBundle, TextSplit

DIVERGENCE_FACTOR = 1e3  # a batch loss this many times the first one counts as divergence
#: with fewer training batches per epoch than this, BatchNorm statistics are recomputed before validating
BN_RECALIBRATE_BATCHES = 20


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
    device: str = "cpu"
    warnings: list[str] = field(default_factory=list)

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


def _model_device(model):
    import torch

    for p in model.parameters():
        return p.device
    return torch.device("cpu")


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
        return lambda out, y: F.cross_entropy(out.float(), y, label_smoothing=ls)
    if task == "generation":  # next-token LM: out (B, T, V), y (B, T)
        return lambda out, y: F.cross_entropy(out.float().reshape(-1, out.shape[-1]), y.reshape(-1))
    if task == "regression":
        return lambda out, y: F.mse_loss(out.float().reshape(y.shape), y)
    raise InputError(f"no default loss for task '{task}' (known: classification, regression, generation, "
                     f"node_classification)")


def _augment(x, gen):
    """Random small affine jitter of an image batch (B, C, H, W): rotation +-10 deg, scale 0.9-1.1,
    translation +-1 pixel."""
    import torch
    import torch.nn.functional as F

    b, _, h, w = x.shape
    dev = x.device
    r = (torch.rand(b, generator=gen) * 2 - 1) * (math.pi / 18)
    s = 1 + (torch.rand(b, generator=gen) * 2 - 1) * 0.1
    t = (torch.rand(b, 2, generator=gen) * 2 - 1) * torch.tensor([2.0 / w, 2.0 / h])
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0] = torch.cos(r) / s
    theta[:, 0, 1] = -torch.sin(r) / s
    theta[:, 1, 0] = torch.sin(r) / s
    theta[:, 1, 1] = torch.cos(r) / s
    theta[:, :, 2] = t
    grid = F.affine_grid(theta.to(dev), list(x.shape), align_corners=False)  # (B, H, W, 2)
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


def regression_metrics(pred, y, *, mean: float = 0.0, std: float = 1.0, prefix: str = "") -> dict:
    """RMSE, MAE and R^2 in the target's original units (`pred`, `y` standardised with mean/std)."""
    import torch

    p = pred.float().reshape(-1) * std + mean
    t = y.float().reshape(-1) * std + mean
    err = p - t
    ss_res = float((err ** 2).sum())
    ss_tot = float(((t - t.mean()) ** 2).sum())
    return {f"{prefix}rmse": float(torch.sqrt((err ** 2).mean())), f"{prefix}mae": float(err.abs().mean()),
            f"{prefix}r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else 0.0}


def _batch_stats(task: str, out, y) -> tuple[float, float]:
    """(correct, count) for accuracy-like metrics."""
    if task in ("classification", "node_classification", "generation"):
        pred = out.argmax(-1)
        return float((pred == y).sum()), float(y.numel())
    return 0.0, 0.0


def evaluate(model, data: DataBundle, split: str = "test", *, loss_fn: Optional[Callable] = None,
             batch_size: int = 512, config: Optional[TrainConfig] = None, prefix: str = "") -> dict:
    """Loss and accuracy (or perplexity / RMSE, MAE, R^2) of `model` on one split of `data`."""
    import torch

    config = config or TrainConfig()
    loss_fn = loss_fn or default_loss(data.task)
    dev = _model_device(model)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        if data.modality == "graph":
            g = data.meta["graph"]
            mask = getattr(data, split).to(dev)
            y = g.y.to(dev)
            out = model(g.x.to(dev), g.edge_index.to(dev))
            loss = float(loss_fn(out[mask], y[mask]))
            c, k = _batch_stats(data.task, out[mask], y[mask])
            res = _metrics(data.task, loss, 1, c, k, prefix)
        else:
            tensors = _split_tensors(getattr(data, split), model, config)
            n = len(tensors[-1])
            loss_sum, correct, count, preds = 0.0, 0.0, 0.0, []
            for i in range(0, n, batch_size):
                *xs, y = (t[i:i + batch_size].to(dev) for t in tensors)
                out = model(*xs)
                loss_sum += float(loss_fn(out, y)) * len(y)
                c, k = _batch_stats(data.task, out, y)
                correct += c
                count += k
                if data.task == "regression":
                    preds.append(out.detach().float().reshape(len(y)).cpu())
            res = _metrics(data.task, loss_sum, n, correct, count, prefix)
            if data.task == "regression" and preds:
                scale = data.meta.get("target_scale") or {}
                res.update(regression_metrics(torch.cat(preds), tensors[-1], mean=scale.get("mean", 0.0),
                                              std=scale.get("std", 1.0), prefix=prefix))
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

    return tqdm(total=total, desc=desc, unit="epoch", leave=False, file=sys.stderr)


def _has_batchnorm(model) -> bool:
    import torch

    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def recalibrate_batchnorm(model, inputs: tuple, batch_size: int) -> bool:
    """Recompute BatchNorm running statistics as exact averages over the training inputs (no augmentation,
    dropout off). With few batches the running estimates never settle and eval-mode accuracy collapses;
    this fixes it. Returns whether the model had BatchNorm layers."""
    import torch

    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not bns:
        return False
    was_training = model.training
    momenta = [m.momentum for m in bns]
    model.eval()
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # cumulative moving average: the exact mean over all batches
        m.train()
    n = len(inputs[0])
    with torch.no_grad():
        for i in range(0, n, batch_size):
            model(*(t[i:i + batch_size] for t in inputs))
    for m, mom in zip(bns, momenta):
        m.momentum = mom
    model.train(was_training)
    return True


# --------------------------------------------------------------------------------------------- checkpoints
def _signature(model) -> dict:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def _set_aside(path: Path, why: str, res: FitResult) -> None:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    bad = path.with_name(f"{path.name}.bad-{stamp}-{os.getpid()}")
    os.replace(path, bad)
    res.warnings.append(f"checkpoint {path} {why}: moved aside to {bad.name}; training started fresh")


def _load_checkpoint(path: Path, model, opt, sched, gen, res: FitResult) -> Optional[dict]:
    """The saved state, loaded into model/optimizer/scheduler; None (and the file set aside with a warning)
    when it is truncated, unreadable or for another model."""
    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError) as exc:
        _set_aside(path, f"is truncated or unreadable ({type(exc).__name__})", res)
        return None
    if not isinstance(state, dict) or state.get("signature") != _signature(model):
        _set_aside(path, "does not match the requested model (other layers or sizes)", res)
        return None
    before = copy.deepcopy(model.state_dict())
    try:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        gen.set_state(state["gen"])
        torch.set_rng_state(state["torch_rng"])
    except (RuntimeError, KeyError, ValueError, TypeError) as exc:
        model.load_state_dict(before)
        _set_aside(path, f"cannot be applied to this model ({type(exc).__name__})", res)
        return None
    return state


def _save_checkpoint(path: Path, model, opt, sched, gen, res: FitResult, st: "_State", epoch: int,
                     stop: Optional[str]) -> None:
    import torch

    _atomic_save({"model": model.state_dict(), "optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
                  "gen": gen.get_state(), "torch_rng": torch.get_rng_state(), "history": res.history,
                  "lr_curve": res.lr_curve, "best_val": st.best_val, "best_state": st.best_state,
                  "bad_epochs": st.bad_epochs, "best_epoch": res.best_epoch, "epoch": epoch,
                  "stopped_reason": stop, "signature": _signature(model)}, path)


@dataclass
class _State:
    """Mutable bookkeeping of one `fit` call."""

    best_val: float
    best_state: Optional[dict] = None
    bad_epochs: int = 0
    start_epoch: int = 0
    first_loss: Optional[float] = None


def _resume(config: TrainConfig, model, opt, sched, gen, res: FitResult, st: _State) -> Optional[Path]:
    if not config.checkpoint_dir:
        return None
    ckpt_dir = Path(config.checkpoint_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    path = ckpt_dir / "last.pt"
    if not path.exists():
        return path
    state = _load_checkpoint(path, model, opt, sched, gen, res)
    if state is None:
        return path
    res.history, res.lr_curve = list(state["history"]), list(state["lr_curve"])
    st.best_val, st.best_state, st.bad_epochs = state["best_val"], state["best_state"], state["bad_epochs"]
    res.best_epoch = state["best_epoch"]
    st.start_epoch = state["epoch"] + 1
    res.resumed_from = st.start_epoch
    if state.get("stopped_reason") == "early_stopping":
        st.start_epoch = config.epochs  # it had already stopped
        res.stopped_reason = state["stopped_reason"]
    return path


# --------------------------------------------------------------------------------------------- fit
@dataclass
class _Run:
    """Everything one epoch needs (built once per `fit`)."""

    model: Any
    data: DataBundle
    config: TrainConfig
    opt: Any
    sched: Any
    loss_fn: Callable
    gen: Any
    device: Any
    info: Any
    scaler: Any = None
    train_t: Optional[tuple] = None
    graph: Any = None
    n: int = 0
    augment: bool = False
    l1_params: list = field(default_factory=list)
    trainable: list = field(default_factory=list)
    deadline: Optional[float] = None
    recalibrate: bool = False


def _prepare(model, data: DataBundle, config: TrainConfig, opt, sched, loss_fn, gen, info) -> _Run:
    import torch

    run = _Run(model=model, data=data, config=config, opt=opt, sched=sched, loss_fn=loss_fn, gen=gen,
               device=torch.device(info.device), info=info)
    if data.modality == "graph":
        g = data.meta["graph"]
        run.graph = (g.x.to(run.device), g.edge_index.to(run.device), g.y.to(run.device),
                     data.train.to(run.device))
        run.n = int(data.train.sum())
    else:
        run.train_t = tuple(t.to(run.device) for t in _split_tensors(data.train, model, config))
        run.n = len(run.train_t[-1])
        if run.n == 0:
            raise InputError(f"dataset '{data.name}' has an empty training split")
        run.augment = config.augment and data.modality == "image" and run.train_t[0].ndim == 4
        batches = math.ceil(run.n / config.batch_size)
        run.recalibrate = batches < BN_RECALIBRATE_BATCHES and _has_batchnorm(model)
    run.l1_params = [p for p in model.parameters() if p.requires_grad and p.ndim > 1] if config.l1 > 0 else []
    run.trainable = [p for p in model.parameters() if p.requires_grad]
    from tensor_agent.tools.core.device import grad_scaler

    run.scaler = grad_scaler(info)
    return run


def _step(run: _Run, loss) -> None:
    run.opt.zero_grad(set_to_none=True)
    if run.scaler is not None:
        run.scaler.scale(loss).backward()
        run.scaler.unscale_(run.opt)
    else:
        loss.backward()
    if run.config.grad_clip:
        import torch

        torch.nn.utils.clip_grad_norm_(run.trainable, run.config.grad_clip)
    if run.scaler is not None:
        run.scaler.step(run.opt)
        run.scaler.update()
    else:
        run.opt.step()


def _batch_loss(run: _Run, idx):
    from tensor_agent.tools.core.device import autocast

    with autocast(run.info):
        if run.graph is not None:
            x, ei, y, mask = run.graph
            out = run.model(x, ei)
            return run.loss_fn(out[mask], y[mask]), 1
        *xs, y = (t[idx] for t in run.train_t)
        if run.augment:
            xs[0] = _augment(xs[0], run.gen)
        return run.loss_fn(run.model(*xs), y), len(idx)


def _train_epoch(run: _Run, st: _State) -> tuple[float, Optional[tuple], bool]:
    """One pass over the training split: (mean loss, (batch, loss) if it diverged, out of time)."""
    import torch

    run.model.train()
    loss_acc, seen = torch.zeros((), device=run.device), 0
    if run.graph is not None:
        batches = [None]
    else:
        perm = torch.randperm(run.n, generator=run.gen).to(run.device)
        batches = [perm[i:i + run.config.batch_size] for i in range(0, run.n, run.config.batch_size)]
    for bi, idx in enumerate(batches):
        loss, bs = _batch_loss(run, idx)
        if run.l1_params:
            loss = loss + run.config.l1 * sum(p.abs().sum() for p in run.l1_params)
        lval = float(loss.detach())
        if st.first_loss is None:
            st.first_loss = abs(lval) + 1e-8
        if not math.isfinite(lval) or abs(lval) > DIVERGENCE_FACTOR * max(st.first_loss, 1.0):
            return float(loss_acc) / max(seen, 1), (bi, lval), False
        _step(run, loss)
        loss_acc += loss.detach() * bs
        seen += bs
        if run.deadline is not None and time.perf_counter() > run.deadline:
            return float(loss_acc) / max(seen, 1), None, True
    return float(loss_acc) / max(seen, 1), None, False


def _diverged(run: _Run, res: FitResult, st: _State, last_good: dict, epoch: int, bi: int, lval: float,
              lr: float) -> None:
    cfg = run.config
    run.model.load_state_dict(st.best_state if st.best_state is not None else last_good)
    what = "NaN/inf" if not math.isfinite(lval) else f"{lval:.3g} (more than {DIVERGENCE_FACTOR:g}x the first)"
    res.stopped_reason = "diverged"
    res.message = (f"training diverged: the loss became {what} at epoch {epoch + 1}, batch {bi + 1} "
                   f"with lr={lr:g} ({cfg.optimizer}). Lower the learning rate (e.g. "
                   f"{min(cfg.lr / 100, 3e-3):g}), set grad_clip=1.0, or check the data for NaN/huge "
                   f"values; the weights of the last good epoch were kept.")
    res.epochs_run = epoch - st.start_epoch


def _validate(run: _Run, rec: dict, res: FitResult, st: _State) -> None:
    cfg = run.config
    if run.recalibrate:
        recalibrate_batchnorm(run.model, run.train_t[:-1], cfg.batch_size)
    rec.update(evaluate(run.model, run.data, "val", loss_fn=run.loss_fn, config=cfg, prefix="val_"))
    if cfg.monitor not in rec:
        return
    v, maximize = rec[cfg.monitor], cfg.monitor == "val_accuracy"
    if v > st.best_val if maximize else v < st.best_val:
        st.best_val, res.best_epoch, st.bad_epochs = v, rec["epoch"], 0
        if cfg.restore_best or cfg.patience:
            st.best_state = {k: t.detach().clone() for k, t in run.model.state_dict().items()}
    else:
        st.bad_epochs += 1


def _stop_message(cfg: TrainConfig, stop: str, epoch: int, best_epoch: int) -> str:
    if stop == "early_stopping":
        return (f"stopped early at epoch {epoch + 1}: {cfg.monitor} did not improve for {cfg.patience} epochs "
                f"(best at epoch {best_epoch})")
    return f"stopped at epoch {epoch + 1}: the time budget of {cfg.time_budget_s:g}s was used up"


def _epochs(run: _Run, res: FitResult, st: _State, ckpt_path: Optional[Path], ctx, on_epoch) -> int:
    """The epoch loop; returns the last epoch index run."""
    cfg = run.config
    bar = _progress(ctx, cfg.epochs - st.start_epoch, f"train {run.data.name} on {run.info.device}")
    last_good = {k: v.detach().clone() for k, v in run.model.state_dict().items()}
    epoch, last_ckpt = st.start_epoch - 1, time.perf_counter()
    for epoch in range(st.start_epoch, cfg.epochs):
        lr = run.opt.param_groups[0]["lr"]
        res.lr_curve.append(lr)
        train_loss, diverged, out_of_time = _train_epoch(run, st)
        if diverged is not None:
            _diverged(run, res, st, last_good, epoch, *diverged, lr)
            break
        rec: dict[str, Any] = {"epoch": epoch + 1, "lr": lr, "train_loss": train_loss}
        if (epoch + 1) % cfg.eval_every == 0 or epoch == cfg.epochs - 1 or out_of_time:
            _validate(run, rec, res, st)
        run.sched.step()
        res.history.append(rec)
        if bar is not None:
            bar.update(1)
            bar.set_postfix({k: f"{v:.4g}" for k, v in rec.items() if k != "epoch"})
        stop = ("early_stopping" if cfg.patience and st.bad_epochs >= cfg.patience else
                "time_budget" if out_of_time else None)
        due = time.perf_counter() - last_ckpt >= cfg.checkpoint_every_s or stop is not None or epoch == cfg.epochs - 1
        if ckpt_path is not None and due:
            last_ckpt = time.perf_counter()
            _save_checkpoint(ckpt_path, run.model, run.opt, run.sched, run.gen, res, st, epoch, stop)
        if on_epoch is not None:
            on_epoch(rec)
        if getattr(ctx, "on_progress", None) is not None:  # servers relay epochs as progress events
            ctx.on_progress({**rec, "stage": "train_model", "epochs": cfg.epochs})
        if stop:
            res.stopped_reason, res.message = stop, _stop_message(cfg, stop, epoch, res.best_epoch)
            break
    if bar is not None:
        bar.close()
    return epoch


def fit(model, data: DataBundle, config: Optional[TrainConfig] = None, *, ctx=None,
        loss_fn: Optional[Callable] = None, on_epoch: Optional[Callable[[dict], None]] = None) -> FitResult:
    """Train `model` on `data.train`, validate on `data.val` each epoch, test on `data.test` at the end.

    Handles: device selection (CUDA, MPS, CPU; mixed precision on CUDA), optimizer + per-epoch schedule with
    warm-up, L1 penalty, gradient clipping, dropout override, early stopping with patience on
    `config.monitor`, wall-clock budget, divergence (NaN/inf or exploding loss: stops cleanly, restores the
    last good weights, `stopped_reason="diverged"` and a message saying what to change), BatchNorm statistics
    recomputed on the training set when there are few batches, a checkpoint per epoch in
    `config.checkpoint_dir` and resuming from it (a truncated or mismatched checkpoint is set aside with a
    warning in `FitResult.warnings`).

    Args:
        model: a torch.nn.Module.
        data: the DataBundle to train on.
        config: TrainConfig (defaults if None).
        ctx: ToolContext (progress bar on stderr when ctx.progress is True).
        loss_fn: `fn(output, target) -> scalar`; the task's default otherwise.
        on_epoch: called with each epoch's record (e.g. MLflow logging).
    """
    import torch

    from tensor_agent.tools.core.device import select_device
    from .optim import build_optimizer, build_scheduler

    config = config or TrainConfig()
    set_threads(config.num_threads)
    t_start = time.perf_counter()
    torch.manual_seed(config.seed)
    gen = torch.Generator().manual_seed(config.seed)
    if config.dropout is not None:
        _set_dropout(model, config.dropout)
    info = select_device(config.device)
    res = FitResult(model=model, device=info.describe())
    res.trainable_params, res.total_params = count_params(model)
    model.to(info.device)
    try:
        opt = build_optimizer(model, config)
        sched = build_scheduler(opt, config)
        st = _State(best_val=-math.inf if config.monitor == "val_accuracy" else math.inf)
        ckpt_path = _resume(config, model, opt, sched, gen, res, st)
        run = _prepare(model, data, config, opt, sched, loss_fn or default_loss(data.task, config), gen, info)
        run.deadline = t_start + config.time_budget_s if config.time_budget_s else None
        epoch = _epochs(run, res, st, ckpt_path, ctx, on_epoch)
        if res.stopped_reason != "diverged":
            res.epochs_run = epoch + 1 - st.start_epoch
            if config.restore_best and st.best_state is not None:
                model.load_state_dict(st.best_state)
            if run.train_t is not None and _has_batchnorm(model):
                recalibrate_batchnorm(model, run.train_t[:-1], config.batch_size)
            res.val_metrics = evaluate(model, data, "val", loss_fn=run.loss_fn, config=config)
            res.test_metrics = evaluate(model, data, "test", loss_fn=run.loss_fn, config=config)
    finally:
        model.to("cpu")
    res.wall_s = time.perf_counter() - t_start
    return res


def snapshot(model) -> dict:
    """A detached copy of the model's state (for callers that want to restore later)."""
    return copy.deepcopy(model.state_dict())
