"""Training settings written in words: "SGD, step LR, dropout 0.3, L1 1e-5, early stopping with
patience 5, 40 epochs, clip gradients at 1.0, seed 42, for 10 minutes".

Each setting becomes a constraint named exactly like its `TrainSettings` field (``learning_rate``
for ``lr``), so `contract.resolve` carries it into ``plan.settings``. A value outside the field's
range is dropped with a warning (the message never makes the plan invalid). Spans point into the
user's text; the lower-cased text has the same length.
"""

from __future__ import annotations

import re
from typing import Iterator

from tensor_agent.planner.scope import negated
from tensor_agent.schema import Constraint, TrainSettings

_N = r"(\d*\.?\d+(?:e[-+]?\d+)?)"
_INT = r"(\d+)"
_SEP = r"\s*(?:of|=|:|at|to|is|around|~|set to|equal to)?\s*(?:about |around |~)?"
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40,
          "fifty": 50, "hundred": 100, "a hundred": 100, "a": 1, "an": 1, "half an": 0.5, "a couple of": 2}
_NUMWORD = r"(\d+(?:\.\d+)?|" + "|".join(sorted((re.escape(w) for w in _WORDS), key=len, reverse=True)) + r")"

_OPTIMIZERS = [("adamw", r"\badam-?w\b|\bdecoupled weight decay\b"), ("lamb", r"\blamb\b"),
               ("adam", r"\badam\b(?!-?w)"), ("sgd", r"\bsgd\b|\bstochastic gradient descent\b|\bsgd with momentum\b")]
_SCHEDULES = [
    ("cosine_warm_restarts", r"\bwarm restarts?\b|\bsgdr\b|\bcosine (?:annealing |decay |schedule )?with (?:warm )?restarts?\b|"
                             r"\bcosine ?annealing ?warm ?restarts?\b|\bcosine restarts?\b"),
    ("cosine", r"\bcosine\b(?! (?:similarity|distance|with (?:warm )?restarts?|restarts?|annealing with))"),
    ("step", r"\bstep[- ]?(?:decay|lr|schedule|scheduler|wise|learning rate)\b|\bmulti-?step(?:lr)?\b|\bsteplr\b|"
             r"\bdecay (?:the )?(?:lr|learning rate) (?:by [\d.]+ )?every \d+ epochs\b"),
    ("exponential", r"\bexponential(?:ly)? (?:decay|lr|schedule|learning rate)\b|\bexponentiallr\b"),
    ("constant", r"\bconstant (?:learning rate|lr|schedule)\b|\bfixed (?:learning rate|lr)\b|\bno (?:lr )?schedule\b"),
]

