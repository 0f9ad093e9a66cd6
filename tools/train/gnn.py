"""Node classification with graph neural networks (GCN, GAT, GraphSAGE) from the family registry."""

from __future__ import annotations

from typing import Optional

from tensor_agent.tools.core.engine.config import TrainConfig
from tensor_agent.tools.core.datasets import DataBundle
from tensor_agent.tools.core.engine.loop import FitResult, fit

GNN_FAMILIES = ("gcn", "gat", "graphsage")


def make_gnn(family: str, data: DataBundle, **hp):
    """The registry's `family` GNN for `data` (forward(x, edge_index)); build failures propagate."""
    from tensor_agent.tools.core.zoo.registry import create_model

    return create_model(family, input_spec=data.input_spec, num_classes=data.num_classes,
                        task="node_classification", **hp).module


def train_gnn(family: str, data: DataBundle, config: Optional[TrainConfig] = None, *, model=None,
              ctx=None, on_epoch=None) -> FitResult:
    """Full-batch node classification; metrics on `data.test` are the unlabelled nodes."""
    config = config or TrainConfig(optimizer="adam", lr=0.01, weight_decay=5e-4, schedule="constant", epochs=200,
                                   monitor="val_accuracy", restore_best=True)
    if config.restore_best and int(data.sizes.get("val", 0)) < 10:
        # best-validation weights on a handful of nodes (KarateClub: 4) pick a noisy epoch; keep the last
        config = config.model_copy(update={"restore_best": False})
    model = model if model is not None else make_gnn(family, data)
    return fit(model, data, config, ctx=ctx, on_epoch=on_epoch)
