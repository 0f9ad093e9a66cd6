"""Model families: what each one is for. The builders live in `tensor_agent.tools.core.zoo.families`
and register under these names (a test checks both lists agree)."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Data modalities, in the order the planner and the README list them.
MODALITIES: tuple[str, ...] = (
    "tabular", "image", "text", "sequence", "text_generation", "image_generation", "graph",
)

#: Task kinds a plan can carry.
TASKS: tuple[str, ...] = (
    "classification", "regression", "generation", "seq2seq", "denoising", "forecasting",
    "node_classification", "graph_classification", "link_prediction", "segmentation", "detection",
)


@dataclass(frozen=True)
class FamilySpec:
    """One architecture family."""

    name: str = field(metadata={"description": "Registry name, e.g. cnn, vit, bert."})
    modality: str = field(metadata={"description": "The modality the family is for."})
    tasks: tuple[str, ...] = field(metadata={"description": "Task kinds it can do; the first is its default."})
    input_kind: str = field(metadata={"description": "tabular | image | tokens | graph"})
    pretrained: bool = field(default=False, metadata={"description": "Offline pretrained weights exist."})
    kind: str = field(default="torch", metadata={"description": "torch | xgboost (how it is saved and run)."})
    summary: str = field(default="", metadata={"description": "One line for rationales."})
    aliases: tuple[str, ...] = field(default=(), metadata={"description": "Words that name the family."})


FAMILIES: dict[str, FamilySpec] = {f.name: f for f in (
    FamilySpec("xgboost", "tabular", ("classification", "regression"), "tabular", kind="xgboost",
               summary="gradient-boosted trees (XGBoost)", aliases=("xgboost", "gradient boosting", "boosted trees")),
    FamilySpec("mlp", "tabular", ("classification", "regression"), "tabular",
               summary="multi-layer perceptron", aliases=("mlp", "perceptron", "feed-forward")),
    FamilySpec("cnn", "image", ("classification", "regression"), "image",
               summary="plain convolutional network", aliases=("cnn", "convolutional", "convnet")),
    FamilySpec("resnet", "image", ("classification", "regression"), "image",
               summary="residual network (timm)", aliases=("resnet", "residual")),
    FamilySpec("efficientnet", "image", ("classification", "regression"), "image",
               summary="EfficientNet / MobileNet-style depthwise network (timm)",
               aliases=("efficientnet", "mobilenet")),
    FamilySpec("convnext", "image", ("classification", "regression"), "image",
               summary="ConvNeXt (timm)", aliases=("convnext",)),
    FamilySpec("vit", "image", ("classification", "regression"), "image",
               summary="vision transformer (timm)", aliases=("vit", "vision transformer")),
    FamilySpec("bert", "text", ("classification", "regression"), "tokens", pretrained=True,
               summary="BERT-style encoder (pretrained all-MiniLM-L6-v2 offline)",
               aliases=("bert", "minilm", "encoder")),
    FamilySpec("gpt", "text_generation", ("generation", "classification"), "tokens",
               summary="decoder-only transformer (GPT)", aliases=("gpt", "decoder-only", "causal lm")),
    FamilySpec("t5", "text_generation", ("seq2seq", "generation"), "tokens",
               summary="encoder-decoder transformer (T5)",
               aliases=("t5", "encoder-decoder", "seq2seq", "sequence-to-sequence")),
    FamilySpec("mamba", "sequence", ("classification", "forecasting", "generation"), "tokens",
               summary="selective state-space model (Mamba)", aliases=("mamba", "state space", "ssm")),
    FamilySpec("diffusion", "image_generation", ("denoising", "generation"), "image",
               summary="denoising diffusion UNet (DDPM/DDIM)", aliases=("diffusion", "ddpm", "ddim", "unet")),
    FamilySpec("gcn", "graph", ("node_classification", "graph_classification", "link_prediction"), "graph",
               summary="graph convolutional network", aliases=("gcn", "graph convolution")),
    FamilySpec("gat", "graph", ("node_classification", "graph_classification", "link_prediction"), "graph",
               summary="graph attention network", aliases=("gat", "graph attention")),
    FamilySpec("graphsage", "graph", ("node_classification", "graph_classification", "link_prediction"), "graph",
               summary="GraphSAGE (sampled neighbourhood aggregation)", aliases=("graphsage", "sage")),
)}


def get_family_spec(name: str) -> FamilySpec:
    """The spec of family `name`; KeyError with the known names otherwise."""
    key = (name or "").strip().lower()
    if key not in FAMILIES:
        raise KeyError(f"unknown family {name!r} (known: {', '.join(FAMILIES)})")
    return FAMILIES[key]


def family_modality(name: str | None) -> str | None:
    """The modality of family `name`, or None for an unknown/empty name."""
    spec = FAMILIES.get((name or "").strip().lower())
    return spec.modality if spec else None
