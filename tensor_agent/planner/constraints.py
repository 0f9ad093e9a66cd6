"""Constraint extraction: numbers, devices and techniques, each with its source span.

Runs on the original text (lower-cased, same length) so spans point into what the user wrote.
"""

from __future__ import annotations

import re
from typing import Any, Iterator

from tensor_agent.schema import Constraint

_NUM = r"(\d+(?:[.,]\d+)*(?:\.\d+)?)"
#: "k" in a sequence length or step count is 1024 ("16k-step sequences", "a 2k context" -> 16384, 2048), the
#: usual ML reading of context and window sizes; a number written out ("16,000 steps") is taken as written.
#: Counts of things (samples, images, rows, parameters) use k = 1000.
SEQ_K = 1024
_SCALE = {"k": 1e3, "thousand": 1e3, "m": 1e6, "mm": 1e6, "million": 1e6, "millions": 1e6,
          "b": 1e9, "bn": 1e9, "billion": 1e9, "billions": 1e9}
_NUMBER_WORD = (r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:-(?:one|two|three|four|five|six|seven|eight|nine))?|"
                r"two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|"
                r"eighteen|nineteen|a hundred|a dozen")
# A classification sentence: "sort", "classify", "bucket", "label", "one of", "into".
_CLASSIFYING = re.compile(r"\b(?:classif\w*|categori[sz]\w*|sort\w*|bucket\w*|label\w*|tag\w*|group\w* (?:them|it|the)|"
                          r"triage\w*|grad(?:e|ing)|assign\w*|predict\w* (?:which|one of)|one of|into|recogni[sz]\w*|detect\w*)\b")
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
    ("num_classes", re.compile(r"(?<![x×\d.,])" + _NUM + r"\s+(?:different\s+|distinct\s+|target\s+|output\s+|possible\s+)?(?:[a-z][\w-]*\s+)?(classes|categories|labels|species|classes of|kinds|genres|intents|classes?)\b(?!\s*(?:imbalance|columns?))")),
    ("num_classes", re.compile(r"\b(\d+)[- ](class|way|category|label)\b(?![- ]?(?:imbalance|weights?))")),
    ("num_classes_word", re.compile(r"\b(" + _NUMBER_WORD + r")[- ](?:different\s+|distinct\s+|target\s+|output\s+|possible\s+)?(?:[a-z][\w-]*\s+)?(classes|categories|labels|species|kinds|genres|intents|class|way|emotions|breeds|moods|sentiments|dialects|accents|languages)\b")),
    # Nouns that count classes only in a classification sentence ("sort the photos into three groups").
    ("num_classes_soft", re.compile(r"(?<![x×\d.,-])\b(\d+|" + _NUMBER_WORD + r")[- ](?:different\s+|distinct\s+|possible\s+)?(?:[a-z][\w-]*\s+)?"
                                    r"(groups|buckets|types|tiers|levels|grades|outcomes|stages|conditions|diseases|tags|topics|styles|ratings|bins)\b")),
    ("num_classes", re.compile(r"\b(?:num_classes|n_classes|num[_ ]labels|number of (?:classes|categories|labels|output classes))\s*(?:=|:|is|of|are)?\s*(\d+)\b()")),
    ("dataset_size", re.compile(r"(?<![x×\d.,])" + _NUM + r"(?!\s*[x×]\s*\d)\s*(k|m|thousand|million|millions)?(?![a-z])\+?\s*"
                                r"(?:\d{1,4}\s*[x×]\s*\d{1,4}(?:\s*[x×]\s*\d{1,4})?(?:\s*(?:px|pixels?))?\s+)?(?:(?:rgb|colou?r|grayscale|greyscale|gr[ae]y|mono(?:chrome)?)\s+)?(?:(?:labeled|labelled|annotated|unlabeled|unlabelled|training|raw|[a-z][\w-]*)\s+){0,2}(images|samples|examples|rows|records|sentences|documents|docs|reviews|texts|tweets|emails|photos|pictures|scans|crops|frames|tiles|nodes|graphs|sequences|instances|data points|datapoints|observations|clips|hours of audio|tickets|molecules|customers|transactions|x-rays|patients|users|pairs|utterances|articles)\b")),
    ("accuracy_target", re.compile(r"(?:" + _NUM + r"\s*%\s*(?:top-1\s+|test\s+|validation\s+)?(accuracy|acc|f1|precision|recall|auc|top-1|map|iou|dice)\b|(accuracy|f1|auc|precision|recall|top-1)\s*(?:of|above|over|at least|>=?|target(?: of)?|around|≥)?\s*" + _NUM + r"\s*%)")),
    ("accuracy_bare", re.compile(r"\b(?:reach|reaching|hit|hitting|get|achieve|achieving|at|target(?:ing)?|above|over|at least)\s+(?:~|about\s+)?(\d+(?:\.\d+)?)\s*%(?!\s*(?:sparsity|sparse|of\b|pruning|smaller|faster|fewer|less|more|compression|size|recall|precision|positives?|negatives?|fraud|of the|cpu|gpu|memory|utili[sz]ation|off|discount))")),
    ("sparsity", re.compile(r"(?:" + _NUM + r"\s*%\s*(?:sparsity|sparse|of (?:the |its |all )?(?:\w+ )?weights|pruning|pruned)|(?:prun\w*|sparsity|sparsif\w*)\s+(?:(?!keep|retain|within|under|while|and|but|then|with)[\w-]+\s+){0,3}?(?:to|by|of|at|down)?\s*" + _NUM + r"\s*%(?!\s*(?:accuracy|acc\b|of (?:the |its )?(?:original )?accuracy|top|f1|recall|precision|faster|smaller|size|latency|speed|drop))|\bsparsity(?: of| =|=|:| level of| target of)?\s*(0?\.\d+))")),
    ("sequence_length", re.compile(_NUM + r"\s*(k)?[- ]?(?:tokens?(?!\s*(?:per|/)\s*(?:second|sec|s)\b)|base[- ]pairs|bp|samples long|characters|chars)\b(?:\s*long)?|"
                                   + _NUM + r"\s*(k)?-(?:time)?steps?\b|" + _NUM + r"\s*(k)?[- ](?:time[- ]?)?steps? (?=(?:[\w-]+ )?(?:long|sequences?|windows?|series|context|signals?|recordings?|traces?|streams?|segments?|of (?:history|context)|inputs?|histor(?:y|ies)))|"
                                   + _NUM + r"\s*(k)?[- ](?:token |tokens? )?context(?: windows?| lengths?)?\b|"
                                   + _NUM + r"\s*(k)?-samples? (?=(?:[\w-]+ )?(?:windows?|sequences?|clips?|segments?|frames?|recordings?)\b)|"
                                   r"(?:sequence|context|max(?:imum)?|input|window|seq)[- _]?(?:length|len)(?: of)?\s*(?:=|:)?\s*" + _NUM + r"\s*(k)?|\blength(?: of)?\s*" + _NUM + r"\s*(k)?(?:\s*tokens)?\b|"
                                   r"\bsequences? of (?:length )?" + _NUM + r"\s*(k)?\b|\b(?:windows?|sequences?|series|recordings?|histor(?:y|ies)) of " + _NUM + r"\s*(k)?[- ](?:time[- ]?)?steps?\b")),
    ("input_shape", re.compile(r"\b(\d{1,4})\s*[x×]\s*(\d{1,4})(?:\s*[x×]\s*(\d{1,4}))?\b(?!\s*(?:conv\w*|kernels?|filters?|patch\w*|pool\w*|windows?|strides?|grids?|matri\w*|boards?|mesh))(?:\s*(?:px|pixels?))?(?:\s*(rgb|colou?r|grayscale|greyscale|gray|grey|mono(?:chrome)?|rgba))?")),
    ("input_shape", re.compile(r"\b(\d{2,4})\s*(?:px|pixels?)\b(?:\s*(rgb|colou?r|grayscale|greyscale|gray|grey|mono(?:chrome)?|rgba))?|\bresolution (?:of )?(\d{2,4})\b")),
]