#: (setting, pattern, group kind) in the order they claim text: warm-up and patience before epochs.
_SETTINGS: list[tuple[str, re.Pattern[str]]] = [(name, re.compile(p)) for name, p in (
    ("warmup_epochs", r"\b" + _NUMWORD + r"[- ]?(?:linear )?warm[- ]?up epochs?\b|"
                      r"\bwarm[- ]?up(?: epochs)?(?: phase)?\s*(?:of|for|over|=|:)?\s*" + _NUMWORD + r"(?: epochs?)?\b|"
                      r"\b" + _NUMWORD + r" epochs? (?:of )?(?:linear )?warm[- ]?up\b|\bwarmup_epochs\s*=\s*(\d+)"),
    ("patience", r"\bpatience" + _SEP + _NUMWORD + r"\b(?: epochs?)?|\b" + _NUMWORD + r"[- ]epochs? (?:of )?patience\b|"
                 r"\b(?:no|without(?: any)?) improvement (?:for|in|after|over) " + _NUMWORD + r" (?:consecutive )?epochs\b|"
                 r"\bearly[- ]?stop\w* (?:after|at) " + _NUMWORD + r" (?:epochs? )?(?:without|with no|of no)\b"),
    ("learning_rate", r"\b(?:learning[- ]rate|lr)\b(?: of| =| :|=|:| at| to| is| around| ~| set to)?\s*(?:about |around |~)?"
                      r"(\d*\.?\d+(?:e[-+]?\d+)?)(?![\d.]*\s*(?:epochs?|%))|\b(\d*\.?\d+e[-+]?\d+|0\.\d+) (?:learning[- ]rate|lr)\b"),
    ("dropout", r"\bdropout(?: rate| probability| of p| p)?" + _SEP + r"(\d*\.?\d+)\s*(%)?|\b(\d*\.?\d+)\s*(%)?\s*dropout\b"),
    ("l1", r"\bl1(?: regulari[sz]ation| penalty| reg| weight| lambda| coefficient| term)?" + _SEP + r"(?:strength )?" + _N +
           r"|\b(\d*\.?\d+e[-+]?\d+) l1\b"),
    ("weight_decay", r"\b(?:weight[- ]decay|wd|l2(?: regulari[sz]ation| penalty| reg| weight| lambda| coefficient| term)?)"
                     + _SEP + r"(?:strength )?" + _N + r"|\b(\d*\.?\d+e[-+]?\d+) (?:weight[- ]decay|l2)\b"),
    ("grad_clip", r"\b(?:clip(?:ping)?(?: the)?(?: global)? (?:gradients?|grads?)(?: norms?)?|gradient[- ]clipping|"
                  r"grad(?:ient)?[- _]?clip(?:ping)?|(?:max(?:imum)?|clip) (?:global )?grad(?:ient)?[- _]norm|clip[- _]?norm|"
                  r"clip (?:the )?(?:global )?(?:gradient )?norm)\s*(?:at|to|of|=|:|with|by|below)?\s*(?:a )?"
                  r"(?:max(?:imum)?(?: norm)?(?: of)? )?(?:norm (?:of )?)?" + _N),
    ("seed", r"\b(?:random |rng |global )?seed(?:ed)?(?: value)?\s*(?:of|=|:|with|to|is)?\s*(\d+)\b"),
    ("batch_size", r"\b(?:mini-?)?batch(?:[- _]?size)?(?:es)?\s*(?:of|=|:|size of)?\s*(\d+)\b|\bbs\s*=\s*(\d+)\b|"
                   r"\b(\d+)\s*(?:per batch|batch size|samples per batch|examples per batch)\b|\bbatches of (\d+)\b"),
    ("epochs", r"\b" + _NUMWORD + r"\s*(?:training |full |more |total |fine-?tuning )?epochs?\b|\bepochs?\s*(?:=|:)\s*(\d+)\b|"
               r"\bfor (\d+) (?:training )?(?:passes|iterations over the data)\b"),
    ("time_budget_s", r"\b(?:for|within|in|under|at most|max(?:imum)?|budget(?: of)?|limit(?: of)?|no more than|less than|"
                      r"takes?|only|just|a|cap(?:ped)? (?:of|at)|time[- ]box(?:ed)? (?:to|at))\s+(?:about |roughly |around |~|only |just |"
                      r"an? )?" + _NUMWORD + r"[- ]?(s|sec|secs|seconds?|min|mins|minutes?|h|hr|hrs|hours?)\b"
                      r"(?:\s+(?:time )?budget)?|\btime[- _]?budget(?:_s)?\s*(?:of|=|:)?\s*" + _NUMWORD +
                      r"\s*(s|sec|secs|seconds?|min|mins|minutes?|h|hr|hrs|hours?)?\b|\b" + _NUMWORD +
                      r"[- ]?(s|sec|second|min|minute|h|hr|hour)s?[- ](?:time[- ])?budget\b|"
                      r"\b(?:stop|cut (?:it )?off|quit|halt|end|kill)\w* (?:it |training |the run )?(?:after|at) " + _NUMWORD +
                      r"[- ]?(s|sec|secs|seconds?|min|mins|minutes?|h|hr|hrs|hours?)\b"),
)]
_UNIT_S = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "min": 60, "mins": 60, "minute": 60,
           "minutes": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600}
