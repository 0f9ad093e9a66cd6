"""Constraint extraction: numbers, devices and techniques, each with its source span.

Runs on the original text (lower-cased, same length) so spans point into what the user wrote.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from tensor_agent.schema import Constraint

_NUM = r"(\d+(?:[.,]\d+)*(?:\.\d+)?)"
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "millions": 1e6,
          "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9}
_UPPER = r"(?:under|below|less than|<=?|at most|max(?:imum)?|no more than|within|up to|≤|smaller than|lower than|fewer than|budget of|limit of|capped at|cap of)"
_LOWER = r"(?:over|above|more than|>=?|at least|min(?:imum)?|no less than|≥|greater than|larger than|bigger than|exceed(?:ing|s)?)"


def _num(s: str) -> float:
    s = s.replace(",", "") if re.fullmatch(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", s) else s.replace(",", ".")
    return float(s)


def _scaled(num: str, scale: str | None) -> float:
    return _num(num) * _SCALE.get((scale or "").strip().lower(), 1.0)


def _bound(text: str, start: int) -> str | None:
    """'max' or 'min' when a bound word stands just before `start`."""
    before = text[max(0, start - 24):start]
    if re.search(_UPPER + r"\s*(?:of\s*)?(?:about\s*)?~?\s*$", before):
        return "max"
    if re.search(_LOWER + r"\s*(?:of\s*)?~?\s*$", before):
        return "min"
    return None


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("latency_ms", re.compile(_NUM + r"\s*(ms|msec|milliseconds?|s|sec|seconds?|µs|us|microseconds?)\b(?!\s*(?:of (?:audio|speech)|windows?|clips?|long))(?:\s*(?:latency|per (?:image|sample|request|query|batch|inference|prediction)|inference|response))?")),
    ("fps", re.compile(_NUM + r"\s*(fps|frames per second|frames/s)\b")),
    ("size_mb", re.compile(_NUM + r"\s*(kb|mb|gb|megabytes?|kilobytes?|gigabytes?|mib|gib|kib)\b")),
    ("max_params", re.compile(_NUM + r"\s*(k|m|b|bn|thousand|million|billion)?\s*(?:trainable\s+)?(?:params|parameters|weights)\b")),
    ("num_classes", re.compile(_NUM + r"\s*(?:different\s+|distinct\s+|target\s+|output\s+)?(classes|categories|labels|species|types|classes of|kinds)\b")),
    ("num_classes", re.compile(r"\b(\d+)[- ](class|way|category|label)\b(?![- ]?(?:imbalance|weights?))")),
    ("dataset_size", re.compile(_NUM + r"\s*(k|m|thousand|million|millions)?\+?\s*(?:labeled\s+|labelled\s+|annotated\s+|unlabeled\s+|unlabelled\s+|training\s+|raw\s+|\w+\s+)?(images|samples|examples|rows|records|sentences|documents|docs|reviews|texts|tweets|emails|photos|pictures|scans|nodes|graphs|sequences|instances|data points|datapoints|observations|clips|hours of audio|tickets|molecules|customers|transactions|x-rays|patients|users|pairs|utterances|articles)\b")),
    ("accuracy_target", re.compile(r"(?:" + _NUM + r"\s*%\s*(?:top-1\s+|test\s+|validation\s+)?(accuracy|acc|f1|precision|recall|auc|top-1|map|iou|dice)\b|(accuracy|f1|auc|precision|recall|top-1)\s*(?:of|above|over|at least|>=?|target(?: of)?|around|≥)?\s*" + _NUM + r"\s*%)")),
    ("accuracy_bare", re.compile(r"\b(?:reach|reaching|hit|hitting|get|achieve|achieving|at|target(?:ing)?|above|over|at least)\s+(?:~|about\s+)?(\d+(?:\.\d+)?)\s*%(?!\s*(?:sparsity|sparse|of\b|pruning|smaller|faster|fewer|less|more|compression|size|recall|precision|positives?|negatives?|fraud|of the|cpu|gpu|memory|utili[sz]ation|off|discount))")),
    ("sparsity", re.compile(r"(?:" + _NUM + r"\s*%\s*(?:sparsity|sparse|of (?:the )?weights|pruning)|(?:prune|pruning|sparsity)\s*(?:it|them|the model|weights|to|of|by)?\s*(?:to|by|of)?\s*" + _NUM + r"\s*%)")),
    ("epochs", re.compile(_NUM + r"\s*epochs?\b")),
    ("batch_size", re.compile(r"batch(?:\s*size)?\s*(?:of|=|:)?\s*" + _NUM + r"\b|" + _NUM + r"\s*(?:per batch|batch size)")),
    ("learning_rate", re.compile(r"(?:learning rate|lr)\s*(?:of|=|:)?\s*(\d*\.?\d+(?:e-?\d+)?)")),
    ("sequence_length", re.compile(_NUM + r"\s*(k)?[- ]?(?:tokens?|steps|timesteps|time steps|base pairs|bp|samples long|characters)\b(?:\s*long)?|(?:sequence|context) length(?: of)?\s*" + _NUM + r"\s*(k)?")),
    ("input_shape", re.compile(r"\b(\d{1,4})\s*[x×]\s*(\d{1,4})(?:\s*[x×]\s*(\d{1,4}))?\b")),
]

_DEVICES = [
    ("mobile", r"\b(?:mobile|phones?|smartphones?|android|ios|iphones?|tablets?|on-device)\b"),
    ("edge", r"\b(?:edge|raspberry(?: pi)?|jetson|microcontrollers?|mcu|embedded|iot|arduino|drones?|wearables?|coral)\b(?! cases?)"),
    ("gpu", r"\b(?:gpus?|cuda|a100|h100|v100|t4|rtx)\b"),
    ("cpu", r"\bcpus?\b|\blaptop\b"),
    ("server", r"\b(?:servers?|cloud|data ?cent(?:er|re)|cluster)\b"),
]

_OPTIMIZERS = [("adamw", r"\badam-?w\b"), ("lamb", r"\blamb\b"), ("adam", r"\badam\b(?!-?w)"),
               ("sgd", r"\bsgd\b|\bstochastic gradient descent\b|\bmomentum\b")]
_SCHEDULES = [("cosine_warm_restarts", r"\bwarm restarts?\b|\bsgdr\b|\bcosine (?:annealing )?with (?:warm )?restarts?\b"),
              ("cosine", r"\bcosine\b"), ("step", r"\bstep(?:[- ]?(?:decay|lr|schedule|wise))\b|\bmultistep\b"),
              ("exponential", r"\bexponential(?:ly)?(?: decay| lr| schedule)?\b"),
              ("constant", r"\bconstant (?:learning rate|lr|schedule)\b|\bfixed (?:learning rate|lr)\b")]
_TECHNIQUES = [
    ("lora", r"\b(?:q?lora|low-rank adaptation)\b"), ("adapter", r"\badapters?\b"),
    ("feature_extraction", r"\bfeature[- ]extract\w*|\bfrozen backbone\b|\bfreez\w+ (?:the )?(?:backbone|encoder)"),
    ("full_fine_tune", r"\bfull(?:y)? fine-?tun\w*|\ball layers\b"),
    ("qat", r"\bquantization[- ]aware\b|\bqat\b"),
    ("static_int8", r"\bstatic (?:int8 )?quantiz\w*|\bpost-training static\b|\bcalibrat\w+"),
    ("dynamic_int8", r"\bdynamic (?:int8 )?quantiz\w*"),
    ("int8", r"\bint ?8\b|\b8[- ]?bit\b|\bquantiz\w*|\bquantis\w*"),
    ("structured_pruning", r"\bstructured pruning\b(?<!unstructured pruning)|\bchannel pruning\b|\bprun\w+ (?:\w+ )?(?:channels|filters|heads)\b"),
    ("lottery_ticket", r"\blottery ticket\w*"),
    ("pruning", r"\bprun(?:e|ed|es|ing)\b|\bsparsif\w*|\bmagnitude pruning\b"),
    ("distillation", r"\bdistill(?:s|ed|ing|ation)?\b(?!bert)|\bteacher[- ]student\b"),
    ("onnx", r"\bonnx\b"), ("torchscript", r"\btorchscript\b|\btorch\.export\b"),
]
_DATASETS = [("digits", r"\bdigits?(?: dataset)?\b|\bmnist\b"), ("breast_cancer", r"\bbreast[ _-]cancer\b"),
             ("iris", r"\biris\b"), ("wine", r"\bwine\b"), ("karate", r"\bkarate(?: ?club)?\b")]
_PATH_RE = re.compile(r"(?<![\w@])((?:\.{0,2}/|~/)?[\w./-]+\.(?:csv|parquet|jsonl|json|tsv|txt|pt|pth|onnx))\b")


def _mk(name: str, value: Any, m: re.Match[str], text: str, group: int = 0) -> Constraint:
    s, e = m.span(group)
    return Constraint(name=name, value=value, span=(s, e), text=text[s:e])


def _scan(text: str, low: str) -> Iterator[Constraint]:
    for name, pat in _PATTERNS:
        for m in pat.finditer(low):
            g = [x for x in m.groups()]
            try:
                if name == "latency_ms":
                    unit = g[1]
                    v = _num(g[0]) * (1.0 if unit.startswith("m") else 1e-3 if unit in ("µs", "us") or unit.startswith("micro") else 1000.0)
                    if not unit.startswith(("ms", "msec", "milli")):
                        ctx = low[max(0, m.start() - 40): m.end() + 25]
                        if not re.search(r"latenc|inference|respon|per (?:image|request|query|sample)|under|below|within|real", ctx):
                            continue
                    yield _mk(name, v, m, text)
                elif name == "fps":
                    yield Constraint(name="latency_ms", value=round(1000.0 / max(_num(g[0]), 1e-9), 3), span=m.span(), text=text[m.start():m.end()])
                elif name == "size_mb":
                    u = g[1][0]
                    v = _num(g[0]) * {"k": 1 / 1024, "m": 1.0, "g": 1024.0}[u]
                    yield _mk(name, v, m, text)
                elif name == "max_params":
                    yield _mk(name, _scaled(g[0], g[1]), m, text)
                elif name == "num_classes":
                    v = _num(g[0])
                    if v >= 2 and v == int(v):
                        yield _mk(name, int(v), m, text)
                elif name == "dataset_size":
                    v = _scaled(g[0], g[1])
                    key = "labelled_examples" if re.search(r"label|annotat", m.group(0)) else "dataset_size"
                    yield _mk(key, int(v), m, text)
                elif name == "accuracy_target":
                    v = _num(g[0] or g[3]) / 100.0
                    yield _mk(name, v, m, text)
                elif name == "accuracy_bare":
                    if not re.search(r"accura|f1|auc|top-1|precision|recall|%\s*acc", low[m.end():m.end() + 12]):
                        yield Constraint(name="accuracy_target", value=_num(g[0]) / 100.0, span=(m.start(1), m.end()),
                                         text=text[m.start(1):m.end()])
                elif name == "sparsity":
                    yield _mk(name, _num(g[0] or g[1]) / 100.0, m, text)
                elif name == "epochs":
                    yield _mk(name, int(_num(g[0])), m, text)
                elif name == "batch_size":
                    yield _mk(name, int(_num(g[0] or g[1])), m, text)
                elif name == "learning_rate":
                    yield _mk(name, float(g[0]), m, text)
                elif name == "sequence_length":
                    n, k = (g[0], g[1]) if g[0] else (g[2], g[3])
                    yield _mk(name, int(_num(n) * (1000 if k else 1)), m, text)
                elif name == "input_shape":
                    dims = [int(x) for x in g if x]
                    if all(1 <= d <= 4096 for d in dims):
                        yield _mk(name, dims, m, text)
            except (ValueError, TypeError, IndexError):
                continue


def _first(low: str, table: list[tuple[str, str]]) -> list[tuple[str, re.Match[str]]]:
    out = []
    for value, pat in table:
        m = re.search(pat, low)
        if m:
            out.append((value, m))
    return out


def extract(text: str) -> tuple[list[Constraint], list[str]]:
    """All constraints in `text` (span order) and warnings about contradictions."""
    low = text.lower()
    found: list[Constraint] = list(_scan(text, low))
    warnings: list[str] = []

    # Bounds: "at least 10M parameters" is a floor, not a cap.
    bounded: list[Constraint] = []
    for c in found:
        if c.name in ("latency_ms", "size_mb", "max_params") and _bound(low, c.span[0]) == "min":
            bounded.append(Constraint(name="min_" + c.name.replace("max_", ""), value=c.value, span=c.span, text=c.text))
        else:
            bounded.append(c)
    found = bounded

    for value, m in _first(low, _DEVICES)[:1]:
        found.append(_mk("device", value, m, text))
    for value, m in _first(low, _OPTIMIZERS)[:1]:
        found.append(_mk("optimizer", value, m, text))
    for value, m in _first(low, _SCHEDULES)[:1]:
        found.append(_mk("schedule", value, m, text))
    seen_tech: set[str] = set()
    for value, m in _first(low, _TECHNIQUES):
        if value == "int8" and seen_tech & {"qat", "static_int8", "dynamic_int8"}:
            continue
        if value == "pruning" and seen_tech & {"structured_pruning", "lottery_ticket"}:
            continue
        seen_tech.add(value)
        found.append(_mk("technique", value, m, text))
    for value, m in _first(low, _DATASETS)[:1]:
        found.append(_mk("dataset", value, m, text))
    for m in _PATH_RE.finditer(text):
        if "/" in m.group(1) or re.search(r"\.(csv|parquet|jsonl|tsv|pt|pth|onnx)$", m.group(1)):
            found.append(_mk("dataset" if not m.group(1).endswith((".pt", ".pth", ".onnx")) else "model_path", m.group(1), m, text, 1))
            break
    if re.search(r"\bbinary\b", low) and not any(c.name == "num_classes" for c in found):
        m = re.search(r"\bbinary\b", low)
        found.append(_mk("num_classes", 2, m, text))

    found.sort(key=lambda c: c.span)
    warnings += _contradictions(found)
    return [c for c in found if not _invalid(c)], warnings


def _invalid(c: Constraint) -> bool:
    if c.name == "accuracy_target":
        return not (0 < c.value <= 1)
    if c.name == "sparsity":
        return not (0 <= c.value < 1)
    if c.name in ("latency_ms", "size_mb", "max_params", "epochs", "batch_size", "dataset_size", "labelled_examples"):
        return c.value <= 0
    return False


def _contradictions(cs: list[Constraint]) -> list[str]:
    out: list[str] = []
    by: dict[str, list[Constraint]] = {}
    for c in cs:
        by.setdefault(c.name, []).append(c)
    for name, items in by.items():
        vals = {str(c.value) for c in items}
        if name in ("latency_ms", "size_mb", "max_params", "accuracy_target", "num_classes", "epochs",
                    "batch_size", "learning_rate", "sparsity") and len(vals) > 1:
            out.append(f"Contradictory {name} constraints: " + " vs ".join(f"'{c.text}'" for c in items) +
                       f"; using the first ('{items[0].text}').")
    for cap, floor in (("latency_ms", "min_latency_ms"), ("size_mb", "min_size_mb"), ("max_params", "min_params")):
        if cap in by and floor in by and by[floor][0].value > by[cap][0].value:
            out.append(f"Contradictory constraints: '{by[floor][0].text}' as a minimum exceeds the maximum "
                       f"'{by[cap][0].text}'; no design can satisfy both.")
    for c in cs:
        if c.name == "accuracy_target" and not (0 < c.value <= 1):
            out.append(f"Impossible accuracy target '{c.text}' (must be between 0 and 100%); ignored.")
        if c.name == "sparsity" and not (0 <= c.value < 1):
            out.append(f"Impossible sparsity '{c.text}' (must be below 100%); ignored.")
    techs = {c.value for c in by.get("technique", [])}
    if techs & {"int8", "static_int8", "dynamic_int8", "qat"} and re.search(r"fp32|full precision", " ".join(c.text for c in cs)):
        out.append("Contradictory precision: INT8 requested together with full precision.")
    return out
