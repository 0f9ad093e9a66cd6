"""The default planner: offline, deterministic, no LLM.

Steps: decode -> find the @tensor mention -> repair typos -> intents in message order ->
modality -> architecture (named family wins, else the card's selection guide) -> tools ->
peers -> constraints -> clarification.
"""

from __future__ import annotations

import re

from tensor_agent.catalogue import FAMILIES, Signals, family_modality, select_family
from tensor_agent.planner import clauses as cl
from tensor_agent.planner import fields
from tensor_agent.planner import lexicon as lx
from tensor_agent.planner.constraints import extract
from tensor_agent.planner.normalize import MAX_CHARS, MENTION_RE, decode, repair, strip_mentions
from tensor_agent.planner.peer_rules import peers_for
from tensor_agent.planner.scope import mask_quotes, negated, request_text
from tensor_agent.schema import Constraint, Plan, tools_for

# Verbs in a subordinate phrase ("how much data do I need *to train* ...") are not requests.
_SUBORDINATE = re.compile(r"(?:\bto|\bwhen|\bwhile|\bfor|\bbefore|\bduring|\bafter|\bi'm|\bi am|\bwe're|\bwe are|"
                          r"\bam|\bis|\bare|\bof|\bin|\bby|\babout|\bthe|\bmy|\bwhich|\bthat|\bwe|\bi|\bthey|\byou|\bwas|\bwere|\bbeen|\bbe)\s+(?:\w+\s+)?$")
_QUESTION_INTENTS = {"estimate_data", "evaluate", "explain", "recall"}
# "before we deploy it, ..." / "once you've trained it": the clause is a condition, not a request.
_CONDITION = re.compile(r"(?<!after )(?<!following )(?<!besides )(?<!beyond )(?<!of )(?<!with )\b(?:that|which)\s+$|\b(?:when|while|whilst|during)\s+$|\b(?:that|which)\s+(?:has|have|needs?|must|should|will|would|can|could|is able|are able)\s+$|\b(?!(?:while|whilst|as) you\b)(?:before|when|while|once|until|whenever|if|suppose|supposing|imagine|assuming|assume|what if|say)\s+(?:we|i|you|they|it|people|users)\b(?:\s+[\w']+){0,3}\s+$|"
                        r"\b(?:is it|would it be|isn't it|is that|would that be|does it make sense|is there any point|is there a point|is it worth|worth it)"
                        r"\s+(?!(?:possible|ok|okay|alright) to\b)(?:[\w']+\s+){0,3}(?:to|in)\s+$|"  # "would it be possible to train X": a polite request
                        r"\b(?:the|a|an|this|that|which|our|my|those|these)\s+(?:(?!should\b|can\b|could\b|would\b|will\b|do\b|does\b|did\b|shall\b|must\b|may\b|might\b)[\w-]+\s+){0,2}"
                        r"(?:we|i|they|we've|i've|they've|we're|i'm|we've been|i've been)"
                        r"\s+(?:already |just |currently |usually |recently |also )?$")
# "deploy it on a phone" is compression for a device; "deploy it with Docker" is serving.
_DEVICE_DEPLOY = re.compile(r"\s*(?:[\w-]+\s+){0,4}?(?:on|to|onto|for|in)\s+(?:a |an |the |our |my |their |users' )?(?:[\w-]+\s+)?"
                            r"(?:mobile|phones?|smartphones?|android|ios|iphones?|edge|devices?|raspberry|jetson|microcontrollers?|"
                            r"mcu|embedded|browser|wasm|laptop|on-device|tablet|wearables?|iot|drones?)\b")
_SERVING = re.compile(r"\b(?:docker|containers?|containeri[sz]\w*|torch-?serve|tf[- ]?serving|tensorflow serving|k-?serve|kubernetes|"
                      r"k8s|kubeflow|helm|endpoint|rest|http|grpc|api|production|prod|cloud|servers?|cluster|fastapi|manifests?)\b")
