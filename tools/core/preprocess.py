"""Tabular preprocessing: scikit-learn ColumnTransformer fitted on the training rows, saved as plain JSON.

Two modes:

* ``neural`` (MLP): numeric columns imputed with the training median and standardised; categorical
  columns with "missing" as a category of its own, one-hot encoded (unknown values -> all zeros);
  free-text columns TF-IDF vectorised (the most frequent words).
* ``trees`` (XGBoost): numeric columns kept as they are (XGBoost handles missing values natively);
  categorical columns ordinal-encoded with missing and unknown values left missing (NaN); free text
  TF-IDF vectorised.

Identifier-like, empty and constant columns are dropped. `describe()` lists what was done to which
columns (the trainer's answer shows it).

Saving is code-free: `preprocessor_to_json(ct, ...)` writes the fitted parameters (medians, means,
scales, categories, vocabulary and idf weights) into a JSON dict, and `preprocessor_from_json(spec)`
rebuilds a `TabularPreprocessor` that transforms a DataFrame exactly like the fitted ColumnTransformer
(a test checks it) without unpickling anything.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Optional

MISSING = "__missing__"
TEXT_FEATURES = 100          # TF-IDF vocabulary size per free-text column
MAX_CATEGORIES = 50          # more distinct short values than this (and mostly unique) -> identifier-like
_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # scikit-learn's default token_pattern
VERSION = 1


@dataclass
class ColumnPlan:
    """Which role each feature column plays."""

    numeric: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    dropped: dict[str, str] = field(default_factory=dict)


def _is_text(values) -> bool:
    words = values.astype(str).str.split().str.len()
    return float(words.mean()) >= 3.0


def plan_columns(df) -> ColumnPlan:
    """Decide the role of every column of `df` (features only, no target)."""
    import pandas as pd

    plan = ColumnPlan()
    n = len(df)
    for c in df.columns:
        s = df[c]
        name = str(c)
        nonnull = s.dropna()
        if nonnull.empty:
            plan.dropped[name] = "empty (no values)"
            continue
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            if nonnull.nunique() == 1 and not s.isna().any():
                plan.dropped[name] = "constant"
            else:
                plan.numeric.append(name)
            continue
        as_num = pd.to_numeric(nonnull, errors="coerce")
        if as_num.notna().mean() >= 0.95:
            plan.numeric.append(name)
            continue
        uniq = nonnull.astype(str).nunique()
        if uniq <= max(MAX_CATEGORIES, int(0.05 * n)) and not (uniq > 0.5 * len(nonnull) and _is_text(nonnull)):
            if uniq == 1 and not s.isna().any():
                plan.dropped[name] = "constant"
            else:
                plan.categorical.append(name)
        elif _is_text(nonnull):
            plan.text.append(name)
        else:
            plan.dropped[name] = f"identifier-like ({uniq} distinct values in {len(nonnull)} rows)"
    return plan


def _prepared(df, plan: ColumnPlan):
    """The frame the ColumnTransformer sees: numeric columns as floats, categoricals as strings/NaN."""
    import numpy as np
    import pandas as pd

    out = pd.DataFrame(index=df.index)
    for c in plan.numeric:
        out[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in plan.categorical:
        col = df[c]
        out[c] = col.map(lambda v: np.nan if _missing(v) else str(v)).astype(object)
    for c in plan.text:
        out[c] = df[c].map(lambda v: "" if _missing(v) else str(v))
    return out


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        import pandas as pd

        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def fit_preprocessor(df_train, plan: ColumnPlan, mode: str = "neural"):
    """A scikit-learn ColumnTransformer fitted on the training rows."""
    import numpy as np
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    parts: list[tuple[str, Any, Any]] = []
    if plan.numeric:
        num = make_pipeline(SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()) \
            if mode == "neural" else "passthrough"
        parts.append(("numeric", num, list(plan.numeric)))
    if plan.categorical:
        if mode == "neural":
            cat = make_pipeline(SimpleImputer(strategy="constant", fill_value=MISSING),
                                OneHotEncoder(handle_unknown="ignore", sparse_output=False))
        else:
            cat = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=np.nan,
                                 encoded_missing_value=np.nan)
        parts.append(("categorical", cat, list(plan.categorical)))
    for c in plan.text:
        parts.append((f"text:{c}", TfidfVectorizer(max_features=TEXT_FEATURES), c))
    if not parts:
        from tensor_agent.errors import InputError

        raise InputError("no usable feature column: every column was dropped (" +
                         "; ".join(f"{k}: {v}" for k, v in plan.dropped.items()) + ")")
    ct = ColumnTransformer(parts, remainder="drop", sparse_threshold=0.0)
    ct.fit(_prepared(df_train, plan))
    return ct


def preprocessor_to_json(ct, plan: ColumnPlan, mode: str, *, missing: Optional[dict] = None) -> dict:
    """The fitted parameters of `ct` as a JSON-safe dict (no code, no pickle)."""
    steps: list[dict] = []
    for name, trans, cols in ct.transformers_:
        if name == "remainder":
            continue
        if name == "numeric":
            if not hasattr(trans, "steps"):  # "passthrough" (a FunctionTransformer once fitted)
                steps.append({"kind": "numeric_passthrough", "columns": list(cols)})
            else:
                imp, sc = trans.steps[0][1], trans.steps[1][1]
                steps.append({"kind": "numeric_standard", "columns": list(cols),
                              "median": [float(v) for v in imp.statistics_], "mean": [float(v) for v in sc.mean_],
                              "scale": [float(v) for v in sc.scale_]})
        elif name == "categorical":
            enc = trans.steps[-1][1] if hasattr(trans, "steps") else trans
            kind = "onehot" if type(enc).__name__ == "OneHotEncoder" else "ordinal"
            cats = [[_json_cat(v) for v in cat] for cat in enc.categories_]
            steps.append({"kind": kind, "columns": list(cols), "categories": cats})
        else:
            steps.append({"kind": "tfidf", "column": cols, "vocabulary": {str(k): int(v) for k, v in
                                                                       trans.vocabulary_.items()},
                          "idf": [float(v) for v in trans.idf_], "lowercase": bool(trans.lowercase)})
    return {"version": VERSION, "mode": mode, "steps": steps, "dropped": dict(plan.dropped),
            "missing": dict(missing or {})}


def _json_cat(v) -> Optional[str]:
    return None if (isinstance(v, float) and math.isnan(v)) else str(v)


class TabularPreprocessor:
    """Applies saved preprocessing (from `preprocessor_to_json`) to a DataFrame; numpy only."""

    def __init__(self, spec: dict):
        from tensor_agent.errors import InputError

        if not isinstance(spec, dict) or spec.get("version") != VERSION or not isinstance(spec.get("steps"), list):
            raise InputError("saved preprocessing is not a version-1 tabular preprocessor spec")
        self.spec = spec
        self.mode = spec.get("mode", "neural")

    @property
    def input_columns(self) -> list[str]:
        cols: list[str] = []
        for st in self.spec["steps"]:
            cols += st["columns"] if "columns" in st else [st["column"]]
        return cols

    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for st in self.spec["steps"]:
            if st["kind"] in ("numeric_standard", "numeric_passthrough", "ordinal"):
                names += st["columns"]
            elif st["kind"] == "onehot":
                names += [f"{c}={v}" for c, cats in zip(st["columns"], st["categories"]) for v in cats]
            else:
                inv = sorted(st["vocabulary"].items(), key=lambda kv: kv[1])
                names += [f"{st['column']}:{w}" for w, _ in inv]
        return names

    def transform(self, df):
        """(N, F) float32 features for the rows of `df` (needs the input columns; extra columns ignored)."""
        import numpy as np

        from tensor_agent.errors import InputError

        missing_cols = [c for c in self.input_columns if c not in df.columns]
        if missing_cols:
            raise InputError(f"the data lacks the column(s) the model was trained on: {', '.join(missing_cols)}")
        blocks = [getattr(self, f"_{st['kind']}")(df, st) for st in self.spec["steps"]]
        return np.concatenate(blocks, axis=1).astype(np.float32) if blocks else np.zeros((len(df), 0), np.float32)

    @staticmethod
    def _numbers(df, cols):
        import numpy as np
        import pandas as pd

        return np.asarray(pd.DataFrame({c: pd.to_numeric(df[c], errors="coerce") for c in cols}), dtype=float)

    def _numeric_standard(self, df, st):
        import numpy as np

        X = self._numbers(df, st["columns"])
        med = np.asarray(st["median"])
        X = np.where(np.isnan(X), med, X)
        return (X - np.asarray(st["mean"])) / np.asarray(st["scale"])

    def _numeric_passthrough(self, df, st):
        return self._numbers(df, st["columns"])

    @staticmethod
    def _cat_values(df, col):
        return [None if _missing(v) else str(v) for v in df[col].tolist()]

    def _onehot(self, df, st):
        import numpy as np

        out = []
        for c, cats in zip(st["columns"], st["categories"]):
            lut = {v: i for i, v in enumerate(cats)}
            block = np.zeros((len(df), len(cats)))
            for r, v in enumerate(self._cat_values(df, c)):
                j = lut.get(MISSING if v is None else v)
                if j is not None:
                    block[r, j] = 1.0
            out.append(block)
        return np.concatenate(out, axis=1)

    def _ordinal(self, df, st):
        import numpy as np

        out = np.full((len(df), len(st["columns"])), np.nan)
        for j, (c, cats) in enumerate(zip(st["columns"], st["categories"])):
            lut = {v: i for i, v in enumerate(cats) if v is not None}
            for r, v in enumerate(self._cat_values(df, c)):
                if v is not None and v in lut:
                    out[r, j] = lut[v]
        return out

    def _tfidf(self, df, st):
        import numpy as np

        vocab, idf = st["vocabulary"], np.asarray(st["idf"])
        out = np.zeros((len(df), len(idf)))
        for r, v in enumerate(df[st["column"]].tolist()):
            text = "" if _missing(v) else str(v)
            for tok in _TOKEN.findall(text.lower() if st.get("lowercase", True) else text):
                j = vocab.get(tok)
                if j is not None:
                    out[r, j] += 1.0
        out *= idf
        norm = np.sqrt((out ** 2).sum(1, keepdims=True))
        return np.divide(out, norm, out=np.zeros_like(out), where=norm > 0)

    def describe(self) -> list[str]:
        """One readable line per step: what was done to which columns."""
        miss = self.spec.get("missing") or {}
        lines = []
        for st in self.spec["steps"]:
            cols = st.get("columns") or [st.get("column")]
            gaps = {c: miss[c] for c in cols if miss.get(c)}
            gap_txt = (" (missing: " + ", ".join(f"{c} {n}" for c, n in gaps.items()) + ")") if gaps else ""
            k = st["kind"]
            if k == "numeric_standard":
                lines.append(f"numeric {', '.join(cols)}: missing values imputed with the training median, "
                             f"standardised{gap_txt}")
            elif k == "numeric_passthrough":
                lines.append(f"numeric {', '.join(cols)}: kept as is, XGBoost handles missing values natively"
                             f"{gap_txt}")
            elif k == "onehot":
                lines.append(f"categorical {', '.join(cols)}: one-hot encoded, missing as its own category, "
                             f"unseen values -> all zeros{gap_txt}")
            elif k == "ordinal":
                lines.append(f"categorical {', '.join(cols)}: ordinal codes, missing and unseen values left missing "
                             f"for XGBoost{gap_txt}")
            else:
                lines.append(f"free text {st['column']}: TF-IDF over its {len(st['idf'])} most frequent words"
                             f"{gap_txt}")
        for c, why in (self.spec.get("dropped") or {}).items():
            lines.append(f"dropped {c}: {why}")
        return lines


def preprocessor_from_json(spec: dict) -> TabularPreprocessor:
    """Rebuild the saved preprocessing (no code is loaded)."""
    return TabularPreprocessor(spec)


def preprocess_frame(feats_df, train_idx, mode: str = "neural"):
    """Plan, fit on `train_idx` rows, and transform every row: (X float32, TabularPreprocessor)."""
    plan = plan_columns(feats_df)
    train_df = feats_df.iloc[train_idx]
    ct = fit_preprocessor(train_df, plan, mode)
    missing = {str(c): int(n) for c, n in feats_df.isna().sum().items() if n}
    pre = preprocessor_from_json(preprocessor_to_json(ct, plan, mode, missing=missing))
    return pre.transform(feats_df), pre
