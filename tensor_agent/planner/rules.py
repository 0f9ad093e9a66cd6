"""The default planner: offline, deterministic, no LLM.

Steps: decode -> find the @tensor mention -> repair typos -> intents in message order ->
modality -> architecture (named family wins, else the card's selection guide) -> tools ->
peers -> constraints -> clarification.
"""

from __future__ import annotations

import re

from tensor_agent.planner import lexicon as lx
from tensor_agent.planner.constraints import extract
from tensor_agent.planner.normalize import MAX_CHARS, MENTION_RE, decode, other_mentions, repair, strip_mentions
from tensor_agent.schema import Plan, tools_for

FAMILY_MODALITY = {
    "xgboost": "tabular", "mlp": "tabular", "cnn": "image", "resnet": "image", "efficientnet": "image",
    "convnext": "image", "vit": "image", "bert": "text", "t5": "text", "gpt": "text_generation",
    "mamba": "sequence", "diffusion": "image_generation", "gcn": "graph", "gat": "graph", "graphsage": "graph",
}
# Verbs in a subordinate phrase ("how much data do I need *to train* ...") are not requests.
_SUBORDINATE = re.compile(r"(?:\bto|\bwhen|\bwhile|\bfor|\bbefore|\bduring|\bafter|\bi'm|\bi am|\bwe're|\bwe are|"
                          r"\bam|\bis|\bare|\bof|\bin|\bby|\babout|\bthe|\bmy|\bwhich|\bthat|\bwe|\bi|\bthey|\byou|\bwas|\bwere|\bbeen|\bbe)\s+(?:\w+\s+)?$")
_QUESTION_INTENTS = {"estimate_data", "evaluate", "explain", "recall"}
_DOING_INTENTS = {"design", "implement", "train", "fine_tune"}
_NEW_REQUEST = re.compile(r"(?:\bthen|\band|\balso|;|\?|\bplease|\bcan you|\bcould you|\bwould you|\bnext|\bafterwards)\s*(?:\w+\s+){0,3}$")
_SENTENCE_END = re.compile(r"[.!?;\n]|\b(?:then|and then|also|after that|afterwards|next)\b")


def _window(text: str) -> tuple[str, list[str]]:
    """At most MAX_CHARS characters around the first mention."""
    if len(text) <= MAX_CHARS:
        return text, []
    m = MENTION_RE.search(text)
    start = max(0, (m.start() if m else 0) - 2000)
    return text[start:start + MAX_CHARS], [
        f"The message is {len(text):,} characters long; only {MAX_CHARS:,} characters around the "
        "@TENSOR mention were read."]


def _intent_spans(low: str) -> dict[str, list[tuple[int, int]]]:
    """Intent -> spans of all its cues, in message order."""
    found: dict[str, list[tuple[int, int]]] = {}
    for intent, patterns in lx.INTENT_CUES.items():
        spans = sorted({m.span() for p in patterns for m in p.finditer(low)})
        if spans:
            found[intent] = spans
    return found


def _same_clause(low: str, a: int, b: int) -> bool:
    return not _SENTENCE_END.search(low[min(a, b):max(a, b)])


def _new_request_at(low: str, start: int, after: int = 0) -> bool:
    """A new request begins just before `start` (looking no further back than `after`)."""
    return bool(_NEW_REQUEST.search(low[max(after, start - 40):start]))


