"""Topics and learning regime named in a message (planning stage: the only place that reads the text).

`topics_of(text)` lists the techniques and concepts a message asks about (optimizers, schedules,
regularisers, compression methods, architectures, data issues) in message order; @AXIOM explains
them, the estimator reads data issues (augmentation, label noise). `regime_of(text)` tells
few-shot / unsupervised / transfer wording apart. Both fill `Plan.topics` / `Plan.regime`.
"""

from __future__ import annotations

import re

#: topic -> pattern (lower-cased text). One registry; @AXIOM has an entry per topic.
TOPIC_PATTERNS: dict[str, str] = {
    "sgd": r"\bsgd\b|\bstochastic gradient descent\b|\bmomentum\b",
    "adam": r"\badam\b(?!w)",
    "adamw": r"\badamw\b|\bdecoupled weight decay\b",
    "lamb": r"\blamb\b",
    "cosine": r"\bcosine\b(?! (?:with )?(?:warm )?restarts?)|\bcosine annealing\b(?! with)",
    "cosine_warm_restarts": r"\bcosine (?:annealing )?(?:with )?(?:warm )?restarts?\b|\bsgdr\b|\bwarm restarts?\b",
    "step": r"\bstep (?:lr|decay|schedule|learning rate)\b|\bstep-?lr\b|\bstep decay\b",
    "exponential": r"\bexponential (?:decay|lr|schedule)\b",
    "warmup": r"\bwarm-?\s?up\b",
    "dropout": r"\bdropout\b",
    "l1": r"\bl1\b|\blasso\b",
    "l2": r"\bl2\b|\bweight decay\b|\bridge\b",
    "batchnorm": r"\bbatch ?norm\w*\b|\bbatch normali[sz]ation\b",
    "layernorm": r"\blayer ?norm\w*\b|\blayer normali[sz]ation\b",
    "early_stopping": r"\bearly stopping\b",
    "quantization": r"\bquanti[sz]\w*|\bint8\b|\bint4\b",
    "pruning": r"\bprun\w*|\bsparsity\b|\blottery ticket\b",
    "distillation": r"\bdistill?\w*|\bteacher\b.*\bstudent\b",
    "lora": r"\blora\b|\blow-rank adapt\w*",
    "adapter": r"\badapters?\b",
    "attention": r"\battention\b|\bself-attention\b",
    "transformer": r"\btransformers?\b",
    "convolution": r"\bconvolution\w*\b|\bcnns?\b",
    "diffusion": r"\bdiffusion\b|\bddpm\b|\bddim\b",
    "state_space": r"\bstate[- ]space\b|\bmamba\b|\bssm\b",
    "gnn": r"\bgcn\b|\bgat\b|\bgraphsage\b|\bgraph neural\b|\bmessage passing\b",
    "xgboost": r"\bxgboost\b|\bgradient boost\w*",
    "augmentation": r"\baugment\w*",
    "label_noise": r"\bnoisy labels?\b|\blabel noise\b|\bcrowd-?sourc\w*",
    "class_imbalance": r"\bimbalanc\w*|\bskew\w* classes\b|\brare class\w*",
}
_COMPILED = {k: re.compile(v) for k, v in TOPIC_PATTERNS.items()}

_FEW_SHOT = re.compile("|".join((
    r"\bfew[- ]?shot", r"\b(?:one|1|zero|0|two|five|\d+)[- ]shot", r"\bk[- ]shot", r"handful of (?:labell?ed )?examples",
    r"\bvery few (?:labell?ed )?(?:examples|samples|images)", r"\bprototypical", r"\bmeta[- ]learning")))
_UNSUP = re.compile("|".join((
    r"\bunsupervised", r"\bself[- ]supervised", r"\bunlabell?ed\b", r"\bpre-?train(?:ing)? from scratch",
    r"\bcontrastive", r"\bclustering", r"\bautoencoder", r"\bno labels?\b")))
_TRANSFER = re.compile("|".join((
    r"\bfine[- ]?tun\w*", r"\bpre-?trained\b", r"\btransfer learning", r"\blora\b", r"\badapters?\b",
    r"\bfeature extraction", r"\bbackbone\b", r"\bimagenet\b", r"\bfrozen\b", r"\bpeft\b")))


def topics_of(text: str) -> list[str]:
    """Topics the message names, in the order they first appear."""
    low = (text or "").lower()
    hits = [(m.start(), name) for name, pat in _COMPILED.items() for m in [pat.search(low)] if m]
    return [name for _, name in sorted(hits)]


def regime_of(text: str, intents: list[str] | None = None) -> str | None:
    """few_shot / unsupervised / transfer when the wording says so, else None (the tool decides)."""
    low = (text or "").lower()
    if _FEW_SHOT.search(low):
        return "few_shot"
    if _UNSUP.search(low):
        return "unsupervised"
    if "fine_tune" in (intents or []) or _TRANSFER.search(low):
        return "transfer"
    return None
