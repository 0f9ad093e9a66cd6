"""A learned primary-intent classifier the rules planner consults when none of its cues fired.

A multinomial logistic regression over hashed character 3-5-grams, words and word pairs of the request
text (quotes, code and other agents' sentences blanked, mentions removed, typos repaired: the same
text the cue patterns read), trained on the labelled planner cases (``python -m
tensor_agent.planner.learned_train``). The weights are a ``.npz`` of plain little-endian arrays; at
inference it is read with the standard library (zipfile + the ``.npy`` header, never pickle) so the
planning path does not import numpy (~0.3-0.6 s cold); it is loaded on first use only, so a message
that a cue answers never pays for it.

The rules stay in charge: the model is asked only when no request cue fired -- the message names a
family or a data modality ("@TENSOR flag fraudulent card transactions ..." used to fall back to
``design`` whatever it asked), or nothing at all -- and its answer is taken only when it is confident
(:data:`THRESHOLD`, :data:`THRESHOLD_EMPTY`); otherwise the fallback (design, or a clarification) stands.
"""

from __future__ import annotations

import re
import sys
import zlib
from functools import lru_cache
from pathlib import Path
from typing import Optional

#: Where the trained weights live (written by ``learned_train``).
MODEL_PATH = Path(__file__).with_name("intent_model.npz")
#: Probability the classifier needs before its intent replaces the rules' fallback.
THRESHOLD = 0.45
#: Probability needed when the rules found nothing to do at all (no cue, no family, no data cue).
THRESHOLD_EMPTY = 0.4
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


_DTYPES = {"<i4": ("i", 4), "<f4": ("f", 4), "<f8": ("d", 8)}


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
    code, size = _DTYPES[descr]
    values = array(code)
    values.frombytes(body[:n * size])
    if sys.byteorder != "little":  # pragma: no cover
        values.byteswap()
    return values, shape, descr


@lru_cache(maxsize=1)
def _model():
    """(sorted buckets, flat weights [buckets x classes], bias, labels) or None when not trained."""
    if not MODEL_PATH.is_file():
        return None
    import zipfile

    with zipfile.ZipFile(MODEL_PATH) as z:
        arrays = {name[:-4]: _read_npy(z.read(name)) for name in z.namelist() if name.endswith(".npy")}
    keys, weights, bias, labels = (arrays[k][0] for k in ("keys", "weights", "bias", "labels"))
    return keys, weights, list(bias), list(labels)


def predict(low: str) -> tuple[Optional[str], float]:
    """The most likely primary intent of `low` ("none": no request) and its probability."""
    import math
    from bisect import bisect_left

    m = _model()
    if m is None:
        return None, 0.0
    keys, weights, bias, labels = m
    n_cls, n_keys = len(labels), len(keys)
    logits = list(bias)  # [classes]
    for h, v in hashed(low).items():
        i = bisect_left(keys, h)
        if i < n_keys and keys[i] == h:
            row = weights[i * n_cls:(i + 1) * n_cls]  # weights are [buckets, classes], row-major
            for k in range(n_cls):
                logits[k] += v * row[k]
    top = max(logits)
    exp = [math.exp(x - top) for x in logits]
    k = max(range(n_cls), key=exp.__getitem__)
    return labels[k], exp[k] / sum(exp)


def intent_when_empty(low: str, exclude: frozenset[str] | set[str] = frozenset()) -> Optional[str]:
    """A request the cues missed entirely ("What is the KL term in a VAE actually doing?"), when confident.
    `exclude`: intents the message negates ("don't train it")."""
    label, prob = predict(low)  # a bare "design" from nothing is too often thanks or chat: not taken
    return label if label not in (None, "none", "design", *exclude) and prob >= THRESHOLD_EMPTY else None


def fallback_intent(low: str, default: str, exclude: frozenset[str] | set[str] = frozenset()) -> str:
    """The intent to use when no cue fired: the classifier's when confident and a request, else `default`.
    `exclude`: intents the message negates, never taken from the classifier."""
    label, prob = predict(low)
    if label is None or label == "none" or label in exclude or prob < THRESHOLD:
        return default
    return label
