"""The data-size estimator tool: how much (labelled) data a plan needs, and what it costs to get.

``estimate_data(plan, ctx) -> DataEstimate`` starts from the design card's table

==============  ==========  ==========  =============
regime          data size   annotation  time
==============  ==========  ==========  =============
supervised      1K-1M       heavy       days-weeks
transfer        100-1K      light       hours-days
few-shot        10-100      minimal     minutes-hours
unsupervised    unlimited   none        weeks-months
==============  ==========  ==========  =============

picks the regime from the plan, and refines the figure by modality, number of classes
(per-class figures), model size, strategy and the target metric (a power law in the error,
``err(n) = a n^-b + c``). When a dataset is given it also *measures* a learning curve:
it trains on growing subsets, fits the power law, extrapolates the samples needed for the
target accuracy and writes a PNG of the curve under ``ctx.settings.artifacts_dir``
(see ``tensor_agent.tools.estimate.curve``).

Heavy modules (numpy, scipy, sklearn, matplotlib, torch) load inside the functions.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal, Mapping, Optional

from pydantic import BaseModel, Field

from tensor_agent.errors import InputError, UnsatisfiableError
from tensor_agent.schema import Plan
from tensor_agent.tools.core.context import ToolContext
from tensor_agent.tools.estimate.curve import (  # noqa: F401  (re-exported: the estimator's public API)
    CurvePoint,
    Extrapolation,
    LearningCurve,
    PowerLawFit,
    fit_power_law,
    measure_learning_curve,
    samples_for,
)

Regime = Literal["supervised", "transfer", "few_shot", "unsupervised"]

# --------------------------------------------------------------------------------------------------------
# the card's table
# --------------------------------------------------------------------------------------------------------
TABLE: dict[str, dict[str, Any]] = {
    "supervised": dict(data_size="1K-1M", low=1_000, high=1_000_000, annotation="heavy", time="days-weeks"),
    "transfer": dict(data_size="100-1K", low=100, high=1_000, annotation="light", time="hours-days"),
    "few_shot": dict(data_size="10-100", low=10, high=100, annotation="minimal", time="minutes-hours"),
    "unsupervised": dict(data_size="unlimited", low=None, high=None, annotation="none", time="weeks-months"),
}

#: labelled examples per class giving ~90% accuracy, by regime and modality (literature rules of thumb).
PER_CLASS_BASE: dict[str, dict[str, float]] = {
    "supervised": {"tabular": 100, "image": 500, "text": 300, "sequence": 400, "graph": 50, None: 300},
    "transfer": {"tabular": 50, "image": 30, "text": 40, "sequence": 60, "graph": 20, None: 40},
    "few_shot": {"tabular": 8, "image": 5, "text": 8, "sequence": 8, "graph": 5, None: 5},
}
#: total examples for a regression target at R² ~0.9 (no classes).
REGRESSION_BASE: dict[str, dict[str, float]] = {
    "supervised": {"tabular": 1_000, "image": 5_000, "text": 3_000, "sequence": 3_000, "graph": 500, None: 2_000},
    "transfer": {"tabular": 300, "image": 300, "text": 300, "sequence": 400, "graph": 200, None: 300},
    "few_shot": {"tabular": 30, "image": 30, "text": 30, "sequence": 30, "graph": 30, None: 30},
}
#: classes assumed when neither the plan nor the dataset says.
DEFAULT_CLASSES = {"tabular": 2, "image": 10, "text": 2, "sequence": 5, "graph": 4, None: 2}
#: reference model size (parameters) the per-class bases assume, by modality.
REFERENCE_PARAMS = {"tabular": 50_000, "image": 1_000_000, "text": 10_000_000, "sequence": 1_000_000,
                    "graph": 50_000, None: 1_000_000}
#: seconds a person needs for one label (classification unless noted), by modality.
SECONDS_PER_LABEL = {"tabular": 30.0, "image": 5.0, "text": 20.0, "sequence": 30.0, "graph": 60.0,
                     "text_generation": 300.0, "image_generation": 20.0, None: 20.0}
TASK_SECONDS = {"detection": 35.0, "segmentation": 300.0, "seq2seq": 120.0, "regression": 30.0}
QA_OVERHEAD = 1.25          # review / double annotation of ~20% of the items
HOURS_PER_DAY = 6.0         # productive labelling hours per annotator-day
REFERENCE_ERROR = 0.10      # the bases are for ~90% accuracy
PRIOR_EXPONENT = 0.5        # err ∝ n^-b, b ≈ 0.5 is typical of classification learning curves


class TableRow(BaseModel):
    """The design card's row for a regime."""

    regime: Regime = Field(description="supervised, transfer, few_shot or unsupervised.")
    data_size: str = Field(description="The card's data-size column, e.g. '1K-1M'.")
    low: Optional[int] = Field(description="Lower end of the card's range (None: unlimited).")
    high: Optional[int] = Field(description="Upper end of the card's range (None: unlimited).")
    annotation: str = Field(description="heavy, light, minimal or none.")
    time: str = Field(description="The card's time column, e.g. 'days-weeks'.")


