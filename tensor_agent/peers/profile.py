"""Profiles of the user's actual data for @PRISM (and @ECLIPSE): what is in the file, and what to do about it.

`profile_data(path, target)` reads a table (CSV/TSV/Parquet/JSONL) or an image folder and reports, per
column, the type, missing values and cardinality; for the whole table duplicate rows, class balance of
the target and leakage hints (ID-like columns; columns that predict the target almost perfectly or are
named after it); and the preparation steps that follow. pandas loads late; nothing is written.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import InputError

TABLE_SUFFIXES = (".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".json")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")
MAX_ROWS = 200_000          # rows read for the profile (a sample beyond)
ID_NAME = re.compile(r"(^|_)(id|uuid|guid|key|index|idx|row|record|customer_?id|user_?id)($|_)|id$", re.I)
TARGET_NAMES = ("target", "label", "class", "y", "outcome", "churn", "default")
LEAK_PURITY = 0.98          # a feature whose values (binned) predict the target this well is suspicious
TEXT_MIN_CHARS = 30         # object columns with longer values on average are free text


def read_table(path: Path) -> Any:
    """A pandas DataFrame of `path` (InputError, exit 2, naming the file when it cannot be read)."""
    import pandas as pd

    suf = path.suffix.lower()
    try:
        if suf in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suf in (".jsonl", ".json"):
            return pd.read_json(path, lines=suf == ".jsonl", nrows=MAX_ROWS if suf == ".jsonl" else None)
        return pd.read_csv(path, sep="\t" if suf == ".tsv" else ",", nrows=MAX_ROWS)
    except Exception as exc:  # noqa: BLE001 - any parse failure is the file's problem: a clear input error
        raise InputError(f"{path}: cannot be read as a table ({type(exc).__name__}: {str(exc)[:120]})",
                         hint="pass a CSV, TSV, Parquet or JSONL file") from None


def guess_target(df: Any, target: Optional[str]) -> Optional[str]:
    """The named target column, else a column called like a label, else None."""
    if target:
        if target not in df.columns:
            raise InputError(f"target column '{target}' not found (columns: {', '.join(map(str, df.columns))})",
                             hint="pass target_column=<name>")
        return target
    lower = {str(c).lower(): c for c in df.columns}
    return next((lower[n] for n in TARGET_NAMES if n in lower), None)


def column_kind(s: Any, n_rows: int) -> str:
    """numeric | categorical | text | datetime | boolean | constant | id."""
    import pandas as pd

    nun = int(s.nunique(dropna=True))
    if nun <= 1:
        return "constant"
    if pd.api.types.is_bool_dtype(s):
        return "boolean"
    name_id = bool(ID_NAME.search(str(s.name)))
    unique_all = nun >= 0.95 * max(1, int(s.notna().sum())) and n_rows >= 20
    if pd.api.types.is_numeric_dtype(s):
        integer = pd.api.types.is_integer_dtype(s) or bool((s.dropna() % 1 == 0).all())
        if unique_all and integer and (name_id or s.dropna().is_monotonic_increasing):
            return "id"
        return "numeric"
    if pd.api.types.is_datetime64_any_dtype(s):
        return "datetime"
    text = s.dropna().astype(str)
    if unique_all and (name_id or text.str.len().mean() < TEXT_MIN_CHARS):
        return "id"
    if text.str.len().mean() >= TEXT_MIN_CHARS and nun > 0.5 * len(text):
        return "text"
    return "categorical"


def _purity(x: Any, y: Any, numeric: bool) -> Optional[float]:
    """How well `x` alone predicts `y`: accuracy of predicting the majority class per value (numeric
    columns in 20 quantile bins); None when it cannot be told (too few rows)."""
    import pandas as pd

    ok = x.notna() & y.notna()
    x, y = x[ok], y[ok]
    if len(x) < 20:
        return None
    if numeric:
        x = pd.qcut(x.rank(method="first"), q=min(20, len(x) // 5), labels=False)
    elif x.nunique() > max(20, len(x) // 5):
        return None  # too many values: purity would be trivially high
    counts = pd.crosstab(x, y)
    return float(counts.max(axis=1).sum() / counts.values.sum())


def _leaks(df: Any, target: str, kinds: dict, majority: Optional[float]) -> list[dict]:
    """Columns that look derived from the target: near-perfect predictors, or named after it."""
    out = []
    y = df[target]
    for col, kind in kinds.items():
        if col == target or kind in ("id", "constant", "text"):
            continue
        purity = _purity(df[col], y, kind == "numeric")
        named = str(target).lower() in str(col).lower() and str(col) != str(target)
        if purity is not None and purity >= LEAK_PURITY and (majority is None or purity > majority + 0.05):
            out.append({"column": str(col), "why": f"predicts '{target}' alone with {purity:.1%} accuracy "
                                                   f"(majority rate {majority:.1%})" if majority is not None else
                        f"predicts '{target}' alone with {purity:.1%} accuracy", "purity": round(purity, 4)})
        elif named:
            out.append({"column": str(col), "why": f"named after the target '{target}'", "purity": purity})
    return out


def profile_table(path: Path, target: Optional[str] = None) -> dict:
    """The profile of a table (see the module docstring)."""
    df = read_table(path)
    if df.empty:
        raise InputError(f"{path}: the file has no rows")
    n = len(df)
    target = guess_target(df, target)
    kinds = {str(c): column_kind(df[c], n) for c in df.columns}
    df.columns = [str(c) for c in df.columns]
    columns = []
    for c in df.columns:
        miss = int(df[c].isna().sum())
        columns.append({"name": c, "kind": kinds[c], "dtype": str(df[c].dtype), "missing": miss,
                        "missing_pct": round(100 * miss / n, 2), "unique": int(df[c].nunique(dropna=True))})
    ids = [c for c, k in kinds.items() if k == "id"]
    feats = [c for c in df.columns if c not in ids]
    balance, majority = None, None
    if target is not None:
        vc = df[target].value_counts(dropna=True)
        if 2 <= len(vc) <= max(50, n // 20):
            shares = (vc / vc.sum()).round(4)
            balance = {"counts": {str(k): int(v) for k, v in vc.items()}, "minority_share": float(shares.min()),
                       "majority_share": float(shares.max()), "classes": int(len(vc))}
            majority = float(shares.max())
    return {"path": str(path), "kind": "table", "rows": n, "columns": columns, "target": target,
            "duplicate_rows": int(df.duplicated().sum()),
            "duplicate_rows_ignoring_ids": int(df[feats].duplicated().sum()) if ids and feats else None,
            "id_like": ids, "class_balance": balance,
            "leaks": _leaks(df, target, kinds, majority) if target is not None else [],
            "text_columns": [c for c, k in kinds.items() if k == "text"],
            "constant_columns": [c for c, k in kinds.items() if k == "constant"]}


def profile_images(path: Path) -> dict:
    """The profile of an image folder with one sub-folder per class: counts, formats, duplicates, sizes."""
    classes = sorted(d for d in path.iterdir() if d.is_dir())
    if not classes:
        raise InputError(f"{path}: no class sub-folders", hint="put the images of each class in a folder of its own")
    counts, hashes, dups, sizes = {}, {}, 0, {}
    for d in classes:
        files = [f for f in sorted(d.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
        counts[d.name] = len(files)
        for f in files:
            h = hashlib.sha1(f.read_bytes()).hexdigest()
            dups += h in hashes
            hashes.setdefault(h, f)
        for f in files[:5]:
            try:
                from PIL import Image

                with Image.open(f) as im:
                    sizes[f"{im.size[0]}x{im.size[1]} {im.mode}"] = sizes.get(f"{im.size[0]}x{im.size[1]} {im.mode}", 0) + 1
            except Exception:  # noqa: BLE001 - an unreadable image is itself a finding
                sizes["unreadable"] = sizes.get("unreadable", 0) + 1
    total = sum(counts.values())
    shares = [v / total for v in counts.values()] if total else [0.0]
    return {"path": str(path), "kind": "images", "rows": total, "class_balance": {
        "counts": counts, "minority_share": round(min(shares), 4), "majority_share": round(max(shares), 4),
        "classes": len(counts)}, "duplicate_rows": dups, "image_sizes": sizes, "columns": [], "leaks": [],
        "id_like": [], "target": None, "text_columns": [], "constant_columns": []}


def profile_data(path: str, target: Optional[str] = None) -> dict:
    """Profile a table or an image folder.

    Raises:
        InputError: the path does not exist, is not a table/image folder, or cannot be read.
    """
    p = Path(str(path)).expanduser()
    if not p.exists():
        raise InputError(f"data file not found: {p}", hint="check data_path (it is read as given)")
    if p.is_dir():
        return profile_images(p)
    if p.suffix.lower() not in TABLE_SUFFIXES:
        raise InputError(f"{p}: cannot profile a '{p.suffix}' file", hint="give a CSV/TSV/Parquet/JSONL table or an image folder")
    return profile_table(p, target)


def preparation_steps(prof: dict, *, neural: bool) -> list[str]:
    """The preparation steps the findings call for, in the order they should be applied."""
    steps = []
    if prof.get("duplicate_rows"):
        steps.append(f"Drop the {prof['duplicate_rows']} duplicate rows before splitting (they would sit in train and test).")
    for leak in prof.get("leaks") or []:
        steps.append(f"Drop '{leak['column']}': {leak['why']} - it leaks the label and would not exist at prediction time.")
    if prof.get("id_like"):
        steps.append(f"Drop ID-like columns {', '.join(prof['id_like'])} from the features (use them only to "
                     "group rows of one entity into one split).")
    if prof.get("constant_columns"):
        steps.append(f"Drop constant columns {', '.join(prof['constant_columns'])}.")
    miss = [c for c in prof.get("columns") or [] if c["missing"] and c["name"] != prof.get("target")]
    num = [c["name"] for c in miss if c["kind"] == "numeric"]
    cat = [c["name"] for c in miss if c["kind"] in ("categorical", "boolean")]
    if num:
        steps.append(f"Impute numeric columns {', '.join(num)} with the training-split median, plus is_missing "
                     "indicators" + (" (XGBoost can take the NaNs natively)" if not neural else "") + ".")
    if cat:
        steps.append(f"Fill categorical columns {', '.join(cat)} with the most frequent value or a 'missing' level.")
    if any(c["name"] == prof.get("target") and c["missing"] for c in prof.get("columns") or []):
        steps.append(f"Drop rows without a value in the target '{prof['target']}'.")
    dropped = {l["column"] for l in prof.get("leaks") or []} | set(prof.get("id_like") or []) | {prof.get("target")}
    cats = [c["name"] for c in prof.get("columns") or [] if c["kind"] == "categorical" and c["name"] not in dropped]
    if cats:
        steps.append(f"Encode categoricals {', '.join(cats)}: one-hot below ~20 levels, ordinal/target encoding "
                     "(fitted in-fold) above.")
    if prof.get("text_columns"):
        steps.append(f"Vectorise free-text columns {', '.join(prof['text_columns'])} (TF-IDF) or drop them.")
    if neural and any(c["kind"] == "numeric" for c in prof.get("columns") or []):
        steps.append("Standardise numeric features (scaler fitted on the training split only).")
    bal = prof.get("class_balance") or {}
    if bal and bal.get("minority_share", 1) < 0.1:
        steps.append(f"Classes are imbalanced (minority {bal['minority_share']:.1%}): stratified splits, class "
                     "weights, and PR-AUC / macro-F1 instead of accuracy.")
    elif bal:
        steps.append("Split stratified by the target so every split keeps the class ratio.")
    return steps
