"""The plan's typed fields read from the words: techniques (in message order), registration name,
trackers, framework, deploy targets, the hyperparameter search, a named variant and pretrained.

Everything is read from the request text (quotes, code and other agents' sentences blanked, same
offsets as the message); a negated mention ("not W&B", "don't quantize") does not count.
"""

from __future__ import annotations

import re
from typing import Optional

from tensor_agent.planner.scope import negated
from tensor_agent.schema import Constraint, TrackSpec, TuneSpec

# Techniques in the order the tools list them; `_first_of` keeps the message order.
_TECHNIQUES: list[tuple[str, str]] = [
    ("lora", r"\b(?:q?lora|low-rank adaptation)\b"),
    ("adapter", r"\badapters?\b(?! layers? of)"),
    ("feature_extraction", r"\bfeature[- ]extract\w*|\bfrozen (?:\w+ )?(?:backbone|encoder|base|features)\b|"
                           r"\bfreez\w+ (?:the |its |all )?(?:\w+ )?(?:backbone|encoder|base|layers|weights)\b|\blinear[- ]prob\w*"),
    ("full_fine_tune", r"\bfull(?:y)?[- ]fine-? ?tun\w*|\b(?:fine-?tune|unfreeze|train) (?:all|every) (?:the )?layers\b|\bend-to-end fine-?tun\w*"),
    ("qat", r"\bquantization[- ]aware\b|\bqat\b"),
    ("onnx_int8", r"\bonnx(?: ?runtime)?[- ](?:dynamic |static )?(?:int ?8|quantiz\w*)|\bint ?8 (?:with |via |in |using |through )?onnx\b|"
                  r"\bquantiz\w* (?:[\w-]+ ){0,3}(?:with|using|via|in|through) onnx(?: ?runtime)?\b"),
    ("static_int8", r"\bstatic (?:int ?8 )?quantiz\w*|\bpost-training static\b|\bstatic int ?8\b"),
    ("dynamic_int8", r"\bdynamic (?:int ?8 )?quantiz\w*|\bdynamic int ?8\b"),
    ("int8", r"\bint ?8\b|\b8[- ]?bit\b|\bquantiz\w*|\bquantis\w*"),
    ("structured_pruning", r"(?<!un)structured pruning\b|\bchannel pruning\b|\bprun\w+ (?:\w+ )?(?:channels|filters|heads)\b"),
    ("lottery_ticket", r"\blottery[- ]tickets?\b"),
    ("pruning", r"\bprun(?:e|ed|es|ing)\b(?! (?:of )?(?:the )?(?:bad |unpromising |poor |weak |slow |losing |hopeless )?(?:trials|ones|runs|configs|configurations))|\bsparsif\w*|\bmagnitude pruning\b"),
    ("distillation", r"\bdistill(?:s|ed|ing|ation)?\b(?!-?bert|-?gpt|-?roberta)|\bteacher[- ]student\b"),
    ("onnx", r"\bonnx\b"),
    ("torchscript", r"\btorchscript\b|\btorch\.jit\b|\btorch\.export\b"),
    ("torchserve", r"\btorch-?serve\b|\.mar\b|\bmodel archive\b"),
]
#: The vocabularies of the typed plan fields (the LLM schema uses them too).
TECHNIQUES: tuple[str, ...] = ("int8", "dynamic_int8", "static_int8", "qat", "onnx_int8", "pruning", "structured_pruning",
                               "lottery_ticket", "distillation", "onnx", "torchscript", "torchserve", "lora", "adapter",
                               "feature_extraction", "full_fine_tune")
# A more specific technique read at the same words hides the generic one.
_HIDES = {"onnx_int8": ("int8", "onnx"), "qat": ("int8",), "static_int8": ("int8",), "dynamic_int8": ("int8",),
          "structured_pruning": ("pruning",), "lottery_ticket": ("pruning",)}

_TRACKERS = [("mlflow", r"\bmlflow\b"), ("wandb", r"\bw ?& ?b\b|\bwandb\b|\bweights (?:&|and) biases\b"),
             ("neptune", r"\bneptune(?:\.ai)?\b")]
_FRAMEWORKS = [("keras", r"\bkeras\b|\btensorflow\b(?! (?:serving|lite|\.js))|\btf\.keras\b|\btf2\b"),
               ("flax", r"\bflax\b|\bjax\b"),
               ("sklearn", r"\bscikit[- ]learn\b|\bsklearn\b"),
               ("pytorch", r"\bpy-?torch\b|\btorch\b(?![.-]?(?:serve|script|vision|pruning|\.jit|\.export))|\blightning\b")]
