"""Clause-level rules for what in a message is a request: a participle or a past action names an object, not
a request ("the quantized ViT", "we fine-tuned it last sprint"); a noun heading before a question, techniques
compared in a question and doing-words after an explanation are the question's topic; a pipeline's listed verbs
are its steps; an A/B test's sample size is evaluation. Each function edits the intent -> cue spans map that
`rules._order_intents` builds (spans are character offsets into the repaired lower-case message)."""

from __future__ import annotations

import re

from tensor_agent.catalogue import FAMILIES
from tensor_agent.planner.scope import negated

Spans = dict[str, list[tuple[int, int]]]

DOING_INTENTS = {"design", "implement", "train", "fine_tune", "tune", "deploy", "track"}

_SENTENCE_END = re.compile(r"[.!?;\n]|\s[-\u2013\u2014]\s|\b(?:then|and then|also|after that|afterwards|next)\b")
_NEW_REQUEST = re.compile(r"(?:\bthen|\band|\balso|;|\?|\bplease|\bcan you|\bcould you|\bwould you|\bnext|\bafterwards)\s*(?:\w+\s+){0,3}$")

# "the quantized efficientnet", "our int8-quantized BERT", "the pruned ResNet": a participle after a definite
# determiner names a model that exists (an indefinite one, "a pruned copy", is still asked for).
_ATTRIBUTIVE = re.compile(r"\b(?:the|our|my|this|that|these|those|its|your|their|his|her)\s+"
                          r"(?:(?:already|newly|freshly|recently|previously|last|old|new|current|int\d|\d+-bit|\w+ly)\s+)?(?:\w+-)?$")
# "we fine-tuned the ViT last sprint", "I already quantized it", "the team distilled a student": done, not asked.
_PAST_CLAUSE = re.compile(r"\b(?:(?:we|i|they|you|he|she)(?:'ve|'d| have| had)?|someone|somebody|team|intern|colleagues?|vendor|contractors?)"
                          r"\s+(?:(?:already|just|recently|previously|also|originally|then|first|successfully)\s+)?$")
_FORMAT_WORD = re.compile(r"(?:int ?[48]|onnx|tflite|fp16|torchscript|coreml|openvino|tensorrt|[48]-bit)\b")
_DEFINITE_BEFORE = re.compile(r"\b(?:the|our|my|this|that|its|your|their)\s+(?:[\w-]+\s+){0,2}$")
_MODEL_AFTER = re.compile(r"(?:[\s-]+[\w-]+){0,2}?[\s-]+(?:model|version|export|checkpoint|file|artifact|weights|build|student|classifier|network|"
                          r"detector|" + "|".join(sorted(FAMILIES)) + r")s?\b")
_DONE_INTENTS = {"compress", "fine_tune", "train", "deploy", "implement", "tune"}
_QUANT_CALIBRATION = re.compile(r"\bquantiz\w*|\bint ?8\b|\bactivations?\b|\bstatic (?:int8|quant)")


def _sentence(low: str, at: int) -> str:
    start = max(low.rfind(c, 0, at) for c in ".?!;\n") + 1
    ends = [i for i in (low.find(c, at) for c in ".?!;\n") if i >= 0]
    return low[start:min(ends) if ends else len(low)]


def _done_or_attribute(low: str, span: tuple[int, int]) -> bool:
    """The request word is a past participle naming an existing object or a past action."""
    if not re.match(r"[\w-]*ed\b", low[span[0]:]):  # the cue's first word is the participle
        return False
    before = low[max(0, span[0] - 40):span[0]]
    return bool(_ATTRIBUTIVE.search(before) or _PAST_CLAUSE.search(before))


# A device the designed model must run on is a requirement of the design, not a compression request.
_REQUIREMENT = re.compile(r"\b(?:needs?|has|have|must|should|ought|able|that|which)\s+(?:to\s+)?(?:also\s+)?(?:be able to\s+)?run\b")


def same_clause(low: str, a: int, b: int) -> bool:
    return not _SENTENCE_END.search(low[min(a, b):max(a, b)])


