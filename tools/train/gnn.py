"""Node classification with graph neural networks (GCN, GAT, GraphSAGE) through torch-geometric."""

from __future__ import annotations

from typing import Optional

from tensor_agent.tools.core.engine.config import TrainConfig
from tensor_agent.tools.core.datasets import DataBundle
from tensor_agent.tools.core.engine.loop import FitResult, fit

GNN_FAMILIES = ("gcn", "gat", "graphsage")


def build_gnn(family: str, in_features: int, num_classes: int, *, hidden: int = 16, heads: int = 4,
              dropout: float = 0.5):
    """Fallback two-layer GNN (used when the designer's family cannot be built); forward(x, edge_index)."""
    import torch
    from torch_geometric.nn import GATConv, GCNConv, SAGEConv

    from tensor_agent.errors import UnsatisfiableError

    class TwoLayerGNN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            if family == "gcn":
                self.c1, self.c2 = GCNConv(in_features, hidden), GCNConv(hidden, num_classes)
            elif family == "gat":
                self.c1 = GATConv(in_features, hidden, heads=heads, dropout=dropout)
                self.c2 = GATConv(hidden * heads, num_classes, heads=1, dropout=dropout)
            elif family == "graphsage":
                self.c1, self.c2 = SAGEConv(in_features, hidden), SAGEConv(hidden, num_classes)
            else:
                raise UnsatisfiableError(f"unknown GNN family '{family}' (known: {', '.join(GNN_FAMILIES)})")
            self.drop = torch.nn.Dropout(dropout)

        def forward(self, x, edge_index):  # x (N, F) -> (N, classes)
            h = torch.relu(self.c1(self.drop(x), edge_index))
            return self.c2(self.drop(h), edge_index)

    return TwoLayerGNN()


def make_gnn(family: str, data: DataBundle, **hp):
    """The designer's GNN for `data` when available, else the fallback two-layer model."""
    try:
        from tensor_agent.tools.core.zoo.registry import create_model

        return create_model(family, input_spec=data.input_spec, num_classes=data.num_classes,
                            task="node_classification", **hp).module
    except Exception:  # noqa: BLE001 - designer family missing or not ready: use the local fallback
        return build_gnn(family, data.input_spec["num_features"], data.num_classes)


def train_gnn(family: str, data: DataBundle, config: Optional[TrainConfig] = None, *, model=None,
              ctx=None) -> FitResult:
    """Full-batch node classification; metrics on `data.test` are the unlabelled nodes."""
    config = config or TrainConfig(optimizer="adam", lr=0.01, weight_decay=5e-4, schedule="constant", epochs=200,
                                   monitor="val_accuracy", restore_best=True)
    model = model if model is not None else make_gnn(family, data)
    return fit(model, data, config, ctx=ctx)
