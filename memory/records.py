"""Design and outcome records: what is stored, how it is flattened for Chroma, and stable ids.

A *design record* is what the designer proposed: the plan text, modality, task, family, variant,
hyper-parameters and the measured size and latency. An *outcome record* is what happened when
a design was trained or compressed: dataset, metric name and value, training time, compression
results, success or failure with the reason, and the MLflow run id. An outcome points at its
design by `design_id`.

Ids are derived from the content (a SHA-256 of the canonical JSON of the identifying fields), so
writing the same record twice upserts one record instead of adding a duplicate. Two different
runs with equal numbers stay distinct through their MLflow run id (or `run_key`).
"""

from __future__ import annotations

import hashlib
import json
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Optional

#: Metrics where smaller is better; every other metric is taken as larger-is-better.
LOWER_IS_BETTER = frozenset({
    "loss", "val_loss", "test_loss", "mse", "rmse", "mae", "nll", "perplexity", "ppl", "error",
    "error_rate", "fid", "bpd", "latency_ms", "size_mb",
})
#: Preferred order when an outcome carries several metrics and names none as primary.
PRIMARY_METRICS = ("accuracy", "acc", "f1", "macro_f1", "auc", "roc_auc", "r2", "rmse", "mse", "mae",
                   "perplexity", "loss", "fid")


def higher_is_better(metric: str) -> bool:
    """Whether a larger value of `metric` is better."""
    name = (metric or "").lower()
    return not (name in LOWER_IS_BETTER or name.endswith("_loss") or name.endswith("_error"))


def stable_id(prefix: str, content: dict) -> str:
    """`prefix-<16 hex>` from the canonical JSON of `content` (same content, same id)."""
    blob = json.dumps(_jsonable(content), sort_keys=True, separators=(",", ":"), default=str)
    return f"{prefix}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 10)
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if hasattr(value, "model_dump"):
        return _jsonable(value.model_dump(mode="json"))
    return str(value)


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _num(value: Any) -> Optional[float]:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(out) or math.isinf(out) else out


def find(d: Any, *keys: str, default: Any = None, depth: int = 3) -> Any:
    """The first non-empty value of any of `keys` in `d` or its nested dicts (breadth first)."""
    level = [d]
    for _ in range(depth):
        nxt = []
        for item in level:
            if not isinstance(item, dict):
                continue
            for k in keys:
                v = item.get(k)
                if v not in (None, "", [], {}):
                    return v
            nxt.extend(v for v in item.values() if isinstance(v, dict))
        level = nxt
    return default


@dataclass
class DesignRecord:
    """An architecture the designer proposed."""

    plan_text: str = field(default="", metadata={"description": "The user's message the design answered."})
    modality: str = field(default="unknown", metadata={"description": "Data modality (tabular, image, ...)."})
    task: str = field(default="unknown", metadata={"description": "Task type, e.g. classification."})
    family: str = field(default="unknown", metadata={"description": "Architecture family, e.g. cnn, xgboost."})
    variant: str = field(default="", metadata={"description": "Family variant/size, e.g. small, resnet18."})
    hparams: dict = field(default_factory=dict, metadata={"description": "Hyper-parameters of the design."})
    params: Optional[float] = field(default=None, metadata={"description": "Parameter count, measured."})
    size_mb: Optional[float] = field(default=None, metadata={"description": "Model size in MB, measured."})
    latency_ms: Optional[float] = field(default=None, metadata={"description": "Median latency, measured."})
    dataset: str = field(default="", metadata={"description": "Dataset the design targets, if known."})
    constraints: dict = field(default_factory=dict, metadata={"description": "Constraints asked for."})
    rationale: str = field(default="", metadata={"description": "Why the designer chose it."})
    created: str = field(default_factory=_now, metadata={"description": "UTC time first written."})

    kind = "design"

    @property
    def id(self) -> str:
        # identity: what was designed for which request; re-measuring it updates the same record
        body = asdict(self)
        for measured in ("created", "rationale", "params", "size_mb", "latency_ms"):
            body.pop(measured)
        return stable_id("d", body)

    def document(self) -> str:
        """The text that is embedded for similarity search."""
        parts = [f"design {self.family}" + (f" {self.variant}" if self.variant else ""),
                 f"for {self.modality} {self.task}"]
        if self.dataset:
            parts.append(f"on {self.dataset}")
        if self.plan_text:
            parts.append(f"request: {self.plan_text}")
        if self.hparams:  # names and short values only: numbers carry little meaning for similarity
            parts.append("hparams: " + ", ".join(f"{k}={v}" for k, v in list(self.hparams.items())[:6]
                                                 if len(str(v)) <= 24))
        return "; ".join(parts)

    def metadata(self) -> dict:
        meta = {"kind": "design", "modality": self.modality, "task": self.task, "family": self.family,
                "variant": self.variant, "dataset": self.dataset, "created": self.created,
                "params": self.params, "size_mb": self.size_mb, "latency_ms": self.latency_ms}
        return _flat(meta, self)


