"""Facts the stand-in peers read from a plan and the turn's context (cheap, no heavy imports).

Peers decide from the plan's fields (modality, task, architecture, topics, techniques, settings, data,
regime, constraints) and the context objects (results of the tools that ran, the thread's artifacts
such as the current model), never from `plan.text`. Family facts come from `tensor_agent.catalogue`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from tensor_agent.catalogue import DATASETS, FAMILIES, family_modality
from tensor_agent.schema import Plan

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq")


def _get(obj: Any, key: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(key)
    return getattr(obj, key, None)


def result(context: Optional[Mapping[str, Any]], tool: str) -> dict:
    """The JSON dict of a tool's result this turn ({} when it did not run)."""
    res = ((context or {}).get("results") or {}).get(tool)
    if hasattr(res, "model_dump"):
        res = res.model_dump(mode="json")
    return dict(res) if isinstance(res, Mapping) else {}


def model_ref(context: Optional[Mapping[str, Any]]) -> dict:
    """The thread's current model as the artifacts name it (family, path, dataset, ...) or {}."""
    ref = ((context or {}).get("artifacts") or {}).get("model") or {}
    return dict(ref) if isinstance(ref, Mapping) else {}


def data_path(plan: Plan) -> Optional[str]:
    """The user's data file or folder from the plan's data source."""
    return plan.data.data_path if plan.data is not None and plan.data.data_path else None


def dataset_name(plan: Plan, context: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The data the turn is about: the plan's data source, else the trained / current model's dataset."""
    if plan.data is not None and plan.data.ref:
        return plan.data.ref
    return result(context, "train_model").get("dataset") or model_ref(context).get("dataset") or \
        plan.constraint("dataset")


def modality_of(plan: Plan, context: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The plan's modality, else the catalogue's for its family, the tools' results, the current model or the data."""
    if plan.modality:
        return plan.modality
    if plan.architecture:
        return family_modality(plan.architecture)
    for tool in ("design_architecture", "train_model"):
        res = result(context, tool)
        mod = res.get("modality") or (res.get("dataset_info") or {}).get("modality")
        if mod:
            return mod
    mod = family_modality(model_ref(context).get("family"))
    if mod:
        return mod
    name = dataset_name(plan, context)
    if name in DATASETS:
        return DATASETS[name].modality
    if name:
        p = Path(str(name))
        if p.suffix.lower() in TABLE_SUFFIXES:
            return "tabular"
        if p.suffix.lower() in (".jsonl", ".json"):
            return "text"
    return None


def task_of(plan: Plan, modality: Optional[str], context: Optional[Mapping[str, Any]] = None) -> str:
    """Task kind: the plan's, else the trained model's, else the family's default, else the modality's."""
    if plan.task:
        return plan.task
    task = (result(context, "train_model").get("dataset_info") or {}).get("task") or model_ref(context).get("task")
    if task:
        return task
    spec = FAMILIES.get(plan.architecture or "")
    if spec is not None:
        return spec.tasks[0]
    if modality in ("text_generation", "image_generation"):
        return "generation"
    if modality == "graph":
        return "node_classification"
    return "classification"


def techniques(plan: Plan) -> list[str]:
    """Techniques named in the plan (`plan.techniques`, plus legacy `technique` constraints)."""
    out = [str(t).lower() for t in plan.techniques]
    for c in plan.constraints:
        if c.name == "technique":
            vals = c.value if isinstance(c.value, (list, tuple)) else [c.value]
            out += [str(v).lower() for v in vals if v]
    return list(dict.fromkeys(out))


def _as_int(v: Any) -> Optional[int]:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None


def dataset_size(plan: Plan, context: Optional[Mapping[str, Any]] = None) -> tuple[Optional[int], str]:
    """Number of (labelled) examples and where the figure came from."""
    for name in ("labelled_examples", "dataset_size"):
        n = _as_int(plan.constraint(name))
        if n:
            return n, f"constraint {name}"
    total = sum(_as_int(v) or 0 for v in train_sizes(result(context, "train_model")).values())
    if total:
        return total, "train_model sizes"
    est = result(context, "estimate_data")
    n = _as_int(est.get("available"))
    if n:
        return n, "estimate_data (available)"
    samples = est.get("samples")
    n = _as_int(samples.get("typical")) if isinstance(samples, Mapping) else None
    if n and str(samples.get("unit", "")).startswith("labelled"):
        return n, "estimate_data (estimated need)"
    return None, "unknown"


def train_sizes(train: Any) -> dict:
    """Split sizes of a train_model result ({"train": n, "val": n, "test": n}) or {}."""
    if not isinstance(train, Mapping):
        return {}
    for holder in (train, train.get("dataset_info"), train.get("data")):
        if isinstance(holder, Mapping) and isinstance(holder.get("sizes"), Mapping):
            return dict(holder["sizes"])
    return {}


def num_classes(plan: Plan, context: Optional[Mapping[str, Any]] = None) -> Optional[int]:
    """Classes of the task: a constraint, the trained/current model, or the built-in dataset."""
    n = _as_int(plan.constraint("num_classes"))
    if n:
        return n
    n = _as_int((result(context, "train_model").get("dataset_info") or {}).get("num_classes"))
    if n:
        return n
    n = _as_int(model_ref(context).get("num_classes"))
    if n:
        return n
    name = dataset_name(plan, context)
    return DATASETS[name].num_classes if name in DATASETS else None


def flatten(obj: Any, prefix: str = "") -> Iterable[tuple[str, Any]]:
    """Yield (dotted.key, leaf) pairs of nested dicts/lists."""
    if isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)) and len(obj) <= 50:
        for i, v in enumerate(obj):
            yield from flatten(v, f"{prefix}[{i}]")
    else:
        yield prefix, obj


def fmt_int(n: Optional[float]) -> str:
    """12345 -> '12,345'; None -> 'unknown'."""
    if n is None:
        return "unknown"
    return f"{int(round(n)):,}"