class SampleRange(BaseModel):
    """A (low, typical, high) figure."""

    low: int = Field(description="Optimistic figure (easy data, strong prior).")
    typical: int = Field(description="Best single estimate.")
    high: int = Field(description="Conservative figure (noisy labels, hard classes).")
    unit: str = Field(default="labelled examples", description="What is counted.")


class Annotation(BaseModel):
    """What labelling the estimate costs."""

    effort: str = Field(description="heavy, light, minimal or none: the card's column, raised to moderate/heavy "
                                    "when the hours say so.")
    workload: str = Field(default="", description="The volume of labelling alone: minimal (< 1 h), light (< 40 h), "
                                                  "moderate (< 400 h) or heavy, with the hours.")
    seconds_per_label: float = Field(description="Assumed seconds per label for this modality and task.")
    hours_low: float = Field(description="Annotation hours for samples.low (QA overhead included).")
    hours_typical: float = Field(description="Annotation hours for samples.typical.")
    hours_high: float = Field(description="Annotation hours for samples.high.")
    person_days_typical: float = Field(description=f"hours_typical / {HOURS_PER_DAY:g} productive hours a day.")
    note: str = Field(default="", description="Assumptions.")


class TimeEstimate(BaseModel):
    """Calendar time."""

    label: str = Field(description="The card's time column for the regime.")
    annotation_days: float = Field(description="Person-days of labelling (typical).")
    training_hours_cpu: Optional[float] = Field(default=None, description="Rough training compute on one CPU.")
    training_hours_gpu: Optional[float] = Field(default=None, description="Rough training compute on one GPU.")
    summary: str = Field(description="One readable line.")


class DataEstimate(BaseModel):
    """How much data the plan needs, with the reasoning."""

    regime: Regime = Field(description="Learning regime picked from the plan.")
    table: TableRow = Field(description="The card's row the estimate starts from.")
    modality: Optional[str] = Field(default=None)
    task: str = Field(default="classification")
    num_classes: Optional[int] = Field(default=None, description="Classes (None for regression/generation).")
    classes_assumed: bool = Field(default=False, description="num_classes is a default, not from the request.")
    accuracy_target: Optional[float] = Field(default=None, description="Target metric (fraction).")
    target_assumed: bool = Field(default=False, description="The target is the 0.90 default.")
    model_params: Optional[int] = Field(default=None, description="Parameters of the designed model, if known.")
    strategy: Optional[str] = Field(default=None, description="Training strategy / technique considered.")
    samples: SampleRange = Field(description="Examples needed in total.")
    per_class: Optional[SampleRange] = Field(default=None, description="Examples needed per class.")
    available: Optional[int] = Field(default=None, description="Examples the user says (or the dataset shows) they have.")
    verdict: str = Field(default="", description="Enough / short by how much.")
    annotation: Annotation
    time: TimeEstimate
    learning_curve: Optional[LearningCurve] = Field(default=None)
    reasoning: list[str] = Field(default_factory=list, description="Steps from the table to the figure.")
    message: str = Field(default="", description="Readable summary.")


# --------------------------------------------------------------------------------------------------------
# reading the plan
# --------------------------------------------------------------------------------------------------------
_TRANSFER_TECH = {"lora", "adapter", "feature_extraction", "full_fine_tune"}