_DEPLOY = [("docker", r"\bdocker\w*|\bcontaineri[sz]\w*|\bcontainers?\b"),
           ("torchserve", r"\btorch-?serve\b"),
           ("tfserving", r"\btf[- ]?serving\b|\btensorflow serving\b"),
           ("kserve", r"\bk-?serve\b|\bkfserving\b|\binferenceservice\b"),
           ("kubernetes", r"\bkubernetes\b|\bk8s\b|\bkubectl\b|\bhelm\b"),
           ("kubeflow", r"\bkubeflow\b|\bkfp\b"),
           ("local", r"\b(?:run|start|launch|spin up|serve|host|try)\w* (?:[\w-]+ ){0,3}(?:locally|on localhost|on my "
                     r"(?:machine|laptop|computer))\b|\blocal (?:server|endpoint)\b")]
TRACKERS: tuple[str, ...] = tuple(n for n, _ in _TRACKERS)
FRAMEWORKS: tuple[str, ...] = tuple(n for n, _ in _FRAMEWORKS)
DEPLOY_TARGETS: tuple[str, ...] = tuple(n for n, _ in _DEPLOY)
# Hyperparameters a search can be limited to, as option keys (contract.OPTIONS).
_PARAMS = [("lr", r"\blearning[- ]rates?\b|\blrs?\b"), ("dropout", r"\bdropout\b"),
           ("weight_decay", r"\bweight[- ]decay\b|\bl2\b|\bwd\b"), ("l1", r"\bl1\b"),
           ("batch_size", r"\bbatch[- ]?sizes?\b"), ("optimizer", r"\boptimi[sz]ers?\b"),
           ("momentum", r"\bmomentum\b"), ("epochs", r"\bepochs\b|\bnumber of epochs\b"),
           ("warmup_epochs", r"\bwarm[- ]?up\b"), ("schedule", r"\b(?:lr |learning[- ]rate )?schedul\w*\b"),
           ("grad_clip", r"\bgrad(?:ient)? clip\w*\b"), ("label_smoothing", r"\blabel smoothing\b"),
           ("lora_r", r"\blora rank\b|\brank\b"), ("num_layers", r"\b(?:number of |num )?layers\b|\bdepth\b"),
           ("hidden", r"\bhidden (?:size|units|dim\w*)\b|\bwidth\b")]
_TUNE_CLAUSE = re.compile(r"(?<!fine-)(?<!fine )\b(?:tun(?:e|ing)|search(?:ing)? over|sweep(?:ing)? over|sweep|"
                          r"optimi[sz]e|optimi[sz]ing|search for the best|find the best)\b([^.;!?\n]{0,120})")
_REGISTER = re.compile(r"\bregist(?:er|ering)\b[^.;!?\n]{0,80}?\b(?:as|under(?: the name)?|named|called|with the name|name)\s+"
                       r"[\"'`]?([A-Za-z0-9][A-Za-z0-9_.-]{0,99})", re.IGNORECASE)
_REGISTER_STOP = {"a", "an", "the", "my", "our", "new", "version", "model", "production", "staging", "champion",
                  "well", "soon", "usual", "before", "such", "it", "this", "that", "is", "in", "mlflow", "v", "latest"}
_VARIANT = re.compile(r"\b(resnet|vit|bert|gpt|t5|mamba|unet|minilm|efficientnet|convnext|mobilenet|mlp|xgboost|gcn|gat|graphsage)"
                      r"[-_ ]?(\d{1,3}[a-z]?|micro|mini|tiny|small|base|medium|large|xlarge|narrow|l6|130m|mobile-[sm])\b")


def _spans(low: str, pattern: str) -> list[re.Match[str]]:
    return [m for m in re.finditer(pattern, low) if not negated(low, m.start())]


def techniques(text: str, low: str) -> tuple[list[str], list[Constraint]]:
    """Techniques in message order, and one `technique` constraint per technique (with its span)."""
    hits: list[tuple[int, int, str]] = []
    for name, pat in _TECHNIQUES:
        for m in _spans(low, pat):
            hits.append((m.start(), m.end(), name))
    hidden: set[int] = set()
    for i, (s, e, name) in enumerate(hits):
        for j, (s2, e2, other) in enumerate(hits):
            if other in _HIDES.get(name, ()) and s2 < e and s < e2:
                hidden.add(j)
    first: dict[str, tuple[int, int]] = {}
    for i, (s, e, name) in enumerate(hits):
        if i not in hidden and (name not in first or s < first[name][0]):
            first[name] = (s, e)
    if {"int8", "onnx_int8"} <= set(first):
        del first["int8"]  # "quantize it ... with ONNX Runtime INT8": one technique
    if not first:  # a bare "export it" exports the current model to ONNX (the portable default)
        m = re.search(r"\bexport(?:ing)? (?:it|this|that|the (?:[\w-]+ )?model|my (?:[\w-]+ )?model)\b(?! (?:to|as|in)\b)",
                      low)
        if m:
            first["onnx"] = m.span()
    order = sorted(first, key=lambda n: first[n])
    cons = [Constraint(name="technique", value=n, span=first[n], text=text[first[n][0]:first[n][1]]) for n in order]
    return order, cons


