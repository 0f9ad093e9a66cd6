"""Built-in datasets: names, what they are, and which one a modality uses when none is named.

The loaders live in `tensor_agent.tools.core.datasets` keyed by these names. Everything here is
offline: scikit-learn's bundled sets, torch-geometric's KarateClub, and data the project ships or
generates.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional


@dataclass(frozen=True)
class DatasetSpec:
    """One built-in dataset."""

    name: str
    modality: str
    task: str
    num_classes: Optional[int]
    input_spec: dict = field(default_factory=dict, hash=False, compare=False)
    description: str = ""
    aliases: tuple[str, ...] = ()
    #: words in a message that name this dataset ("on the digits dataset", "iris")
    words: tuple[str, ...] = ()
    #: how tools.core.datasets loads it: sklearn, sklearn_images, pyg_karate, jsonl_text, generated_recall, char_corpus
    loader: str = "sklearn"


def _img(c: int, h: int, w: int, **extra: Any) -> dict:
    return {"kind": "image", "shape": [c, h, w], "channels": c, "height": h, "width": w, "dtype": "float32", **extra}


def _tab(n: int) -> dict:
    return {"kind": "tabular", "shape": [n], "features": n, "dtype": "float32"}


DATASETS: dict[str, DatasetSpec] = {d.name: d for d in (
    DatasetSpec("digits", "image", "classification", 10, _img(1, 8, 8),
                "scikit-learn 8x8 handwritten digits (1797 images, 10 classes)",
                aliases=("mnist_digits",), words=("digits", "digit", "mnist")),
    DatasetSpec("iris", "tabular", "classification", 3, _tab(4),
                "scikit-learn iris (150 rows, 4 features, 3 classes)", words=("iris",)),
    DatasetSpec("wine", "tabular", "classification", 3, _tab(13),
                "scikit-learn wine (178 rows, 13 features, 3 classes)", words=("wine",)),
    DatasetSpec("breast_cancer", "tabular", "classification", 2, _tab(30),
                "scikit-learn breast cancer (569 rows, 30 features, 2 classes)",
                aliases=("breast-cancer", "breastcancer"), words=("breast cancer", "breast_cancer")),
    DatasetSpec("karate", "graph", "node_classification", 4,
                {"kind": "graph", "num_features": 34, "num_nodes": 34, "num_edges": 156, "dtype": "float32"},
                "torch-geometric KarateClub (34 nodes, 4 communities, 4 labelled nodes)",
                aliases=("karateclub", "karate_club"), words=("karate", "karateclub"), loader="pyg_karate"),
    DatasetSpec("text", "text", "classification", 4,
                {"kind": "tokens", "shape": [64], "max_length": 64, "vocab_size": 30522, "dtype": "int64",
                 "tokenizer": "all-MiniLM-L6-v2"},
                "the project's 700 support tickets in 4 classes (tensor_agent/data/text_classification.jsonl)",
                aliases=("text_classification", "tickets"), words=("support tickets", "tickets"), loader="jsonl_text"),
    DatasetSpec("long_recall", "sequence", "classification", 8,
                {"kind": "tokens", "shape": [512], "seq_len": 512, "vocab_size": 20, "dtype": "int64"},
                "generated long-range recall: report the value that followed the marker token somewhere "
                "in a 512-token sequence", aliases=("long-recall",), words=("long recall", "long_recall"), loader="generated_recall"),
    DatasetSpec("tiny_corpus", "text_generation", "generation", None,
                {"kind": "tokens", "shape": [64], "seq_len": 64, "dtype": "int64", "level": "char"},
                "the project's small text corpus (character-level LM)",
                aliases=("corpus", "tiny-corpus"), words=("tiny corpus", "tiny_corpus"), loader="char_corpus"),
    DatasetSpec("digits_images", "image_generation", "generation", None, _img(1, 8, 8, range=[-1, 1]),
                "scikit-learn digits as images in [-1, 1] for diffusion", words=("digit images", "digits_images"), loader="sklearn_images"),
)}

#: modality -> the built-in dataset used when the user names none (the answer says so).
DEFAULT_FOR_MODALITY: dict[str, str] = {
    "image": "digits", "tabular": "breast_cancer", "graph": "karate", "text": "text",
    "sequence": "long_recall", "text_generation": "tiny_corpus", "image_generation": "digits_images",
}


def canonical(name: str) -> str:
    """The built-in name for `name` or one of its aliases (unchanged when it is neither)."""
    key = str(name).strip().lower()
    for d in DATASETS.values():
        if key == d.name or key in d.aliases:
            return d.name
    return key


def get_dataset(name: str) -> Optional[DatasetSpec]:
    """The built-in dataset called `name` (or an alias), or None."""
    return DATASETS.get(canonical(name))


def default_dataset(modality: Optional[str]) -> Optional[str]:
    """The built-in dataset for `modality` when the user names none."""
    return DEFAULT_FOR_MODALITY.get(modality or "")
