"""Input specifications: one small dict describing a single input batch, and dummy inputs built from it.

Canonical forms (what `normalize_input_spec` returns; other helpers may pass looser dicts):

    tabular   {"kind": "tabular",  "shape": [F], "dtype": "float32"}
    image     {"kind": "image",    "shape": [C, H, W], "dtype": "float32"}
    tokens    {"kind": "tokens",   "shape": [T], "dtype": "int64", "vocab_size": V}
              (seq2seq adds "target_len": Td)
    sequence  {"kind": "sequence", "shape": [T, F], "dtype": "float32"}   (continuous sequences)
    graph     {"kind": "graph", "num_features": F, "num_nodes": N, "num_edges": E}

Accepted aliases: input_shape, channels/in_chans, height/width/image_size/img_size,
features/n_features/num_features, seq_len/sequence_length/max_length, vocab/vocab_size.
Nothing here imports torch at module level.
"""

from __future__ import annotations

from typing import Any

from tensor_agent.errors import InputError

#: the kind of input each modality takes by default
MODALITY_KIND: dict[str, str] = {
    "tabular": "tabular",
    "image": "image",
    "image_generation": "image",
    "text": "tokens",
    "text_generation": "tokens",
    "sequence": "tokens",
    "graph": "graph",
}

_MAX_DIM = 1_000_000


def _pos_int(value: Any, field: str) -> int:
    """An integer >= 1, or a clear InputError naming the field."""
    try:
        fvalue = float(value)
        if isinstance(value, bool) or not fvalue.is_integer():
            raise ValueError
        ivalue = int(fvalue)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"input_spec.{field} must be a positive integer, got {value!r}",
                         hint="e.g. input_spec={'shape': [3, 32, 32]}") from None
    if ivalue < 1 or ivalue > _MAX_DIM:
        raise InputError(f"input_spec.{field} must be between 1 and {_MAX_DIM}, got {value!r}",
                         hint="sizes are counts of channels/pixels/features/tokens")
    return ivalue


def _shape(value: Any) -> list[int]:
    if isinstance(value, str):
        parts = value.lower().replace("×", "x").replace(",", "x").replace("(", "").replace(")", "").split("x")
        value = [p.strip() for p in parts if p.strip()]
    if isinstance(value, int):
        value = [value]
    if not isinstance(value, (list, tuple)) or not value:
        raise InputError(f"input_spec.shape must be a list of positive integers, got {value!r}",
                         hint="e.g. [3, 32, 32] for an RGB 32x32 image or [64] for 64 features")
    return [_pos_int(v, "shape") for v in value]


def normalize_input_spec(spec: dict | None, *, kind: str | None = None, modality: str | None = None) -> dict:
    """Return the canonical input spec (see module docstring).

    Args:
        spec: a loose spec (may be None or empty: then defaults of `kind` are not filled here).
        kind: tabular | image | tokens | sequence | graph; taken from `spec["kind"]` or the modality when None.
        modality: a `Plan` modality, used only to infer the kind.

    Raises:
        InputError: a size is negative, zero, absurd or of the wrong type, or the shape does not fit the kind.
    """
    spec = dict(spec or {})
    kind = spec.get("kind") or kind or MODALITY_KIND.get(modality or "", None)
    if kind not in {"tabular", "image", "tokens", "sequence", "graph"}:
        raise InputError(f"input_spec.kind must be one of tabular, image, tokens, sequence, graph; got {kind!r}")
    shape = spec.get("shape", spec.get("input_shape"))
    out: dict[str, Any] = {"kind": kind}
    if kind == "tabular":
        if shape is None:
            shape = spec.get("features", spec.get("n_features", spec.get("num_features")))
        if shape is None:
            raise InputError("input_spec for tabular data needs the number of features",
                             hint="pass input_spec={'shape': [F]}")
        s = _shape(shape)
        if len(s) != 1:
            raise InputError(f"tabular input_spec.shape must be [features], got {s}")
        out.update(shape=s, dtype="float32")
    elif kind == "image":
        if shape is None:
            c = spec.get("channels", spec.get("in_chans", 3))
            size = spec.get("image_size", spec.get("img_size"))
            h = spec.get("height", size if size is not None else 32)
            w = spec.get("width", size if size is not None else h)
            shape = [c, h, w]
        s = _shape(shape)
        if len(s) == 2:  # (H, W): grey
            s = [1, *s]
        if len(s) != 3:
            raise InputError(f"image input_spec.shape must be [C, H, W], got {s}",
                             hint="e.g. [1, 8, 8] for digits or [3, 224, 224] for RGB")
        if s[0] > 64:
            raise InputError(f"image input_spec.shape {s} looks like [H, W, C]; expected channels first [C, H, W]")
        out.update(shape=s, dtype="float32")
    elif kind == "tokens":
        t = shape if shape is not None else spec.get("seq_len", spec.get("sequence_length", spec.get("max_length", 64)))
        s = _shape(t)
        if len(s) != 1:
            raise InputError(f"token input_spec.shape must be [sequence_length], got {s}")
        out.update(shape=s, dtype="int64",
                   vocab_size=_pos_int(spec.get("vocab_size", spec.get("vocab", 30522)), "vocab_size"))
        if "target_len" in spec:
            out["target_len"] = _pos_int(spec["target_len"], "target_len")
    elif kind == "sequence":
        if shape is None:
            shape = [spec.get("seq_len", spec.get("sequence_length", 64)),
                     spec.get("features", spec.get("num_features", 1))]
        s = _shape(shape)
        if len(s) == 1:
            s = [s[0], 1]
        if len(s) != 2:
            raise InputError(f"sequence input_spec.shape must be [T, F], got {s}")
        out.update(shape=s, dtype="float32")
    else:  # graph
        out.update(
            num_features=_pos_int(spec.get("num_features", spec.get("features", (shape or [16])[-1] if isinstance(shape, (list, tuple)) else 16)), "num_features"),
            num_nodes=_pos_int(spec.get("num_nodes", 34), "num_nodes"),
        )
        out["num_edges"] = _pos_int(spec.get("num_edges", out["num_nodes"] * 4), "num_edges")
    for key in ("name", "dataset"):
        if key in spec:
            out[key] = spec[key]
    return out


def example_inputs(input_spec: dict, batch_size: int = 1, *, seed: int = 0) -> tuple:
    """Correctly shaped dummy inputs for a model built from `input_spec` (torch tensors).

    For graphs `batch_size` is ignored: one graph of `num_nodes` nodes with random edges.
    For seq2seq token specs (with `target_len`) returns (input_ids, decoder_input_ids).
    """
    import torch  # heavy: load late

    spec = normalize_input_spec(input_spec)
    g = torch.Generator().manual_seed(seed)
    kind = spec["kind"]
    if kind in {"tabular", "image", "sequence"}:
        return (torch.randn(batch_size, *spec["shape"], generator=g),)
    if kind == "tokens":
        v = spec["vocab_size"]
        ids = torch.randint(0, v, (batch_size, spec["shape"][0]), generator=g)
        if "target_len" in spec:
            return ids, torch.randint(0, v, (batch_size, spec["target_len"]), generator=g)
        return (ids,)
    n, e = spec["num_nodes"], spec["num_edges"]
    x = torch.randn(n, spec["num_features"], generator=g)
    edge_index = torch.randint(0, n, (2, e), generator=g)
    return x, edge_index