def _techniques(plan: Plan) -> list[str]:
    return [t for t in plan.techniques] + ([plan.settings.strategy] if plan.settings.strategy else [])


def choose_regime(plan: Plan, ctx: Optional[ToolContext] = None) -> tuple[Regime, str]:
    """The regime and why, from the plan: its stated regime > transfer techniques > generation > supervised."""
    if plan.regime:
        why = {"few_shot": "the request is few-shot learning",
               "unsupervised": "the request is unsupervised / self-supervised or has unlabelled data",
               "transfer": "fine-tuning a pretrained model (fine_tune intent, LoRA/adapter/pretrained wording)",
               "supervised": "supervised training on labelled data"}[plan.regime]
        return plan.regime, why  # type: ignore[return-value]
    if "fine_tune" in plan.intents or set(_techniques(plan)) & _TRANSFER_TECH or plan.pretrained:
        return "transfer", "fine-tuning a pretrained model (fine_tune intent, LoRA/adapter/pretrained weights)"
    if plan.modality in ("text_generation", "image_generation") or plan.architecture in ("gpt", "diffusion"):
        return "unsupervised", f"{plan.modality or plan.architecture} models learn from unlabelled data"
    return "supervised", "training from scratch on labelled data (no transfer, few-shot or unsupervised cue)"


def _task(plan: Plan, modality: Optional[str]) -> str:
    if plan.task:
        return plan.task
    if modality in ("text_generation", "image_generation"):
        return "generation"
    if modality == "graph":
        return "node_classification"
    return "classification"


def _accuracy_target(plan: Plan, ctx: Optional[ToolContext]) -> Optional[float]:
    opts = (ctx.options if ctx else {}) or {}
    raw = opts.get("accuracy_target", opts.get("target_accuracy", plan.constraint("accuracy_target")))
    if raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InputError(f"accuracy_target='{raw}' is not a number", hint="give a fraction such as 0.95") from None
    if not math.isfinite(value) or value <= 0 or value > 1:
        raise InputError(f"accuracy_target={raw} is out of range: it must be a fraction in (0, 1]",
                         hint="write 95% as 0.95")
    if value >= 1.0:
        raise UnsatisfiableError("accuracy_target=1.0 (100%) cannot be estimated: zero error needs unbounded data "
                                 "under a power-law learning curve", hint="ask for e.g. 0.99")
    return value


def _num_classes(plan: Plan, ctx: Optional[ToolContext]) -> Optional[int]:
    opts = (ctx.options if ctx else {}) or {}
    raw = opts.get("num_classes", plan.constraint("num_classes"))
    if raw is None:
        return None
    try:
        k = int(raw)
    except (TypeError, ValueError):
        raise InputError(f"num_classes='{raw}' is not an integer", hint="give the number of classes, e.g. 10") from None
    if k < 2:
        raise InputError(f"num_classes={k}: a classifier needs at least 2 classes", hint="use regression for one target")
    return k


def _find_number(obj: Any, keys: tuple[str, ...]) -> Optional[float]:
    """First numeric leaf whose key (last path element) is in `keys`, searching nested dicts."""
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    if isinstance(obj, Mapping):
        for k in keys:
            v = obj.get(k)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
                return float(v)
        for v in obj.values():
            if isinstance(v, (Mapping, list)) or hasattr(v, "model_dump"):
                found = _find_number(v, keys)
                if found is not None:
                    return found
    elif isinstance(obj, list):
        for v in obj[:20]:
            found = _find_number(v, keys)
            if found is not None:
                return found
    return None


def _model_size(ctx: Optional[ToolContext]) -> tuple[Optional[int], Optional[float]]:
    """(params, macs) of the designed model in ctx.results['design_architecture'], if any."""
    if ctx is None:
        return None, None
    design = (ctx.results or {}).get("design_architecture")
    if design is None:
        return None, None
    params = _find_number(design, ("params", "num_params", "total_params", "parameters", "n_params"))
    macs = _find_number(design, ("macs", "mmacs_x1e6", "flops"))
    return (int(params) if params else None), macs