_DEVICES = [
    ("mobile", r"\b(?:mobile|phones?|smartphones?|android|ios|iphones?|tablets?|on-device)\b"),
    ("edge", r"\b(?:edge|raspberry(?: pi)?|jetson|microcontrollers?|mcu|embedded|iot|arduino|drones?|wearables?|coral)\b(?! cases?| footage| images?| photos?| imagery| videos?| inspections?| surveys?)"),
    ("gpu", r"\b(?:gpus?|cuda|a100|h100|v100|t4|rtx)\b"),
    ("cpu", r"\bcpus?\b|\blaptop\b"),
    ("server", r"\b(?:servers?|cloud|data ?cent(?:er|re)|cluster)\b"),
]

_UNITS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
          "seventeen": 17, "eighteen": 18, "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}


def _word_number(w: str) -> int | None:
    """'seven' -> 7, 'twenty-one' -> 21, 'a hundred' -> 100, 'a dozen' -> 12; None when not a number word."""
    w = w.strip().lower()
    if w.isdigit():
        return int(w)
    if w in ("a hundred", "one hundred", "hundred"):
        return 100
    if w == "a dozen":
        return 12
    parts = re.split(r"[- ]", w)
    if len(parts) == 2 and parts[0] in _TENS and parts[1] in {**_UNITS, "one": 1}:
        return _TENS[parts[0]] + {**_UNITS, "one": 1}[parts[1]]
    return _UNITS.get(w) or _TEENS.get(w) or _TENS.get(w)
