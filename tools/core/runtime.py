"""Careful measurement of a model: size, parameters, sparsity, MACs, latency and held-out metric.

Latency protocol: a fixed intra-op thread count (``torch.set_num_threads`` / ORT
``intra_op_num_threads``), warm-up runs, then several timed runs whose median is reported.
When two models are compared their runs are interleaved (A, B, A, B, ...) so that noise from
other processes on a shared machine hits both alike.
"""

from __future__ import annotations

import gzip
import io
import statistics
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Optional, Sequence

from tensor_agent.tools.core.stats import ModelStats


# --------------------------------------------------------------------------- helpers
@contextmanager
def num_threads(threads: int):
    """Temporarily set torch's intra-op thread count."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        yield
    finally:
        torch.set_num_threads(old)


def first_output(out: Any):
    """The logits tensor of a model output (tensor, tuple, dict or HF ModelOutput)."""
    import torch

    if isinstance(out, torch.Tensor):
        return out
    if hasattr(out, "logits") and getattr(out, "logits") is not None:
        return out.logits
    if isinstance(out, dict):
        for key in ("logits", "out", "output", "last_hidden_state"):
            if key in out:
                return out[key]
        return next(iter(out.values()))
    if isinstance(out, (list, tuple)):
        return first_output(out[0])
    raise TypeError(f"cannot read a tensor from model output of type {type(out).__name__}")


# --------------------------------------------------------------------------- size and params
def serialized_size(module) -> tuple[int, int]:
    """(bytes, gzip bytes) of ``torch.save(module.state_dict())``."""
    import torch

    buf = io.BytesIO()
    torch.save(module.state_dict(), buf)
    raw = buf.getvalue()
    return len(raw), len(gzip.compress(raw, compresslevel=6))


def _weight_of(m, name: str):
    """The effective weight/bias of a module, float or quantized (callable), or None."""
    import torch

    w = getattr(m, name, None)
    if callable(w) and not isinstance(w, torch.Tensor):
        try:
            w = w()
        except Exception:
            return None
    return w if isinstance(w, torch.Tensor) else None


def weight_tensors(module) -> list[tuple[str, Any, bool]]:
    """(name, tensor, prunable) for every parameter-like tensor of a (maybe quantized/pruned) model.

    Quantized layers keep their weights in packed params (``m.weight()``); pruned layers keep
    ``weight_orig`` and a mask (the effective ``m.weight`` is used). Shared tensors count once.
    """
    import torch

    seen: set[int] = set()
    out: list[tuple[str, Any, bool]] = []
    for mname, m in module.named_modules():
        handled: set[str] = set()
        for attr in ("weight", "bias"):
            w = _weight_of(m, attr)
            if w is None:
                continue
            handled.update({attr, attr + "_orig"})
            if not w.is_quantized:  # quantized weights are unpacked copies: count each layer once
                key = w.untyped_storage().data_ptr()
                if key in seen:
                    continue
                seen.add(key)
            prunable = attr == "weight" and w.dim() >= 2 and not isinstance(m, torch.nn.Embedding)
            out.append((f"{mname}.{attr}".strip("."), w, prunable))
        for pname, p in m.named_parameters(recurse=False):
            if pname in handled:
                continue
            key = p.untyped_storage().data_ptr()
            if key in seen:
                continue
            seen.add(key)
            out.append((f"{mname}.{pname}".strip("."), p, False))
    return out


def param_stats(module) -> dict[str, float]:
    """params, nonzero params, and sparsity of the prunable (Conv/Linear) weights."""
    import torch

    total = nonzero = p_total = p_zero = 0
    with torch.no_grad():
        for _, w, prunable in weight_tensors(module):
            t = w.dequantize() if w.is_quantized else w
            n = t.numel()
            z = int((t == 0).sum().item())
            total += n
            nonzero += n - z
            if prunable:
                p_total += n
                p_zero += z
    return {"params": total, "nonzero_params": nonzero, "sparsity": (p_zero / p_total) if p_total else 0.0,
            "prunable_params": p_total}


def linear_weight_bytes(module) -> int:
    """Bytes held by the weights of Linear layers (float or quantized), from their storage."""
    import torch

    total = 0
    for m in module.modules():
        name = type(m).__name__
        if isinstance(m, torch.nn.Linear) or name == "Linear" and "quantized" in type(m).__module__:
            w = _weight_of(m, "weight")
            if w is not None:
                total += w.numel() * w.element_size()
    return total


def count_macs(module, example_inputs: tuple) -> Optional[int]:
    """MACs of one forward pass (FLOP counter / 2); None when it cannot be counted."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    try:
        module.eval()
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            module(*example_inputs)
        return int(counter.get_total_flops() // 2)
    except Exception:
        return None


# --------------------------------------------------------------------------- latency
def time_interleaved(fns: dict[str, Callable[[], Any]], *, runs: int = 20, warmup: int = 3,
                     threads: int = 1) -> dict[str, dict[str, float]]:
    """Median/p90 latency (ms) of each zero-argument callable, runs interleaved.

    Args:
        fns: name -> callable running one batch.
        runs: timed runs per callable (after warm-up).
        warmup: untimed runs per callable first.
        threads: torch intra-op threads during the measurement.
    """
    import torch

    times: dict[str, list[float]] = {k: [] for k in fns}
    with num_threads(threads), torch.inference_mode():
        for _ in range(max(0, warmup)):
            for fn in fns.values():
                fn()
        for _ in range(max(1, runs)):
            for k, fn in fns.items():
                t0 = time.perf_counter()
                fn()
                times[k].append((time.perf_counter() - t0) * 1000.0)
    out = {}
    for k, ts in times.items():
        ts_sorted = sorted(ts)
        out[k] = {"median": statistics.median(ts), "p90": ts_sorted[min(len(ts) - 1, int(0.9 * len(ts)))],
                  "runs": len(ts)}
    return out


def time_paired(fns: dict[str, Callable[[], Any]], *, runs: int = 20, warmup: int = 3,
                threads: int = 1) -> dict[str, list[float]]:
    """Per-round latencies (ms) of each callable, all timed in the same rounds, order rotated per round.

    Round r times every callable once, back to back, starting at a different one each round, so
    the i-th entries of two lists are a pair measured under the same machine load. Feed them to
    `stats.paired_ratio` for a speed-up with its interval.
    """
    import torch

    keys = list(fns)
    times: dict[str, list[float]] = {k: [] for k in keys}
    with num_threads(threads), torch.inference_mode():
        for _ in range(max(0, warmup)):
            for k in keys:
                fns[k]()
        for r in range(max(1, runs)):
            for k in keys[r % len(keys):] + keys[:r % len(keys)]:
                t0 = time.perf_counter()
                fns[k]()
                times[k].append((time.perf_counter() - t0) * 1000.0)
    return times


def summarize_times(ts: Sequence[float]) -> dict[str, float]:
    """Median and p90 (ms) of one list of timings."""
    s = sorted(ts)
    return {"median": statistics.median(s), "p90": s[min(len(s) - 1, int(0.9 * len(s)))], "runs": len(s)}


# --------------------------------------------------------------------------- runners
class Runner:
    """A uniform way to call and describe a model: torch module or ONNX Runtime session.

    Attributes:
        backend: name of the runtime (torch-fp32, torch-int8-dynamic, onnxruntime-int8, ...).
        module: the torch module (None for ONNX).
        onnx_path: the .onnx file (None for torch).
    """

    def __init__(self, backend: str, *, module=None, onnx_path: Optional[str] = None, threads: int = 1,
                 input_names: Optional[Sequence[str]] = None, macs_reference=None):
        self.backend = backend
        self.module = module
        self.onnx_path = onnx_path
        self.threads = threads
        self.input_names = list(input_names or [])
        self.macs_reference = macs_reference  # a float module with the same graph (for quantized MACs)
        self._session = None

    # -- calling
    @property
    def session(self):
        if self._session is None and self.onnx_path:
            import onnxruntime as ort

            so = ort.SessionOptions()
            so.intra_op_num_threads = max(1, int(self.threads))
            so.inter_op_num_threads = 1
            so.log_severity_level = 3
            so.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-wait between runs
            self._session = ort.InferenceSession(self.onnx_path, so, providers=["CPUExecutionProvider"])
        return self._session

    def __call__(self, *inputs):
        """Logits for a batch (torch tensors in, torch tensor out)."""
        import torch

        if self.module is not None:
            with torch.inference_mode():
                return first_output(self.module(*inputs))
        sess = self.session
        names = [i.name for i in sess.get_inputs()]
        feeds = {n: x.detach().cpu().numpy() for n, x in zip(names, inputs)}
        return torch.from_numpy(sess.run(None, feeds)[0])

    def timed_fn(self, inputs: tuple) -> Callable[[], Any]:
        """A zero-argument callable running one batch (inputs prepared once)."""
        if self.module is not None:
            module = self.module.eval()
            return lambda: module(*inputs)
        sess = self.session
        names = [i.name for i in sess.get_inputs()]
        feeds = {n: x.detach().cpu().numpy() for n, x in zip(names, inputs)}
        return lambda: sess.run(None, feeds)

    # -- static numbers
    def static_stats(self, example_inputs: tuple) -> dict[str, Any]:
        if self.module is not None:
            size, gz = serialized_size(self.module)
            ps = param_stats(self.module)
            ref = self.macs_reference if self.macs_reference is not None else self.module
            one = tuple(x[:1] for x in example_inputs)
            return {"size_bytes": size, "gzip_bytes": gz, "macs": count_macs(ref, one), **ps}
        return onnx_stats(self.onnx_path) | {"macs": (count_macs(self.macs_reference, tuple(x[:1] for x in example_inputs))
                                                       if self.macs_reference is not None else None)}


def onnx_stats(path: str) -> dict[str, Any]:
    """Size, parameter count and sparsity of an ONNX file (initializers)."""
    import os

    import numpy as np
    import onnx
    from onnx import numpy_helper

    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        gz = len(gzip.compress(fh.read(), compresslevel=6))
    model = onnx.load(path)
    total = zero = p_total = p_zero = 0
    for init in model.graph.initializer:
        arr = numpy_helper.to_array(init)
        if arr.dtype.kind not in "fiu" or arr.size <= 1:
            continue  # scales / zero points
        if "scale" in init.name or "zero_point" in init.name:
            continue
        n, z = int(arr.size), int((arr == 0).sum()) if arr.dtype.kind == "f" else 0
        total += n
        if arr.ndim >= 2:
            p_total += n
            p_zero += z
        zero += z
    return {"size_bytes": size, "gzip_bytes": gz, "params": total, "nonzero_params": total - zero,
            "sparsity": (p_zero / p_total) if p_total else 0.0, "prunable_params": p_total}


def evaluate_runner(runner: Runner, batches: Iterable[tuple[tuple, Any]], task: str = "classification"
                    ) -> tuple[Optional[str], Optional[float], int]:
    """(metric name, value, examples) of a runner on held-out batches.

    Classification -> accuracy (fraction); regression -> R^2.
    """
    import torch

    correct = n = 0
    ys, ps = [], []
    for inputs, y in batches:
        out = runner(*inputs)
        if task == "classification":
            pred = out.argmax(dim=-1)
            if pred.shape != y.shape:  # e.g. node classification with a mask, or token-level
                pred = pred.reshape(-1)[: y.numel()]
                y = y.reshape(-1)
            correct += int((pred == y).sum().item())
            n += int(y.numel())
        else:
            ys.append(y.reshape(-1).float())
            ps.append(out.reshape(-1).float()[: y.numel()])
            n += int(y.numel())
    if n == 0:
        return None, None, 0
    if task == "classification":
        return "accuracy", correct / n, n
    y = torch.cat(ys)
    p = torch.cat(ps)
    ss_res = float(((y - p) ** 2).sum())
    ss_tot = float(((y - y.mean()) ** 2).sum()) or 1.0
    return "r2", 1.0 - ss_res / ss_tot, n


def measure_pair(before: Runner, after: Runner, example_inputs: tuple, *, eval_batches: Optional[Callable] = None,
                 task: str = "classification", threads: int = 1, runs: int = 20, warmup: int = 3,
                 before_stats: Optional[ModelStats] = None) -> tuple[ModelStats, ModelStats]:
    """Measure two runners the same way (latency interleaved), returning (before, after) stats.

    Args:
        eval_batches: zero-argument callable returning an iterable of (inputs, labels) held-out batches.
        before_stats: stats of `before` already measured; its latency is re-measured alongside `after`
            so that the speed-up compares like with like.
    """
    lat = time_interleaved({"before": before.timed_fn(example_inputs), "after": after.timed_fn(example_inputs)},
                           runs=runs, warmup=warmup, threads=threads)
    stats = []
    batch = int(example_inputs[0].shape[0]) if example_inputs else 1
    for key, r in (("before", before), ("after", after)):
        if key == "before" and before_stats is not None:
            st = before_stats.model_copy(update={"latency_ms_median": lat[key]["median"],
                                                 "latency_ms_p90": lat[key]["p90"], "runs": lat[key]["runs"]})
            stats.append(st)
            continue
        static = r.static_stats(example_inputs)
        name, value, n = (evaluate_runner(r, eval_batches(), task) if eval_batches is not None else (None, None, 0))
        stats.append(ModelStats(backend=r.backend, size_bytes=static["size_bytes"], gzip_bytes=static.get("gzip_bytes"),
                                params=static["params"], nonzero_params=static["nonzero_params"],
                                sparsity=static["sparsity"], macs=static.get("macs"),
                                latency_ms_median=lat[key]["median"], latency_ms_p90=lat[key]["p90"],
                                batch_size=batch, threads=threads, runs=lat[key]["runs"],
                                metric_name=name, metric=value, eval_examples=n))
    return stats[0], stats[1]