def _ordered(low: str, table: list[tuple[str, str]]) -> list[str]:
    pos: dict[str, int] = {}
    for name, pat in table:
        ms = _spans(low, pat)
        if ms:
            pos[name] = ms[0].start()
    return sorted(pos, key=pos.get)


def trackers(low: str) -> list[str]:
    return _ordered(low, _TRACKERS)


def deploy_targets(low: str) -> list[str]:
    return _ordered(low, _DEPLOY)


def framework(low: str) -> Optional[str]:
    """The framework the code should be in: the one after "in/with/using/to", else the first named."""
    named = _ordered(low, _FRAMEWORKS)
    if len(named) <= 1:
        return named[0] if named else None
    for name, pat in _FRAMEWORKS:
        for m in _spans(low, pat):
            if re.search(r"\b(?:in|with|using|to|into|for|use)\s+(?:plain |pure |native )?$", low[max(0, m.start() - 16):m.start()]):
                return name
    return named[0]


def register_name(text: str) -> Optional[str]:
    for m in _REGISTER.finditer(text):
        name = m.group(1).rstrip(".-_")
        if name.lower() not in _REGISTER_STOP and not negated(text.lower(), m.start()) and len(name) >= 2:
            return name
    return None


_NAME = r"[\"'`]?([A-Za-z][\w.]*(?:[-_]|\d)[\w.-]*)[\"'`]?"
# A registered model named in a registry request that does not register ("what versions of bc-mlp are
# registered?", "roll back churn-v2 to version 1"): a name with a '-', '_' or digit, or quoted.
_REGISTRY_NAME = [
    re.compile(r"\bversions? of (?:the |our |my )?(?:registered )?(?:model )?" + _NAME, re.I),
    re.compile(r"\b(?:under the name|with the name|named|called|registered as|name it|as|experiment|project)\s+" + _NAME, re.I),
    re.compile(r"\b(?:registered model|registered|model name|registry entry|model)\s+" + _NAME + r"(?=[\s,.;:!?)]|$)", re.I),
    re.compile(r"\b(?:of|for|from) (?:the )?(?:registered )?(?:model )?[\"'`]?([A-Za-z][\w.]*[-_][\w.-]*)[\"'`]?"
               r"(?=\s*(?:[,.;:!?)]|$)|\s+[-\u2013\u2014]\s|\s+(?:to|as|in|into|from|and|with|on|back|at|is|are|was|please)\b)", re.I),
    re.compile(r"\b([A-Za-z][\w.]*[-_][\w.-]*)(?:'s)? (?:versions?|aliases|champion|challenger|registry)\b", re.I),
    re.compile(r"\broll\s+" + _NAME + r"\s+back\b", re.I),
    re.compile(r"\b(?:roll(?:ing)? ?back|rollback|revert|promote|demote|archive|alias|tag|list|show|push|move|keep)\s+(?:the new |the old |the current )?" + _NAME
               + r"(?=\s+(?:to|as|back|from|in|on|versions?)\b|[\s]*[,.;:!?]|$)", re.I),
]
_NOT_A_NAME = re.compile(r"^(?:v\d+|version\d*|\d+[\w.]*|int8|fp16|top-\d+|k8s|t5|gpt-?\d.*|l[12]|a/b)$", re.I)


def registry_name(text: str) -> Optional[str]:
    """The registered-model name a tracking request gives: "register it as X", else a model named in a
    list / alias / roll back / archive request."""
    name = register_name(text)
    if name:
        return name
    low = text.lower()
    for pat in _REGISTRY_NAME:
        for m in pat.finditer(text):
            cand = m.group(1).rstrip(".-_")
            if len(cand) >= 2 and not _NOT_A_NAME.match(cand) and not negated(low, m.start()):
                return cand
    return None


