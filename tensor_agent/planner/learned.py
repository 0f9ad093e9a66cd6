"""A learned intent classifier that reads every request next to the rules planner's cue tables.

Two linear heads over hashed character 3-5-grams, words and word pairs of the request text (quotes, code
and other agents' sentences blanked, mentions removed, typos repaired: the same text the cue patterns
read), trained on the labelled planner cases (``python -m tensor_agent.planner.learned_train``):

- ``primary``: a softmax over the primary intent (``"none"``: no request);
- ``present``: one logistic output per intent, the chance that the request asks for it at all.

Why: cue tables tuned on their own cases keep missing new phrasings ("just optimize it" is tune, "hit it
with curl" is deploy, "historically, has xgboost or the mlp done better" is recall). The model carries what
the labelled cases teach to wordings no cue was written for; the rules keep the constraint extraction,
negation, quoting, the selection guide and every field other than the intents.

How the two are combined (:func:`adjust`; thresholds chosen on the blind holdout sets with classifiers
trained without the set scored, evals/bench_learned_intent.py):

1. The classifier's primary intent replaces the rules' primary when it differs and its probability is at
   least :data:`OVERRIDE` (:data:`FALLBACK` when no cue fired and the rules fell back to design or found
   nothing; :data:`SET_ASIDE` when the rules matched a cue for it and set it aside: negated, a participle, a
   condition, a quote, the topic of a question). After a replacement, the rules' other intents stay only
   when ``present`` gives them :data:`KEEP_AFTER_OVERRIDE`.
2. When the rules found two or more requests, their primary stands unless it runs a tool that ``present``
   does not see (below :data:`KEEP_AFTER_OVERRIDE`): ordering a sequence of requests ("explain X, then
   implement it") is what the cue rules are good at, and the classifier's primary head picks the weightier
   action instead; but a stray first cue ("set up a k-fold protocol for the mlp" is not a design) goes.
3. A secondary intent the rules found that runs a tool stays only when ``present`` gives it at least
   :data:`KEEP_SECONDARY` ("implement latent diffusion ... small enough to run on a laptop" is not a
   compression request); an intent the rules missed (no cue of it set aside) is added when ``present``
   gives it :data:`ADD` ("train a vit ... and after that deploy it with torchserve").
4. Never: an intent the message negates ("don't train it"), an intent from "none", or a bare design for a
   message in which the rules found nothing at all (thanks, chat).

The weights are a ``.npz`` of plain little-endian arrays (int8 weights with a per-output scale, one row
per hash bucket that has any: :class:`Model`); at
inference it is read with the standard library (zipfile + the ``.npy`` header, never pickle) so the planning
path does not import numpy (~0.3-0.6 s cold).
"""

from __future__ import annotations

import re
import sys
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Optional

from tensor_agent.catalogue import INTENTS
from tensor_agent.catalogue.tools import TOOLS

#: Where the trained weights live (written by ``learned_train``).
MODEL_PATH = Path(__file__).with_name("intent_model.npz")
#: Probability the classifier's primary intent needs to replace a primary intent a cue found.
OVERRIDE = 0.7
#: Probability it needs when no cue fired (the rules fell back to design, or found nothing).
FALLBACK = 0.25
#: Probability it needs when the rules matched a cue for it and set the cue aside ("our int8-quantized GPT").
SET_ASIDE = 0.85
#: Presence probability the rules' other intents need to stay after the primary intent was replaced.
KEEP_AFTER_OVERRIDE = 0.4
#: Presence probability a secondary intent the rules found needs to stay.
KEEP_SECONDARY = 0.1
#: Presence probability that adds an intent the rules did not find (as a secondary request).
ADD = 0.8
#: Secondary intents answered in words (no catalogue tool runs for them: explain, evaluate, recall), kept as the
#: rules found them: dropping one could only lose its peer ("fine-tune the ViT and report recall per class").
_ANSWERED = frozenset(INTENTS) - {i for spec in TOOLS.values() for i in spec.intents}
#: Number of hash buckets of the features.
BUCKETS = 1 << 18

_WS = re.compile(r"\s+")
_WORD = re.compile(r"[a-z0-9']+")