_CHANNELS = {"rgb": 3, "color": 3, "colour": 3, "rgba": 4, "grayscale": 1, "greyscale": 1, "gray": 1, "grey": 1,
             "mono": 1, "monochrome": 1}
# A path in the message: has a '/' or a data-file extension; model files are model_path.
_PATH_RE = re.compile(r"(?<![\w@/.:-])((?:\.{1,2}/|~/|/)?(?:[\w.-]+/)*[\w.-]+\.(?:csv|parquet|jsonl|json|tsv|txt|xlsx|npz|npy|pt|pth|onnx|safetensors)"
                      r"|(?:\.{1,2}/|~/|/)?(?:[\w.-]+/)+[\w.-]*/?)(?![\w/])")
_URL_LIKE = re.compile(r"^(?:https?|www\.)|^\d+(?:\.\d+)*/|^[\w.-]+/s$|^(?:w/|a/b|tf/|i/o|n/a|km/h|req/s|and/or)", re.I)
_MODEL_EXT = (".pt", ".pth", ".onnx", ".safetensors")
# Claims on the same words: the reading with the higher priority wins.
_PRIORITY = {"input_shape": 0, "time_budget_s": 0, "sequence_length": 1, "warmup_epochs": 1, "patience": 1,
             "num_classes": 2, "epochs": 3, "batch_size": 3, "dataset_size": 4, "labelled_examples": 4, "latency_ms": 5}


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
                    if re.match(r"[\s-]*(?:of )?(?:[\w-]+ )?(?:images?|image data|data|dataset|photos?|pictures|text|corpus|logs?|csv|tables?|files|"
                                r"recordings|videos?|audio|scans|tiles|parquet)\b", low[m.end():]):
                        continue  # "a 300GB image dataset" is the data's volume, not a size budget
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
                    if re.search(r"\d\s*[x×]\s*\d", m.group(0)):  # "50k 28x28 images": the count is "50k"
                        end = m.end(2) if g[1] else m.end(1)
                        yield Constraint(name=key, value=int(v), span=(m.start(), end), text=text[m.start():end])
                        continue
                    yield _mk(key, int(v), m, text)
                elif name == "accuracy_target":
                    v = _num(g[0] or g[3]) / 100.0
                    yield _mk(name, v, m, text)
                elif name == "accuracy_bare":
                    if not re.search(r"accura|f1|auc|top-1|precision|recall|%\s*acc", low[m.end():m.end() + 12]):
                        yield Constraint(name="accuracy_target", value=_num(g[0]) / 100.0, span=(m.start(1), m.end()),
                                         text=text[m.start(1):m.end()])
                elif name == "sparsity":
                    yield _mk(name, _num(g[0] or g[1]) / 100.0 if (g[0] or g[1]) else _num(g[2]), m, text)
                elif name == "num_classes_word":
                    v = _word_number(g[0])
                    if v and v >= 2:
                        yield _mk("num_classes", v, m, text)
                elif name == "num_classes_soft":
                    v = _word_number(g[0])
                    sentence = re.split(r"[.;!?\n]", low[max(0, m.start() - 80):m.start()])[-1]
                    if v and 2 <= v <= 1000 and _CLASSIFYING.search(sentence):
                        yield _mk("num_classes", v, m, text)
                elif name == "sequence_length":
                    pairs = [(g[i], g[i + 1]) for i in range(0, len(g) - 1, 2) if g[i]]
                    n, k = pairs[0]
                    v = int(round(_num(n) * (SEQ_K if k else 1)))
                    first = next(i for i, x in enumerate(g, 1) if x)
                    if low[m.start()].isalpha() and " of " in low[m.start():m.start(first)]:
                        # "sequences of 512 steps": the words before the number may also be counted elsewhere
                        yield Constraint(name=name, value=v, span=(m.start(first), m.end()), text=text[m.start(first):m.end()])
                        continue
                    yield _mk(name, v, m, text)
                elif name == "input_shape":
                    dims = [int(x) for x in g if x and x.isdigit()]
                    if len(dims) == 1:
                        dims = dims * 2
                    channel = next((x for x in g if x and not x.isdigit()), None)
                    if channel and len(dims) == 2:
                        dims = [_CHANNELS.get(channel, 3), *dims]
                    if all(1 <= d <= 4096 for d in dims) and max(dims) >= 4:
                        yield _mk(name, dims, m, text)
            except (ValueError, TypeError, IndexError):
                continue