def new_request_at(low: str, start: int, after: int = 0) -> bool:
    """A new request begins just before `start` (looking no further back than `after`)."""
    before = low[max(after, start - 40):start]
    if re.search(r"\b(?:between|both|either|of|like|vs\.?|versus) (?:[\w-]+ ){1,3}(?:and|or) (?:[\w-]+ ){0,2}$", low[max(0, start - 60):start]):
        return False  # "the trade-offs between pruning and quantization": a list, not a request
    return bool(_NEW_REQUEST.search(before))


# "knowledge distillation: why the T^2 factor?", "LoRA - why does a low rank suffice?": a short noun heading
# followed by a question names the topic of the question; its technique is explained, not run.
_HEADING = re.compile(r"^\W*((?:[\w^/+.'-]+ ){0,6}?[\w^/+.'-]+)\s*(?::|,|\s[-\u2013\u2014]+)\s*"
                      r"(?=(?:so |and |but |ok |then )?(?:why|what|which|how|when|where|is|are|does|do|did|should|would|could|can (?!you|u\b)|"
                      r"isn't|aren't|pros and cons|trade-?offs?)\b)")
_VERB_FORM = re.compile(r"\b(?:quantiz(?:e|es)|prune|prunes|distil(?:l|ls)?|compress(?:es)?|train|fine-?tune|tune|deploy|design|implement|build|make|"
                        r"give|run|apply|do|can you|could you|please|pls)\b")
# "a Kubeflow pipeline that trains, prunes and deploys ...", "a pipeline: train, evaluate, deploy": the verbs are
# the pipeline's steps; the pipeline is the deployment asked for.
_PIPELINE_STEPS = re.compile(r"\bpipelines?\b(?:\s+(?:that|which|to|for|with))?\s*:?\s*(?:(?:[\w-]+(?:,|\s+and|\s*->|\s*\+)?\s+){0,4})$")


TASK_VERB = re.compile(r"\W*(?:please |pls |can you |could you )?(?:predict|forecast|classify|detect|segment|recogni[sz]e|rank|identify|spot|"
                        r"sort|triage|count|cluster|group|match|transcribe|caption|colou?ri[sz]e|tell apart|categori[sz]e)\b")


# "..., then use it on the CNN with 40 trials", "? after that, sweep ...": a clause of its own after a question.
THEN_CLAUSE = re.compile(r"\bthen\b|\bafter that\b|\bafterwards\b|[.!?;]\s+(?:now|next|also|please|pls|and)\b|"
                         r"\s[-\u2013\u2014]+\s+(?:please |pls |and |so )?(?!(?:the|a|an|it|its|this|that|which|what|why|how|is|are|no|not|but|or|just)\b)[a-z]+\b")


_EXPERIMENT_SIZE = re.compile(r"\bsample size|\bhow many (?:[\w/-]+ ){0,3}(?:users|sessions|visitors|customers|requests|impressions|participants)")
_EXPERIMENT = re.compile(r"\ba/b\b|\bab tests?\b|\bexperiments?\b|\bper (?:arm|variant|group|bucket)\b|\bcanary\b|\bsplit test")


def test_sample_size(low: str, spans: Spans) -> None:
    """"what sample size per arm?" in an A/B test is the test's power, an evaluation question, not training data."""
    if "estimate_data" not in spans or "evaluate" not in spans or not _EXPERIMENT.search(low):
        return
    rest = [sp for sp in spans["estimate_data"] if not _EXPERIMENT_SIZE.match(low, sp[0])]
    if rest:
        spans["estimate_data"] = rest
    else:
        del spans["estimate_data"]


_TECH = (r"(?:(?:structured|unstructured|magnitude|static|dynamic|post-training|int8|8-bit|full|knowledge)\s+)?"
         r"(?:pruning|quantization|quantisation|distillation|sparsification|int ?[48]|fp16|lora|adapters?|qat|fine-?tuning|feature extraction)\b")