def _order_intents(low: str) -> list[str]:
    spans = _intent_spans(low)
    pos = {intent: s[0] for intent, s in spans.items()}
    # A doing-verb inside a question about data/evaluation/maths is not a request of its own.
    for doing in list(pos):
        if doing not in _DOING_INTENTS:
            continue
        keep = []
        for start, end in spans[doing]:
            subordinate = _SUBORDINATE.search(low[max(0, start - 24):start]) and not _new_request_at(low, start)
            if subordinate and any(q in pos and pos[q][0] < start and _same_clause(low, pos[q][0], start)
                                   for q in _QUESTION_INTENTS):
                continue
            keep.append((start, end))
        if keep:
            pos[doing] = keep[0]
        else:
            del pos[doing]
    # When the message opens with a question (explain / evaluate / recall / estimate), later
    # doing-words are its topic ("explain LoRA math", "how should I evaluate after quantization")
    # unless a new request starts ("..., then design one", "and can you train ...").
    ordered = sorted(pos.items(), key=lambda kv: kv[1][0])
    if ordered and ordered[0][0] in _QUESTION_INTENTS:
        for doing, _span in ordered[1:]:
            if doing not in _DOING_INTENTS | {"compress"}:
                continue
            first_end = ordered[0][1][1]
            fresh = [sp for sp in spans[doing] if sp[0] > ordered[0][1][0] and _new_request_at(low, sp[0], first_end)]
            if fresh:
                pos[doing] = fresh[0]
            else:
                del pos[doing]
    # "train a LoRA adapter" / "train on top of a pretrained BERT" is fine-tuning.
    if "train" in pos and "fine_tune" in pos:
        train_text = low[pos["train"][0]:pos["train"][1]]
        if not (train_text.startswith("pre") or "from scratch" in low):
            pos["fine_tune"] = (min(pos["fine_tune"][0], pos["train"][0]), pos["fine_tune"][1])
            del pos["train"]
    if "train" in pos and re.search(r"\b(?:pre-?trained|transfer)\b", low) and "fine_tune" not in pos \
            and not re.search(r"\bfrom scratch\b", low):
        pos["fine_tune"] = pos.pop("train")
    # "write code for" is implement; a bare design cue at the same place adds nothing.
    if "implement" in pos and "design" in pos and abs(pos["implement"][0] - pos["design"][0]) <= 2:
        del pos["design"]
    return [i for i, _ in sorted(pos.items(), key=lambda kv: (kv[1][0], kv[0]))]


def _modality(low: str, named: list[tuple[int, str]]) -> str | None:
    hits: dict[str, list[int]] = {}
    for modality, patterns in lx.MODALITY_CUES.items():
        for p in patterns:
            for m in p.finditer(low):
                hits.setdefault(modality, []).append(m.start())
    classify = re.search(r"\bclassif\w*|\bcategori[sz]\w*|\bsentiment\b|\blabel\w*|\bdetect\w*|\bner\b|\bextract\w*|\brout(?:e|ing)\b|\btag\w*|"
                         r"\bflag\w*|\bidentif\w*|\bspot\w*|\bfilter\w*|\bmoderat\w*|\bscor(?:e|ing)\b|\brank\w*|\bpredict\w*", low)
    named_set = {f for _, f in named}
    if "diffusion" in named_set:
        return "image_generation"
    if "gpt" in named_set and not classify and "image" not in hits:
        return "text_generation"
    if "image_generation" in hits:
        return "image_generation"
    if "text_generation" in hits:
        weak = all(re.match(r"llms?|gpt|language|causal|autoregressive|generative|assistant|conversational",
                            low[i:i + 14]) for i in hits["text_generation"])
        if not (weak and classify):
            return "text_generation"
        hits.setdefault("text", []).extend(hits["text_generation"])
    if lx.SEQ2SEQ.search(low):
        return "text"
    if "graph" in hits and len(hits["graph"]) >= 1:
        if not (len(hits["graph"]) == 1 and re.match(r"nodes?|edges?", low[hits["graph"][0]:hits["graph"][0] + 5])
                and any(k in hits for k in ("image", "text", "tabular"))):
            return "graph"
    if "sequence" in hits:
        strong = [i for i in hits["sequence"] if not re.match(r"sequences?\b|tokens?|temporal|demand|weather|sounds?|voice|sensors?|signals?|readings|telemetry", low[i:i + 9])]
        tabular_file = re.search(r"\bcsv\b|\bcolumns?\b|\bspreadsheets?\b|\btabular\b|\bparquet\b", low)
        if strong or not any(k in hits for k in ("image", "text", "tabular")) and not tabular_file:
            return "sequence"
    rest = {k: v for k, v in hits.items() if k in ("image", "tabular", "text")}
    if rest:
        # Most cues wins; ties go to the earliest cue.
        return max(rest, key=lambda k: (len(rest[k]), -min(rest[k])))
    for _, family in named:
        if family != "mlp":  # an MLP says nothing about the data
            return FAMILY_MODALITY[family]
    return None


