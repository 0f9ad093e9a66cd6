"""Which peers a plan names: AXIOM (explain, maths), VELOCITY (compression; explicit latency/throughput targets),
PRISM (data preparation), ECLIPSE (evaluation), from the intents and explicit cues, plus a peer the message
hands work to ("ask @PRISM to ...", "... then @AXIOM explain why")."""

from __future__ import annotations

import re

from tensor_agent.catalogue import PEERS
from tensor_agent.planner import lexicon as lx
from tensor_agent.planner.normalize import MENTION_RE, other_mentions
from tensor_agent.planner.scope import negated

# A sentence to another agent that gives it a task (a verb, not a question or thanks).
_HANDOFF = re.compile(r"[\s,:]*(?:please |pls |can you |could you )?(?!thanks|thank|what|why|how|is |are |do |does |did |has |have |who|when|where)"
                      r"[a-z]+(?<!ed)(?<!ing) (?:the|our|my|a|an|it|this|that|these|those|some|all|\w+s)\b", re.IGNORECASE)

# A peer addressed at the start of a clause after @TENSOR ("..., then @AXIOM explain why", ". @ECLIPSE, can you
# check ...") with a task or a question: the user lays out who does what next, so the peer is part of the plan.
# Not: "as @AXIOM suggested", "thanks @ECLIPSE for ...", "@PRISM's profile".
_CLAUSE_OPEN = re.compile(r"(?:^|[.;!?\n,:(]|\band|\bthen|\balso|\bwhile|\bmeanwhile|\bnext|\bafterwards|\bafter that|\bonce (?:that's|it's|this is) done|"
                          r"\bwhen (?:that's|it's) done)\s*(?:@\w+\s*(?:,|and|&)?\s*)*$",
                          re.IGNORECASE)
_PEER_TASK = re.compile(r"[\s,:]*(?:please |pls |can you |could you |would you |will you |you )?"
                        r"(?!(?:thanks|thank|for|is|are|was|were|has|have|had|said|says|suggests?|suggested|mentioned|agrees?|thinks?|"
                        r"already|just|did|does|knows?|wrote|sent|shared|ran|found|told|asked)\b)[a-z]+\b(?<!ed)", re.IGNORECASE)


_NO_TASK = re.compile(r"[\s,:]*(?:no need|nothing|no action|not needed|don't|do not|never mind|no worries|you can skip|skip this)\b", re.IGNORECASE)


_RUN_GAP = re.compile(r"[\s,:&+/]*(?:and\s+)?[\s,:&+/]*$", re.IGNORECASE)


def _addressed_with_tensor(text: str, at: int, name: str) -> bool:
    """"@TENSOR @PRISM @ECLIPSE team: ...": a peer in the same run of mentions as @TENSOR is spoken to with it."""
    end = at + 1 + len(name)
    for m in MENTION_RE.finditer(text):
        lo, hi = (m.end(), at) if m.end() <= at else (end, m.start())
        gap = text[lo:hi]
        if hi >= lo and _RUN_GAP.fullmatch(re.sub(r"@\w+", "", gap)):
            return True
    return False


def _addressed_after_tensor(text: str, at: int, name: str) -> bool:
    first = MENTION_RE.search(text)
    if first is None or first.start() > at:
        return False
    end = at + 1 + len(name)
    if _NO_TASK.match(text, end):  # "@VELOCITY, no need to look at this one"
        return False
    return bool(_CLAUSE_OPEN.search(text[max(0, at - 60):at]) and _PEER_TASK.match(text, end))


# Data words that describe a state of the data, not work on it: in a pure explanation ("explain why xgboost handles
# missing values natively") they are the topic, and no data preparation is asked for.
_DATA_STATE = re.compile(r"imbalanc|unbalanced|missing|noisy|noise|messy|outlier|skewed|mislabel|augment|leak|distribution shift|"
                         r"data drift|corrupt|rare|\d")


