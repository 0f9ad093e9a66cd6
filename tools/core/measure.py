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
    flops: Optional[int] = Field(default=None, description="FLOPs of one forward pass (2 x MACs).")
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
    """Peak bytes of live tensors created during one forward pass (tracked per torch function call)."""
    import torch
    from torch.utils._pytree import tree_flatten

    state = {"live": {}, "cur": 0, "peak": 0}

    def free(key: int) -> None:
        state["cur"] -= state["live"].pop(key, 0)

    def on_call(_name: str, _args: tuple, _kwargs: dict, out) -> None:
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and t.device.type == "cpu":
                try:
                    storage = t.untyped_storage()
                    key, nbytes = storage.data_ptr(), storage.nbytes()
                except (RuntimeError, NotImplementedError):  # sparse/meta tensors have no plain storage
                    continue
                if key and key not in state["live"]:
                    state["live"][key] = nbytes
                    state["cur"] += nbytes
                    state["peak"] = max(state["peak"], state["cur"])
                    weakref.finalize(t, free, key)

    with torch.inference_mode(), _function_mode(on_call):
        module(*inputs)
    return state["peak"]


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


# --- MACs and the layer table: forward hooks + a torch-function op counter ------------------------------
# Neither torch.utils.flop_counter.FlopCounterMode nor any TorchDispatchMode is used: entering a dispatch
# mode imports torch._dynamo (1.6-3.8 s cold). A TorchFunctionMode sees linear/conv/matmul/attention calls
# at the Python level, costs milliseconds and gives the same counts.
def _prod(xs) -> int:
    out = 1
    for x in xs:
        out *= int(x)
    return out


def _einsum_macs(args: tuple) -> int:
    eq = args[0] if isinstance(args[0], str) else None
    ops = args[1:] if eq else ()
    if len(ops) == 1 and isinstance(ops[0], (list, tuple)):
        ops = tuple(ops[0])
    if not eq or "..." in eq or len(ops) < 2:
        return 0
    sizes: dict[str, int] = {}
    for term, t in zip(eq.split("->")[0].split(","), ops):
        for letter, n in zip(term.strip(), t.shape):
            sizes[letter] = int(n)
    return _prod(sizes.values())


def _macs_of(name: str, args: tuple, kwargs: dict, out) -> int:
    """Multiply-accumulates of one torch function call (0 unless it is a matmul, conv or attention)."""
    import torch

    y = out[0] if isinstance(out, (tuple, list)) and out and isinstance(out[0], torch.Tensor) else out
    if name == "linear":
        x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
        return _prod(x.shape[:-1]) * w.shape[0] * w.shape[1]
    if name in ("conv1d", "conv2d", "conv3d"):
        w = args[1] if len(args) > 1 else kwargs["weight"]
        return y.shape[0] * _prod(y.shape[2:]) * _prod(w.shape)  # w: (C_out, C_in/groups, k...)
    if name in ("conv_transpose1d", "conv_transpose2d", "conv_transpose3d"):
        x, w = args[0], args[1] if len(args) > 1 else kwargs["weight"]
        return x.shape[0] * _prod(x.shape[2:]) * _prod(w.shape)  # every input position feeds C_out/g * k
    if name in ("matmul", "__matmul__", "__rmatmul__", "mm", "bmm", "mv"):
        a = args[1] if name == "__rmatmul__" else args[0]
        return y.numel() * a.shape[-1]
    if name in ("addmm", "baddbmm", "addbmm", "addmv"):
        return y.numel() * args[1].shape[-1] if name != "addbmm" else _prod(args[1].shape) * args[2].shape[-1]
    if name == "einsum":
        return _einsum_macs(args)
    if name == "scaled_dot_product_attention":
        q, k, v = (list(args) + [kwargs.get("query"), kwargs.get("key"), kwargs.get("value")])[:3]
        return _prod(q.shape[:-1]) * k.shape[-2] * (q.shape[-1] + v.shape[-1])
    if name == "multi_head_attention_forward":  # nn.MultiheadAttention: (L, N, E) inputs, projections inside
        q, k = args[0], args[1]
        L, N, E = q.shape if q.dim() == 3 else (q.shape[0], 1, q.shape[-1])
        S = k.shape[0]
        return (L + 2 * S) * N * E * E + 2 * N * L * S * E + L * N * E * E
    return 0


