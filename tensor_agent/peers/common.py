"""Facts the stand-in peers read from a plan and its context (cheap, no heavy imports)."""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Optional

from tensor_agent.schema import Plan

#: architecture family -> modality when the plan has no modality.
FAMILY_MODALITY = {
    "xgboost": "tabular", "mlp": "tabular", "cnn": "image", "resnet": "image", "efficientnet": "image",
    "convnext": "image", "vit": "image", "bert": "text", "t5": "text", "gpt": "text_generation",
    "mamba": "sequence", "diffusion": "image_generation", "gcn": "graph", "gat": "graph", "graphsage": "graph",
}

_WORD_MODALITY = [
    (r"\b(time[- ]?series|forecast\w*|sensor|audio|speech|genom\w*|dna|long sequence\w*)\b", "sequence"),
    (r"\b(graph|node|edge|molecul\w*|social network)\b", "graph"),
    (r"\b(image generation|generate images|text[- ]to[- ]image|gan)\b", "image_generation"),
    (r"\b(language model|text generation|generate text|chatbot|llm)\b", "text_generation"),
    (r"\b(image|photo|picture|vision|pixel|x-ray|mri|scan)s?\b", "image"),
    (r"\b(text|nlp|sentiment|document|review|token|sentence|translation|summari[sz]\w*)s?\b", "text"),
    (r"\b(tabular|table|csv|churn|column|feature|spreadsheet|fraud|credit)s?\b", "tabular"),
]


def text_of(plan: Plan) -> str:
    """The plan's message, lower-cased."""
    return (plan.text or "").lower()


def has(text: str, *patterns: str) -> bool:
    """Whether any regex in `patterns` matches `text`."""
    return any(re.search(p, text) for p in patterns)


def modality_of(plan: Plan, context: Optional[Mapping[str, Any]] = None) -> Optional[str]:
    """The plan's modality, else inferred from the architecture, the current model, or words."""
    if plan.modality:
        return plan.modality
    if plan.architecture:
        return FAMILY_MODALITY.get(plan.architecture)
    results = (context or {}).get("results") or {}
    for tool in ("design_architecture", "train_model"):
        res = results.get(tool) or {}
        if isinstance(res, Mapping) and res.get("modality"):
            return res["modality"]
    model = ((context or {}).get("artifacts") or {}).get("model") or {}
    if model.get("family") in FAMILY_MODALITY:
        return FAMILY_MODALITY[model["family"]]
    t = text_of(plan)
    for pattern, modality in _WORD_MODALITY:
        if re.search(pattern, t):
            return modality
    return None


def task_of(plan: Plan, modality: Optional[str]) -> str:
    """Task type: the plan's, else inferred from modality and words."""
    t = text_of(plan)
    regression_words = has(t, r"\bregress\w*", r"\bpredict (the )?(price|value|amount|demand)", r"\bforecast")
    if plan.task == "regression" and not regression_words and has(
            t, r"\bclass\w*", r"\bsentiment", r"\bcategor\w*", r"\bspam\b", r"\brecogni[sz]\w*"):
        return "classification"  # the words say classification; trust them over a guessed task
    if plan.task:
        return plan.task
    if regression_words:
        return "regression"
    if has(t, r"\bdetect\w*\b.*\bobject", r"\bobject detection", r"\bbounding box"):
        return "detection"
    if has(t, r"\bsegment\w*"):
        return "segmentation"
    if modality in ("text_generation", "image_generation"):
        return "generation"
    if modality == "graph":
        return "link_prediction" if has(t, r"\blink prediction", r"\brecommend") else "node_classification"
    if has(t, r"\btranslat\w*", r"\bsummari[sz]\w*"):
        return "seq2seq"
    return "classification"


def techniques(plan: Plan) -> list[str]:
    """All technique constraints (the planner may give one value, a list, or several constraints)."""
    out: list[str] = []
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
    results = (context or {}).get("results") or {}
    train = results.get("train_model") or {}
    if isinstance(train, Mapping):
        sizes = train_sizes(train)
        if isinstance(sizes, Mapping):
            total = sum(_as_int(v) or 0 for v in sizes.values())
            if total:
                return total, "train_model sizes"
    est = results.get("estimate_data") or {}
    if isinstance(est, Mapping):
        n = _as_int(est.get("available"))
        if n:
            return n, "estimate_data (available)"
        samples = est.get("samples")
        n = _as_int(samples.get("typical")) if isinstance(samples, Mapping) else None
        if n and samples.get("unit", "").startswith("labelled"):
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
    n = _as_int(plan.constraint("num_classes"))
    if n:
        return n
    model = ((context or {}).get("artifacts") or {}).get("model") or {}
    return _as_int(model.get("num_classes"))


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
