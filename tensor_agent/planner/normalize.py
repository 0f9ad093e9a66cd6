"""Text clean-up before planning: decoding, mentions, truncation and typo repair.

Typo repair is deliberately conservative: short everyday words are only fixed from an
explicit list (so "brain" never becomes "train"), longer domain words (>= 7 letters) are
fixed within one edit (insert, delete, substitute or swap) of a known keyword.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_CHARS = 20_000  # what the planner reads; the rest is reported as truncated

MENTION_RE = re.compile(r"(?<![\w@])@tensor(?![a-z0-9_])", re.IGNORECASE)
OTHER_MENTION_RE = re.compile(r"(?<![\w@])@([a-z][\w-]*)", re.IGNORECASE)

# Explicit repairs for short or ambiguous words, and spelling variants.
EXPLICIT = {
    "trian": "train", "trainn": "train", "tain": "train", "traing": "training", "trainig": "training",
    "traning": "training", "trainign": "training", "trainning": "training", "trin": "train",
    "finetune": "fine-tune", "finetuning": "fine-tuning", "finetuned": "fine-tuned", "fintune": "fine-tune",
    "fine-tunning": "fine-tuning", "finetunning": "fine-tuning", "fintuning": "fine-tuning",
    "desing": "design", "desgin": "design", "deisgn": "design", "dsign": "design", "desin": "design",
    "implment": "implement", "impliment": "implement", "implemnt": "implement",
    "quantise": "quantize", "quantised": "quantized", "quantising": "quantizing", "quantisation": "quantization",
    "quantsie": "quantize", "qunatize": "quantize", "quantze": "quantize", "quantizise": "quantize",
    "optimise": "optimize", "optimised": "optimized", "optimising": "optimizing", "optimisation": "optimization",
    "optimse": "optimize", "optmize": "optimize", "optimze": "optimize",
    "prunning": "pruning", "prune's": "prune", "purne": "prune", "pruen": "prune",
    "distil": "distill", "distilation": "distillation", "distilled": "distilled",
    "evalute": "evaluate", "evaulate": "evaluate", "evalaute": "evaluate", "evalution": "evaluation",
    "explian": "explain", "expain": "explain", "explane": "explain", "eplain": "explain",
    "summarisation": "summarization", "summarise": "summarize", "summarising": "summarizing",
    "visualise": "visualize", "normalise": "normalize", "normalisation": "normalization",
    "generalise": "generalize", "labelled": "labeled", "labelling": "labeling",
    "modle": "model", "mdoel": "model", "moedl": "model", "modell": "model",
    "imgae": "image", "iamge": "image", "imags": "images", "imge": "image", "imgaes": "images",
    "txt": "text", "tabluar": "tabular", "tabualr": "tabular", "grpah": "graph", "garph": "graph",
    "cnns": "cnn", "convnet": "cnn", "convnets": "cnn", "gnns": "gnn",
    "archtecture": "architecture", "architecure": "architecture", "arch": "architecture",
    "lora's": "lora", "qlora": "lora", "dataset's": "dataset", "timeseries": "time series",
    "time-series": "time series", "pls": "please", "plz": "please", "randon": "random",
    "hyperparam": "hyperparameter", "hyperparams": "hyperparameters", "hyper-parameters": "hyperparameters",
    "hyper-parameter": "hyperparameter",
}

# Domain keywords long enough to repair by edit distance (>= 7 letters).
KEYWORDS = (
    "architecture", "architectures", "classification", "classifier", "convolutional", "transformer",
    "transformers", "efficientnet", "convnext", "graphsage", "quantize", "quantization", "quantized",
    "distillation", "distill", "pruning", "compress", "compression", "evaluate", "evaluation",
    "validation", "inference", "recommend", "implement", "implementation", "segmentation",
    "augmentation", "generation", "generate", "diffusion", "tabular", "optimize", "optimization",
    "deployment", "embedded", "explain", "explanation", "derivation", "convergence", "mathematical",
    "estimate", "annotation", "annotate", "preprocessing", "imbalanced", "imbalance", "training",
    "learning", "regression", "forecasting", "translation", "summarization", "sentiment",
    "detection", "dataset", "latency", "throughput", "accuracy", "parameters", "experiments",
    "experiment", "previous", "worked", "fine-tune", "fine-tuning", "fine-tuned", "fine-tunes", "retrained", "retraining", "adapters", "sequence",
    "sequences", "genomics", "language", "molecules", "network", "networks", "pretrained",
    "schedule", "scheduler", "annealing", "momentum", "feature", "features", "extraction",
    "knowledge", "teacher", "student", "structured", "unstructured", "sparsity", "category",
    "categories", "customer", "satellite", "medical", "designing", "designed", "implementing",
    "evaluating", "explaining", "compressing", "quantizing", "recommendation", "benchmark",
    "benchmarking", "strategy", "metrics", "cross-validation", "prediction", "predict", "images",
    "pictures", "photos", "documents", "reviews", "transactions", "spreadsheet", "smartphone",
    "raspberry", "microcontroller", "realtime", "real-time", "classify", "classifying",
    "hyperparameter", "hyperparameters", "containerize", "kubernetes", "kubeflow", "register", "deployment",
)

_TOKEN_RE = re.compile(r"[a-z][a-z'-]*[a-z]|[a-z]")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


_DELETE_INDEX: dict[str, set[str]] = {}
for _kw in KEYWORDS:
    for _d in _deletes(_kw) | {_kw}:
        _DELETE_INDEX.setdefault(_d, set()).add(_kw)
_KEYWORD_SET = frozenset(KEYWORDS)


@lru_cache(maxsize=65536)
def repair_word(word: str) -> str:
    """The repaired spelling of a lower-case token (itself when nothing applies).

    Only a missing letter ("archtecture"), an extra letter ("trainning") or two swapped
    neighbours ("classifciation") are repaired: substitutions turn real words into other real
    words ("running" -> "pruning"), so they are left to the explicit list.
    """
    if word in EXPLICIT:
        return EXPLICIT[word]
    if len(word) < 7 or len(word) > 24 or word in _KEYWORD_SET:
        return word
    candidates = {kw for kw in _DELETE_INDEX.get(word, ()) if len(kw) == len(word) + 1}  # a letter missing
    # a letter too many -- but not an inflection ("evaluated", "predicts" stay: the ending carries the meaning)
    candidates |= {d for d in _deletes(word) if d in _KEYWORD_SET and not (word.startswith(d) and word[len(d):] in ("d", "s"))}
    for i in range(len(word) - 1):  # two neighbours swapped
        swapped = word[:i] + word[i + 1] + word[i] + word[i + 2:]
        if swapped in _KEYWORD_SET:
            candidates.add(swapped)
    return sorted(candidates)[0] if candidates else word


def repair(text: str) -> str:
    """Lower-case `text` and repair typos token by token."""
    return _TOKEN_RE.sub(lambda m: repair_word(m.group(0)), text.lower())


def decode(message: str | bytes | bytearray | None) -> tuple[str, list[str]]:
    """Text from whatever the caller handed over, plus warnings about what was changed."""
    warnings: list[str] = []
    if message is None:
        return "", warnings
    if isinstance(message, (bytes, bytearray)):
        try:
            message = bytes(message).decode("utf-8")
        except UnicodeDecodeError:
            message = bytes(message).decode("utf-8", errors="replace")
            warnings.append("The message was not valid UTF-8; undecodable bytes were replaced.")
    if not isinstance(message, str):
        message = str(message)
    if "\x00" in message:
        message = message.replace("\x00", " ")
        warnings.append("NUL characters were removed from the message.")
    return message, warnings


def is_addressed(text: str) -> bool:
    return MENTION_RE.search(text) is not None


def other_mentions(text: str) -> list[tuple[str, int]]:
    """Mentions of other agents (@PRISM ...) with their offsets."""
    return [(m.group(1).upper(), m.start()) for m in OTHER_MENTION_RE.finditer(text)
            if m.group(1).lower() != "tensor"]


def strip_mentions(text: str) -> str:
    """Replace every @mention by spaces (offsets are kept)."""
    return OTHER_MENTION_RE.sub(lambda m: " " * len(m.group(0)), text)