def _named_families(low: str) -> list[tuple[int, str]]:
    out = []
    for family, pat in lx.ARCH_CUES:
        m = pat.search(low)
        if m:
            out.append((m.start(), family))
    # "convolutional" inside "graph convolution" is gcn, not cnn.
    names = {f for _, f in out}
    if "gcn" in names and "cnn" in names:
        out = [(p, f) for p, f in out if f != "cnn" or re.search(r"\bcnns?\b|\bconv-?nets?\b", low)]
    if "t5" in names and "gpt" in names and re.search(r"\btransformer decoder\b", low) and re.search(r"\bencoder[- ]decoder\b", low):
        pass
    return sorted(out)


def _guide(modality: str | None, low: str, constraints: dict, seq2seq: bool) -> str | None:
    if modality == "tabular":
        wants_neural = re.search(r"\bneural (?:net|network)s?\b|\bdeep (?:learning|net|model)|\bembeddings?\b", low)
        doubts = re.search(r"\b(?:need|even|without|instead of|vs\.?|versus|or|overkill|skip)\b[^.?!]{0,20}\bdeep (?:learning|net)", low)
        return "mlp" if wants_neural and not doubts else "xgboost"
    if modality == "image":
        if lx.MOBILE_RE.search(low) or constraints.get("device") in ("mobile", "edge", "cpu") or \
                any(k in constraints for k in ("latency_ms", "size_mb", "max_params")):
            return "efficientnet"
        if re.search(r"\bvision transformers?\b|\bself-attention\b|\blarge[- ]scale\b|\bmillions? of\b|\bpre-?train\w*\b|\bfoundation\b", low):
            return "vit"
        return "convnext"
    if modality == "text":
        if seq2seq:
            return "t5"
        if re.search(r"\bgenerat\w*|\bchat ?bots?\b|\bchat assistants?\b|\bconversational\b", low):
            return "gpt"
        return "bert"
    if modality == "text_generation":
        return "gpt"
    if modality == "sequence":
        return "mamba"
    if modality == "image_generation":
        return "diffusion"
    if modality == "graph":
        if re.search(r"\binductive\b|\bunseen nodes\b|\bmillions? of (?:nodes|users)\b|\blarge(?:-scale)? graphs?\b|\bsampl\w* neighbo\w*|\bbillion\b|\bnew nodes\b|\buser-item\b|\brecommend\w*", low):
            return "graphsage"
        if re.search(r"\battention\b|\bheterophil\w*|\bimportance of neighbo\w*|\bweigh\w* neighbo\w*", low):
            return "gat"
        return "gcn"
    return None


def _architecture(modality: str | None, named: list[tuple[int, str]], low: str, constraints: dict) -> tuple[str | None, list[str]]:
    warnings: list[str] = []
    seq2seq = bool(lx.SEQ2SEQ.search(low))
    if named:
        family = named[0][1]
        # A generic "transformer for sequence-to-sequence" is t5, whatever else was named after it.
        return family, warnings
    if re.search(r"\btransformers?\b", low):
        if seq2seq:
            return "t5", warnings
        by_modality = {"image": "vit", "text": "bert", "text_generation": "gpt"}
        if modality in by_modality:
            return by_modality[modality], warnings
    m = lx.NEAREST_RE.search(low)
    if m:
        key = m.group(1).rstrip("s")
        key = {"u-net": "unet"}.get(key, key)
        for k, fam in lx.NEAREST_FAMILY.items():
            if key.startswith(k):
                if modality is None or FAMILY_MODALITY.get(fam) == modality or modality in ("sequence",):
                    guide = _guide(modality, low, constraints, seq2seq)
                    warnings.append(f"'{m.group(1)}' is not a family I build; the nearest is '{guide or fam}'.")
                    return guide or fam, warnings
    return _guide(modality, low, constraints, seq2seq), warnings