@dataclass
class OutcomeRecord:
    """What happened when a design was trained or compressed."""

    modality: str = field(default="unknown", metadata={"description": "Data modality."})
    task: str = field(default="unknown", metadata={"description": "Task type."})
    family: str = field(default="unknown", metadata={"description": "Architecture family."})
    variant: str = field(default="", metadata={"description": "Family variant."})
    dataset: str = field(default="unknown", metadata={"description": "Dataset trained/evaluated on."})
    metric: str = field(default="", metadata={"description": "Primary metric name, e.g. accuracy."})
    value: Optional[float] = field(default=None, metadata={"description": "Primary metric value (held out)."})
    metrics: dict = field(default_factory=dict, metadata={"description": "All held-out metrics."})
    train_time_s: Optional[float] = field(default=None, metadata={"description": "Training wall time, s."})
    latency_ms: Optional[float] = field(default=None, metadata={"description": "Measured latency, ms."})
    size_mb: Optional[float] = field(default=None, metadata={"description": "Model size, MB."})
    compression: dict = field(default_factory=dict, metadata={"description": "Compression results."})
    stage: str = field(default="train", metadata={"description": "train | compress."})
    success: bool = field(default=True, metadata={"description": "Whether the run succeeded."})
    reason: str = field(default="", metadata={"description": "Why it failed (or stopped)."})
    mlflow_run_id: str = field(default="", metadata={"description": "MLflow run that logged it."})
    design_id: str = field(default="", metadata={"description": "Id of the design record it came from."})
    run_key: str = field(default="", metadata={"description": "Distinguishes runs without an MLflow id."})
    plan_text: str = field(default="", metadata={"description": "The request that led to the run."})
    counted: bool = field(default=True, metadata={"description": "Counts toward the family's fitness: a training "
                                                                 "that ran (completed or diverged). Input, "
                                                                 "validation and set-up errors are recorded only."})
    exit_code: Optional[int] = field(default=None, metadata={"description": "Exit code of the tool's failure "
                                                                            "(2 bad input, 3 cannot be met, ...)."})
    chance: Optional[float] = field(default=None, metadata={"description": "Chance level of the metric: the "
                                                                           "majority-class baseline, else 1/classes."})
    at_chance: bool = field(default=False, metadata={"description": "The result is within noise of chance."})
    n_test: Optional[int] = field(default=None, metadata={"description": "Examples the metric was measured on."})
    requested_family: str = field(default="", metadata={"description": "The family the plan asked for, when "
                                                                       "another one ran (misrouted request)."})
    created: str = field(default_factory=_now, metadata={"description": "UTC time first written."})

    kind = "outcome"

    @property
    def id(self) -> str:
        body = asdict(self)
        body.pop("created")
        body.pop("plan_text")
        return stable_id("o", body)

    def document(self) -> str:
        status = "succeeded" if self.success else f"failed: {self.reason or 'unknown reason'}"
        if self.at_chance:
            status += f" (at chance: {self.chance:.3g})" if self.chance is not None else " (at chance)"
        if not self.counted:
            status += " (not counted: " + (f"exit code {self.exit_code}" if self.exit_code else "no training ran") + ")"
        text = (f"{self.stage} outcome of {self.family}" + (f" {self.variant}" if self.variant else "")
                + f" for {self.modality} {self.task} on {self.dataset}")
        if self.metric and self.value is not None:
            text += f": {self.metric} {self.value:.3g}"
        if self.compression and self.compression.get("technique"):
            text += f"; compressed with {self.compression['technique']}"
        text += f"; {status}"
        if self.plan_text:
            text += f"; request: {self.plan_text}"
        return text

    def metadata(self) -> dict:
        meta = {"kind": "outcome", "modality": self.modality, "task": self.task, "family": self.family,
                "variant": self.variant, "dataset": self.dataset, "metric": self.metric, "value": self.value,
                "train_time_s": self.train_time_s, "latency_ms": self.latency_ms, "size_mb": self.size_mb,
                "stage": self.stage, "success": self.success, "reason": self.reason[:500],
                "mlflow_run_id": self.mlflow_run_id, "design_id": self.design_id, "created": self.created,
                "counted": self.counted, "at_chance": self.at_chance, "exit_code": self.exit_code,
                "chance": self.chance}
        return _flat(meta, self)


def _flat(meta: dict, record: Any) -> dict:
    """Chroma metadata: scalars only (no None), plus the whole record as JSON."""
    out = {k: v for k, v in meta.items() if v is not None and isinstance(v, (str, int, float, bool))}
    out["json"] = json.dumps(_jsonable(asdict(record)), sort_keys=True)
    return out