# "int8 quantization and pruning", "LoRA with adapters", "structured or unstructured pruning": alternatives compared.
_TECH_COMPARE = re.compile(r"\b" + _TECH + r"\s*(?:,|\bor\b|\band\b|\bvs\.?|\bversus\b|\bwith\b|\bagainst\b|/)\s*(?:[\w-]+\s+){0,2}?" + _TECH +
                           r"|\b(?:structured|unstructured|static|dynamic|magnitude|global|local|post-training)\s+(?:or|vs\.?|versus|and)\s+"
                           r"(?:[\w-]+\s+)?(?:pruning|quantization|quantisation|distillation)\b")
_RUN_VERB = re.compile(r"\b(?:run|apply|try|benchmark|measure|quantize|prune|distill|compress|fine-tune|train|use|do)\b")
_ASKS_WHY = re.compile(r"\?|\btheor\w*|\bexplain\w*|\bintuition\b")
_EXPLAIN_WORD = re.compile(r"\btheor\w*|\bexplain\w*|\bintuition\b|\bwhy\b|\bin principle\b")
# "LoRA vs full fine-tuning for a 7-class intent model with 5k examples?": a choice for the user's task (design).
_FOR_OUR_TASK = re.compile(r"\bfor (?:a|an|our|my|the) (?:[\w-]+ ){0,3}(?:model|classifier|detector|task|data|dataset|problem|app)\b")
_PAST_BEFORE = re.compile(r"\b(?:last|previous|past|earlier|prior|recent|yesterday's|last week's)\s+(?:\w+\s+)?$")
_RUN_NOUN_END = re.compile(r"(?:\s+(?:run|job)s?)?\s*(?:[,.;!?]|$)")
_STAGE = re.compile(r"staging\b|production\b|prod\b")
_DEPLOY_TO = re.compile(r"\b(?:re-?)?deploy\w*\b[^.;!?]*\b(?:to|into|in|on)\s+$")


def technique_comparison(low: str, spans: Spans) -> None:
    """Techniques compared in a question ("distillation versus quantization - which keeps more accuracy?"):
    the comparison is explained, nothing is run, unless the message asks to run something."""
    m = _TECH_COMPARE.search(low)
    if not m or not _ASKS_WHY.search(low):
        return
    for v in _RUN_VERB.finditer(low):
        if not negated(low, v.start()) and not re.search(r"\b(?:which|what|how|why)\b[^.?!;]*$", low[:v.start()]):
            return  # "compare pruning and int8 on the CNN: run both"
    doing = [i for i in spans if i in {"compress", "fine_tune", "train", "tune"}]
    for intent in doing:
        del spans[intent]
    # "LoRA vs full fine-tuning for a 7-class intent model?": which approach to take for the user's task is a design
    # question; without a task of the user's it is a question about the techniques.
    choice = "design" if _FOR_OUR_TASK.search(low) and not _EXPLAIN_WORD.search(low) else "explain"
    if doing and not (spans.keys() - {"design", "explain"}):
        spans.setdefault(choice, [m.span()])


def question_topics(low: str, spans: Spans) -> None:
    """A doing-word after an explanation or data question in the same clause is its topic ("explain why LoRA
    needs less data than full fine-tuning"), unless a new request starts in between ("..., and fine-tune it")."""
    questions = [sp for q in ("explain", "estimate_data") for sp in spans.get(q, [])]
    if not questions:
        return
    for doing in [i for i in spans if i in DOING_INTENTS | {"compress"}]:
        keep = [sp for sp in spans[doing] if not any(
            q[1] <= sp[0] and same_clause(low, q[1], sp[0]) and not new_request_at(low, sp[0], q[1])
            and not THEN_CLAUSE.search(low, q[1], sp[0] + 1) for q in questions)]
        if keep:
            spans[doing] = keep
        elif len(spans) > 1:
            del spans[doing]


def topic_heading(low: str, spans: Spans) -> None:
    """Doing-intents named only in a noun heading before a question become the question's topic."""
    m = _HEADING.match(low)
    if not m or _VERB_FORM.search(m.group(1)):
        return
    end = m.end(1)
    topic = [i for i in spans if i in DOING_INTENTS | {"compress"} and all(sp[0] < end for sp in spans[i])]
    for intent in topic:
        del spans[intent]
    if topic and not spans:
        spans["explain"] = [(m.end(), m.end())]