def _available(plan: Plan, ctx: Optional[ToolContext]) -> Optional[int]:
    opts = (ctx.options if ctx else {}) or {}
    for name in ("labelled_examples", "dataset_size"):
        raw = opts.get(name, plan.constraint(name))
        if raw is not None:
            try:
                return int(float(raw))
            except (TypeError, ValueError):
                raise InputError(f"{name}='{raw}' is not a number", hint="give a count such as 5000") from None
    return None


def _dataset_name(plan: Plan, ctx: Optional[ToolContext]) -> Optional[str]:
    return plan.data.ref if plan.data else None


# --------------------------------------------------------------------------------------------------------
# the heuristic estimate
# --------------------------------------------------------------------------------------------------------
def _fmt(n: Optional[float]) -> str:
    if n is None:
        return "unknown"
    n = float(n)
    for unit, div in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return f"{int(round(n))}"


def _hours(h: float) -> str:
    if h < 1:
        return f"{h * 60:.0f} min"
    return f"{h:.1f} h" if h < 10 else f"{h:,.0f} h"


def _spread(regime: str) -> tuple[float, float]:
    """(low, high) multipliers around the typical figure."""
    return {"supervised": (1 / 3, 3.0), "transfer": (0.5, 3.0), "few_shot": (0.4, 2.5),
            "unsupervised": (0.3, 5.0)}[regime]


def _unsupervised(plan: Plan, modality: Optional[str], task: str, params: Optional[int],
                  steps: list[str]) -> SampleRange:
    """Unlabelled data for pre-training: tokens for language models, images for generators, else 1M examples."""
    if modality == "text_generation" or plan.architecture in ("gpt", "t5") or task == "generation" and modality != "image_generation":
        n_params = params or 10_000_000
        tokens = 20 * n_params
        steps.append(f"Unsupervised language modelling: compute-optimal data ≈ 20 tokens per parameter "
                     f"(Chinchilla) × {_fmt(n_params)} parameters{' (assumed)' if not params else ''} = {_fmt(tokens)} tokens.")
        return SampleRange(low=int(tokens * 0.25), typical=int(tokens), high=int(tokens * 5), unit="tokens")
    if modality == "image_generation" or plan.architecture == "diffusion":
        typ = 50_000.0 if not params else 50_000.0 * max(0.5, min(20.0, (params / 35_000_000) ** 0.5))
        steps.append(f"Unconditional image generation: DDPM-class models train on ~50K images (CIFAR-10) for low "
                     f"resolution; scaled by model size to {_fmt(typ)} images; quality keeps improving beyond.")
        return SampleRange(low=int(typ * 0.2), typical=int(typ), high=int(typ * 20), unit="unlabelled images")
    steps.append("Self-supervised pre-training: the card says 'unlimited'; 1M unlabelled examples is a typical "
                 "scale for contrastive/masked pre-training, then a small labelled set for the head.")
    return SampleRange(low=100_000, typical=1_000_000, high=10_000_000, unit="unlabelled examples")


def _base_need(regime: str, modality: Optional[str], task: str, k: Optional[int],
               steps: list[str]) -> tuple[float, Optional[float]]:
    """(total, per class or None) from the card's table for the regime, modality, task and classes."""
    base_mod = modality if modality in PER_CLASS_BASE[regime] else None
    if regime == "transfer" and modality == "text_generation":
        steps.append("Fine-tuning a language model on instructions: ~1K high-quality prompt/response pairs "
                     "(LIMA-style) adapt style and format; domain knowledge needs more.")
        return 1_000.0, None
    if regime == "transfer" and modality == "image_generation":
        steps.append("Adapting an image generator to a concept/style (DreamBooth/LoRA): 5-20 images per concept.")
        return 20.0, None
    if task in ("classification", "node_classification", "detection", "segmentation"):
        base = PER_CLASS_BASE[regime][base_mod]
        k_eff = k or DEFAULT_CLASSES.get(base_mod, 2)
        class_factor = 1.0 + 0.15 * math.log(k_eff)
        per_class = base * class_factor
        steps.append(f"Base for {regime.replace('_', '-')} {modality or 'generic'} classification: ~{_fmt(base)} "
                     f"labelled examples per class for ~90% accuracy.")
        steps.append(f"Classes: {k_eff}{' (assumed)' if not k else ''}; more classes make each boundary harder: "
                     f"×{class_factor:.2f} per class (1 + 0.15·ln K) → {_fmt(per_class)} per class, "
                     f"{_fmt(per_class * k_eff)} in total.")
        return per_class * k_eff, per_class
    typ = REGRESSION_BASE[regime][base_mod]
    steps.append(f"Base for {regime.replace('_', '-')} {modality or 'generic'} {task}: ~{_fmt(typ)} examples.")
    return typ, None


