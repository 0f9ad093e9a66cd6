"""Transformer graph preparation for ONNX Runtime dynamic INT8 (BERT-family encoders).

Measured on the MiniLM-L6 classifier (batch 32 x 64 tokens, 1 thread, AVX2 without VNNI), paired
against the fp32 PyTorch model: plain export + dynamic INT8 ~1.6-1.7x; the same from an export with
eager attention (the SDPA export adds Where/IsNaN mask ops) ~1.75x; plus ONNX Runtime's transformer
optimizer with the tanh GELU (FastGelu) ~1.85-1.9x. Fusing Attention (-> QAttention) and
SkipLayerNormalization with the transformer optimizer was slower on one thread (~1.65x), so those
fusions are off; ONNX Runtime's own session-level fusions still run.
"""

from __future__ import annotations

import copy
import logging
import warnings
from pathlib import Path
from typing import Any, Optional

# encoders whose ONNX graph the "bert" transformer optimizer knows (tested: bert / MiniLM)
FUSABLE_MODEL_TYPES = ("bert",)
# max |logit difference| allowed between the fused fp32 graph and the torch model (tanh GELU ~1e-3)
FUSED_PARITY_TOLERANCE = 1e-2


def transformer_config(model) -> Optional[Any]:
    """The transformers config of the first BERT-family encoder inside `model`, or None."""
    for m in model.modules():
        cfg = getattr(m, "config", None)
        if cfg is not None and getattr(cfg, "model_type", None) in FUSABLE_MODEL_TYPES \
                and getattr(cfg, "num_attention_heads", None) and getattr(cfg, "hidden_size", None):
            return cfg
    return None


def eager_attention_copy(model):
    """A copy of `model` whose transformers sub-models use eager attention (same numbers, fusable graph).

    Returns (copy, names of the sub-models switched). The caller's model is not changed.
    """
    from transformers import PreTrainedModel

    twin = copy.deepcopy(model).eval()
    switched = []
    for name, m in twin.named_modules():
        if isinstance(m, PreTrainedModel) and getattr(m.config, "_attn_implementation", "eager") != "eager":
            m.set_attn_implementation("eager")
            switched.append(name or "<root>")
    return twin, switched


def fuse_transformer(src: str | Path, dst: str | Path, cfg, *, gelu_approximation: bool = True) -> dict[str, int]:
    """Run ONNX Runtime's transformer optimizer (Python fusions only) on an fp32 BERT-family graph.

    Attention, SkipLayerNormalization and EmbedLayerNormalization fusions are off (slower on one
    thread here); GELU is fused and, with `gelu_approximation`, replaced by the tanh form (FastGelu).

    Returns:
        The fused-operator counts that are non-zero (e.g. {"FastGelu": 6, "LayerNormalization": 13}).
    """
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    fo = FusionOptions("bert")
    fo.enable_attention = False
    fo.enable_skip_layer_norm = False
    fo.enable_bias_skip_layer_norm = False
    fo.enable_embed_layer_norm = False
    fo.enable_gelu_approximation = gelu_approximation
    with _quiet_ort():
        om = optimize_model(str(src), model_type="bert", num_heads=int(cfg.num_attention_heads),
                            hidden_size=int(cfg.hidden_size), optimization_options=fo, opt_level=0)
        om.save_model_to_file(str(dst))
        stats = om.get_fused_operator_statistics()
    return {k: int(v) for k, v in stats.items() if v}


class _quiet_ort:
    """Silence the ONNX Runtime optimizer/quantizer loggers and warnings for a block."""

    def __enter__(self):
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore")
        self._loggers = [logging.getLogger(), logging.getLogger("onnxruntime"), logging.getLogger("onnx_model"),
                         logging.getLogger("fusion_base")]
        self._levels = [lg.level for lg in self._loggers]
        for lg in self._loggers:
            lg.setLevel(logging.ERROR)
        return self

    def __exit__(self, *exc):
        for lg, lvl in zip(self._loggers, self._levels):
            lg.setLevel(lvl)
        self._w.__exit__(*exc)
        return False