def tune_spec(low: str, constraints: list[Constraint]) -> TuneSpec:
    """Trials, time budget and the hyperparameters a search is limited to."""
    trials = None
    m = re.search(r"\b(\d+)\s*(?:[\w-]+\s+)?(?:trials|configurations|configs|candidates|tries)\b|\b(?:n_)?trials\s*(?:=|:|of)\s*(\d+)", low)
    if m:
        trials = int(m.group(1) or m.group(2))
    budget = next((c.value for c in constraints if c.name == "time_budget_s"), None)
    params: list[str] = []
    for clause in _TUNE_CLAUSE.finditer(low):
        body = clause.group(1)
        body = re.split(r"\b(?:keep(?:ing)?|with|at|using|fix(?:ed|ing)?|for \d)\b", body)[0]
        pos: dict[str, int] = {}
        for name, pat in _PARAMS:
            hit = re.search(pat, body)
            if hit and not re.match(r"\s*(?:of|=|:)?\s*\d", body[hit.end():]):
                pos[name] = hit.start()
        if pos:
            params = sorted(pos, key=pos.get)
            break
    return TuneSpec(trials=trials if trials and 1 <= trials <= 10_000 else None,
                    time_budget_s=budget, params=params)


def variant(low: str) -> Optional[str]:
    m = _VARIANT.search(low)
    if not m:
        return None
    fam, size = m.group(1), m.group(2)
    return f"{fam}{size}" if size[0].isdigit() and fam in ("resnet", "gpt") else f"{fam}-{size}"


_PRETRAINED = re.compile(r"\bpre-?trained\b|\bimagenet(?:[- ]pre-?trained)? weights\b|\bpretrained weights\b|"
                         r"\bfrom (?:a |the )?(?:pre-?trained )?checkpoint\b|\btransfer[- ]learning\b")
_SCRATCH = re.compile(r"\bfrom scratch\b|\brandom(?:ly)? init\w*|\bno pre-?trained\b|\bwithout pre-?train\w*|"
                      r"\bnot pre-?trained\b|\bfrom random weights\b")


def pretrained(low: str, intents: list[str], family_pretrained: Optional[bool]) -> Optional[bool]:
    """False for "from scratch", True for pretrained / fine-tune wording, None when not said."""
    if any(not negated(low, m.start()) for m in _SCRATCH.finditer(low)):
        return False
    if any(not negated(low, m.start()) for m in _PRETRAINED.finditer(low)):
        return True
    if "fine_tune" in intents and family_pretrained is not False:
        return True
    return None


# --- tracking / registry requests ---------------------------------------------------------------
_NUM_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
              "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "a couple of": 2, "a few": 3}
_NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|a couple of|a few)"
_VERSION = re.compile(r"\b(?:model )?version\s*(?:#|no\.?\s*|number\s*)?(\d{1,6})\b|(?<![\w-])v(\d{1,6})\b")
_ALIAS_WORDS = re.compile(r"\b(champion|challenger|production|prod|staging|baseline|candidate|canary|shadow|latest-good)\b")
_ALIAS_NAMED = re.compile(r"\balias(?:ed)?\s+(?:it\s+|this\s+|that\s+|them\s+|(?:version|v)\s*\d+\s+)?(?:as|to|named|called)?\s*"
                          r"[\"'`]([a-z][\w-]{0,63})[\"'`]|\b(?:the|an?|new)\s+[\"'`]?([a-z][\w-]{0,63})[\"'`]?\s+alias\b")