_CLASSIFY = re.compile(r"\bclassif\w*|\bcategori[sz]\w*|\bsentiment\b|\blabel\w*|\bdetect\w*|\bner\b|\bextract\w*|\brout(?:e|er|ers|ing)\b|\btag\w*|\bintents?\b|"
                         r"\bflag\w*|\bidentif\w*|\bspot\w*|\bfilter\w*|\bmoderat\w*|\bscor(?:e|ing)\b|\brank\w*|\bpredict\w*")
# A family named as the thing to replace or beat is not the one asked for.
_REPLACED = re.compile(r"\b(?:better than|alternatives? to|other than|switch(?:ing)? (?:away )?from|replac(?:e|ing)|swap(?:ping)?(?: out)?|ditch(?:ing)?|get rid of|move away from|beyond|besides|apart from|"
                       r"outperform\w*|beat(?:s|ing)?|(?:smaller|lighter|faster|cheaper) than)\s+(?:a |an |the |our |my |plain |simple |vanilla |standard )?(?:[\w-]+ )?$")


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
    """Intent -> spans of all its (not negated) cues, in message order."""
    found: dict[str, list[tuple[int, int]]] = {}
    for intent, patterns in lx.INTENT_CUES.items():
        spans = sorted({m.span() for p in patterns for m in p.finditer(low) if not negated(low, m.start())})
        if intent == "deploy":
            spans = [sp for sp in spans if not _device_deploy(low, sp)]
        spans = cl.filter_spans(low, intent, spans, found)
        if spans:
            found[intent] = spans
    return found


def _negated_intents(low: str) -> set[str]:
    """Intents whose cues are there but negated ("I was going to train a ResNet but ..."): the classifier
    must not bring them back."""
    out = set()
    for intent, patterns in lx.INTENT_CUES.items():
        if any(negated(low, m.start()) for p in patterns for m in p.finditer(low)):
            out.add(intent)
    return out


def _cued_intents(low: str) -> set[str]:
    """Every intent a cue pattern matches anywhere in `low`, before negation and scope set any aside."""
    return {intent for intent, patterns in lx.INTENT_CUES.items() if any(p.search(low) for p in patterns)}


def _device_deploy(low: str, span: tuple[int, int]) -> bool:
    """A deploy word aimed at a device ("deploy it on a phone") when nothing says serving."""
    word = low[span[0]:span[1]]
    if not word.startswith(("deploy", "re-deploy", "redeploy")):
        return False
    return bool(_DEVICE_DEPLOY.match(low, span[1])) and not _SERVING.search(low)


def _objects_of_tracking(low: str, spans: dict[str, list[tuple[int, int]]]) -> None:
    """"compare my last 5 runs", "log my last run to W&B": the runs are what the tracking verb acts
    on, not a question about past results."""
    if "track" in spans and "evaluate" in spans:  # "log the confusion matrix and metrics of this run to MLflow"
        ts = [s for s, _ in spans["track"]]
        rest = [sp for sp in spans["evaluate"] if not any(t < sp[0] <= t + 60 and cl.same_clause(low, t, sp[0]) for t in ts)]
        if rest:
            spans["evaluate"] = rest
        else:
            del spans["evaluate"]
    if "track" not in spans or "recall" not in spans:
        return
    track_starts = [s for s, _ in spans["track"]]
    rest = [sp for sp in spans["recall"]
            if not any(t <= sp[0] <= t + 40 and cl.same_clause(low, t, sp[0]) or
                       sp[0] < t <= sp[1] + 30 and cl.same_clause(low, sp[0], t) and
                       re.match(r"(?:last|latest|previous|past|prior|recent)\b", low[sp[0]:sp[1]])
                       for t in track_starts)]
    if rest:
        spans["recall"] = rest
    else:
        del spans["recall"]


