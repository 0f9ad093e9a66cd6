"""Measured figures of a built model on this machine: parameters, size, FLOPs, latency, peak memory.

`measure_model` is shared with the compressor: call it before and after compressing to compare.
torch is imported inside the functions only.
"""

from __future__ import annotations

import io
import statistics
import time
import weakref
from typing import Any, Optional

from pydantic import BaseModel, Field


#: a first forward pass slower than this (ms) caps the timed runs at 5 and the warm-up at 1
SLOW_FORWARD_MS = 150.0


class Measurements(BaseModel):
    """What one model measures on this machine (CPU)."""

    params: int = Field(description="Number of parameters (all, trainable or not); tree nodes for boosters.")
    trainable_params: int = Field(default=0, description="Parameters with requires_grad.")
    size_mb: float = Field(description="Serialized size of the state dict (torch.save) or booster, MB (2^20 bytes).")
    macs: Optional[int] = Field(default=None, description="Multiply-accumulates of one forward pass at batch_size.")
    flops: Optional[int] = Field(default=None, description="FLOPs of one forward pass (torch.utils.flop_counter).")
    latency_ms_median: float = Field(description="Median wall time of one forward pass at batch_size, ms.")
    latency_ms: float = Field(default=0.0, description="Same as latency_ms_median (kept for readability).")
    latency_ms_p90: Optional[float] = Field(default=None, description="90th percentile of the timed runs, ms.")
    batch_size: int = Field(description="Batch size of the timed forward pass.")
    threads: int = Field(description="torch intra-op threads during timing.")
    runs: int = Field(default=0, description="Timed runs (after warm-up).")
    peak_mem_mb: float = Field(description="Weights + inputs + peak live activation tensors during forward, MB.")
    output_shape: list[int] = Field(default_factory=list, description="Shape of the output of one forward pass.")

    def row(self) -> dict[str, Any]:
        """Compact, human-friendly figures for tables."""
        return {
            "params": self.params, "size_mb": round(self.size_mb, 3),
            "MFLOPs": None if self.flops is None else round(self.flops / 1e6, 2),
            "latency_ms": round(self.latency_ms_median, 3), "batch": self.batch_size,
            "threads": self.threads, "peak_mem_mb": round(self.peak_mem_mb, 2),
            "output_shape": self.output_shape,
        }


def _tensor_bytes(obj: Any) -> int:
    import torch

    from torch.utils._pytree import tree_flatten

    return sum(t.numel() * t.element_size() for t in tree_flatten(obj)[0] if isinstance(t, torch.Tensor))


def _first_tensor(out: Any):
    """The main output tensor of a forward pass (logits of HF outputs, first of tuples)."""
    import torch

    if isinstance(out, torch.Tensor):
        return out
    for attr in ("logits", "sample", "last_hidden_state"):
        val = getattr(out, attr, None)
        if isinstance(val, torch.Tensor):
            return val
    if isinstance(out, dict):
        for val in out.values():
            if isinstance(val, torch.Tensor):
                return val
    if isinstance(out, (list, tuple)):
        for val in out:
            found = _first_tensor(val)
            if found is not None:
                return found
    return None


def _peak_activation_bytes(module, inputs: tuple) -> int:
    """Peak bytes of live tensors created during one forward pass (a TorchDispatchMode tracker)."""
    import torch
    from torch.utils._pytree import tree_flatten
    from torch.utils._python_dispatch import TorchDispatchMode

    class _Tracker(TorchDispatchMode):
        def __init__(self) -> None:
            super().__init__()
            self.live: dict[int, int] = {}
            self.cur = 0
            self.peak = 0

        def _free(self, key: int) -> None:
            self.cur -= self.live.pop(key, 0)

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for t in tree_flatten(out)[0]:
                if isinstance(t, torch.Tensor) and t.device.type == "cpu":
                    try:
                        storage = t.untyped_storage()
                        key = storage.data_ptr()
                        nbytes = storage.nbytes()
                    except Exception:  # noqa: BLE001 - sparse/meta tensors have no plain storage
                        continue
                    if key and key not in self.live:
                        self.live[key] = nbytes
                        self.cur += nbytes
                        self.peak = max(self.peak, self.cur)
                        weakref.finalize(t, self._free, key)
            return out

    tracker = _Tracker()
    with torch.inference_mode(), tracker:
        module(*inputs)
    return tracker.peak


def count_params(module) -> tuple[int, int]:
    """(all parameters, trainable parameters) of a torch module."""
    total = trainable = 0
    for p in module.parameters():
        n = p.numel()
        total += n
        if p.requires_grad:
            trainable += n
    return total, trainable


def serialized_size_mb(module) -> float:
    """Size of `torch.save(module.state_dict())` in MB."""
    import torch

    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    return buf.tell() / 2**20