# "plus a rough CPU latency", "include its latency in the report": a figure the design reports, not a speed target.
_REPORTED_FIGURE = re.compile(r"\b(?:plus|and|with|includ\w*|report\w*|give me|tell me|show me|measur\w*|list|print)\s+(?:(?:a|an|the|its|their|our)\s+)?"
                              r"(?:(?:rough|estimated|expected|measured|ballpark|approximate|typical|cpu|gpu|median|p50|inference)\s+){0,3}$")
_TARGET_AFTER = re.compile(r"\s*(?:\w+\s+)?(?:budgets?|targets?|under|below|within|<|must|should|of \d|requirements?|constraints?|goals?|slas?|limits?)\b")


_WAIVED = re.compile(r"\b(?:don'?t|do not|no need to|never|not) (?:worry|care|bother|fuss)(?:ing)? (?:about|with) (?:the |any )?(?:[\w-]+ )?$")


def _velocity_cue(low: str) -> bool:
    for m in lx.VELOCITY_CUES.finditer(low):
        if _WAIVED.search(low[max(0, m.start() - 40):m.start()]):  # "don't worry about latency for now"
            continue
        if not (m.group(0).startswith("latenc") and _REPORTED_FIGURE.search(low[max(0, m.start() - 50):m.start()])
                and not _TARGET_AFTER.match(low, m.end())):
            return True
    return False


_OURS = re.compile(r"\b(?:our|my)\s+(?:[\w-]+\s+){0,2}$")
_IN_OURS = re.compile(r"\s+(?:[\w-]+\s+){0,2}(?:in|of|on) (?:our|my) ")


_PREVALENCE = re.compile(r"\b(\d+(?:\.\d+)?)\s*%\s+(?:are |is )?([a-z]{4,})")


def _rare_class(low: str) -> bool:
    """"flag phishing emails; 30k labelled, 4% phishing": a small share of the class the task looks for."""
    for m in _PREVALENCE.finditer(low):
        word = m.group(2)[:-1] if m.group(2).endswith("s") else m.group(2)
        if float(m.group(1)) <= 20 and re.search(r"\b" + re.escape(word), low[:m.start()] + low[m.end():]):
            return True
    return False


def _prism_wanted(intents: list[str], low: str) -> bool:
    # "no cleaning needed", "without any imputation" (a negated state, "so patients don't leak", is still a concern)
    if intents and set(intents) <= {"recall"}:  # "which augmentations did we use for the best run?": a past setting
        return False
    cues = [m for m in lx.PRISM_CUES.finditer(low) if _DATA_STATE.match(m.group(0)) or not negated(low, m.start())]
    if cues and intents and set(intents) <= {"explain"}:
        cues = [m for m in cues if not _DATA_STATE.match(m.group(0)) or _OURS.search(low[max(0, m.start() - 25):m.start()])
                or _IN_OURS.match(low, m.end())]  # "... for our 1:50 defect images": the user's own data
    return bool(cues) or (bool(intents) and not set(intents) <= {"explain"} and _rare_class(low))


def peers_for(intents: list[str], low: str, text: str, constraints: dict) -> list[str]:
    peers: set[str] = set()
    if "explain" in intents or lx.AXIOM_CUES.search(low):
        peers.add("AXIOM")
    if "compress" in intents or _velocity_cue(low) or "latency_ms" in constraints:
        peers.add("VELOCITY")
    if _prism_wanted(intents, low):
        peers.add("PRISM")
    if "evaluate" in intents or lx.ECLIPSE_CUES.search(low):
        peers.add("ECLIPSE")
    for name, at in other_mentions(text):  # "ask @PRISM to ..." delegates explicitly
        if name in PEERS and (lx.DELEGATE_RE.search(text[max(0, at - 30):at].lower()) or _addressed_after_tensor(text, at, name)
                                or _addressed_with_tensor(text, at, name)):
            peers.add(name)
        elif name == "PRISM" and intents and _HANDOFF.match(text, at + len(name) + 1) and \
                re.search(r"(?:^|[.;!?\n]|\band)\s*(?:@\w+\s*(?:,|and|&)?\s*)*$", text[max(0, at - 40):at]):
            peers.add(name)  # "@PRISM balance the classes; @TENSOR then train ...": the data is handed off to PRISM
    return sorted(peers)