def _refinements(plan: Plan, regime: str, modality: Optional[str], task: str, target: float,
                 params: Optional[int], strategy: Optional[str], steps: list[str]) -> float:
    """The product of the refinement factors (task, target, model size, strategy, augmentation, noise)."""
    f = 1.0
    if task == "detection":
        f *= 1.5
        steps.append("Object detection: ×1.5 images (localisation needs more instances than classification).")
    elif task == "segmentation":
        f *= 0.5
        steps.append("Segmentation: ×0.5 images (every pixel is a label), but each label costs far more time.")
    # target metric: err ∝ n^-b  =>  n ∝ err^(-1/b)
    tf = min(max(((1 - target) / REFERENCE_ERROR) ** (-1 / PRIOR_EXPONENT), 0.05), 10_000.0)
    f *= tf
    steps.append(f"Target {target:.3g}: with err ∝ n^-{PRIOR_EXPONENT:g} the need scales as (err/0.10)^-{1 / PRIOR_EXPONENT:g} "
                 f"= ×{tf:.3g}.")
    base_mod = modality if modality in PER_CLASS_BASE[regime] else None
    if params and regime == "supervised":  # from scratch only: pretrained / low-rank models need less
        ref = REFERENCE_PARAMS.get(base_mod, 1_000_000)
        mf = min(max((params / ref) ** 0.25, 0.5), 4.0)
        f *= mf
        steps.append(f"Model size {_fmt(params)} parameters vs a {_fmt(ref)} reference: ×{mf:.2f} "
                     "((params/ref)^0.25: bigger models trained from scratch need more data).")
    elif params:
        steps.append(f"Model size {_fmt(params)} parameters: little effect with a pretrained backbone.")
    why = {"lora": (0.8, "lora: few trainable parameters, less overfitting"),
           "adapter": (0.8, "adapter: few trainable parameters, less overfitting"),
           "feature_extraction": (0.6, "feature extraction: frozen backbone, only the head is fitted"),
           "full_fine_tune": (1.5, "full fine-tuning: every weight moves, more data to avoid forgetting/overfitting")}
    if strategy in why:
        f *= why[strategy][0]
        steps.append(f"Strategy {why[strategy][1]}: ×{why[strategy][0]:g}.")
    if "augmentation" in plan.topics:
        f *= 0.7
        steps.append("Data augmentation planned: ×0.7 (augmentation stretches a labelled set by ~1.5×).")
    if "label_noise" in plan.topics:
        f *= 1.5
        steps.append("Noisy labels mentioned: ×1.5.")
    return f


def _heuristic(plan: Plan, ctx: Optional[ToolContext], regime: str, modality: Optional[str], task: str,
               k: Optional[int], target: float, params: Optional[int], steps: list[str]) -> tuple[SampleRange, Optional[SampleRange], str]:
    """Typical/low/high sample counts (and per class) from the table and the refinements."""
    row = TABLE[regime]
    lo_m, hi_m = _spread(regime)
    strategy = plan.settings.strategy or next((t for t in _techniques(plan) if t in _TRANSFER_TECH), None)
    if regime == "unsupervised":
        return _unsupervised(plan, modality, task, params, steps), None, strategy
    typ, per_class = _base_need(regime, modality, task, k, steps)
    f = _refinements(plan, regime, modality, task, target, params, strategy, steps)
    typ = max(typ * f, 1.0)
    samples = SampleRange(low=max(1, int(round(typ * lo_m))), typical=int(round(typ)),
                          high=max(1, int(round(typ * hi_m))))
    pc = None
    if per_class is not None:
        per_class *= f
        pc = SampleRange(low=max(1, int(round(per_class * lo_m))), typical=max(1, int(round(per_class))),
                         high=max(1, int(round(per_class * hi_m))), unit="labelled examples per class")
    lo_t, hi_t = row["low"], row["high"]
    where = ("inside" if lo_t <= samples.typical <= hi_t else "below" if samples.typical < lo_t else "above")
    steps.append(f"Result {_fmt(samples.low)}-{_fmt(samples.high)} (typical {_fmt(samples.typical)}) is {where} "
                 f"the card's {row['data_size']} for {regime.replace('_', '-')} learning.")
    return samples, pc, strategy


