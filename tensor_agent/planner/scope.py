"""What in a message is a request to @TENSOR, and what is not.

Every function here keeps character offsets: text that is not a request (a quoted line, a code
block, a sentence addressed to another agent) is replaced by spaces of the same length, so the
constraint spans the planner reports still point into what the user wrote.

* quoted lines (``> ...``, e-mail and chat quoting) and fenced code blocks are context, not requests;
* a sentence that starts with another agent's mention (``@PRISM clean the table.``) is that agent's
  job, unless @TENSOR is mentioned in the same run of mentions;
* a request word under a negation in its own clause ("don't train it", "no training", "not
  planning to fine-tune") is not a request (:func:`negated`).
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.S)
_QUOTE_LINE = re.compile(r"(?m)^[ \t]*>.*$")
_MENTION = re.compile(r"(?<![\w@])@([a-z][\w-]*)", re.IGNORECASE)
_CLAUSE_END = re.compile(r"[.!?;\n]|\b(?:then|after that|afterwards|meanwhile|while you|and you|but you)\b", re.IGNORECASE)


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    if not spans:
        return text
    chars = list(text)
    for s, e in spans:
        for i in range(s, e):
            if chars[i] != "\n":
                chars[i] = " "
    return "".join(chars)


def mask_quotes(text: str) -> str:
    """`text` with quoted lines and fenced code blocks blanked out (same length)."""
    spans = [m.span() for m in _FENCE.finditer(text)]
    spans += [m.span() for m in _QUOTE_LINE.finditer(text)]
    return _blank(text, spans)


def mask_other_agents(text: str) -> str:
    """`text` with the sentences addressed to other agents blanked out (same length).

    A run of adjacent mentions ("@PRISM @TENSOR ...") addresses everyone in it; the text after a
    run without @tensor, up to the end of its sentence or the next mention, is another agent's job.
    """
    mentions = list(_MENTION.finditer(text))
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(mentions):
        j = i
        while j + 1 < len(mentions) and not text[mentions[j].end():mentions[j + 1].start()].strip(" \t,:&+/and"):
            j += 1
        names = {m.group(1).lower() for m in mentions[i:j + 1]}
        start = mentions[j].end()
        if "tensor" not in names:
            nxt = mentions[j + 1].start() if j + 1 < len(mentions) else len(text)
            m = _CLAUSE_END.search(text, start, nxt)
            end = m.start() if m else nxt
            spans.append((mentions[i].start(), end))
        i = j + 1
    return _blank(text, spans)


# A negation word, then at most three words in the same clause, then the request word.
_NEGATION = re.compile(
    r"(?:\b(?:there'?s no need to|no need to|no need for|not going to|not planning to|not trying to|never mind|"
    r"not asking(?: you)? (?:to|for)|(?:don'?t|do not|won'?t|will not|wouldn'?t) (?:want|need|ask)(?: you)?(?: to| for| any)?|"
    r"not (?:interested in|looking to|looking for)|(?:ignore|disregard|scratch|forget) (?:my |the |what i said in (?:my |the )?)?(?:previous |last |earlier |other )?(?:message|request|question|comment|idea|point)s? (?:about|on|re:?|regarding|asking for)|(?:was|were) (?:going|planning|about|hoping) to|had (?:planned|wanted|hoped) to|(?:don'?t|do not) bother (?:with|to)|"
    r"(?<!n't )(?<!not )forget(?: about)?|rather than|instead of|"
    r"don'?t|do not|doesn'?t|does not|didn'?t|won'?t|will not|wouldn'?t|shouldn'?t|can'?t|cannot|"
    r"no|not|never|without|nor|neither|skip(?:ping)?|avoid(?:ing)?|"
    r"isn'?t|aren'?t|"
    r"(?:i'?ll|i will|we'll|we will|i'?m|we'?re) (?:take care of|handle|deal with|manage|own|look after|do)(?: the| all the| any)?|"
    r"i'?ll|i will|we'll|we will|i'?m going to|we'?re going to|i can|we can|i'?d rather|leave (?:the )?)"
    r"|\bhold off on)\s+((?:[\w'-]+\s+){0,3})$")
# Words that end the scope of a negation before the request word ("not sure which model",
# "no idea what architecture", "don't know how to train").
_SCOPE_BREAK = re.compile(r"\b(?:until|unless|till|because|since|sure|know|idea|certain|only|just|but|then|so|yet\s+\w+|(?:more|less|fewer) than|bad|you|need|want|"
                          r"worry|matter|mind|care|forget|hesitate|wait|clear|convinced|understand|get)\b")


# Declining a request ("I'll handle the training", "I can label them") says nothing against a data word.
_DECLINE = re.compile(r"(?:i'?ll|i will|we'll|we will|i'?m going to|we'?re going to|i can|we can|i'?d rather|leave|i'?m|we'?re)\b")


def negated(low: str, start: int, declines: bool = True) -> bool:
    """A negation governs the request word at `start` (same clause, at most three words before). With
    `declines=False` a declined request ("I can label 500 more photos") does not count (for data words)."""
    before = low[max(0, start - 48):start]
    cut = max(before.rfind(c) for c in (",", ".", ";", ":", "!", "?", "(", ")", "\n", " - ", "\u2014", "\u2013"))
    if cut >= 0:
        before = before[cut + 1:]
    m = _NEGATION.search(before)
    if not m or not declines and _DECLINE.match(m.group(0)):
        return False
    between = m.group(1)
    if re.search(r"\b(?:and|or)\b", between) and not re.fullmatch(r"(?:[\w'-]+\s+){0,2}[\w-]+(?:ing|ion|s)\s+(?:and|or|nor)\s+", between) \
            and not re.fullmatch(r"(?:[\w'-]+\s+){0,1}[\w-]+\s+(?:or|nor)\s+", between):  # "don't implement or train it"
        return False  # "don't train it and deploy it": the negation ended with its clause
    return not _SCOPE_BREAK.search(between)


def request_text(text: str) -> tuple[str, bool]:
    """The part of `text` that asks @TENSOR for something (same length), and whether any was masked."""
    masked = mask_other_agents(mask_quotes(text))
    return masked, masked != text
