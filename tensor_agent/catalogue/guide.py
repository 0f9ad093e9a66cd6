"""The selection guide of the TENSOR card, as data plus one function.

The planner turns the message into `Signals`; `select_family(modality, signals)` applies the guide.
The designer orders its search by `guide_families(modality)`; memory's fitness prior ranks families
by their position here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class GuideEntry:
    """The guide's row for one modality."""

    modality: str
    rule: str = field(metadata={"description": "The card's wording of the rule."})
    families: tuple[str, ...] = field(metadata={"description": "Families in preference order; first is the default."})


GUIDE: dict[str, GuideEntry] = {g.modality: g for g in (
    GuideEntry("tabular", "Tabular -> XGBoost, neural (MLP) if complex", ("xgboost", "mlp")),
    GuideEntry("image", "Image -> ViT, EfficientNet, ConvNeXt (a plain CNN for tiny inputs or few images)",
               ("convnext", "efficientnet", "vit", "resnet", "cnn")),
    GuideEntry("text", "Text -> fine-tuned LLM/BERT (encoder-decoder for seq2seq)", ("bert", "t5", "gpt")),
    GuideEntry("sequence", "Sequence (long) -> state space models, Mamba", ("mamba",)),
    GuideEntry("text_generation", "Generation (text) -> transformer decoder (encoder-decoder for seq2seq)",
               ("gpt", "t5")),
    GuideEntry("image_generation", "Generation (image) -> diffusion models", ("diffusion",)),
    GuideEntry("graph", "Graph -> GNN (GCN, GAT, GraphSAGE)", ("gcn", "gat", "graphsage")),
)}


@dataclass(frozen=True)
class Signals:
    """What the message says that the guide cares about (the planner fills it in)."""

    neural: bool = False        # tabular: "neural network", "deep learning", embeddings
    efficient: bool = False     # image: mobile/edge/cpu device or a size/latency/params budget
    large_scale: bool = False   # image: pretraining, millions of images, self-attention
    small_input: bool = False   # image: inputs under 32x32 or only a few images per class
    seq2seq: bool = False       # text: translation, summarisation
    generative: bool = False    # text: generation, chatbots
    inductive: bool = False     # graph: unseen nodes, huge graphs, recommendation
    attention: bool = False     # graph: attention over neighbours, heterophily


def guide_families(modality: str | None) -> tuple[str, ...]:
    """The guide's families for `modality`, in preference order (empty for None/unknown)."""
    entry = GUIDE.get(modality or "")
    return entry.families if entry else ()


def guide_default(modality: str | None) -> str | None:
    """The guide's first choice for `modality` with no other signal."""
    fams = guide_families(modality)
    return fams[0] if fams else None


def select_family(modality: str | None, signals: Signals | None = None) -> str | None:
    """Apply the card's selection guide: the family for `modality` given what the message says."""
    s = signals or Signals()
    if modality == "tabular":
        return "mlp" if s.neural else "xgboost"
    if modality == "image":
        if s.small_input:
            return "cnn"
        if s.efficient:
            return "efficientnet"
        return "vit" if s.large_scale else "convnext"
    if modality == "text":
        return "t5" if s.seq2seq else ("gpt" if s.generative else "bert")
    if modality == "text_generation":
        return "t5" if s.seq2seq else "gpt"
    if modality == "graph":
        return "graphsage" if s.inductive else ("gat" if s.attention else "gcn")
    return guide_default(modality)
