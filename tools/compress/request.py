"""What a compression request asks, read from the resolved plan and the compressor's options only.

Never from ``plan.text``: techniques come from ``plan.techniques`` (or the plan's technique
constraints), amounts and goals from plan constraints (sparsity, device, latency_ms, size_mb,
max_params, accuracy_target) and options. Numeric options are checked against the contract's
ranges (`contract.check_options`): a bad value is an InputError naming it, never a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from tensor_agent.errors import InputError
from tensor_agent.tools.compress.report import DEFAULT_TOLERANCE_POINTS

MOBILE_DEVICES = ("mobile", "edge", "phone")
SPEED_DEVICES = MOBILE_DEVICES + ("cpu",)
TRAINING_ONLY = ("lora", "adapter", "feature_extraction", "full_fine_tune")
#: options read as numbers (checked with the contract's ranges before any work)
NUMERIC = ("threads", "runs", "batch_size", "seed", "calibration_size", "finetune_epochs", "sparsity",
           "tolerance_points", "tolerance", "min_speedup", "latency_ms", "size_mb", "max_params", "macs_reduction",
           "student_ratio", "temperature", "alpha", "finetune_lr", "qat_lr", "distill_lr", "prune_steps",
           "rewind_epochs", "rounds", "data_seed", "accuracy_target", "latency_batch_size")
FOLLOWUPS = ("speed", "size", "accuracy", "lineage")


@dataclass
class Goals:
    """What the request asks of the compressed model."""

    tolerance_points: float = DEFAULT_TOLERANCE_POINTS
    accuracy_target: Optional[float] = None
    speed: bool = False
    min_speedup: float = 1.05
    latency_ms: Optional[float] = None
    size_mb: Optional[float] = None
    sparsity: Optional[float] = None
    macs_reduction: Optional[float] = None
    max_params: Optional[int] = None

    def describe(self) -> list[str]:
        out = [f"accuracy drop <= {self.tolerance_points:g} point(s)"]
        if self.accuracy_target is not None:
            out.append(f"accuracy >= {self.accuracy_target:.3f}")
        if self.speed:
            out.append(f"faster than the original (>= {self.min_speedup:g}x)")
        if self.latency_ms is not None:
            out.append(f"latency <= {self.latency_ms:g} ms")
        if self.size_mb is not None:
            out.append(f"size <= {self.size_mb:g} MB")
        if self.sparsity is not None:
            out.append(f"sparsity >= {self.sparsity:.0%}")
        if self.max_params is not None:
            out.append(f"params <= {self.max_params}")
        return out


@dataclass
class Request:
    """The compression request, fully decided before any model is touched."""

    techniques: list[str]          # canonical names, stage order; empty = choose by device
    auto: bool                     # no technique named: INT8 back-ends chosen by measurement
    goals: Goals
    device: str = ""
    sparsity: Optional[float] = None
    threads: int = 1
    runs: int = 20
    batch_size: int = 32
    seed: int = 0
    dataset: Optional[str] = None
    followup: Optional[str] = None  # speed | size | accuracy | lineage: answer from the thread, run nothing
    options: dict = field(default_factory=dict)

    @property
    def export_only(self) -> bool:
        from tensor_agent.tools.compress.techniques import EXPORTS

        return bool(self.techniques) and all(t in EXPORTS for t in self.techniques)


def _as_list(v: Any) -> list[str]:
    if v is None:
        return []
    return [str(x) for x in ([v] if isinstance(v, str) else list(v)) if str(x).strip()]


def techniques_of(plan, options: dict) -> list[str]:
    """plan.techniques (the contract fills it from options), else the plan's technique constraints."""
    vals = _as_list(getattr(plan, "techniques", None))
    if not vals:
        for c in getattr(plan, "constraints", []) or []:
            if c.name == "technique":
                vals.extend(_as_list(c.value))
    if not vals:
        vals = _as_list(options.get("technique"))
    return [v for v in vals if v.lower() not in TRAINING_ONLY]


def _numbers(options: dict) -> dict:
    from tensor_agent.contract import check_options

    return check_options({k: options[k] for k in NUMERIC if options.get(k) is not None})


def goals_from(plan, nums: dict, device: str) -> Goals:
    """Accuracy budget, speed and size goals from plan constraints and checked options."""
    g = Goals()
    tol = nums.get("tolerance_points", nums.get("tolerance"))
    if tol is not None:
        g.tolerance_points = float(tol)
    acc = nums.get("accuracy_target", plan.constraint("accuracy_target"))
    if acc is not None:
        g.accuracy_target = float(acc) / (100.0 if float(acc) > 1 else 1.0)
    g.latency_ms = nums.get("latency_ms", plan.constraint("latency_ms"))
    g.size_mb = nums.get("size_mb", plan.constraint("size_mb"))
    g.max_params = nums.get("max_params", plan.constraint("max_params"))
    want = nums.get("min_speedup", plan.constraint("min_speedup"))
    if want is not None:
        g.min_speedup = float(want)
    g.speed = g.latency_ms is not None or device in SPEED_DEVICES or want is not None
    return g


def read_request(plan, options: Optional[dict]) -> Request:
    """Decide everything the compressor will do from the plan and its options.

    Raises:
        InputError: an option out of its range, an unknown technique, a bad sparsity.
    """
    from tensor_agent.tools.compress.prune import check_sparsity
    from tensor_agent.tools.compress.techniques import order_techniques

    opts = dict(options or {})
    nums = _numbers(opts)
    device = str(plan.constraint("device") or opts.get("device") or "").lower()
    techniques = order_techniques(techniques_of(plan, opts))
    sparsity = nums.get("sparsity", plan.constraint("sparsity"))
    if sparsity is not None:
        sparsity = check_sparsity(sparsity)
    goals = goals_from(plan, nums, device)
    goals.sparsity = sparsity if any(t in ("pruning", "lottery_ticket") for t in techniques) else None
    followup = plan.constraint("question") if not techniques else None
    if followup is not None and followup not in FOLLOWUPS:
        raise InputError(f"unknown follow-up question {followup!r} (known: {', '.join(FOLLOWUPS)})")
    data = getattr(plan, "data", None)
    return Request(techniques=techniques, auto=not techniques, goals=goals, device=device, sparsity=sparsity,
                   threads=int(nums.get("threads", 1)), runs=int(nums.get("runs", 20)),
                   batch_size=int(nums.get("batch_size") or nums.get("latency_batch_size")
                                  or getattr(getattr(plan, "settings", None), "batch_size", None) or 32),
                   seed=int(nums.get("seed", 0)),
                   dataset=opts.get("dataset") or (data.ref if data is not None else None),
                   followup=followup, options=opts)