def pipeline_steps(low: str, spans: Spans) -> None:
    if "deploy" not in spans:
        return
    for intent in [i for i in spans if i != "deploy"]:
        rest = [sp for sp in spans[intent] if not _PIPELINE_STEPS.search(low[max(0, sp[0] - 60):sp[0]])]
        if rest:
            spans[intent] = rest
        else:
            del spans[intent]


# "implement LoRA for our GPT", "code up knowledge distillation": the technique is the code to write, not a run.
_IMPLEMENT_OBJECT = re.compile(r"\b(?:implement\w*|code up|write (?:the |some )?(?:code for|pytorch for)?)\s+(?:(?:a|an|the|our|my)\s+)?(?:[\w-]+\s+)?$")


def implemented_techniques(low: str, spans: Spans) -> None:
    """Technique cues that are the object of an implement request are part of that request."""
    if "implement" not in spans:
        return
    for intent in [i for i in ("fine_tune", "compress") if i in spans]:
        rest = [sp for sp in spans[intent] if not _IMPLEMENT_OBJECT.search(low[max(0, sp[0] - 40):sp[0]])]
        rest = [sp for sp in rest if not any(i[0] < sp[0] and same_clause(low, i[1], sp[0]) and not new_request_at(low, sp[0], i[1])
                                             and not THEN_CLAUSE.search(low, i[1], sp[0] + 1) for i in spans["implement"])]
        if rest:
            spans[intent] = rest
        else:
            del spans[intent]


def filter_spans(low: str, intent: str, spans: list[tuple[int, int]], found: Spans) -> list[tuple[int, int]]:
    """Drop the cues of `intent` (given the intents `found` before it) that name an existing object, a past
    action, a design requirement or a deployment's environment."""
    if intent == "track" and "deploy" in found:  # "deploy yesterday's GraphSAGE to staging on Kubernetes"
        spans = [sp for sp in spans if not (_STAGE.match(low, sp[0]) and _DEPLOY_TO.search(low[max(0, sp[0] - 60):sp[0]]))]
    if intent == "tune":  # "what did the last three sweeps find?": past searches, not a new one
        spans = [sp for sp in spans if not (low.startswith("sweep", sp[0]) and _PAST_BEFORE.search(low[max(0, sp[0] - 30):sp[0]]))]
    if intent == "fine_tune":  # "sweep weight decay for the BERT fine-tune": the run being tuned, a noun
        spans = [sp for sp in spans if not (_DEFINITE_BEFORE.search(low[max(0, sp[0] - 40):sp[0]]) and _RUN_NOUN_END.match(low, sp[1]))]
    if intent == "train":  # "after the retrain, promote it": the run named as a noun
        spans = [sp for sp in spans if not (re.match(r"(?:re-?)?train(?:ing)?\b", low[sp[0]:sp[1]]) and
                                            re.search(r"\b(?:the|this|that|our|my|its)\s+$", low[max(0, sp[0] - 12):sp[0]])
                                            and _RUN_NOUN_END.match(low, sp[1]))]
    if intent == "compress" and "design" in found:  # "a forecaster that needs to run in real time on the edge"
        spans = [sp for sp in spans if not _REQUIREMENT.search(low[max(0, sp[0] - 30):sp[0] + 7])]
    if intent == "evaluate":  # calibration of a quantized model's activations is not a model evaluation
        spans = [sp for sp in spans if not (low.startswith("calibrat", sp[0]) and _QUANT_CALIBRATION.search(_sentence(low, sp[0])))]
    if intent in _DONE_INTENTS:
        spans = [sp for sp in spans if not _done_or_attribute(low, sp)]
    if intent == "compress":  # "package the int8 ONNX model": the format names the model that exists
        spans = [sp for sp in spans if not (_FORMAT_WORD.match(low, sp[0]) and _DEFINITE_BEFORE.search(low[max(0, sp[0] - 40):sp[0]])
                                            and _MODEL_AFTER.match(low, sp[1]))]
    return spans