def _annotation(regime: str, modality: Optional[str], task: str, samples: SampleRange,
                labelled: bool) -> tuple[Annotation, float]:
    if not labelled:
        return Annotation(effort="none", workload="none", seconds_per_label=0.0, hours_low=0.0, hours_typical=0.0, hours_high=0.0,
                          person_days_typical=0.0, note="unlabelled data: collection and cleaning, no annotation"), 0.0
    sec = TASK_SECONDS.get(task, SECONDS_PER_LABEL.get(modality, SECONDS_PER_LABEL[None]))
    hours = [n * sec * QA_OVERHEAD / 3600 for n in (samples.low, samples.typical, samples.high)]
    effort = TABLE[regime]["annotation"]
    if hours[1] > 400:
        effort = "heavy"
    elif hours[1] > 40 and effort in ("minimal", "light"):
        effort = "moderate"
    level = ("minimal" if hours[1] < 1 else "light" if hours[1] < 40 else "moderate" if hours[1] < 400 else "heavy")
    return Annotation(effort=effort, workload=level,
                      seconds_per_label=sec, hours_low=round(hours[0], 2),
                      hours_typical=round(hours[1], 2), hours_high=round(hours[2], 2),
                      person_days_typical=round(hours[1] / HOURS_PER_DAY, 2),
                      note=f"{sec:g} s per label for {modality or 'generic'} {task}, ×{QA_OVERHEAD} for review"), hours[1]


def _training_time(regime: str, samples: SampleRange, params: Optional[int], macs: Optional[float]) -> tuple[Optional[float], Optional[float]]:
    """Rough training compute: 3 × 2 × MACs (or 6 × params for token LMs) per example per epoch."""
    if samples.unit == "tokens" and params:
        flops = 6.0 * params * samples.typical
    elif macs or params:
        per_example = 6.0 * (macs if macs else 2.0 * params)  # forward+backward ≈ 3 × forward, 2 FLOPs per MAC
        epochs = {"supervised": 30, "transfer": 5, "few_shot": 20, "unsupervised": 10}[regime]
        flops = per_example * samples.typical * epochs
    else:
        return None, None
    cpu, gpu = 5e10, 2e13  # sustained FLOP/s: a few CPU cores; one modern GPU at ~30% utilisation
    return round(flops / cpu / 3600, 3), round(flops / gpu / 3600, 4)