def _function_mode(on_call):
    """A TorchFunctionMode calling `on_call(name, args, kwargs, out)` after every torch function."""
    from torch.overrides import TorchFunctionMode

    class _Mode(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            on_call(getattr(func, "__name__", ""), args, kwargs, out)
            return out

    return _Mode()


def profile_forward(module, inputs: tuple) -> tuple[int, list[dict]]:
    """One forward pass with hooks: (total MACs, one record per module in call order).

    Each record: name (dotted path, "" for the root), type, depth, output_shape (first tensor of the
    first call), params (recursive), macs (inclusive of sub-modules), order (first call index), called.
    """
    import torch

    recs: dict[str, dict] = {}
    for name, sub in module.named_modules():
        recs[name] = {"name": name, "type": type(sub).__name__, "depth": 0 if not name else name.count(".") + 1,
                      "output_shape": None, "params": sum(p.numel() for p in sub.parameters()), "macs": 0,
                      "order": None, "called": False}
    stack: list[str] = []
    counter = {"order": 0, "total": 0}

    def on_call(fname: str, args: tuple, kwargs: dict, out) -> None:
        try:
            n = _macs_of(fname, args, kwargs, out)
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):  # unexpected signature: skip
            n = 0
        if n:
            counter["total"] += n
            for key in dict.fromkeys(stack):
                recs[key]["macs"] += n

    def pre(name):
        def hook(_mod, _args):
            stack.append(name)
            r = recs[name]
            if r["order"] is None:
                r["order"] = counter["order"]
                counter["order"] += 1
        return hook

    def post(name):
        def hook(_mod, _args, output):
            if stack and stack[-1] == name:
                stack.pop()
            r = recs[name]
            r["called"] = True
            if r["output_shape"] is None:
                t = _first_tensor(output)
                r["output_shape"] = list(t.shape) if t is not None else []
        return hook

    handles = []
    for name, sub in module.named_modules():
        handles.append(sub.register_forward_pre_hook(pre(name)))
        handles.append(sub.register_forward_hook(post(name)))
    try:
        with torch.inference_mode(), _function_mode(on_call):
            module(*inputs)
    finally:
        for h in handles:
            h.remove()
    return counter["total"], list(recs.values())


def count_macs(module, inputs: tuple) -> Optional[int]:
    """Multiply-accumulates of one forward pass (matmul, linear, conv, attention), counted with hooks."""
    try:
        return profile_forward(module, inputs)[0]
    except (RuntimeError, TypeError, ValueError):  # a forward the counter cannot follow: not counted
        return None


def count_flops(module, inputs: tuple) -> Optional[int]:
    """FLOPs of one forward pass: 2 x `count_macs` (one multiply and one add per MAC)."""
    macs = count_macs(module, inputs)
    return None if macs is None else 2 * macs


def layer_table(module, inputs: tuple, *, max_rows: int = 24) -> list[dict]:
    """A torchinfo-like summary: rows (name, type, output_shape, params, macs) from one hooked forward pass.

    Starts from the root's children and expands the largest container while the table stays within
    `max_rows`, so a CNN shows every block and a 12-layer transformer shows its stacks.
    """
    was_training = getattr(module, "training", False)
    module.eval()
    try:
        _, recs = profile_forward(module, inputs)
    finally:
        module.train(was_training)
    by = {r["name"]: r for r in recs}
    children: dict[str, list[str]] = {}
    for r in recs:
        if r["name"]:
            parent = r["name"].rsplit(".", 1)[0] if "." in r["name"] else ""
            children.setdefault(parent, []).append(r["name"])

    def useful(n: str) -> bool:
        r = by[n]
        return r["called"] or r["params"] > 0

    def kids(n: str) -> list[str]:
        return [k for k in children.get(n, []) if useful(k)]

    shown = kids("")
    while True:
        # a container that was never called (ModuleList) has no output of its own: always expand it
        flat = [k for n in shown for k in ([n] if by[n]["called"] or not kids(n) else kids(n))]
        if flat == shown:
            # a module that uses a child functionally (never calls it) stays one row: its MACs are its own
            expandable = [n for n in shown if kids(n) and all(by[k]["called"] for k in kids(n))]
            if not expandable:
                break
            best = max(expandable, key=lambda n: by[n]["params"])
            new = [k for n in shown for k in (kids(n) if n == best else [n])]
            if len(new) > max_rows:
                break
            shown = new
        else:
            shown = flat

    def first_call(n: str) -> int:
        orders = [r["order"] for r in recs if r["order"] is not None and (r["name"] == n or r["name"].startswith(n + "."))]
        return min(orders) if orders else 10**9

    shown.sort(key=first_call)
    return [{"name": n, "type": by[n]["type"], "output_shape": by[n]["output_shape"] or [],
             "params": by[n]["params"], "macs": by[n]["macs"]} for n in shown]


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
        n_macs = count_macs(module, example_inputs) if flops else None
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
        macs=n_macs, flops=None if n_macs is None else 2 * n_macs,
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
