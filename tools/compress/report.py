"""The compression report: before/after measurements side by side, and the verdict.

Pure pydantic (no torch): the graph serialises it with ``model_dump(mode="json")``.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from tensor_agent.tools.core.stats import ModelStats  # noqa: F401  (part of the report API)

#: Default accuracy tolerance, in points (percentage points of the held-out metric).
DEFAULT_TOLERANCE_POINTS = 1.0


class Verdict(BaseModel):
    """The result judged against the request's goals and constraints."""

    met: bool = Field(description="Every check passed.")
    checks: list[str] = Field(default_factory=list, description="One line per check, with the numbers.")
    failures: list[str] = Field(default_factory=list, description="The checks that failed.")


class TechniqueResult(BaseModel):
    """One compression step (or candidate), measured before and after."""

    technique: str = Field(description="dynamic_int8, static_int8, qat, onnx_int8, pruning, structured_pruning, "
                                       "lottery_ticket, distillation, onnx, torchscript, pipeline.")
    backend: str = Field(description="Back-end that runs the result.")
    before: ModelStats
    after: ModelStats
    size_ratio: Optional[float] = Field(default=None, description="before.size_bytes / after.size_bytes.")
    weight_size_ratio: Optional[float] = Field(default=None, description="Size ratio of the quantized/pruned "
                                                                        "layers' weights alone.")
    param_ratio: Optional[float] = Field(default=None, description="before.params / after.params.")
    macs_ratio: Optional[float] = Field(default=None, description="before.macs / after.macs.")
    speedup: Optional[float] = Field(default=None, description="before latency / after latency (same batch, threads).")
    metric_drop_points: Optional[float] = Field(default=None, description="(before - after) metric, in points.")
    verdict: Verdict
    promoted: bool = Field(default=False, description="Whether this result became the current model.")
    artifacts: dict[str, str] = Field(default_factory=dict, description="Files written (onnx, archive, plot).")
    details: dict[str, Any] = Field(default_factory=dict, description="Technique-specific numbers "
                                                                      "(baseline student, parity, rounds, ...).")
    notes: list[str] = Field(default_factory=list)


class CompressionReport(BaseModel):
    """What compress_model did, with every number it based the decision on."""

    source: dict[str, Any] = Field(default_factory=dict, description="The model compressed: family, path, run id.")
    goal: list[str] = Field(default_factory=list, description="What was asked: size, speed, accuracy budget.")
    techniques: list[str] = Field(default_factory=list, description="Techniques run, in order.")
    tolerance_points: float = Field(default=DEFAULT_TOLERANCE_POINTS, description="Allowed metric drop, points.")
    results: list[TechniqueResult] = Field(default_factory=list, description="Every step and candidate measured.")
    chosen: Optional[int] = Field(default=None, description="Index in results of the result kept, if any.")
    promoted: bool = Field(default=False, description="A compressed model replaced the current model.")
    backend: Optional[str] = Field(default=None, description="Back-end of the chosen result.")
    model_path: Optional[str] = Field(default=None, description="Where the chosen result was saved.")
    mlflow_run_id: Optional[str] = Field(default=None, description="Child run the results were logged to.")
    plot: Optional[str] = Field(default=None, description="PNG with before/after bars.")
    message: str = Field(default="", description="Readable summary.")

    def table(self) -> str:
        """A plain-text before/after table of every result."""
        head = (f"{'technique':<20} {'backend':<24} {'size KB':>15} {'params':>17} {'sparsity':>9} "
                f"{'MMACs':>15} {'latency ms':>17} {'metric':>15} {'verdict':>8}")
        lines = [head, "-" * len(head)]
        for r in self.results:
            b, a = r.before, r.after

            def pair(x, y, fmt):
                f = (lambda v: "-" if v is None else format(v, fmt))
                return f"{f(x)}->{f(y)}"

            lines.append(
                f"{r.technique:<20} {r.backend:<24} {pair(b.size_bytes / 1024, a.size_bytes / 1024, '.0f'):>15} "
                f"{pair(b.params, a.params, 'd'):>17} {a.sparsity:>9.2f} "
                f"{pair(None if b.macs is None else b.macs / 1e6, None if a.macs is None else a.macs / 1e6, '.1f'):>15} "
                f"{pair(b.latency_ms_median, a.latency_ms_median, '.2f'):>17} "
                f"{pair(b.metric, a.metric, '.4f'):>15} {'PROMOTED' if r.promoted else ('ok' if r.verdict.met else 'FAILED'):>8}")
        return "\n".join(lines)