# --------------------------------------------------------------------------------------------------------
# the tool
# --------------------------------------------------------------------------------------------------------
def estimate_data(plan: Plan, ctx: ToolContext) -> DataEstimate:
    """Estimate the data a plan needs; measure a learning curve when a dataset is given.

    Args:
        plan: The resolved request: modality, task, regime, topics, techniques, settings.strategy,
            data (learning curve), constraints num_classes, accuracy_target, dataset_size, labelled_examples.
        ctx: Tool context. Options read: ``accuracy_target``, ``num_classes``, ``curve_points`` (5),
            ``curve_repeats`` (3), ``curve_model`` ("auto" | "sklearn" | "torch"), ``time_budget_s``.

    Returns:
        A DataEstimate with the range, per-class figures, annotation effort, time and the reasoning.

    Raises:
        InputError: target outside (0, 1], non-numeric figures, unknown dataset.
        UnsatisfiableError: a 100% target.
    """
    steps: list[str] = []
    dataset = _dataset_name(plan, ctx)
    spec: dict = _dataset_spec(str(dataset)) if dataset else {}
    if spec.get("modality") and not plan.modality:  # the dataset tells the modality (and so the regime)
        plan = plan.model_copy(update={"modality": spec["modality"]})
    regime, why = choose_regime(plan, ctx)
    row = TABLE[regime]
    steps.append(f"Regime: {regime.replace('_', '-')} ({why}); the card says {row['data_size']} examples, "
                 f"annotation: {row['annotation']}, time: {row['time']}.")
    target_in = _accuracy_target(plan, ctx)
    k = _num_classes(plan, ctx) or (int(spec["num_classes"]) if spec.get("num_classes") else None)
    available = _available(plan, ctx)
    modality = plan.modality
    task = plan.task or spec.get("task") or _task(plan, modality)
    target = target_in if target_in is not None else 0.90
    if target_in is None and regime != "unsupervised":
        steps.append("No target metric given: assuming 90% accuracy.")
    params, macs = _model_size(ctx)
    samples, per_class, strategy = _heuristic(plan, ctx, regime, modality, task, k, target, params, steps)
    curve = _curve(plan, ctx, dataset, target_in, modality, steps) if dataset else None
    if curve is not None:
        available = available if available is not None else curve.available_train
        samples, per_class = _apply_curve(curve, target_in, samples, per_class, k, steps)
    labelled = regime != "unsupervised"
    annotation, _ = _annotation(regime, modality, task, samples, labelled)
    _annotation_steps(steps, annotation, samples, labelled, row, modality, task)
    time_est = _time_estimate(regime, samples, params, macs, row, annotation, labelled, steps)
    verdict = _verdict(available, samples)
    if verdict:
        steps.append(verdict)
    classification = per_class is not None
    return DataEstimate(
        regime=regime, table=TableRow(regime=regime, **{k2: row[k2] for k2 in ("data_size", "low", "high", "annotation", "time")}),
        modality=modality, task=task, num_classes=k if classification else None,
        classes_assumed=classification and not k, accuracy_target=target if classification or regime != "unsupervised" else target_in,
        target_assumed=target_in is None, model_params=params, strategy=strategy, samples=samples,
        per_class=per_class, available=available, verdict=verdict, annotation=annotation, time=time_est,
        learning_curve=curve, reasoning=steps,
        message=_summary(regime, modality, task, samples, per_class, annotation, labelled, row, curve, verdict),
    )


def _curve(plan: Plan, ctx: ToolContext, dataset: str, target_in: Optional[float], modality: Optional[str],
           steps: list[str]):
    """The measured learning curve on `dataset`, or None (with the reason in the steps)."""
    try:
        curve = measure_learning_curve(str(dataset), ctx, targets=[target_in] if target_in else None,
                                       modality=modality, plan=plan)
    except UnsatisfiableError as exc:  # e.g. text/graph data without a fast path: the heuristic stays, said so
        steps.append(f"No learning curve on '{dataset}': {exc}.")
        return None
    steps.append(f"Learning curve on '{dataset}' ({curve.model}): {len(curve.points)} sizes from "
                 f"{curve.points[0].n} to {curve.points[-1].n}"
                 + (f", fit err(n) = {curve.fit.a:.3g}·n^-{curve.fit.b:.3g} + {curve.fit.c:.3g} (R² {curve.fit.r2:.3f})"
                    if curve.fit else ", no fit possible") + ".")
    for ex in curve.extrapolations:
        steps.append(f"Measured need for {ex.target:.3g}: {ex.note}")
    steps += [f"Note: {n}" for n in curve.notes]
    return curve


