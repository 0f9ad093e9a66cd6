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
