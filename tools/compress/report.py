"""The compression report: before/after measurements side by side, and the verdict.

Pure pydantic (no torch): the graph serialises it with ``model_dump(mode="json")``.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, Field

from tensor_agent.tools.core.stats import Interval, ModelStats, fmt_bytes  # noqa: F401  (part of the report API)

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
    speedup: Optional[float] = Field(default=None, description="before latency / after latency (same batch, threads): "
                                                               "median of paired, interleaved rounds.")
    speedup_interval: Optional[Interval] = Field(default=None, description="Speed-up with its 95% bootstrap "
                                                                           "interval over the paired rounds.")
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
    choice: list[str] = Field(default_factory=list, description="Why the kept result was chosen over the others "
                                                                "(speed-ups with intervals, sizes).")
    delivered: dict[str, str] = Field(default_factory=dict, description="Files handed over (exports); empty when "
                                                                        "a check failed.")
    lineage: list[dict[str, Any]] = Field(default_factory=list, description="The thread's model lineage after "
                                                                            "this call (float parent, steps, exports).")
    answer: Optional[str] = Field(default=None, description="Answer to a follow-up question, from measured results.")
    status: str = Field(default="ok", description="ok | failed (a check failed: nothing delivered) | "
                                                  "unchanged (nothing met the goals) | answered.")
    message: str = Field(default="", description="Readable summary.")

    def table(self) -> str:
        """A plain-text before/after table of every result (fits 80 columns)."""
        head = f"{'technique':<19} {'size':>19} {'speed-up':>18} {'metric':>13} {'verdict':>7}"
        lines = [head, "-" * len(head)]
        for r in self.results:
            b, a = r.before, r.after
            size = f"{fmt_bytes(b.size_bytes)}->{fmt_bytes(a.size_bytes)}"
            sp = r.speedup_interval.text() if r.speedup_interval is not None else "-"
            met = "-" if a.metric is None else (f"{b.metric:.3f}->{a.metric:.3f}" if b.metric is not None
                                                else f"{a.metric:.3f}")
            verdict = "KEPT" if r.promoted else ("ok" if r.verdict.met else "FAILED")
            lines.append(f"{r.technique[:19]:<19} {size:>19} {sp:>18} {met:>13} {verdict:>7}")
            lines.append(f"  on {r.backend}" + (f", batch {a.batch_size}, {a.threads} thread(s), "
                                                 f"{a.latency_ms_median:.2f} ms" if a.latency_ms_median else ""))
        return "\n".join(lines)
