"""scikit-learn code for tabular designs: a Pipeline (impute -> scale -> estimator) mirroring the design.

xgboost designs become HistGradientBoosting with the same depth, learning rate and rounds; mlp designs an
MLPClassifier/Regressor with the same hidden widths (scikit-learn's MLP has no batch norm or dropout: L2
`alpha` stands in for the regularisation, said in the file).
"""

from __future__ import annotations

import pprint
from typing import Any

from tensor_agent.tools.design.codegen.registry import register_backend

TEMPLATE = '''"""{family}/{variant} as a scikit-learn pipeline, written by @TENSOR.

{note}
Run `python {{this file}}`: fits the pipeline on random data and prints the training accuracy / R^2.
"""

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.{module} import {estimator}

CONFIG = {config}


def build_model():
    return Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler()),
                     ("model", {estimator}(**CONFIG["estimator"]))])


def example_data(n=200):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, CONFIG["features"]))
    y = (X[:, 0] > 0).astype(int) if CONFIG["task"] == "classification" else X[:, 0] * 2.0
    return X, y


def main():
    X, y = example_data()
    model = build_model().fit(X, y)
    print("score on the training data:", round(model.score(X, y), 3))


if __name__ == "__main__":
    main()
'''


def _estimator(handle) -> tuple[str, str, dict, str]:
    hp = dict((handle.extra or {}).get("hparams") or {})
    reg = handle.task == "regression"
    if handle.family == "xgboost":
        est = "HistGradientBoostingRegressor" if reg else "HistGradientBoostingClassifier"
        kw = {"max_depth": int(hp.get("max_depth", 4)), "learning_rate": float(hp.get("learning_rate", 0.1)),
              "max_iter": int(hp.get("n_estimators", 100)), "random_state": 0}
        return "ensemble", est, kw, "XGBoost's depth, learning rate and rounds carried over to HistGradientBoosting."
    est = "MLPRegressor" if reg else "MLPClassifier"
    kw = {"hidden_layer_sizes": tuple(int(w) for w in hp.get("hidden", [64, 64])), "alpha": 1e-4,
          "max_iter": 300, "early_stopping": True, "random_state": 0}
    return "neural_network", est, kw, ("Same hidden widths as the PyTorch MLP; scikit-learn has no batch norm or "
                                       "dropout, so L2 (alpha) regularises instead.")


@register_backend("sklearn")
class SklearnBackend:
    """scikit-learn pipelines for the tabular families."""

    framework = "sklearn"
    suffix = ".py"

    def families(self) -> set[str]:
        return {"xgboost", "mlp"}

    def render(self, design: Any, handle: Any = None) -> str:
        from tensor_agent.tools.design.codegen.pytorch import _as_dict, _handle_for

        handle = handle if handle is not None else _handle_for(_as_dict(design))
        module, est, kw, note = _estimator(handle)
        config = {"features": int((handle.input_spec or {}).get("shape", [1])[0]), "task": handle.task,
                  "estimator": kw}
        return TEMPLATE.format(family=handle.family, variant=(handle.extra or {}).get("variant") or "",
                               note=note, module=module, estimator=est,
                               config=pprint.pformat(config, sort_dicts=False))