def _dataset_words() -> list[tuple[str, re.Pattern[str]]]:
    """The catalogue's dataset words, longest first ("digit images" before "digit")."""
    from tensor_agent.catalogue import DATASETS

    words = [(w, spec.name) for spec in DATASETS.values() for w in (*spec.words, spec.name)]
    words.sort(key=lambda x: -len(x[0]))
    return [(name, re.compile(r"\b" + re.escape(w).replace(r"\ ", r"[ _-]") + r"(?: data ?set| set)?\b")) for w, name in words]


_DATASET_WORDS = _dataset_words()
_OWN_DATA = re.compile(r"\b(?:my|our|your|their|own|custom|internal|private|company'?s?|client'?s?)\s+(?:[\w-]+\s+){0,2}$")


def _dataset(text: str, low: str, taken: list[tuple[int, int]]) -> Constraint | None:
    """The first built-in dataset named in the message (not the user's own "my wine csv")."""
    best = None
    for name, pat in _DATASET_WORDS:
        for m in pat.finditer(low):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            if _OWN_DATA.search(low[max(0, m.start() - 40):m.start()]) or \
                    re.match(r"[\w-]*\s*(?:csv|files?|folders?|tables?|spreadsheets?|exports?|dumps?|\.\w+)\b", low[m.end():]):
                continue
            if best is None or m.start() < best[1].start():
                best = (name, m)
            break
    return _mk("dataset", best[0], best[1], text) if best else None


def _path(text: str) -> Constraint | None:
    for m in _PATH_RE.finditer(text):
        p = m.group(1).rstrip(".,;:)")
        if len(p) < 3 or _URL_LIKE.search(p) or "@" in p:
            continue
        has_ext = re.search(r"\.[a-z][a-z0-9]{1,11}$", p, re.I)
        if not has_ext and not p.startswith(("./", "../", "~/", "/")) and not p.endswith("/"):
            continue  # "TensorFlow/Keras", "A/B", "train/test" are not paths
        s = m.start(1)
        name = "model_path" if p.lower().endswith(_MODEL_EXT) else "data_path"
        return Constraint(name=name, value=p, span=(s, s + len(p)), text=text[s:s + len(p)])
    return None


def _budgets_over_current(found: list[Constraint], low: str) -> list[Constraint]:
    """"The model is 400 MB, we need it under 50 MB": the bounded reading is the budget; the unbounded
    one describes the current model and is dropped."""
    out = []
    for c in found:
        if c.name in ("latency_ms", "size_mb", "max_params") and _bound(low, c.span[0]) is None and any(
                o.name == c.name and o is not c and _bound(low, o.span[0]) == "max" for o in found):
            continue
        out.append(c)
    return out


def _resolve_overlaps(found: list[Constraint]) -> list[Constraint]:
    """Where two readings claim the same words ("224x224 images", "16k step sequences"), keep the better."""
    ranked = sorted(found, key=lambda c: (_PRIORITY.get(c.name, 9), c.span))
    kept: list[Constraint] = []
    for c in ranked:
        if c.name in _PRIORITY and any(k.name in _PRIORITY and k.name != c.name and c.span[0] < k.span[1]
                                       and k.span[0] < c.span[1] for k in kept):
            continue
        if any(k.name == c.name and k.value == c.value and c.span[0] < k.span[1] and k.span[0] < c.span[1] for k in kept):
            continue  # two patterns read the same words the same way ("224 x 224 pixels")
        kept.append(c)
    return kept


def extract(text: str) -> tuple[list[Constraint], list[str]]:
    """All constraints in `text` (span order) and warnings about contradictions and dropped values."""
    from tensor_agent.planner.training import training_settings

    low = text.lower()
    found: list[Constraint] = list(_scan(text, low))
    settings, warnings = training_settings(text, low)
    found += settings

    # Bounds: "at least 10M parameters" is a floor, not a cap.
    bounded: list[Constraint] = []
    for c in found:
        if c.name in ("latency_ms", "size_mb", "max_params") and _bound(low, c.span[0]) == "min":
            bounded.append(Constraint(name="min_" + c.name.replace("max_", ""), value=c.value, span=c.span, text=c.text))
        else:
            bounded.append(c)
    found = _resolve_overlaps(_budgets_over_current(bounded, low))

    for value, pat in _DEVICES:
        m = re.search(pat, low)
        if m:
            found.append(_mk("device", value, m, text))
            break
    path = _path(text)
    if path:
        found.append(path)
    ds = _dataset(text, low, [path.span] if path else [])
    if ds:
        found.append(ds)
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