def record_from_metadata(meta: dict) -> dict:
    """The full record dict stored with a Chroma entry."""
    try:
        body = json.loads(meta.get("json") or "{}")
    except ValueError:
        body = {}
    body.setdefault("kind", meta.get("kind"))
    body["kind"] = meta.get("kind", body.get("kind"))
    return body


# ------------------------------------------------------------------ building records from tool output
def design_from(plan: Any, design: dict) -> DesignRecord:
    """A `DesignRecord` from a plan and a designer output dict (defensive about missing keys)."""
    design = _jsonable(design or {})
    hparams = find(design, "hparams", "hyperparameters", "hyper_parameters", "config", default={})
    if not isinstance(hparams, dict):
        hparams = {"value": hparams}
    meas = find(design, "measurements", "measured", "measure", default={})
    meas = meas if isinstance(meas, dict) else {}
    constraints = {}
    if plan is not None:
        for c in getattr(plan, "constraints", []) or []:
            constraints.setdefault(c.name, _jsonable(c.value))
    return DesignRecord(
        plan_text=str(getattr(plan, "text", "") or design.get("plan_text") or ""),
        modality=str(design.get("modality") or getattr(plan, "modality", None) or "unknown"),
        task=str(design.get("task") or getattr(plan, "task", None) or "classification"),
        family=str(design.get("family") or getattr(plan, "architecture", None) or "unknown"),
        variant=str(design.get("variant") or find(design, "variant", default="") or ""),
        hparams=hparams,
        params=_num(find(meas, "params", "num_params") or find(design, "params", "num_params")),
        size_mb=_num(find(meas, "size_mb") or find(design, "size_mb")),
        latency_ms=_num(find(meas, "latency_ms_median", "latency_ms")
                        or find(design, "latency_ms_median", "latency_ms")),
        dataset=str(design.get("dataset") or (plan.constraint("dataset", "") if plan is not None else "") or ""),
        constraints=constraints,
        rationale=_text(design.get("rationale"))[:2000],
    )


def outcome_from(outcome: dict, *, design_id: str = "", stage: Optional[str] = None,
                 defaults: Optional[dict] = None) -> OutcomeRecord:
    """An `OutcomeRecord` from a trainer/compressor output dict (defensive about missing keys).

    The family, variant, modality, task and dataset are the ones the tool reports it ran (the `defaults`,
    from the plan and the design, fill only what the tool result lacks). A failure without a training
    report (an input, validation or set-up error) is recorded with `counted=False`.
    """
    o = _jsonable(outcome or {})
    d = dict(defaults or {})
    metrics = find(o, "test_metrics", "metrics", default={})
    metrics = {k: v for k, v in metrics.items() if _num(v) is not None} if isinstance(metrics, dict) else {}
    metric = str(o.get("metric") or o.get("metric_name") or o.get("primary_metric") or "")
    value = _num(o.get("value") if o.get("value") is not None else o.get("metric_value"))
    if not metric and metrics:
        metric = next((m for m in PRIMARY_METRICS if m in metrics), next(iter(metrics)))
    if value is None and metric and metric in metrics:
        value = _num(metrics[metric])
    if metric and value is not None:
        metrics.setdefault(metric, value)
    stage = str(stage or o.get("stage") or "train")
    success, counted, reason = _status(o, stage, value, metrics)
    compression = {}
    if stage == "compress" or "compression" in o:
        src = o.get("compression") if isinstance(o.get("compression"), dict) else o
        for k in ("technique", "techniques", "size_ratio", "compression_ratio", "speedup", "accuracy_drop",
                  "size_mb_before", "size_mb_after", "latency_ms_before", "latency_ms_after", "sparsity"):
            if src.get(k) is not None:
                compression[k] = src[k]
    task = str(o.get("task") or find(o, "task") or d.get("task") or "classification")
    chance, n_test = chance_of(o, metric, task)
    family = str(o.get("family") or find(o, "family") or d.get("family") or "unknown")
    variant = str(o.get("variant") or find(o, "variant") or "")
    if not variant and family == d.get("family"):
        variant = str(d.get("variant") or "")  # the design's variant only for the family that ran
    requested = str(d.get("requested_family") or "")
    return OutcomeRecord(
        modality=str(o.get("modality") or find(o, "modality") or d.get("modality") or "unknown"),
        task=task, family=family, variant=variant,
        dataset=str(o.get("dataset") or find(o, "dataset") or d.get("dataset") or "unknown"),
        metric=metric, value=value, metrics=metrics,
        train_time_s=_num(find(o, "train_time_s", "training_time_s", "wall_s", "train_wall_s", "time_s")),
        latency_ms=_num(find(o, "latency_ms", "latency_ms_median", "latency_ms_after")),
        size_mb=_num(find(o, "size_mb", "size_mb_after")),
        compression=compression, stage=stage, success=success, reason=reason[:1000],
        mlflow_run_id=str(o.get("mlflow_run_id") or o.get("run_id") or find(o, "mlflow_run_id") or ""),
        design_id=str(design_id or o.get("design_id") or ""),
        run_key=str(o.get("run_key") or o.get("seed_key") or ""),
        plan_text=str(o.get("plan_text") or d.get("plan_text") or ""),
        counted=counted, exit_code=_int(o.get("exit_code")), chance=chance,
        at_chance=success and (bool((o.get("baselines") or {}).get("near_chance")) if isinstance(o.get("baselines"), dict)
                               and "near_chance" in o["baselines"] else is_at_chance(value, chance, n_test, metric)),
        n_test=n_test,
        requested_family=requested if requested and requested != family else "",
    )


