"""Held-out, calibration and fine-tuning data for the compressor, in one uniform shape.

`TaskData` holds each split as ``(inputs: tuple[Tensor, ...], targets: Tensor)`` so that
``model(*inputs)`` is the forward call. It is built from the trainer's `DataBundle`
(TensorDataset splits with the target last, or `TextSplit` tokenised with the model's tokenizer).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Optional

from tensor_agent.errors import InputError, UnsatisfiableError


@dataclass
class TaskData:
    """Splits as tensors, ready for evaluation, calibration and fine-tuning."""

    name: str
    task: str
    num_classes: Optional[int]
    splits: dict[str, tuple[tuple, Any]] = field(default_factory=dict)
    bundle: Any = None  # the trainer's DataBundle, when it came from there
    input_names: list[str] = field(default_factory=lambda: ["input"])

    def size(self, split: str) -> int:
        return int(self.splits[split][1].shape[0]) if split in self.splits else 0

    def batches(self, split: str = "test", batch_size: int = 256, *, shuffle: bool = False, seed: int = 0,
                limit: Optional[int] = None) -> Iterator[tuple[tuple, Any]]:
        """Mini-batches ``(inputs, targets)`` of a split."""
        import torch

        if split not in self.splits:
            raise UnsatisfiableError(f"dataset '{self.name}' has no '{split}' split")
        inputs, y = self.splits[split]
        n = int(y.shape[0]) if limit is None else min(int(limit), int(y.shape[0]))
        order = torch.randperm(int(y.shape[0]), generator=torch.Generator().manual_seed(seed))[:n] if shuffle \
            else torch.arange(n)
        for i in range(0, n, batch_size):
            ix = order[i:i + batch_size]
            yield tuple(x[ix] for x in inputs), y[ix]

    def sample(self, n: int, split: str = "train", *, seed: int = 0) -> tuple:
        """The first `n` inputs of a shuffled split, as a tuple of tensors (repeated to reach `n`)."""
        import torch

        inputs, y = self.splits[split if split in self.splits else "test"]
        total = int(y.shape[0])
        order = torch.randperm(total, generator=torch.Generator().manual_seed(seed))
        if n > total:
            order = order.repeat((n + total - 1) // total)
        ix = order[:n]
        return tuple(x[ix] for x in inputs)

    def per_sample_shapes(self) -> list[tuple[int, ...]]:
        inputs, _ = self.splits["train" if "train" in self.splits else "test"]
        return [tuple(x.shape[1:]) for x in inputs]


def _tensor_split(ds) -> tuple[tuple, Any]:
    import torch

    if isinstance(ds, torch.utils.data.TensorDataset):
        t = ds.tensors
        return tuple(t[:-1]), t[-1]
    if isinstance(ds, (tuple, list)) and len(ds) == 2:
        x, y = ds
        x = x if isinstance(x, (tuple, list)) else (x,)
        return tuple(torch.as_tensor(v) for v in x), torch.as_tensor(y)
    if isinstance(ds, torch.utils.data.Dataset):
        items = [ds[i] for i in range(len(ds))]
        cols = list(zip(*items))
        return tuple(torch.stack([torch.as_tensor(v) for v in c]) for c in cols[:-1]), \
            torch.as_tensor(torch.stack([torch.as_tensor(v) for v in cols[-1]]))
    raise UnsatisfiableError(f"cannot use a data split of type {type(ds).__name__} for compression")


def tokenizer_for(handle) -> Any:
    """The tokenizer of a text model (handle.extra / module attribute), or None."""
    extra = getattr(handle, "extra", {}) or {}
    for key in ("tokenizer",):
        tok = extra.get(key)
        if tok is not None and not isinstance(tok, str):
            return tok
    module = getattr(handle, "module", None)
    for attr in ("tokenizer", "_tokenizer"):
        tok = getattr(module, attr, None)
        if tok is not None:
            return tok
    name = extra.get("tokenizer") or extra.get("tokenizer_path") or extra.get("pretrained_path")
    if isinstance(name, str):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(name)
    return None


def from_bundle(bundle, handle=None, *, max_length: Optional[int] = None) -> TaskData:
    """Convert the trainer's DataBundle into TaskData (text is tokenised with the model's tokenizer)."""
    import torch

    splits: dict[str, tuple[tuple, Any]] = {}
    names = ["input"]
    for split in ("train", "val", "test"):
        ds = getattr(bundle, split, None)
        if ds is None:
            continue
        if hasattr(ds, "texts") and hasattr(ds, "labels"):
            tok = tokenizer_for(handle) if handle is not None else None
            if tok is None:
                raise UnsatisfiableError("this text model carries no tokenizer, so its accuracy cannot be measured",
                                         hint="compress a model trained by train_model (it keeps the tokenizer)")
            hspec = (getattr(handle, "input_spec", {}) or {}) if handle is not None else {}
            ml = max_length or (hspec.get("shape") or [None])[0] or hspec.get("max_length") or \
                (bundle.input_spec or {}).get("max_length") or 64
            enc = tok(list(ds.texts), padding="max_length", truncation=True, max_length=int(ml), return_tensors="pt")
            inputs = (enc["input_ids"], enc["attention_mask"])  # (N, T) each
            names = ["input_ids", "attention_mask"]
            splits[split] = (inputs, torch.as_tensor(ds.labels))
        elif isinstance(ds, torch.Tensor) and ds.dtype == torch.bool:
            raise UnsatisfiableError("graph (node-mask) datasets are not supported by the compressor yet",
                                     hint="compress an image, tabular or text model")
        else:
            splits[split] = _tensor_split(ds)
            if len(splits[split][0]) > 1:
                names = [f"input_{i}" for i in range(len(splits[split][0]))]
    return TaskData(name=bundle.name, task=bundle.task, num_classes=bundle.num_classes, splits=splits,
                    bundle=bundle, input_names=names)


def load_task_data(name: str, handle=None, *, seed: int = 0) -> TaskData:
    """Load a dataset by name through the trainer and convert it."""
    try:
        from tensor_agent.tools.core.datasets import load_dataset
    except ImportError:
        from tensor_agent.tools.core.datasets import load_dataset
    bundle = load_dataset(name, seed=seed)
    return from_bundle(bundle, handle)


def check_calibration(calib, example_inputs: tuple) -> tuple:
    """Validate user-supplied calibration data against the model's inputs.

    Raises:
        InputError: not array-like, or a per-sample shape that differs from the model's input.
    """
    import numpy as np
    import torch

    if isinstance(calib, (list, tuple)) and calib and all(isinstance(c, (torch.Tensor, np.ndarray)) for c in calib) \
            and len(calib) == len(example_inputs) and len(example_inputs) > 1:
        items = list(calib)
    else:
        items = [calib]
    out = []
    for i, (c, ref) in enumerate(zip(items, example_inputs)):
        try:
            t = torch.as_tensor(np.asarray(c)) if not isinstance(c, torch.Tensor) else c
        except Exception:
            raise InputError(f"calibration_data must be an array or tensor, got {type(c).__name__}",
                             hint=f"pass an array of shape (N, {', '.join(map(str, ref.shape[1:]))})") from None
        want = tuple(ref.shape[1:])
        if tuple(t.shape[1:]) != want or t.dim() != ref.dim():
            raise InputError(f"calibration_data has shape {tuple(t.shape)} but the model takes inputs of shape "
                             f"(N, {', '.join(map(str, want))})",
                             hint="pass samples shaped like the training inputs (batch dimension first)")
        if t.shape[0] < 1:
            raise InputError("calibration_data is empty", hint="pass at least a few dozen samples")
        out.append(t.to(ref.dtype))
    return tuple(out)