def _apply_curve(curve, target_in: Optional[float], samples: SampleRange, per_class: Optional[SampleRange],
                 k: Optional[int], steps: list[str]) -> tuple[SampleRange, Optional[SampleRange]]:
    """The measured extrapolation for the target replaces the heuristic figures."""
    chosen = next((e for e in curve.extrapolations if target_in is not None and abs(e.target - target_in) < 1e-9), None)
    if chosen is None or not chosen.reachable or not chosen.samples:
        return samples, per_class
    m = chosen.samples
    samples = SampleRange(low=max(1, int(m * 0.7)), typical=m, high=int(m * 1.5) + 1, unit=samples.unit)
    if per_class is not None and k:
        per_class = SampleRange(low=max(1, samples.low // k), typical=max(1, samples.typical // k),
                                high=max(1, samples.high // k), unit=per_class.unit)
    steps.append(f"The measured extrapolation replaces the heuristic: {_fmt(m)} examples (range ×0.7-×1.5 "
                 "for fit uncertainty).")
    return samples, per_class


def _annotation_steps(steps: list[str], annotation: Annotation, samples: SampleRange, labelled: bool, row: dict,
                      modality: Optional[str], task: str) -> None:
    if labelled:
        steps.append(f"Annotation: {annotation.seconds_per_label:g} s per label × {_fmt(samples.typical)} × "
                     f"{QA_OVERHEAD} review ≈ {_hours(annotation.hours_typical)} ({annotation.person_days_typical:.1f} "
                     f"person-days): {annotation.workload} by volume.")
        return
    steps.append("Annotation: none for pre-training; collecting, deduplicating and filtering the data dominates "
                 f"the {row['time']} the card gives.")
    if modality not in ("text_generation", "image_generation") and task != "generation":
        steps.append("Downstream: a transfer-learning-sized labelled set (the card's 100-1K) then adapts the "
                     "pre-trained model to the task.")


def _time_estimate(regime: str, samples: SampleRange, params, macs, row: dict, annotation: Annotation,
                   labelled: bool, steps: list[str]) -> TimeEstimate:
    t_cpu, t_gpu = _training_time(regime, samples, params, macs)
    summary = f"{row['time']} overall (card)"
    if labelled:
        summary += f"; labelling ≈ {annotation.person_days_typical:.1f} person-days"
    if t_cpu is not None:
        summary += f"; training ≈ {t_cpu:.2g} h on a CPU / {t_gpu:.2g} h on a GPU"
        steps.append(f"Training compute ≈ {t_cpu:.2g} CPU-hours / {t_gpu:.2g} GPU-hours "
                     "(6 FLOPs per parameter-or-MAC per example and epoch).")
    return TimeEstimate(label=row["time"], annotation_days=annotation.person_days_typical,
                        training_hours_cpu=t_cpu, training_hours_gpu=t_gpu, summary=summary)


def _verdict(available: Optional[int], samples: SampleRange) -> str:
    if available is None:
        return ""
    if samples.typical <= available:
        return f"You have {_fmt(available)}: enough for the typical estimate ({_fmt(samples.typical)})."
    if samples.low <= available:
        return (f"You have {_fmt(available)}: within the range but below the typical {_fmt(samples.typical)}; "
                "use transfer learning/augmentation or collect ~" + _fmt(samples.typical - available) + " more.")
    return (f"You have {_fmt(available)}: short by ~{_fmt(samples.typical - available)} of the typical "
            f"{_fmt(samples.typical)}.")


def _summary(regime: str, modality: Optional[str], task: str, samples: SampleRange, per_class: Optional[SampleRange],
             annotation: Annotation, labelled: bool, row: dict, curve, verdict: str) -> str:
    what = (modality or "").replace("_", " ") if task == "generation" else f"{modality or ''} {task.replace('_', ' ')}"
    msg = (f"{regime.replace('_', '-').capitalize()} {what}: about "
           f"{_fmt(samples.typical)} {samples.unit} (range {_fmt(samples.low)}-{_fmt(samples.high)})")
    if per_class is not None:
        msg += f", ~{_fmt(per_class.typical)} per class"
    msg += f"; annotation: {annotation.effort}"
    if labelled:
        msg += f" (~{_hours(annotation.hours_typical)})"
    msg += f"; {row['time']}."
    if curve and curve.extrapolations:
        msg += " Measured: " + "; ".join(f"{e.target:.3g} → {e.note}" for e in curve.extrapolations[:3]) + "."
    if verdict:
        msg += " " + verdict
    return re.sub(r"\s+", " ", msg).strip()


# --------------------------------------------------------------------------------------------------------
# datasets
# --------------------------------------------------------------------------------------------------------
def _dataset_spec(name: str) -> dict:
    """Cheap description of a dataset (a clear error when it is unknown)."""
    from tensor_agent.tools.core.datasets import dataset_spec

    return dataset_spec(name)
