"""Every result next to its baselines, on the same split.

Classification: the majority-class rate (predicting the training split's most frequent class) and a
simple reference model: logistic regression (tabular: imputed + scaled features), a linear probe on
the pixels (images), TF-IDF + logistic regression (text), bag-of-tokens + logistic regression
(sequences). Regression: the mean predictor (and a ridge regression). A result within noise of chance
(less than two binomial standard errors above the majority rate) is flagged.
"""

from __future__ import annotations

import math
from typing import Any, Optional


def _arrays(split) -> tuple[Any, Any]:
    import numpy as np

    X, y = split.tensors[0].numpy(), split.tensors[-1].numpy()
    return X.reshape(len(X), -1).astype(np.float64), y


def _features(data) -> Optional[tuple]:
    """(Xtr, ytr, Xte, yte, name of the reference model) or None when there is no simple reference."""
    import numpy as np

    if data.modality == "text":
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(max_features=5000)
        Xtr = vec.fit_transform(data.train.texts)
        return Xtr, data.train.labels.numpy(), vec.transform(data.test.texts), data.test.labels.numpy(), \
            "TF-IDF + logistic regression"
    if data.modality not in ("tabular", "image", "sequence") or not hasattr(data.train, "tensors"):
        return None
    (Xtr, ytr), (Xte, yte) = _arrays(data.train), _arrays(data.test)
    if data.modality == "sequence":
        vocab = int(data.input_spec.get("vocab_size") or (max(Xtr.max(), Xte.max()) + 1))
        bag = lambda X: np.stack([np.bincount(r.astype(int), minlength=vocab) for r in X]).astype(float)
        return bag(Xtr), ytr, bag(Xte), yte, "bag-of-tokens + logistic regression"
    name = "logistic regression" if data.modality == "tabular" else "linear probe (logistic regression on pixels)"
    return Xtr, ytr, Xte, yte, name


def _reference_classifier(feats) -> tuple[str, float]:
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    Xtr, ytr, Xte, yte, name = feats
    if hasattr(Xtr, "toarray"):  # sparse TF-IDF
        model = LogisticRegression(max_iter=2000, C=10.0)
    else:
        model = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler(),
                              LogisticRegression(max_iter=2000, C=1.0))
    model.fit(Xtr, ytr)
    return name, float((model.predict(Xte) == yte).mean())


def noise_band(majority: float, n: int) -> float:
    """Two binomial standard errors of an accuracy at the majority rate on `n` test examples."""
    return 2.0 * math.sqrt(max(majority * (1 - majority), 1e-12) / max(n, 1))


def classification_baselines(data, accuracy: Optional[float]) -> dict:
    """Majority-class rate, reference model accuracy and the chance flag for a classification result."""
    import numpy as np

    ytr, yte = _labels(data, "train"), _labels(data, "test")
    if ytr is None or yte is None or len(yte) == 0:
        return {}
    values, counts = np.unique(ytr, return_counts=True)
    majority_class = values[counts.argmax()]
    out: dict[str, Any] = {"majority_rate": float((yte == majority_class).mean()), "test_n": int(len(yte))}
    feats = _features(data)
    if feats is not None and len(np.unique(ytr)) > 1:
        out["reference_model"], out["reference_accuracy"] = _reference_classifier(feats)
    if accuracy is not None:
        band = noise_band(out["majority_rate"], len(yte))
        out["noise_band"] = round(band, 4)
        out["near_chance"] = bool(accuracy < out["majority_rate"] + band)
    return out


def _labels(data, split: str):
    s = getattr(data, split)
    if data.modality == "graph":
        return data.meta["graph"].y[s].numpy()
    if hasattr(s, "labels"):
        return s.labels.numpy()
    if hasattr(s, "tensors"):
        return s.tensors[-1].numpy()
    return None


def regression_baselines(data, metrics: dict) -> dict:
    """The mean predictor (training mean) and a ridge regression on the same split, in the target's units."""
    import numpy as np
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import Ridge
    from sklearn.pipeline import make_pipeline

    (Xtr, ytr), (Xte, yte) = _arrays(data.train), _arrays(data.test)
    scale = data.meta.get("target_scale") or {"mean": 0.0, "std": 1.0}
    un = lambda v: np.asarray(v) * scale["std"] + scale["mean"]
    t = un(yte)

    def figures(pred) -> dict:
        err = un(pred) - t
        ss_tot = float(((t - t.mean()) ** 2).sum()) or 1.0
        return {"rmse": float(np.sqrt((err ** 2).mean())), "mae": float(np.abs(err).mean()),
                "r2": 1.0 - float((err ** 2).sum()) / ss_tot}

    ridge = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), Ridge(alpha=1.0)).fit(Xtr, ytr)
    out = {"mean_predictor": figures(np.full(len(yte), ytr.mean())), "reference_model": "ridge regression",
           "reference": figures(ridge.predict(Xte)), "test_n": int(len(yte))}
    if "r2" in metrics:
        out["near_chance"] = bool(metrics["r2"] < 0.05)
    return out


def baselines_for(data, test_metrics: dict) -> dict:
    """The baselines that fit this data's task ({} for generation and denoising)."""
    if data.task in ("classification", "node_classification"):
        return classification_baselines(data, test_metrics.get("accuracy"))
    if data.task == "regression" and hasattr(data.train, "tensors"):
        return regression_baselines(data, test_metrics)
    return {}


def baseline_sentence(b: dict, metrics: dict) -> str:
    """One line for the answer: the result next to its baselines, flagged when within noise of chance."""
    if not b:
        return ""
    if "majority_rate" in b:
        acc = metrics.get("accuracy")
        text = f"majority-class rate {b['majority_rate']:.3f}"
        if "reference_accuracy" in b:
            text += f", {b['reference_model']} {b['reference_accuracy']:.3f} on the same split"
        if b.get("near_chance"):
            text += (f". WARNING: accuracy {acc:.3f} is within noise of chance (less than "
                     f"{b['noise_band']:.3f} above the majority rate on {b['test_n']} test examples)")
        return "baselines: " + text
    mp, ref = b["mean_predictor"], b["reference"]
    text = (f"baselines: mean predictor RMSE {mp['rmse']:.4g} (R2 {mp['r2']:.2f}), {b['reference_model']} "
            f"RMSE {ref['rmse']:.4g} (R2 {ref['r2']:.2f})")
    if b.get("near_chance"):
        text += ". WARNING: R2 near 0: no better than predicting the mean"
    return text