def features(low: str) -> list[str]:
    """The feature strings of a lower-cased request text."""
    t = " " + _WS.sub(" ", re.sub(r"@\w+", " ", low)).strip() + " "
    grams = [t[i:i + n] for n in (3, 4, 5) for i in range(len(t) - n + 1)]
    words = _WORD.findall(t)
    grams += ["w:" + w for w in words]
    grams += ["b:" + a + "_" + b for a, b in zip(words, words[1:])]
    return grams


def hashed(low: str) -> dict[int, float]:
    """Bucket -> log-count, L2-normalised (the vector the model was trained on)."""
    import math

    counts: dict[int, int] = {}
    for g in features(low):
        h = zlib.crc32(g.encode("utf-8")) & (BUCKETS - 1)
        counts[h] = counts.get(h, 0) + 1
    vals = {h: math.log1p(c) for h, c in counts.items()}
    norm = math.sqrt(sum(v * v for v in vals.values())) or 1.0
    return {h: v / norm for h, v in vals.items()}


_DTYPES = {"<i4": ("i", 4), "<f4": ("f", 4), "<f8": ("d", 8), "|u1": ("B", 1)}


def _read_npy(raw: bytes) -> tuple[list, tuple[int, ...], str]:
    """(flat values, shape, dtype) of one ``.npy`` file of a plain numeric or unicode array."""
    import ast
    import struct
    from array import array

    if raw[:6] != b"\x93NUMPY":
        raise ValueError("not an .npy array")
    major = raw[6]
    (hlen,), start = (struct.unpack("<H", raw[8:10]), 10) if major == 1 else (struct.unpack("<I", raw[8:12]), 12)
    header = ast.literal_eval(raw[start:start + hlen].decode("latin1"))  # a dict literal, not pickle
    body, descr, shape = raw[start + hlen:], header["descr"], tuple(header["shape"])
    if header.get("fortran_order") or descr == "|O":
        raise ValueError("unsupported array layout")
    n = 1
    for d in shape:
        n *= d
    if descr.startswith("<U"):
        width = int(descr[2:])
        return [body[i * 4 * width:(i + 1) * 4 * width].decode("utf-32-le").rstrip("\x00") for i in range(n)], shape, descr
    if descr not in _DTYPES:
        raise ValueError(f"unsupported dtype {descr}")
    code, size = _DTYPES[descr]
    values = array(code)
    values.frombytes(body[:n * size])
    if sys.byteorder != "little":  # pragma: no cover
        values.byteswap()
    return values, shape, descr


#: Bytes per output in a spread weights row (see :class:`Model`).
FIELD = 4
#: Feature values are rounded to multiples of 1 / ONE before the packed products.
ONE = 1 << 16


@dataclass(frozen=True)
class Model:
    """The weights, laid out so that one request costs one big-integer multiply-add per feature.

    `weights` holds, per hash bucket that has any, one byte per output (primary labels, then intents): the
    int8 weight plus 128 (0..255). A row is spread into one little-endian :data:`FIELD`-byte field per output
    (``array("I", iter(row))``, a C-level copy) and read as one integer; ``sum(round(v * ONE) * row)`` then adds
    every output's ``q * (w + 128)`` in its own field at once. A field cannot carry into the next (at most
    ~25 * ONE * 255 < 2**32 for an L2-normalised vector of a few hundred features). Output k is then
    ``scale[k] * (field_k - 128 * sum(q)) / ONE + bias[k]``.
    """

    rows: Any              # array("i") over every hash bucket: its row in `weights`, or -1
    weights: bytes         # [rows, outputs], uint8 (int8 weight + 128)
    scale: list[float]     # per output: weight = int8 * scale
    bias: list[float]      # per output
    primary: list[str]     # softmax labels (intents and "none")
    present: list[str]     # one logistic output per intent
    spread: dict = field(default_factory=dict, compare=False)  # row -> its spread integer (filled on use)


def model_from_arrays(arrays: dict) -> Model:
    """A :class:`Model` from the weights file's arrays (each a flat sequence, as `_read_npy` gives them)."""
    from array import array

    rows, weights, scale, bias, primary, present = (
        arrays[k] for k in ("rows", "weights", "scale", "bias", "primary", "present"))
    n_rows = len(weights) // max(1, len(bias))
    if len(rows) != BUCKETS or len(weights) != n_rows * len(bias) or max(rows, default=-1) >= n_rows:
        raise ValueError("weights do not match the buckets and outputs")
    return Model(rows if isinstance(rows, array) else array("i", rows), bytes(weights), list(scale), list(bias),
                 list(primary), list(present))