# Action cues, checked in message order; the first one that fires (not negated) is the action.
_TRACK_ACTIONS: list[tuple[str, str]] = [
    ("rollback", r"\broll(?:ing|s|ed)?[- ]?back\b|\broll (?:[\w.-]+ ){1,3}back\b|\brollback\b|\brevert\w*\b|\brestore (?:the )?(?:previous|old|last|earlier|prior)\b|"
                 r"\bgo back to (?:the )?(?:previous|old|last|earlier|prior|version|v\d)"),
    ("archive", r"\barchiv(?:e|es|ed|ing)\b|\bretire\w*\b|\bdeprecat\w*\b"),
    ("alias", r"\balias\w*|\bpromot\w*|\bdemot\w*|\b(?:mark|tag|label|set|move|flag|make|point)\w* (?:[\w-]+ ){0,4}(?:as|to|the) "
              r"(?:the )?(?:production|prod|staging|champion|challenger|baseline|candidate)\b|"
              r"\b(?:champion|challenger)\b(?= (?:to|at|on|for) )"),
    ("compare", r"\bcompar(?:e|es|ed|ing|ison)\b|\bside[- ]by[- ]side\b|\b(?:diff|versus|vs\.?)\b"),
    ("list", r"\b(?:list|show|see|display|print|enumerate|view)\w* (?:[\w-]+ ){0,4}(?:versions?|registered|aliases|registry|models in)\b|"
             r"\b(?:what|which) (?:[\w-]+ ){0,2}versions?\b|\bversions? (?:do|does|did|have|has|are|is) (?:we|i|it|there)\b|"
             r"\b(?:is|are|was|were) (?:[\w-]+ ){0,2}registered\b|\bhow many versions\b|\bversion history\b"),
    ("register", r"\bregist(?:er|ers|ering)\b(?! (?:of|@))|\bversion (?:it|this|that|them)\b|\bnew (?:model )?version\b|"
                 r"\badd (?:it|this|the model) to (?:the )?(?:model )?registry\b"),
    ("export", r"\b(?:log|logs|logged|logging|export\w*|sync\w*|push\w*|send\w*|upload\w*|copy|mirror\w*|record\w*|report\w*) "
               r"(?:[\w-]+ ){0,5}(?:to|in|into|with|on) (?:an? |the |our |my )?(?:w ?& ?b|wandb|weights (?:&|and) biases|neptune(?:\.ai)?)\b"),
]
_TRACK_ACTION_RES = [(name, re.compile(p)) for name, p in _TRACK_ACTIONS]
# "ship it to production", "a canary deployment": serving words, not registry aliases.
_SERVING_BEFORE = re.compile(r"\b(?:deploy\w*|ship\w*|serv\w*|roll(?:ing)? (?:it )?out|put|push\w*|release\w*|go|goes|live in|run\w* in)"
                             r"\b(?:(?! and | then |,|;)[^.;!?])*$")
_RUNS = re.compile(r"\b(?:last|latest|past|previous|recent|most recent|final|first|top|best)\s+" + _NUMBER + r"\s+(?:[\w-]+\s+){0,2}?"
                   r"(?:runs?|experiments?|trials|trainings|training runs|models)\b|\b" + _NUMBER + r"\s+(?:most\s+)?(?:recent|latest|last|previous|past)?\s*"
                   r"(?:[\w-]+\s+)?(?:runs|experiments|training runs)\b")


def _count(word: str) -> Optional[int]:
    return int(word) if word.isdigit() else _NUM_WORDS.get(word)


def _first_action(low: str) -> Optional[tuple[int, str]]:
    best: Optional[tuple[int, str]] = None
    for name, pat in _TRACK_ACTION_RES:
        for m in pat.finditer(low):
            if negated(low, m.start()):
                continue
            if best is None or m.start() < best[0]:
                best = (m.start(), name)
            break
    return best


def track_spec(low: str, trackers_named: list[str], register: Optional[str] = None) -> TrackSpec:
    """What a tracking request asks `track_experiment` to do: action, alias, version, runs to compare.

    The action is the first tracking verb in the message ("register it ... and set the champion alias"
    registers, with the alias); a register name, or a W&B / Neptune tracker with nothing else asked,
    decides when no verb does. Logging to MLflow alone names no action (every run is logged there).
    """
    hit = _first_action(low)
    action = hit[1] if hit else None
    if action is None and register:
        action = "register"
    if action is None and {"wandb", "neptune"} & set(trackers_named):
        action = "export"
    alias = None
    m = _ALIAS_NAMED.search(low)
    if m:
        alias = m.group(1) or m.group(2)
        if alias in ("new", "same", "current", "old", "an", "a", "the"):
            alias = None
    if alias is None:
        for am in _ALIAS_WORDS.finditer(low):
            if not negated(low, am.start()) and not re.match(r"[\w-]*\s+(?:model|server|environment|traffic|data|cluster)\b",
                                                             low[am.end():am.end() + 14]) \
                    and not _SERVING_BEFORE.search(low[max(0, am.start() - 40):am.start()]):
                alias = am.group(1)
                break
    alias = {"prod": "production"}.get(alias, alias)
    version = None
    for vm in _VERSION.finditer(low):
        v = int(vm.group(1) or vm.group(2))
        if 1 <= v <= 1_000_000 and (register is None or f"v{v}" not in register.lower() or vm.group(1)):
            version = v
            break
    runs = None
    rm = _RUNS.search(low)
    if rm:
        n = _count(rm.group(1) or rm.group(2))
        runs = n if n and 1 <= n <= 1000 else None
    if action is None and runs is not None:
        action = "compare"
    if action is None and alias is not None and re.search(r"\balias\w*|\bpromot\w*|\bchampion\b|\bchallenger\b", low):
        action = "alias"
    return TrackSpec(action=action, alias=alias, version=version, runs=runs)