def _order_intents(low: str) -> list[str]:
    spans = _intent_spans(low)
    cl.topic_heading(low, spans)
    cl.pipeline_steps(low, spans)
    # A request inside a condition ("before we deploy it, ...") is not one when another request stands.
    conditional = {i: [sp for sp in ss if _CONDITION.search(low[max(0, sp[0] - 40):sp[0]])] for i, ss in spans.items()}
    # "if we deploy it with Docker, ...": the rest of a conditional clause is part of the condition too.
    heads = [sp for ss in conditional.values() for sp in ss]
    for i, ss in spans.items():
        conditional[i] += [sp for sp in ss if sp not in conditional[i] and any(
            h[0] < sp[0] and not re.search(r"[,.;:!?\n]|\bthen\b", low[h[1]:sp[0]]) for h in heads)]
    if any(len(conditional[i]) < len(ss) for i, ss in spans.items()):
        for intent in list(spans):
            rest = [sp for sp in spans[intent] if sp not in conditional[intent]]
            if rest:
                spans[intent] = rest
            elif len(spans) > 1:
                del spans[intent]
    _objects_of_tracking(low, spans)
    cl.technique_comparison(low, spans)
    cl.implemented_techniques(low, spans)
    cl.question_topics(low, spans)
    cl.test_sample_size(low, spans)
    pos = {intent: s[0] for intent, s in spans.items()}
    # A doing-verb inside a question about data/evaluation/maths is not a request of its own.
    for doing in list(pos):
        if doing not in cl.DOING_INTENTS:
            continue
        keep = []
        for start, end in spans[doing]:
            subordinate = _SUBORDINATE.search(low[max(0, start - 24):start]) and not cl.new_request_at(low, start)
            if subordinate and any(q in pos and pos[q][0] < start and cl.same_clause(low, pos[q][0], start)
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
            if doing not in cl.DOING_INTENTS | {"compress"}:
                continue
            first_end = ordered[0][1][1]
            fresh = [sp for sp in spans[doing] if sp[0] > ordered[0][1][0] and (
                cl.new_request_at(low, sp[0], first_end) or cl.THEN_CLAUSE.search(low, first_end, sp[0] + 1))]
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
    # "need an xgboost model trained on ...": the model is wanted trained; "forecast X ... - train a sequence model":
    # the opening task verb states the goal the explicit training request serves.
    if "design" in pos and ({"train", "fine_tune"} & set(pos)):
        trained = [pos[i][0] for i in ("train", "fine_tune") if i in pos]
        if any(abs(t - pos["design"][0]) <= 2 for t in trained) or all(cl.TASK_VERB.match(low, sp[0]) for sp in spans["design"]):
            del pos["design"]
    return [i for i, _ in sorted(pos.items(), key=lambda kv: (kv[1][0], kv[0]))]


# "compare them in a table", "show the scores as a table": the answer's format, not the data.
_FORMAT_BEFORE = re.compile(r"\b(?:show|compar|put|list|present|summari[sz]|print|give|display|tabulat|format|report|lay)\w*\b[^.?!;]{0,30}"
                            r"\b(?:in|into|as) (?:a|one|the|a (?:markdown|simple|small|nice|single|comparison|summary)) $")


def _output_format(low: str, at: int) -> bool:
    return low.startswith("table", at) and bool(_FORMAT_BEFORE.search(low[max(0, at - 60):at]))


def _modality(low: str, named: list[tuple[int, str]]) -> str | None:
    hits: dict[str, list[int]] = {}
    for modality, patterns in lx.MODALITY_CUES.items():
        for p in patterns:
            for m in p.finditer(low):
                if not negated(low, m.start(), declines=False) and not _output_format(low, m.start()):  # "not a GNN please", "no images, just the table"
                    hits.setdefault(modality, []).append(m.start())
    for at, family in named:  # a named family is a cue for its catalogue modality (an MLP only without data words)
        fam_modality = family_modality(family)
        if family != "mlp" and fam_modality not in ("text_generation", "image_generation", "sequence"):
            # A family the user names outweighs one data word, unless a data word names what it is for ("a text CNN").
            described = any(0 < at - p <= 12 for k, ps in hits.items() if k != fam_modality for p in ps)
            hits.setdefault(fam_modality, []).extend((at,) if described else (at, at))
    classify = _CLASSIFY.search(low)
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
        routing = re.search(r"\brout(?:e|es|ed|er|ers|ing)\b|\bclassif\w*|\bintent (?:classif\w*|detection)\b|\bclassify (?:the )?(?:user )?(?:messages|queries|intents)\b", low)
        chat = all(re.match(r"chat ?bots?|conversational|assistant", low[i:i + 14]) for i in hits["text_generation"])
        if not ((weak and classify) or (chat and routing)):
            return "text_generation"
        hits.setdefault("text", []).extend(hits["text_generation"])
    if lx.SEQ2SEQ.search(low):
        return "text"
    if "graph" in hits and len(hits["graph"]) >= 1:
        if not (len(hits["graph"]) == 1 and re.match(r"nodes?|edges?", low[hits["graph"][0]:hits["graph"][0] + 5])
                and any(k in hits for k in ("image", "text", "tabular"))):
            return "graph"
    if "sequence" in hits:
        strong = [i for i in hits["sequence"] if not re.match(r"sequences?\b(?! (?:models?|architectures?|networks?|learners?)\b)|tokens?|temporal|demand|weather|sounds?|voice|sensors?|signals?|readings|telemetry|next\b|predict", low[i:i + 24])]
        tabular_file = re.search(r"\bcsv\b|\bcolumns?\b|\bspreadsheets?\b|\btabular\b|\bparquet\b|\btables?\b|\brows?\b|\b\d+ features\b", low)
        soft = re.compile(r"(?:daily|weekly|monthly|hourly|quarterly|yearly|per-minute|minute-level|hour-level|next|\d+ (?:years|months|weeks|days)|"
                          r"clickstream|sales|demand|forecast)")
        if tabular_file and strong and all(soft.match(low, i) for i in strong) and "tabular" in hits:
            strong = []  # "monthly sales ... columns in our spreadsheet": a table of features, one row per entity
        if strong or not any(k in hits for k in ("image", "text", "tabular")) and not tabular_file:
            return "sequence"
    rest = {k: v for k, v in hits.items() if k in ("image", "tabular", "text")}
    if rest:
        # Most cues wins; ties go to the earliest cue.
        return max(rest, key=lambda k: (len(rest[k]), -min(rest[k])))
    if named:  # no data cue: the first named family's catalogue modality (an MLP alone is tabular)
        family = named[0][1]
        return "text" if lx.SEQ2SEQ.search(low) and family == "t5" else family_modality(family)
    return None


def _named_families(low: str) -> list[tuple[int, str]]:
    out = []
    for family, pat in lx.ARCH_CUES:
        m = next((m for m in pat.finditer(low) if not negated(low, m.start()) and not _REPLACED.search(low[max(0, m.start() - 40):m.start()])),
                 None)  # "not a GNN please", "anything better than a CNN for ...?"
        if m:
            out.append((m.start(), family))
    # "the MLP tops out at 92%; try xgboost instead": the family tried instead is the one asked for.
    instead = [(p, f) for p, f in out if re.match(r"[\w-]*\s+instead\b", low[p:p + 30])]
    if instead:
        out = [(p - len(low), f) if (p, f) in instead else (p, f) for p, f in out]
    # "convolutional" inside "graph convolution" is gcn, not cnn.
    names = {f for _, f in out}
    if "gcn" in names and "cnn" in names:
        out = [(p, f) for p, f in out if f != "cnn" or re.search(r"\bcnns?\b|\bconv-?nets?\b", low)]
    if "t5" in names and "gpt" in names and re.search(r"\btransformer decoder\b", low) and re.search(r"\bencoder[- ]decoder\b", low):
        pass
    return sorted(out)


def _count(constraints: dict) -> float:
    """How many examples the message says there are (0 when it does not say)."""
    values = [constraints.get(k) for k in ("dataset_size", "labelled_examples")]
    return max([v for v in values if isinstance(v, (int, float))], default=0)


def signals(low: str, constraints: dict, modality: str | None = None) -> Signals:
    """What the message says that the selection guide cares about."""
    wants_neural = re.search(r"\bneural\b|\bdeep (?:learning|net|model)|\bembeddings?\b|"
                             r"\b(?:keras|tensorflow|pytorch|torch|flax|jax) (?:model|network|net)\b", low)
    doubts = re.search(r"\b(?:(?:do|does|would|will) (?:i|we|you|it) (?:really |even |actually )?need|even|without|instead of|"
                       r"vs\.?|versus|or|overkill|skip|rather than|worth)\b[^.?!]{0,20}\b(?:deep (?:learning|net)|neural)", low)
    shape = constraints.get("input_shape")
    small = modality == "image" and isinstance(shape, list) and len(shape) >= 2 and max(shape[-2:]) < 32
    return Signals(
        neural=bool(wants_neural and not doubts),
        efficient=bool(lx.MOBILE_RE.search(low) or re.search(r"\b(?:smaller|lighter|faster|cheaper|more efficient) (?:architecture|model|network|backbone)\b", low) or constraints.get("device") in ("mobile", "edge", "cpu") or lx.THROUGHPUT_RE.search(low) or re.search(r"\breal[- ]?time\b", low)
                       or any(k in constraints for k in ("latency_ms", "size_mb", "max_params"))),
        large_scale=bool(re.search(r"\bvision transformers?\b|\bself-attention\b|\blarge[- ]scale\b|\bmillions? of\b|"
                                   r"\bpre-?train\w*\b|\bfoundation\b|\b\d+(?:\.\d+)?\s*(?:gb|tb)\b[\s-]*(?:of )?(?:[\w-]+ )?(?:images?|image data|photos)", low))
        or "transformer" in constraints or _count(constraints) >= 1_000_000,
        small_input=small,
        seq2seq=bool(lx.SEQ2SEQ.search(low)),
        generative=bool(re.search(r"\bgenerat(?!\w* (?:[\w-]+ ){0,2}(?:manifests?|dockerfiles?|ya?ml|configs?|reports?|code|snippets?|"
                                  r"pipelines?|plots?|charts?|tables?|a plan|instructions|commands|archives?|handlers?|helm|"
                                  r"predictions|embeddings?|features|labels|splits|synthetic (?:data|rows|tabular))\b)\w*", low) or (re.search(r"\bchat ?bots?\b|\bchat assistants?\b|\bconversational\b", low)
                                                             and not _CLASSIFY.search(low))),
        inductive=bool(re.search(r"\binductive\b|\bunseen nodes\b|\bmillions? of (?:nodes|users)\b|\blarge(?:-scale)? graphs?\b|"
                                 r"\bsampl\w* neighbo\w*|\bbillion\b|\bnew nodes\b|\buser-item\b|\brecommend\w*|"
                                 r"\b\d+(?:\.\d+)?\s*(?:m|b|bn|million|billion)\b[\s-]*(?:nodes?|users?|edges?|accounts?)\b|"
                                 r"\b(?:new|unseen|incoming|fresh) (?:nodes|accounts|users|items|products|customers|papers|vertices)\b", low)),
        attention=bool(re.search(r"\battention\b|\bheterophil\w*|\bimportance of neighbo\w*|\bweigh\w* neighbo\w*", low)),
    )


def _guide(modality: str | None, low: str, constraints: dict) -> str | None:
    return select_family(modality, signals(low, constraints, modality))


def _architecture(modality: str | None, named: list[tuple[int, str]], low: str, constraints: dict) -> tuple[str | None, list[str]]:
    warnings: list[str] = []
    if named:
        return named[0][1], warnings
    if re.search(r"\btransformers?\b", low) and modality in ("image", "text", "text_generation"):
        # A transformer for images is the guide's large-scale choice (ViT); for text the guide's own.
        return _guide(modality, low, {**constraints, "transformer": True} if modality == "image" else constraints), warnings
    m = lx.NEAREST_RE.search(low)
    if m:
        key = m.group(1).rstrip("s")
        key = {"u-net": "unet"}.get(key, key)
        for k, fam in lx.NEAREST_FAMILY.items():
            if key.startswith(k):
                if modality is None or family_modality(fam) == modality or modality in ("sequence",):
                    guide = _guide(modality, low, constraints)
                    warnings.append(f"'{m.group(1)}' is not a family I build; the nearest is '{guide or fam}'.")
                    return guide or fam, warnings
    return _guide(modality, low, constraints), warnings


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


def _clarify(intents: list[str], modality: str | None, architecture: str | None, constraints: dict, low: str) -> str | None:
    if not intents:
        return ("What would you like me to do? I can design or implement an architecture, train or fine-tune "
                "it, tune its hyperparameters, compress it for a device, deploy it (Docker, TorchServe, KServe, "
                "Kubeflow), track and register it (MLflow, W&B), estimate how much data you need, suggest an "
                "evaluation strategy, explain the maths, or recall what worked before. Tell me the task and the data.")
    needs_data = {"design", "implement", "train", "fine_tune", "estimate_data"} & set(intents)
    if needs_data and modality is None and architecture is None and "dataset" not in constraints:
        return "What kind of data is this for (images, text, tables, time series, graphs) and what should the model predict?"
    return None


def _lowered(text: str) -> tuple[str, str]:
    """The text with mentions blanked (same offsets) and its repaired lower-case form."""
    clean = strip_mentions(MENTION_RE.sub(lambda m: " " * len(m.group(0)), text))
    return clean, repair(clean)


def _blank_names(clean: str, low: str) -> str:
    """`low` with registry names blanked: "register it as kws-int8" asks for no quantization."""
    for name in {fields.register_name(clean), fields.registry_name(clean)} - {None}:
        if re.search(r"[-_.\d]", name):  # a plain word ("champion", "pruned") may be a request word too
            low = re.sub(r"(?<![\w-])" + re.escape(name.lower()) + r"(?![\w-])", "x" * len(name), low)  # still a word
    return low


def _data_text(quoted_only: str, clean: str, tracking: bool = False) -> str:
    """The lower-cased text the data cues are read from: quotes blanked, registration names blanked
    ("register it as digits-cnn", "what versions of bc-mlp are registered?" say nothing about the data)."""
    _, low = _lowered(quoted_only)
    name = fields.registry_name(clean) if tracking else fields.register_name(clean)
    if name:
        low = re.sub(r"\b" + re.escape(name.lower()) + r"\b", " " * len(name), low)
    return low


def _typed_fields(req: str, intents: list[str], architecture: str | None, cons: list) -> dict:
    """techniques, register_name, trackers, framework, deploy_targets, tune, variant, pretrained."""
    low = req.lower()
    techniques, tech_cons = fields.techniques(req, low)
    spec = FAMILIES.get(architecture or "")
    trackers = fields.trackers(low)
    register = fields.registry_name(req) if "track" in intents else fields.register_name(req) if (
        {"deploy", "train", "fine_tune", "tune"} & set(intents)) else None
    return dict(
        techniques=techniques, technique_constraints=tech_cons, register_name=register,
        track=fields.track_spec(low, trackers, fields.register_name(req)) if "track" in intents else None,
        trackers=trackers, framework=fields.framework(low), deploy_targets=fields.deploy_targets(low),
        tune=fields.tune_spec(low, cons) if "tune" in intents else None,
        variant=fields.variant(low), pretrained=fields.pretrained(low, intents, spec.pretrained if spec else None),
    )


_FOLLOWUP = [
    ("speed", re.compile(r"\bhow much (?:faster|quicker|slower)\b|\b(?:what(?:'s| is| was) the |and the |its )"
                         r"(?:speed-?ups?|latency|speed)\b|\bhow fast is it\b|\bhow (?:much )?faster is it\b")),
    ("size", re.compile(r"\bhow much (?:smaller|lighter|bigger)\b|\b(?:what(?:'s| is) the |and the |its )"
                        r"(?:size|file size|model size|compression ratio)\b|\bhow (?:big|large|small) is it\b")),
    ("accuracy", re.compile(r"\bhow much accuracy\b|\b(?:what(?:'s| is) the |and the |its )(?:accuracy|drop)\b"
                            r"|\bhow accurate is it\b|\bdid (?:it|the accuracy) (?:drop|change)\b")),
    ("lineage", re.compile(r"\bwhat (?:have we|did we|did you) (?:do(?:ne)?|change)\b|\bwhich steps\b|\blineage\b")),
]


def _followup(low: str) -> tuple[str, tuple[int, int]] | None:
    """A short follow-up question about the thread's model: (speed|size|accuracy|lineage, span)."""
    if len(low.split()) > 14:
        return None
    for name, pat in _FOLLOWUP:
        m = pat.search(low)
        if m:
            return name, m.span()
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
    quoted_only = mask_quotes(text)
    if not MENTION_RE.search(quoted_only):  # @TENSOR only inside a quoted line or a code block
        return Plan(addressed=False, text=text, warnings=warnings, backend="rules")
    # What is asked of @TENSOR: quoted lines, code blocks and other agents' sentences blanked out.
    req, masked = request_text(text)
    clean, low = _lowered(req)
    full_clean, full_low = _lowered(text) if masked else (clean, low)
    intents = _order_intents(_blank_names(clean, low))
    if not intents and masked:  # the quote or the other agent's sentence is the request ("> ...?  @TENSOR thoughts?")
        clean, low = full_clean, full_low
        intents = _order_intents(low)

    constraints_list, cwarn = extract(clean)
    warnings += cwarn
    constraints = {}
    for c in constraints_list:
        constraints.setdefault(c.name, c.value)

    data_low = _data_text(quoted_only, clean, "track" in intents or bool(re.search(r"\bregist(?:ered|ry)\b", low)))
    named = _named_families(data_low)
    modality = _modality(data_low, named)
    needs_data = bool(set(intents) & {"design", "implement", "train", "fine_tune", "tune", "estimate_data"}) or not intents
    if modality is None and not named and needs_data and quoted_only != text:
        named = _named_families(full_low)  # "> we have 10k X-ray images" / "@TENSOR design a model for that"
        modality = _modality(full_low, named)
        architecture, awarn = _architecture(modality, named, full_low, constraints)
    else:
        architecture, awarn = _architecture(modality, named, data_low, constraints)
    warnings += awarn
    followup = _followup(low) if not intents else None
    if followup is not None:  # "how much faster?", "and the size?": answered from the thread's measurements
        intents = ["compress"]
        constraints_list.append(Constraint(name="question", value=followup[0], span=followup[1],
                                           text=clean[followup[1][0]:followup[1][1]]))
    if followup is None:
        # The learned classifier reads every request next to the cues (planner/learned.py): it replaces the
        # primary intent when confident, drops secondary intents it does not see, and answers when no cue fired.
        from tensor_agent.planner.learned import adjust

        fell_back = not intents
        if fell_back and (modality or architecture or named):
            intents = [lx.FALLBACK_INTENT]  # something to design, and no cue says what to do with it
        cue_found = set(intents)
        intents = adjust(low, intents, fell_back=fell_back, set_aside=lambda: _cued_intents(low) - cue_found,
                         negated=lambda: _negated_intents(low))
    for m in lx.UNKNOWN_MODEL_RE.finditer(clean):
        name = m.group(1)
        if not any(p.search(name.lower()) for _, p in lx.ARCH_CUES) and name.lower() not in ("tensor",):
            warnings.append(f"Unknown model '{name}': I do not know it, so I used "
                            f"{'the selection guide (' + architecture + ')' if architecture else 'no family'} instead.")
    typed = _typed_fields(clean, intents, architecture, constraints_list)
    constraints_list = sorted([*constraints_list, *typed.pop("technique_constraints")], key=lambda c: c.span)
    seq2seq = bool(lx.SEQ2SEQ.search(low))
    _, peer_low = _lowered(quoted_only)
    return Plan(
        addressed=True,
        intents=intents,
        modality=modality,
        architecture=architecture,
        architecture_named=bool(named) if architecture else None,
        tools=tools_for(intents),
        peers=peers_for(intents, peer_low, text, constraints),
        constraints=constraints_list,
        task=_task(modality, low, seq2seq) if intents else None,
        clarification=_clarify(intents, modality, architecture, constraints, low),
        warnings=warnings,
        backend="rules",
        text=text,
        **typed,
    )