_LATENCY_CONTEXT = re.compile(r"latenc|inference|respon|per (?:image|request|query|sample|prediction|call|frame|item)|"
                              r"real[- ]?time|predict|answer|reply|replies|p9\d|audio|clips?|window|speech|video|footage|"
                              r"record|of data|long\b|sampl(?:e|ing) every|forecast|horizon|ahead|history|histories|past|last|"
                              r"every|interval|lag|window")
_TRAINING_LATENCY = re.compile(r"latency|throughput|inference|fps|\bms\b|per (?:image|request)")
_INT_SETTINGS = {"warmup_epochs", "patience", "seed", "batch_size", "epochs"}


def _value(word: str) -> float:
    w = word.strip().lower()
    return float(_WORDS[w]) if w in _WORDS else float(w)


def _groups(m: re.Match[str]) -> list[tuple[int, str]]:
    return [(i, g) for i, g in enumerate(m.groups(), 1) if g is not None]


def _read(name: str, m: re.Match[str], low: str) -> float | None:
    gs = _groups(m)
    if not gs:
        return None
    if name == "time_budget_s":
        after = re.split(r"\b(?:that|which|and|but|so|then)\b|[,;.!?]", low[m.end():m.end() + 24])[0]
        before = re.split(r"\b(?:that|which|and|but|so|then)\b|[,;.!?]", low[max(0, m.start() - 40):m.start()])[-1]
        ctx = before + " " + after
        if _LATENCY_CONTEXT.search(ctx) or re.match(r"\s*(?:of|long|clips?|windows?|segments?|per|each|latency)\b",
                                                     low[m.end():]):
            return None
        num = gs[0][1]
        unit = gs[1][1] if len(gs) > 1 else "s"
        return _value(num) * _UNIT_S.get(unit, 1)
    if name == "dropout":
        v = _value(gs[0][1])
        pct = any(g == "%" for _, g in gs[1:])
        return v / 100.0 if pct else v
    if name == "batch_size" and _TRAINING_LATENCY.search(low[max(0, m.start() - 40):m.start()]):
        return None
    return _value(gs[0][1])


def _valid(name: str, value: float) -> bool:
    field = "lr" if name == "learning_rate" else name
    try:
        TrainSettings(**{field: int(value) if name in _INT_SETTINGS else value})
    except Exception:  # noqa: BLE001 - pydantic ValidationError: out of range
        return False
    return True


def _first_choice(low: str, table: list[tuple[str, str]]) -> tuple[str, re.Match[str]] | None:
    """The earliest non-negated match of any value in `table` (message order, not table order)."""
    best = None
    for value, pat in table:
        for m in re.finditer(pat, low):
            if negated(low, m.start()):
                continue
            if best is None or m.start() < best[1].start():
                best = (value, m)
            break
    return best


def training_settings(text: str, low: str) -> tuple[list[Constraint], list[str]]:
    """Every training setting stated in `text` (first statement of each), plus warnings."""
    out: list[Constraint] = []
    warnings: list[str] = []
    claimed: list[tuple[int, int]] = []
    for name, table in (("optimizer", _OPTIMIZERS), ("schedule", _SCHEDULES)):
        hit = _first_choice(low, table)
        if hit:
            s, e = hit[1].span()
            out.append(Constraint(name=name, value=hit[0], span=(s, e), text=text[s:e]))
    seen: set[str] = set()
    for name, pat in _SETTINGS:
        for m in pat.finditer(low):
            if any(m.start() < ce and cs < m.end() for cs, ce in claimed):
                continue
            value = _read(name, m, low)
            if value is None:
                continue
            claimed.append(m.span())
            if name in seen:
                continue
            if not _valid(name, value):
                warnings.append(f"Ignored {name} '{text[m.start():m.end()]}': out of range.")
                seen.add(name)
                continue
            seen.add(name)
            s, e = m.span()
            out.append(Constraint(name=name, value=int(value) if name in _INT_SETTINGS else float(value),
                                  span=(s, e), text=text[s:e]))
    return out, warnings


def iter_setting_names() -> Iterator[str]:
    """The constraint names this module writes."""
    yield from ("optimizer", "schedule", *(n for n, _ in _SETTINGS))
