"""Tabular families: XGBoost (the guide's first choice) and an MLP ("neural if complex")."""

from __future__ import annotations

from typing import Any, Optional

from tensor_agent.tools.core.zoo.registry import Family, register_family


def _out(num_classes: Optional[int], task: str) -> int:
    return 1 if task == "regression" else int(num_classes or 2)


@register_family("xgboost", modality="tabular", tasks=("classification", "regression"))
class XGBoostFamily(Family):
    """Gradient-boosted trees (xgboost sklearn API); the module is an unfitted XGBClassifier/XGBRegressor."""

    kind = "xgboost"
    summary = "gradient-boosted decision trees (XGBoost): strong, fast default for tabular data"
    variants = {
        "tiny": {"n_estimators": 20, "max_depth": 3, "learning_rate": 0.3},
        "small": {"n_estimators": 100, "max_depth": 4, "learning_rate": 0.1},
        "medium": {"n_estimators": 300, "max_depth": 6, "learning_rate": 0.05},
        "large": {"n_estimators": 800, "max_depth": 8, "learning_rate": 0.03},
    }
    default_variant = "small"
    tiny_variant = "tiny"
    efficient_variants = ("tiny", "small")

    def default_input_spec(self, task: str) -> dict:
        return {"kind": "tabular", "shape": [16]}

    def default_num_classes(self, task: str) -> Optional[int]:
        return 1 if task == "regression" else 2

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        import xgboost as xgb  # heavy: load late

        params = dict(n_estimators=int(hp.get("n_estimators", 100)), max_depth=int(hp.get("max_depth", 4)),
                      learning_rate=float(hp.get("learning_rate", 0.1)), subsample=float(hp.get("subsample", 1.0)),
                      tree_method="hist", n_jobs=int(hp.get("n_jobs", 1)), random_state=int(hp.get("seed", 0)))
        if task == "regression":
            return xgb.XGBRegressor(**params)
        return xgb.XGBClassifier(**params)

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        if task == "regression":
            return [batch_size]
        return [batch_size, max(2, int(num_classes or 2))]

    def example_inputs(self, input_spec: dict, batch_size: int, hp: Optional[dict] = None) -> tuple:
        import numpy as np

        return (np.random.default_rng(0).standard_normal((batch_size, input_spec["shape"][0])).astype("float32"),)


@register_family("mlp", modality="tabular", tasks=("classification", "regression"))
class MLPFamily(Family):
    """Multi-layer perceptron with batch norm and dropout."""

    summary = "multi-layer perceptron: neural model for large or high-dimensional tabular data"
    variants = {
        "tiny": {"hidden": [32], "dropout": 0.1},
        "small": {"hidden": [64, 64], "dropout": 0.1},
        "medium": {"hidden": [256, 128], "dropout": 0.2},
        "large": {"hidden": [512, 512, 256], "dropout": 0.3},
        "xlarge": {"hidden": [1024, 1024, 512], "dropout": 0.3},
    }
    default_variant = "small"
    tiny_variant = "tiny"
    efficient_variants = ("tiny", "small")

    def default_input_spec(self, task: str) -> dict:
        return {"kind": "tabular", "shape": [16]}

    def default_num_classes(self, task: str) -> Optional[int]:
        return 1 if task == "regression" else 2

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from tensor_agent.tools.core.zoo.families.modules import MLP

        return MLP(input_spec["shape"][0], [int(h) for h in hp.get("hidden", [64, 64])], _out(num_classes, task),
                   dropout=float(hp.get("dropout", 0.1)), batch_norm=bool(hp.get("batch_norm", True)))

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        return [batch_size, _out(num_classes, task)]
