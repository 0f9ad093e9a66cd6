"""Data-parallel training under `torchrun` (DistributedDataParallel; gloo on CPU, NCCL on CUDA).

One process (no torchrun) trains exactly the same way with world size 1, so the two can be compared:

    python -m tensor_agent.tools.core.engine.ddp --dataset digits --family cnn --epochs 15 --out single.json
    torchrun --nproc-per-node 2 -m tensor_agent.tools.core.engine.ddp --dataset digits --family cnn \\
        --epochs 15 --out ddp.json

Several machines (run on each, node-rank 0..N-1; the first node's address as master):

    torchrun --nnodes 2 --node-rank 0 --master-addr 10.0.0.1 --master-port 29500 --nproc-per-node 2 \\
        -m tensor_agent.tools.core.engine.ddp --dataset digits --family cnn --out ddp.json

Every rank builds the same model from the same seed and the same data split; each epoch all ranks draw the
same permutation and rank r takes every world-th example of each global batch, so the global batch (and the
averaged gradient) equals the single-process one; BatchNorm normalises with global-batch statistics
(`GlobalBatchNorm`: all-reduced sums, any device; torch's SyncBatchNorm is GPU-only), so DDP matches one process
up to floating-point summation order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Optional, Sequence


def _global_batchnorm_cls():
    import torch
    import torch.distributed as dist
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        from torch.distributed.nn.functional import all_reduce  # differentiable: backward all-reduces the grads

    class GlobalBatchNorm(torch.nn.Module):
        """BatchNorm over the global batch on any device (torch's SyncBatchNorm is GPU-only): per-channel sum,
        sum of squares and count are all-reduced, so every rank normalises exactly as one process would."""

        def __init__(self, bn: torch.nn.modules.batchnorm._BatchNorm) -> None:
            super().__init__()
            self.bn = bn

        def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, C, *spatial)
            bn = self.bn
            if not self.training:
                return bn(x)
            dims = [d for d in range(x.ndim) if d != 1]
            count = torch.tensor([x.numel() / x.shape[1]], dtype=x.dtype, device=x.device)
            stats = all_reduce(torch.cat([x.sum(dims), (x * x).sum(dims), count]), op=dist.ReduceOp.SUM)
            c = x.shape[1]
            n = stats[-1]
            mean = stats[:c] / n
            var = (stats[c:2 * c] / n - mean * mean).clamp(min=0)  # biased, as BatchNorm normalises
            shape = [1, c] + [1] * (x.ndim - 2)
            y = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + bn.eps)
            if bn.affine:
                y = y * bn.weight.view(shape) + bn.bias.view(shape)
            with torch.no_grad():
                if bn.track_running_stats:
                    m = bn.momentum if bn.momentum is not None else 0.1
                    bn.running_mean.mul_(1 - m).add_(m * mean.detach())
                    bn.running_var.mul_(1 - m).add_(m * var.detach() * n / max(float(n) - 1, 1.0))
                    bn.num_batches_tracked += 1
            return y

    return GlobalBatchNorm


def global_batchnorm(model):
    """`model` with every BatchNorm wrapped in GlobalBatchNorm (its parameters and buffers stay where they were)."""
    import torch

    cls = _global_batchnorm_cls()
    for name, child in list(model.named_children()):
        if isinstance(child, torch.nn.modules.batchnorm._BatchNorm):
            setattr(model, name, cls(child))
        else:
            global_batchnorm(child)
    return model


def unwrap_batchnorm(model):
    """Undo `global_batchnorm` (the saved model is a plain module again)."""
    for name, child in list(model.named_children()):
        if type(child).__name__ == "GlobalBatchNorm":
            setattr(model, name, child.bn)
        else:
            unwrap_batchnorm(child)
    return model


def _device_and_backend(local_rank: int) -> tuple[str, str]:
    import torch

    want = os.environ.get("TENSOR_DEVICE", "").strip().lower()
    if want not in ("cpu",) and torch.cuda.is_available():
        return f"cuda:{local_rank % torch.cuda.device_count()}", "nccl"
    return "cpu", "gloo"


def train(args: argparse.Namespace) -> dict:
    """Train on this rank; returns the rank's result (rank 0's is the reported one)."""
    import torch
    import torch.distributed as dist

    from tensor_agent.tools.core.datasets import load_dataset
    from tensor_agent.tools.core.engine.config import TrainConfig
    from tensor_agent.tools.core.engine.loop import default_loss, evaluate, set_threads
    from tensor_agent.tools.core.engine.optim import build_optimizer, build_scheduler
    from tensor_agent.tools.core.zoo.registry import create_model

    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank, local_rank = int(os.environ.get("RANK", "0")), int(os.environ.get("LOCAL_RANK", "0"))
    device, backend = _device_and_backend(local_rank)
    if world > 1:
        dist.init_process_group(backend=backend)
    set_threads(args.threads)
    config = TrainConfig.build(optimizer=args.optimizer, lr=args.lr, weight_decay=args.weight_decay,
                               schedule=args.schedule, epochs=args.epochs, batch_size=args.batch_size, seed=args.seed)
    data = load_dataset(args.dataset, seed=args.data_seed)
    torch.manual_seed(config.seed)  # same initial weights on every rank (DDP also broadcasts rank 0's)
    handle = create_model(args.family, variant=args.variant, input_spec=data.input_spec,
                          num_classes=data.num_classes, task=data.task)
    model = handle.module.to(device)
    if args.dropout is not None:
        for m in model.modules():
            if isinstance(m, torch.nn.Dropout):
                m.p = args.dropout
    if world > 1 and args.sync_bn:  # BatchNorm over the global batch, as in one process
        model = global_batchnorm(model)
    net = torch.nn.parallel.DistributedDataParallel(model) if world > 1 else model
    opt, loss_fn = build_optimizer(model, config), default_loss(data.task, config)
    sched = build_scheduler(opt, config)
    X, y = (t.to(device) for t in data.train.tensors)  # (N, C, H, W), (N,)
    if config.batch_size % world:
        raise SystemExit(f"batch size {config.batch_size} is not divisible by the world size {world}")
    t0, history = time.perf_counter(), []
    for epoch in range(config.epochs):
        net.train()
        perm = torch.randperm(len(y), generator=torch.Generator().manual_seed(config.seed + epoch)).to(device)
        total = 0.0
        for i in range(0, len(perm), config.batch_size):
            idx = perm[i:i + config.batch_size][rank::world]  # this rank's share of the global batch
            if len(idx) == 0:
                continue
            loss = loss_fn(net(X[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()  # DDP averages gradients over ranks
            opt.step()
            total += float(loss.detach()) * len(idx)
        sched.step()
        history.append({"epoch": epoch + 1, "train_loss": total / max(1, len(perm) // world)})
    model = unwrap_batchnorm(model).cpu()
    result = {"rank": rank, "world_size": world, "backend": backend if world > 1 else None, "device": device,
              "family": args.family, "dataset": args.dataset, "epochs": config.epochs,
              "wall_s": round(time.perf_counter() - t0, 2), "history": history,
              "val": evaluate(model, data, "val", config=config), "test": evaluate(model, data, "test", config=config)}
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    if rank == 0 and args.save:
        from tensor_agent.tools.core.model_store import save_model

        handle.module, handle.dataset, handle.metrics = model, args.dataset, result["test"]
        result["model_path"] = save_model(handle, args.save)
    return result


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tensor_agent.tools.core.engine.ddp",
                                 description="Train a model data-parallel under torchrun (or in one process).")
    ap.add_argument("--dataset", default="digits", help="built-in dataset (default: digits)")
    ap.add_argument("--family", default="cnn", help="model family (default: cnn)")
    ap.add_argument("--variant", default=None, help="family variant (default: the family's)")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch-size", type=int, default=64, help="GLOBAL batch size (split over the ranks)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--optimizer", default="adamw")
    ap.add_argument("--schedule", default="cosine")
    ap.add_argument("--dropout", type=float, default=None, help="override every dropout rate (0: deterministic "
                                                                   "comparison with one process)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data-seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1, help="torch threads per process (default 1)")
    ap.add_argument("--no-sync-bn", dest="sync_bn", action="store_false",
                    help="keep BatchNorm statistics per rank (default: statistics over the global batch)")
    ap.add_argument("--out", default=None, help="write rank 0's result JSON here")
    ap.add_argument("--save", default=None, help="save rank 0's model under this directory")
    args = ap.parse_args(argv)
    result = train(args)
    if result["rank"] == 0:
        text = json.dumps(result, indent=2)
        if args.out:
            with open(args.out, "w") as fh:
                fh.write(text)
        print(json.dumps({k: result[k] for k in ("world_size", "backend", "test", "wall_s")}), flush=True)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