def count_flops(module, inputs: tuple) -> Optional[int]:
    """FLOPs of one forward pass (matmul/conv/attention counted by torch.utils.flop_counter)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    try:
        with torch.inference_mode(), FlopCounterMode(display=False) as counter:
            module(*inputs)
        return int(counter.get_total_flops())
    except Exception:  # noqa: BLE001 - some ops (e.g. sparse scatter) cannot be counted
        return None


def time_forward(module, inputs: tuple, *, threads: int = 1, runs: int = 20, warmup: int = 2,
                 abort_ms: Optional[float] = None) -> list[float]:
    """Wall times (ms) of `runs` forward passes after `warmup` passes, with `threads` intra-op threads.

    With `abort_ms`, stops early once two timed runs both exceed it (clearly over a budget).
    """
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        times: list[float] = []
        with torch.inference_mode():
            for _ in range(max(0, warmup)):
                module(*inputs)
            for _ in range(max(1, runs)):
                t0 = time.perf_counter()
                module(*inputs)
                times.append((time.perf_counter() - t0) * 1000.0)
                if abort_ms is not None and len(times) >= 2 and min(times) > abort_ms:
                    break
        return times
    finally:
        torch.set_num_threads(old)


def measure_model(module, example_inputs: tuple, *, batch_size: int, threads: int = 1, runs: int = 20,
                  warmup: int = 2, flops: bool = True, memory: bool = True,
                  abort_ms: Optional[float] = None) -> Measurements:
    """Measure a torch module on the CPU.

    Args:
        module: the model (put in eval mode for the measurement, then restored).
        example_inputs: positional inputs of one forward pass, already at `batch_size`.
        batch_size: the batch size the inputs carry (reported with the latency).
        threads: torch intra-op threads used while timing.
        runs: timed runs (median reported); capped at 5 when one forward pass takes over SLOW_FORWARD_MS.
        warmup: untimed runs first.
        flops: count FLOPs/MACs (one extra forward pass).
        memory: track peak activation memory (one extra forward pass).
        abort_ms: stop timing early when two runs exceed this (for searches against a latency budget).

    Returns:
        Measurements with params, size_mb, macs, flops, latency_ms_median, peak_mem_mb and output_shape.
    """
    import torch

    if not isinstance(example_inputs, tuple):
        example_inputs = (example_inputs,)
    was_training = getattr(module, "training", False)
    module.eval()
    try:
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = module(*example_inputs)
        first_ms = (time.perf_counter() - t0) * 1000.0
        if first_ms > SLOW_FORWARD_MS:  # a slow model: fewer runs keep the measurement within seconds
            runs, warmup = min(runs, 5), min(warmup, 1)
        main = _first_tensor(out)
        output_shape = list(main.shape) if main is not None else []
        total, trainable = count_params(module)
        size_mb = serialized_size_mb(module)
        n_flops = count_flops(module, example_inputs) if flops else None
        weights_bytes = sum(p.numel() * p.element_size() for p in module.parameters()) + \
            sum(b.numel() * b.element_size() for b in module.buffers())
        act = _peak_activation_bytes(module, example_inputs) if memory else 0
        times = time_forward(module, example_inputs, threads=threads, runs=runs, warmup=warmup, abort_ms=abort_ms)
    finally:
        module.train(was_training)
    med = statistics.median(times)
    p90 = sorted(times)[min(len(times) - 1, int(round(0.9 * (len(times) - 1))))]
    return Measurements(
        params=total, trainable_params=trainable, size_mb=size_mb,
        macs=None if n_flops is None else n_flops // 2, flops=n_flops,
        latency_ms_median=med, latency_ms=med, latency_ms_p90=p90, batch_size=batch_size, threads=threads,
        runs=len(times), peak_mem_mb=(weights_bytes + _tensor_bytes(example_inputs) + act) / 2**20,
        output_shape=output_shape,
    )


def measure_booster(model, n_features: int, *, batch_size: int, num_classes: int | None = None, runs: int = 20,
                    threads: int = 1, fit_rows: int = 256, seed: int = 0) -> Measurements:
    """Measure an XGBoost sklearn-style model: fits a clone on synthetic rows when it is not fitted yet.

    params = number of tree nodes; size_mb = saved booster (UBJSON) size; latency = predict on batch_size rows.
    """
    import copy
    import tracemalloc

    import numpy as np

    rng = np.random.default_rng(seed)
    est = model
    try:
        est.get_booster()
    except Exception:  # noqa: BLE001 - not fitted: fit a clone on synthetic data of the right width
        est = copy.deepcopy(model)
        X = rng.standard_normal((fit_rows, n_features)).astype("float32")
        if num_classes and num_classes > 1:
            y = np.arange(fit_rows) % num_classes
        else:
            y = X[:, 0] * 2.0 + rng.standard_normal(fit_rows)
        est.set_params(n_jobs=threads)
        est.fit(X, y)
    booster = est.get_booster()
    raw = booster.save_raw(raw_format="ubj")
    nodes = sum(tree.count("\n") for tree in booster.get_dump())  # one line per node
    Xb = rng.standard_normal((batch_size, n_features)).astype("float32")
    fn = est.predict_proba if hasattr(est, "predict_proba") and num_classes else est.predict
    for _ in range(2):
        out = fn(Xb)
    times = []
    for _ in range(max(1, runs)):
        t0 = time.perf_counter()
        out = fn(Xb)
        times.append((time.perf_counter() - t0) * 1000.0)
    tracemalloc.start()
    fn(Xb)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    med = statistics.median(times)
    return Measurements(
        params=nodes, trainable_params=nodes, size_mb=len(raw) / 2**20, macs=None, flops=None,
        latency_ms_median=med, latency_ms=med, latency_ms_p90=sorted(times)[int(0.9 * (len(times) - 1))],
        batch_size=batch_size, threads=threads, runs=len(times),
        peak_mem_mb=(len(raw) + Xb.nbytes + peak) / 2**20, output_shape=list(np.asarray(out).shape),
    )