@lru_cache(maxsize=1)
def _model() -> Optional[Model]:
    """The trained model, or None when it has not been trained or its file cannot be read (the planner never
    raises: the rules then plan alone, and the reason goes to the log)."""
    if not MODEL_PATH.is_file():
        return None
    import logging
    import zipfile

    try:
        with zipfile.ZipFile(MODEL_PATH) as z:
            arrays = {name[:-4]: _read_npy(z.read(name))[0] for name in z.namelist() if name.endswith(".npy")}
        return model_from_arrays(arrays)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, SyntaxError) as exc:
        logging.getLogger(__name__).warning("intent classifier not loaded from %s: %s", MODEL_PATH, exc)
        return None


@dataclass(frozen=True)
class Reading:
    """What the classifier reads in one request."""

    primary: str                  # the most likely primary intent ("none": no request)
    confidence: float             # its softmax probability
    present: dict[str, float]     # intent -> probability that the request asks for it


def read(low: str) -> Optional[Reading]:
    """The classifier's reading of the lower-cased request text `low`, or None without a trained model."""
    import math

    m = _model()
    if m is None:
        return None
    from array import array

    n_out = len(m.bias)
    total = acc = 0
    for h, v in hashed(low).items():
        i = m.rows[h]
        if i >= 0:
            big = m.spread.get(i)
            if big is None:  # [outputs] bytes -> one FIELD-byte field each, read as one integer
                big = m.spread[i] = int.from_bytes(array("I", iter(m.weights[i * n_out:(i + 1) * n_out])).tobytes(), "little")
            q = round(v * ONE)
            total += q
            acc += q * big  # every output at once
    mask = (1 << (8 * FIELD)) - 1
    fields = [(acc >> (8 * FIELD * k)) & mask for k in range(n_out)]  # [outputs]
    logits = [b + s * (f - 128 * total) / ONE for f, s, b in zip(fields, m.scale, m.bias)]
    k = len(m.primary)
    top = max(logits[:k])
    exp = [math.exp(x - top) for x in logits[:k]]
    best = max(range(k), key=exp.__getitem__)
    present = {name: 1.0 / (1.0 + math.exp(-x)) for name, x in zip(m.present, logits[k:])}
    return Reading(m.primary[best], exp[best] / sum(exp), present)


def adjust(low: str, intents: list[str], *, fell_back: bool, set_aside: Callable[[], set[str]] = set,
           negated: Callable[[], set[str]] = set) -> list[str]:
    """The rules' `intents` corrected by the classifier (module docstring, steps 1-4).

    `fell_back`: no request cue fired (the rules' answer is their design fallback, or nothing);
    `set_aside`: gives the intents whose cues the rules matched and then set aside; `negated`: those of them
    the message negates ("don't train it"), never brought back (both asked only when needed)."""
    r = read(low)
    if r is None:
        return intents
    aside: dict[str, set[str]] = {}

    def was_set_aside(intent: str) -> bool:
        if "all" not in aside:
            aside["all"] = set_aside()
        return intent in aside["all"]

    def was_negated(intent: str) -> bool:
        if "negated" not in aside:
            aside["negated"] = negated()
        return intent in aside["negated"]

    out = list(intents)
    replace = r.primary != "none" and (not out or r.primary != out[0]) and (out or r.primary != "design")
    stray = len(out) > 1 and out[0] not in _ANSWERED and r.present.get(out[0], 1.0) < KEEP_AFTER_OVERRIDE
    if replace and (len(out) <= 1 or stray):
        need = FALLBACK if fell_back or not out else OVERRIDE
        if r.confidence >= need and (r.primary in out or not was_set_aside(r.primary) or
                                     r.confidence >= SET_ASIDE and not was_negated(r.primary)):
            out = [r.primary, *(i for i in out if i != r.primary and r.present.get(i, 0.0) >= KEEP_AFTER_OVERRIDE)]
    out = out[:1] + [i for i in out[1:] if i in _ANSWERED or r.present.get(i, 1.0) >= KEEP_SECONDARY]
    if out:
        out += [i for i, p in r.present.items() if p >= ADD and i not in out and not was_set_aside(i)]
    return out
