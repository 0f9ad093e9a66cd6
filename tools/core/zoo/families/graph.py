"""Graph families through torch-geometric: GCN, GAT and GraphSAGE node classifiers."""

from __future__ import annotations

from typing import Any, Optional

from tensor_agent.errors import InputError
from tensor_agent.tools.core.zoo.registry import Family, register_family

_LADDER = {
    "micro": {"hidden": 8, "num_layers": 2},
    "small": {"hidden": 16, "num_layers": 2},
    "medium": {"hidden": 64, "num_layers": 2},
    "large": {"hidden": 128, "num_layers": 3},
    "xlarge": {"hidden": 256, "num_layers": 4},
}


class _GraphFamily(Family):
    conv: str = "gcn"
    variants = _LADDER
    default_variant = "small"
    tiny_variant = "micro"
    efficient_variants = ("micro", "small")

    def default_input_spec(self, task: str) -> dict:
        return {"kind": "graph", "num_features": 34, "num_nodes": 34, "num_edges": 156}

    def default_num_classes(self, task: str) -> Optional[int]:
        return 4

    def check_input_spec(self, input_spec: dict, hp: dict) -> None:
        if input_spec["kind"] != "graph":
            raise InputError(f"family {self.name!r} takes graphs (input_spec kind 'graph' with num_features); "
                             f"got {input_spec['kind']!r}")

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from tensor_agent.tools.core.zoo.families.modules import GNN

        return GNN(self.conv, input_spec["num_features"], int(hp.get("hidden", 16)), int(hp.get("num_layers", 2)),
                   int(num_classes or 4), heads=int(hp.get("heads", 4)), dropout=float(hp.get("dropout", 0.5)))

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        return [input_spec["num_nodes"], int(num_classes or 4)]


@register_family("gcn", modality="graph", tasks=("node_classification",), implementable=True)
class GCNFamily(_GraphFamily):
    summary = "graph convolutional network (Kipf & Welling): spectral-style neighbourhood averaging"
    conv = "gcn"


@register_family("gat", modality="graph", tasks=("node_classification",), implementable=True)
class GATFamily(_GraphFamily):
    summary = "graph attention network: learned attention weights over neighbours"
    conv = "gat"
    variants = {k: {**v, "heads": 4} for k, v in _LADDER.items()}


@register_family("graphsage", modality="graph", tasks=("node_classification",))
class GraphSAGEFamily(_GraphFamily):
    summary = "GraphSAGE: inductive neighbourhood sampling and aggregation, scales to large graphs"
    conv = "graphsage"
    variants = {k: {**v, "dropout": 0.3} for k, v in _LADDER.items()}  # mean aggregator, L2-normalised hidden
