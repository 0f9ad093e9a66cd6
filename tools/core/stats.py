"""Measured statistics of one model on this machine (pure pydantic, no torch)."""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field


class ModelStats(BaseModel):
    """What one model measures on this machine."""

    backend: str = Field(description="Runtime the numbers were taken with: torch-fp32, torch-int8-dynamic, "
                                     "torch-int8-static, onnxruntime-fp32, onnxruntime-int8, ...")
    size_bytes: int = Field(description="Serialized size in bytes (torch.save of the state dict, or the .onnx file).")
    gzip_bytes: Optional[int] = Field(default=None, description="Serialized size after gzip (shows what sparsity saves).")
    params: int = Field(description="Parameter count (quantized weights included, pruned channels excluded).")
    nonzero_params: int = Field(description="Parameters that are not exactly zero.")
    sparsity: float = Field(description="Fraction of weights (of prunable layers) that are exactly zero.")
    macs: Optional[int] = Field(default=None, description="Multiply-accumulates of one forward pass at batch 1 "
                                                          "(dense count; sparsity does not reduce it).")
    latency_ms_median: Optional[float] = Field(default=None, description="Median latency of one batch, ms.")
    latency_ms_p90: Optional[float] = Field(default=None, description="90th percentile latency of one batch, ms.")
    batch_size: int = Field(description="Batch size the latency was measured at.")
    threads: int = Field(description="Intra-op threads used for the latency measurement.")
    runs: int = Field(default=0, description="Timed runs (after warm-up).")
    metric_name: Optional[str] = Field(default=None, description="Held-out metric, e.g. accuracy.")
    metric: Optional[float] = Field(default=None, description="Held-out metric value (fraction for accuracy).")
    eval_examples: int = Field(default=0, description="Held-out examples the metric was computed on.")


class Interval(BaseModel):
    """A measured ratio with its bootstrap confidence interval (paired, interleaved runs)."""

    value: float = Field(description="Median of the per-round ratios.")
    low: float = Field(description="Lower end of the confidence interval.")
    high: float = Field(description="Upper end of the confidence interval.")
    level: float = Field(default=0.95, description="Confidence level of [low, high].")
    rounds: int = Field(default=0, description="Paired rounds the ratios came from.")

    def excludes(self, x: float) -> bool:
        """Whether `x` lies outside the interval (the difference exceeds the measured noise)."""
        return x < self.low or x > self.high

    def text(self, unit: str = "x") -> str:
        return f"{self.value:.2f}{unit} [{self.low:.2f}-{self.high:.2f}]"


def _quantile(xs: list[float], q: float) -> float:
    s = sorted(xs)
    if not s:
        return float("nan")
    pos = q * (len(s) - 1)
    lo, hi = int(pos), min(len(s) - 1, int(pos) + 1)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def paired_ratio(numer: list[float], denom: list[float], *, level: float = 0.95, resamples: int = 2000,
                 seed: int = 0) -> Interval:
    """Median of numer[i] / denom[i] over paired rounds, with a bootstrap interval of that median.

    Example: ``paired_ratio(baseline_ms, candidate_ms)`` is the candidate's speed-up. Rounds are
    paired (timed back to back), so load from other processes hits both sides of a ratio alike.
    """
    import random
    import statistics

    if len(numer) != len(denom) or not numer:
        raise ValueError("paired_ratio needs two equally long, non-empty lists of timings")
    ratios = [a / b for a, b in zip(numer, denom) if b > 0]
    rng = random.Random(seed)
    meds = sorted(statistics.median(rng.choices(ratios, k=len(ratios))) for _ in range(resamples))
    tail = (1.0 - level) / 2.0
    return Interval(value=statistics.median(ratios), low=_quantile(meds, tail), high=_quantile(meds, 1.0 - tail),
                    level=level, rounds=len(ratios))


def fmt_bytes(n: Optional[float]) -> str:
    """A byte count with a unit a person reads at a glance: 512 B, 3.2 KB, 23.0 MB, 1.20 GB (SI, 1000)."""
    if n is None:
        return "n/a"
    n = float(n)
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if abs(n) >= scale:
            v = n / scale
            return f"{v:.2f} {unit}" if v < 10 else (f"{v:.1f} {unit}" if v < 100 else f"{v:.0f} {unit}")
    return f"{n:.0f} B"
