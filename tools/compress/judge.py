"""Judging a measured result against the request's goals: one line per check, with its numbers."""

from __future__ import annotations

from typing import Optional

from tensor_agent.tools.compress.report import ModelStats, TechniqueResult, Verdict
from tensor_agent.tools.compress.request import Goals
from tensor_agent.tools.core.context import json_safe
from tensor_agent.tools.core.stats import Interval, fmt_bytes

EXPORT_TECHNIQUES = {"onnx", "torchscript", "torchserve"}
PARITY_TOLERANCE = 1e-4


class _Checks:
    def __init__(self):
        self.checks: list[str] = []
        self.failures: list[str] = []

    def __call__(self, ok: bool, line: str) -> None:
        self.checks.append(line if ok else "FAILED: " + line)
        if not ok:
            self.failures.append(line)


def _accuracy(c: _Checks, before: ModelStats, after: ModelStats, goals: Goals) -> None:
    if before.metric is None or after.metric is None:
        c(False, "held-out metric not measured (no dataset known for this model): cannot verify accuracy")
        return
    drop = (before.metric - after.metric) * 100.0
    c(drop <= goals.tolerance_points + 1e-9, f"{after.metric_name} {before.metric:.4f} -> {after.metric:.4f} "
      f"(drop {drop:.2f} points, tolerance {goals.tolerance_points:g})")
    if goals.accuracy_target is not None:
        c(after.metric >= goals.accuracy_target, f"{after.metric_name} {after.metric:.4f} vs target "
          f"{goals.accuracy_target:.4f}")


def _budgets(c: _Checks, after: ModelStats, goals: Goals, speedup: Optional[Interval], technique: str) -> None:
    if goals.speed and technique not in EXPORT_TECHNIQUES:
        c(speedup is not None and speedup.value >= goals.min_speedup,
          f"speed-up {speedup.text() if speedup else 'n/a'} at batch {after.batch_size}, {after.threads} "
          f"thread(s) (needs >= {goals.min_speedup:g}x: speed was a goal)")
    if goals.latency_ms is not None:
        c(after.latency_ms_median is not None and after.latency_ms_median <= goals.latency_ms,
          f"latency {after.latency_ms_median or float('nan'):.2f} ms vs budget {goals.latency_ms:g} ms")
    if goals.size_mb is not None:
        c(after.size_bytes / 1e6 <= goals.size_mb, f"size {fmt_bytes(after.size_bytes)} vs budget {goals.size_mb:g} MB")
    if goals.max_params is not None:
        c(after.params <= goals.max_params, f"params {after.params} vs budget {goals.max_params}")


def _technique(c: _Checks, before: ModelStats, after: ModelStats, goals: Goals, technique: str,
               details: dict) -> None:
    if technique in {"pruning", "lottery_ticket"}:
        target = details.get("target_sparsity", goals.sparsity) or 0.0
        c(after.sparsity >= target - 0.005, f"sparsity {after.sparsity:.3f} vs target {target:.3f}")
    if technique == "structured_pruning":
        want = details.get("macs_target")
        ratio = (before.macs / after.macs) if before.macs and after.macs else None
        c(ratio is not None and ratio >= (want * 0.98 if want else 1.0 + 1e-9),
          f"MACs reduced {ratio or 0:.2f}x" + (f" (target {want:g}x)" if want else ""))
    if technique in {"dynamic_int8", "static_int8", "qat", "onnx_int8", "distillation"}:
        c(after.size_bytes < before.size_bytes, f"size {fmt_bytes(before.size_bytes)} -> {fmt_bytes(after.size_bytes)} "
          f"({before.size_bytes / max(1, after.size_bytes):.2f}x smaller)")
    if technique in EXPORT_TECHNIQUES:
        diff = details.get("max_abs_diff")
        c(diff is not None and diff <= PARITY_TOLERANCE,
          f"export parity: max |output difference| {diff if diff is not None else 'n/a'} between the written "
          f"file and the model it was exported from (must be <= {PARITY_TOLERANCE:g})")


def judge(before: ModelStats, after: ModelStats, goals: Goals, technique: str, details: dict,
          speedup: Optional[Interval] = None) -> Verdict:
    """Check a result against the goals; every check is a line with its numbers."""
    c = _Checks()
    if speedup is None and before.latency_ms_median and after.latency_ms_median:  # unpaired: a point value
        v = before.latency_ms_median / after.latency_ms_median
        speedup = Interval(value=v, low=v, high=v, rounds=0)
    if technique not in EXPORT_TECHNIQUES:
        _accuracy(c, before, after, goals)
        _budgets(c, after, goals, speedup, technique)
    _technique(c, before, after, goals, technique, details)
    return Verdict(met=not c.failures, checks=c.checks, failures=c.failures)


def make_result(technique: str, backend: str, before: ModelStats, after: ModelStats, goals: Goals,
                details: dict, artifacts: dict, notes: list, speedup: Optional[Interval] = None) -> TechniqueResult:
    """A TechniqueResult with its ratios and verdict."""
    def ratio(a, b):
        return (a / b) if a and b else None

    return TechniqueResult(
        technique=technique, backend=backend, before=before, after=after,
        size_ratio=ratio(before.size_bytes, after.size_bytes), weight_size_ratio=details.get("linear_weight_ratio"),
        param_ratio=ratio(before.params, after.params), macs_ratio=ratio(before.macs, after.macs),
        speedup=speedup.value if speedup is not None else None, speedup_interval=speedup,
        metric_drop_points=((before.metric - after.metric) * 100.0
                            if before.metric is not None and after.metric is not None else None),
        verdict=judge(before, after, goals, technique, details, speedup), details=json_safe(details),
        artifacts=dict(artifacts), notes=list(notes))