#: Metrics whose chance level is a class rate (majority class or 1 / classes).
CHANCE_METRICS = frozenset({"accuracy", "acc", "test_accuracy", "balanced_accuracy"})


def _status(o: dict, stage: str, value: Optional[float], metrics: dict) -> tuple[bool, bool, str]:
    """(success, counted, reason) of a tool output.

    Counted: a training that ran (a report with metrics or history, including a diverged one). An error
    without a report (bad input, validation, set-up: the tool stopped before or instead of training) is
    never the family's failure.
    """
    error = str(o.get("error") or o.get("reason") or o.get("failure") or "")
    stopped = str(o.get("stopped_reason") or "")
    ran = value is not None or bool(metrics) or bool(o.get("history")) or bool(o.get("epochs_run"))
    if stopped == "diverged":
        return False, True, error or "diverged: " + str(o.get("message") or "training loss became NaN/inf or exploded")
    success = o.get("success")
    if success is None:
        status = str(o.get("status") or "").lower()
        success = not error and status not in ("failed", "error") and (ran or stage == "compress")
    success = bool(success)
    if success:
        return True, True, error or ("" if stopped in ("", "completed") else stopped)
    counted = ran and _int(o.get("exit_code")) is None
    if not error:
        error = stopped or "no result"
    return False, counted, error


def chance_of(o: dict, metric: str, task: str) -> tuple[Optional[float], Optional[int]]:
    """(chance level, test examples) of a classification result.

    The chance level is the majority-class baseline the trainer reports (`TrainingReport.baselines`:
    `majority_rate` and `test_n`, or a baseline row named majority/chance), else 1 / num_classes. When the
    trainer also says whether the result is `near_chance`, that verdict is kept.
    """
    sizes = find(o, "sizes", default={})
    n_test = _int(sizes.get("test")) if isinstance(sizes, dict) else None
    n_test = n_test or _int(find(o, "n_test", "test_size"))
    if (metric or "").lower() not in CHANCE_METRICS or "class" not in (task or "classification"):
        return None, n_test
    base = o.get("baselines") or find(o, "baselines", default=None)
    rate = None
    if isinstance(base, dict):
        n_test = n_test or _int(base.get("test_n"))
        for key in ("majority_rate", "majority_class", "majority", "majority_class_rate", "chance", "most_frequent"):
            v = base.get(key)
            rate = _num(v.get("value", v.get(metric)) if isinstance(v, dict) else v)
            if rate is not None:
                break
    elif isinstance(base, list):
        for row in base:
            if isinstance(row, dict) and any(w in str(row.get("name", "")).lower()
                                             for w in ("majority", "chance", "most_frequent")):
                rate = _num(row.get("value", row.get(metric)))
                if rate is not None:
                    break
    rate = rate if rate is not None else _num(find(o, "majority_class_rate", "chance"))
    if rate is None:
        k = _int(find(o, "num_classes"))
        rate = 1.0 / k if k and k >= 2 else None
    return (round(rate, 6) if rate is not None else None), n_test


def chance_margin(chance: float, n_test: Optional[int]) -> float:
    """How far above chance a result must be to count as learning: 1.96 binomial standard errors of the
    chance rate on the test set (at least 2 points; 5 points when the test size is unknown)."""
    if not n_test:
        return 0.05
    return max(0.02, 1.96 * math.sqrt(chance * (1 - chance) / n_test))


def is_at_chance(value: Optional[float], chance: Optional[float], n_test: Optional[int], metric: str = "accuracy") -> bool:
    """Whether `value` is within noise of `chance` (see `chance_margin`)."""
    if value is None or chance is None or (metric or "accuracy").lower() not in CHANCE_METRICS:
        return False
    return value <= chance + chance_margin(chance, n_test)


def _int(value: Any) -> Optional[int]:
    v = _num(value)
    return int(v) if v is not None else None


def _text(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "\n".join(str(v) for v in value)
    return str(value or "")


def dedupe(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order without repeats."""
    return list(dict.fromkeys(ids))