def _task(modality: str | None, low: str, seq2seq: bool) -> str | None:
    if modality == "graph":
        return "link_prediction" if re.search(r"\blink prediction\b|\brecommend\w*", low) else \
            "graph_classification" if re.search(r"\bmolecul\w*|\bgraph classification\b|\bcompounds?\b", low) else "node_classification"
    if modality == "image_generation":
        return "generation"
    if modality == "text_generation":
        return "generation"
    if seq2seq and modality == "text":
        return "seq2seq"
    if re.search(r"\bsegment\w*", low) and modality == "image":
        return "segmentation"
    if re.search(r"\bobject detection\b|\bbounding box\w*", low):
        return "detection"
    if re.search(r"\bregress\w*|\bforecast\w*|\bpredict (?:the )?(?:price|value|amount|demand|sales|temperature|load|revenue)\w*", low):
        return "forecasting" if modality == "sequence" else "regression"
    if modality is not None:
        return "classification"
    return None


def _peers(intents: list[str], low: str, text: str, constraints: dict) -> list[str]:
    peers: set[str] = set()
    if "explain" in intents or lx.AXIOM_CUES.search(low):
        peers.add("AXIOM")
    if "compress" in intents or lx.VELOCITY_CUES.search(low) or "latency_ms" in constraints:
        peers.add("VELOCITY")
    if lx.PRISM_CUES.search(low):
        peers.add("PRISM")
    if "evaluate" in intents or lx.ECLIPSE_CUES.search(low):
        peers.add("ECLIPSE")
    for name, at in other_mentions(text):  # "ask @PRISM to ..." delegates explicitly
        if name in ("AXIOM", "VELOCITY", "PRISM", "ECLIPSE") and lx.DELEGATE_RE.search(text[max(0, at - 30):at].lower()):
            peers.add(name)
    return sorted(peers)


def _clarify(intents: list[str], modality: str | None, architecture: str | None, constraints: dict, low: str) -> str | None:
    if not intents:
        return ("What would you like me to do? I can design or implement an architecture, train or fine-tune "
                "it, compress it for a device, estimate how much data you need, suggest an evaluation "
                "strategy, explain the maths, or recall what worked before. Tell me the task and the data.")
    needs_data = {"design", "implement", "train", "fine_tune", "estimate_data"} & set(intents)
    if needs_data and modality is None and architecture is None and "dataset" not in constraints:
        return "What kind of data is this for (images, text, tables, time series, graphs) and what should the model predict?"
    return None


def rules_plan(message: str | bytes | None) -> Plan:
    """Plan a message with the offline rules back-end. Never raises on any input."""
    text, warnings = decode(message)
    if not text.strip():
        return Plan(addressed=False, text="", warnings=warnings + ["The message is empty."], backend="rules")
    if not MENTION_RE.search(text):
        return Plan(addressed=False, text=text[:MAX_CHARS], warnings=warnings, backend="rules")
    text, more = _window(text)
    warnings += more
    clean = strip_mentions(MENTION_RE.sub(lambda m: " " * len(m.group(0)), text))
    low = repair(clean)

    constraints_list, cwarn = extract(clean)
    warnings += cwarn
    constraints = {}
    for c in constraints_list:
        constraints.setdefault(c.name, c.value)

    intents = _order_intents(low)
    named = _named_families(low)
    modality = _modality(low, named)
    architecture, awarn = _architecture(modality, named, low, constraints)
    warnings += awarn
    if not intents and (modality or architecture or named):
        intents = [lx.FALLBACK_INTENT]
    for m in lx.UNKNOWN_MODEL_RE.finditer(clean):
        name = m.group(1)
        if not any(p.search(name.lower()) for _, p in lx.ARCH_CUES) and name.lower() not in ("tensor",):
            warnings.append(f"Unknown model '{name}': I do not know it, so I used "
                            f"{'the selection guide (' + architecture + ')' if architecture else 'no family'} instead.")
    seq2seq = bool(lx.SEQ2SEQ.search(low))
    return Plan(
        addressed=True,
        intents=intents,
        modality=modality,
        architecture=architecture,
        tools=tools_for(intents),
        peers=_peers(intents, low, text, constraints),
        constraints=constraints_list,
        task=_task(modality, low, seq2seq) if intents else None,
        clarification=_clarify(intents, modality, architecture, constraints, low),
        warnings=warnings,
        backend="rules",
        text=text,
    )
