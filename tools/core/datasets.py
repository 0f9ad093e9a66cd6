"""Built-in and user datasets with deterministic, seeded train/validation/test splits.

`dataset_spec(name)` is cheap (no torch, no file reading for built-ins). `load_dataset` returns a
`DataBundle` whose splits are:

* array data (tabular, image, sequence, LM windows): `torch.utils.data.TensorDataset` with the
  target as the LAST tensor (inputs first), so `model(*tensors[:-1])` is the forward call;
* text classification: `TextSplit(texts, labels)` (tokenised later by the model's tokenizer);
* graphs: boolean node masks (`torch.BoolTensor`), the graph itself in `meta["graph"]`.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from tensor_agent.errors import InputError

from tensor_agent.catalogue.datasets import DATASETS, DEFAULT_FOR_MODALITY  # noqa: F401  (re-exported)
from tensor_agent.catalogue.datasets import canonical as canonical_name  # noqa: F401

#: The cheap description of every built-in dataset (from the catalogue).
BUILTIN_SPECS: dict[str, dict[str, Any]] = {
    d.name: dict(modality=d.modality, task=d.task, num_classes=d.num_classes, input_spec=dict(d.input_spec),
                 description=d.description)
    for d in DATASETS.values()
}

TABULAR_SUFFIXES = (".csv", ".parquet", ".pq", ".tsv")
TEXT_SUFFIXES = (".jsonl", ".json")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


@dataclass
class TextSplit:
    """Raw labelled sentences of one split."""

    texts: list[str]
    labels: Any  # torch.LongTensor (N,)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass
class DataBundle:
    """A dataset ready for training, with its split and how it was made."""

    name: str
    task: str
    modality: str
    train: Any
    val: Any
    test: Any
    num_classes: Optional[int]
    input_spec: dict
    seed: int = 0
    sizes: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def describe(self) -> dict:
        """JSON-safe summary (for reports and MLflow)."""
        return {"name": self.name, "task": self.task, "modality": self.modality, "num_classes": self.num_classes,
                "input_spec": self.input_spec, "seed": self.seed, "sizes": self.sizes,
                "source": self.meta.get("source"), "classes": self.meta.get("classes")}




def dataset_spec(name: str) -> dict:
    """modality, task, input_spec, num_classes of a dataset without loading it (no torch import).

    Raises:
        InputError: unknown built-in name that is not an existing path either.
    """
    key = canonical_name(name)
    if key in BUILTIN_SPECS:
        s = BUILTIN_SPECS[key]
        if key == "tiny_corpus":  # the vocabulary is the corpus' character set (a small text file read)
            res = _package_file("tiny_corpus.txt")
            text = res.read_text(encoding="utf-8") if res is not None else _fallback_corpus()
            s = {**s, "input_spec": {**s["input_spec"], "vocab_size": len(set(text))}}
        return {"name": key, "modality": s["modality"], "task": s["task"], "input_spec": dict(s["input_spec"]),
                "num_classes": s["num_classes"], "description": s["description"]}
    p = Path(str(name)).expanduser()
    if p.is_dir():
        return {"name": str(p), "modality": "image", "task": "classification", "input_spec": {},
                "num_classes": sum(1 for d in p.iterdir() if d.is_dir()) or None, "description": "image folder"}
    if p.exists():
        modality = "text" if p.suffix.lower() in TEXT_SUFFIXES else "tabular"
        return {"name": str(p), "modality": modality, "task": "classification", "input_spec": {},
                "num_classes": None, "description": f"user file {p.name}"}
    raise InputError(f"unknown dataset '{name}' (known: {', '.join(BUILTIN_SPECS)}; or an existing file/folder)",
                     hint="name a built-in dataset or pass data_path=<file>")


# ----------------------------------------------------------------------------------------------------------
# splitting helpers
# ----------------------------------------------------------------------------------------------------------
def split_indices(n: int, labels=None, *, seed: int = 0, val: float = 0.1, test: float = 0.2):
    """Deterministic (stratified when possible) train/val/test index arrays."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    idx = np.arange(n)
    strat = labels if labels is not None else None

    def _split(ix, frac, st):
        try:
            return train_test_split(ix, test_size=frac, random_state=seed, stratify=st)
        except ValueError:  # a class too small to stratify
            return train_test_split(ix, test_size=frac, random_state=seed)

    rest, te = _split(idx, test, strat)
    st2 = strat[rest] if strat is not None else None
    tr, va = _split(rest, val / (1 - test), st2)
    return np.sort(tr), np.sort(va), np.sort(te)


def _check_classes(y, source: str) -> None:
    import numpy as np

    uniq = np.unique(y)
    if len(uniq) < 2:
        raise InputError(f"{source}: the target has only one class ({uniq.tolist()}); a classifier needs >= 2",
                         hint="check the target column or add examples of other classes")


def _check_finite(X, source: str, columns: Optional[list[str]] = None) -> None:
    import numpy as np

    bad = ~np.isfinite(X)
    if bad.any():
        r, c = np.argwhere(bad)[0]
        col = columns[c] if columns else f"feature {c}"
        raise InputError(f"{source}: row {int(r) + 2 if columns else int(r)}: NaN or infinite value in column "
                         f"'{col}' ({int(bad.sum())} bad cells in total)",
                         hint="impute or drop missing values before training")


def _array_bundle(name, X, y, *, task, modality, num_classes, input_spec, seed, val, test, meta,
                  standardize=False, classes=None, indices=None) -> DataBundle:
    import numpy as np
    import torch

    tr, va, te = indices if indices is not None else \
        split_indices(len(X), y if task == "classification" else None, seed=seed, val=val, test=test)
    X = X.astype(np.float32) if X.dtype.kind == "f" else X
    if standardize:
        mu = X[tr].mean(0)
        sd = X[tr].std(0)
        sd[sd == 0] = 1.0
        X = (X - mu) / sd
        meta = {**meta, "mean": mu.tolist(), "std": sd.tolist(),
                "preprocessing": [f"numeric (all {X.shape[1]} columns): standardised with the training split's "
                                  "mean and standard deviation"]}
    ydt = torch.long if task == "classification" else torch.float32
    mk = lambda ix: torch.utils.data.TensorDataset(torch.as_tensor(X[ix]), torch.as_tensor(y[ix], dtype=ydt))
    meta = {**meta, "classes": classes, "split": {"val": val, "test": test, "stratified": task == "classification"}}
    return DataBundle(name=name, task=task, modality=modality, train=mk(tr), val=mk(va), test=mk(te),
                      num_classes=num_classes, input_spec=input_spec, seed=seed,
                      sizes={"train": len(tr), "val": len(va), "test": len(te)}, meta=meta)


# ----------------------------------------------------------------------------------------------------------
# built-ins
# ----------------------------------------------------------------------------------------------------------
def _sklearn(name: str, seed: int, val: float, test: float) -> DataBundle:
    from sklearn import datasets as skd

    ds = getattr(skd, f"load_{name}")()  # scikit-learn's bundled sets (offline)
    spec = BUILTIN_SPECS[name]
    X, y = ds.data, ds.target
    classes = [str(c) for c in getattr(ds, "target_names", range(spec["num_classes"]))]
    meta = {"source": f"sklearn.datasets.load_{name}", "feature_names": [str(f) for f in
                                                                          getattr(ds, "feature_names", [])]}
    if name == "digits":
        X = (X / 16.0).reshape(-1, 1, 8, 8)  # (N, C=1, H=8, W=8), values in [0, 1]
        meta["feature_names"] = []
        meta["preprocessing"] = ["pixels scaled to [0, 1] (divided by 16)"]
        return _array_bundle(name, X, y, task="classification", modality="image", num_classes=10,
                             input_spec=dict(spec["input_spec"]), seed=seed, val=val, test=test, meta=meta,
                             classes=classes)
    return _array_bundle(name, X, y, task="classification", modality="tabular", num_classes=spec["num_classes"],
                         input_spec=dict(spec["input_spec"]), seed=seed, val=val, test=test, meta=meta,
                         standardize=True, classes=classes)


def _digits_images(seed: int, val: float, test: float) -> DataBundle:
    from sklearn.datasets import load_digits

    ds = load_digits()
    X = (ds.data / 16.0 * 2 - 1).reshape(-1, 1, 8, 8)  # (N, 1, 8, 8) in [-1, 1]
    b = _array_bundle("digits_images", X, ds.target, task="classification", modality="image_generation",
                      num_classes=None, input_spec=dict(BUILTIN_SPECS["digits_images"]["input_spec"]), seed=seed,
                      val=val, test=test, meta={"source": "sklearn.datasets.load_digits", "labels_kept": True})
    b.task = "generation"
    return b


def _karate(seed: int) -> DataBundle:
    import torch
    from torch_geometric.datasets import KarateClub

    g = KarateClub()[0]
    n = g.num_nodes
    labelled = g.train_mask.clone()  # one labelled node per community (the classic semi-supervised setting)
    gen = torch.Generator().manual_seed(seed)
    rest = (~labelled).nonzero().flatten()
    perm = rest[torch.randperm(len(rest), generator=gen)]
    val_mask = torch.zeros(n, dtype=torch.bool)
    val_mask[perm[:4]] = True
    test_mask = ~(labelled | val_mask)
    spec = BUILTIN_SPECS["karate"]
    return DataBundle(name="karate", task="node_classification", modality="graph", train=labelled, val=val_mask,
                      test=test_mask, num_classes=int(g.y.max()) + 1, input_spec=dict(spec["input_spec"]),
                      seed=seed, sizes={"train": int(labelled.sum()), "val": int(val_mask.sum()),
                                        "test": int(test_mask.sum())},
                      meta={"graph": g, "source": "torch_geometric.datasets.KarateClub",
                            "note": "test = the unlabelled nodes not used for validation"})


def _package_file(fname: str):
    from importlib import resources

    try:
        res = resources.files("tensor_agent.data").joinpath(fname)
        if res.is_file():
            return res
    except (ModuleNotFoundError, FileNotFoundError):
        pass
    return None


def _text_builtin(seed: int, val: float, test: float) -> DataBundle:
    res = _package_file("text_classification.jsonl")
    if res is None:
        raise InputError("the built-in text set tensor_agent/data/text_classification.jsonl is missing",
                         hint="reinstall the package or pass data_path=<file.jsonl> with text and label fields")
    with resources_path(res) as p:
        b = _load_text_file(Path(p), seed=seed, val=val, test=test, text_column="text", target_column="label")
    b.name = "text"
    b.meta["source"] = "tensor_agent/data/text_classification.jsonl"
    return b


class resources_path:
    """Context manager giving a filesystem path for an importlib.resources Traversable."""

    def __init__(self, res):
        from importlib import resources

        self._cm = resources.as_file(res)

    def __enter__(self):
        return self._cm.__enter__()

    def __exit__(self, *exc):
        return self._cm.__exit__(*exc)


def _long_recall(seed: int, val: float, test: float, n: int = 6000, seq_len: int = 512, n_values: int = 8,
                 vocab_size: int = 20, per_value: int = 1, n_noise: int = 1) -> DataBundle:
    """Long-range recall: the label is the value token that follows the one MARKER token.

    Every sequence holds exactly the same multiset of tokens: each of the `n_values` value tokens
    [0, n_values) `per_value` times, one marker (vocab_size - 1) and filler tokens (n_values, ... cycling
    over `n_noise` of them) everywhere else, shuffled, with the marker placed right before a random value
    occurrence. Token counts are identical in every row, so a bag-of-tokens model is exactly at chance
    (1 / n_values); the marker and its value sit anywhere in the sequence (no fixed positions), so only a
    model that reads the order across the whole length can solve it. With the defaults (each value once, one
    filler token) the only thing that differs between rows is where the tokens are.
    """
    import numpy as np

    if seq_len < n_values * per_value + 2 or not 1 <= n_noise <= vocab_size - 1 - n_values or per_value < 1:
        raise InputError(f"long_recall needs seq_len >= {n_values * per_value + 2} and at most "
                         f"{vocab_size - 1 - n_values} noise tokens; got seq_len={seq_len}, n_noise={n_noise}")
    rng = np.random.default_rng(seed + 12345)
    marker = vocab_size - 1
    base = np.concatenate([np.repeat(np.arange(n_values), per_value),
                           n_values + np.arange(seq_len - 1 - n_values * per_value) % n_noise])
    rows = rng.permuted(np.tile(base, (n, 1)), axis=1)  # (n, T-1), same counts in every row
    X = np.empty((n, seq_len), dtype=np.int64)
    y = np.empty(n, dtype=np.int64)
    for i in range(n):
        where = np.flatnonzero(rows[i] < n_values)
        j = where[rng.integers(len(where))]  # the marker goes right before this value occurrence
        X[i] = np.insert(rows[i], j, marker)
        y[i] = rows[i][j]
    spec = dict(BUILTIN_SPECS["long_recall"]["input_spec"])
    spec.update(shape=[seq_len], seq_len=seq_len, vocab_size=vocab_size)
    return _array_bundle("long_recall", X, y, task="classification", modality="sequence",
                         num_classes=n_values, input_spec=spec, seed=seed, val=val, test=test,
                         meta={"source": "generated (tools/core/datasets.py:_long_recall)", "marker": marker,
                               "chance": 1.0 / n_values},
                         classes=[str(i) for i in range(n_values)])


def _fallback_corpus() -> str:
    return ("The model learns from data. Training a neural network means adjusting its weights so that the "
            "loss goes down. A learning rate that is too large makes the loss diverge; one that is too small "
            "makes training slow. Regularisation such as dropout and weight decay keeps the model from "
            "memorising the training set. ") * 40


def _tiny_corpus(seed: int, seq_len: int = 64, path: Optional[Path] = None) -> DataBundle:
    import torch

    if path is not None:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
        source = str(path)
    else:
        res = _package_file("tiny_corpus.txt")
        if res is not None:
            text, source = res.read_text(encoding="utf-8"), "tensor_agent/data/tiny_corpus.txt"
        else:
            text, source = _fallback_corpus(), "built-in fallback paragraph"
    if len(text) < 4 * (seq_len + 1):
        raise InputError(f"{source}: corpus too short ({len(text)} characters; need >= {4 * (seq_len + 1)})")
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    ids = torch.tensor([stoi[c] for c in text], dtype=torch.long)
    n = len(ids)
    cut1, cut2 = int(n * 0.8), int(n * 0.9)

    def windows(seq):  # non-overlapping (x, y) windows, y shifted by one
        m = (len(seq) - 1) // seq_len
        x = seq[: m * seq_len].view(m, seq_len)  # (M, T)
        y = seq[1: m * seq_len + 1].view(m, seq_len)  # (M, T)
        return torch.utils.data.TensorDataset(x, y)

    def windows_overlap(seq, stride):
        starts = range(0, len(seq) - seq_len - 1, stride)
        x = torch.stack([seq[s: s + seq_len] for s in starts])
        y = torch.stack([seq[s + 1: s + seq_len + 1] for s in starts])
        return torch.utils.data.TensorDataset(x, y)

    train = windows_overlap(ids[:cut1], max(1, seq_len // 4))
    val, test = windows(ids[cut1:cut2]), windows(ids[cut2:])
    spec = {"kind": "tokens", "shape": [seq_len], "seq_len": seq_len, "vocab_size": len(itos), "dtype": "int64",
            "level": "char"}
    return DataBundle(name="tiny_corpus", task="generation", modality="text_generation", train=train, val=val,
                      test=test, num_classes=None, input_spec=spec, seed=seed,
                      sizes={"train": len(train), "val": len(val), "test": len(test), "characters": n},
                      meta={"itos": itos, "source": source, "split": "contiguous 80/10/10 by position"})


# ----------------------------------------------------------------------------------------------------------
# user files
# ----------------------------------------------------------------------------------------------------------
def _read_table(path: Path):
    import pandas as pd

    suf = path.suffix.lower()
    try:
        if suf in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suf == ".tsv":
            return pd.read_csv(path, sep="\t")
        if suf in (".jsonl", ".json"):
            return pd.read_json(path, lines=suf == ".jsonl")
        return pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - reported as a clear input error
        raise InputError(f"{path}: cannot be read as a table ({type(exc).__name__}: {exc})",
                         hint="pass a CSV, TSV, Parquet or JSONL file") from None


def _encode_labels(series, source: str):
    import numpy as np

    if series.isna().any():
        r = int(np.flatnonzero(series.isna().to_numpy())[0])
        raise InputError(f"{source}: row {r + 2}: missing target value in column '{series.name}'",
                         hint="drop rows without a label")
    classes = sorted(series.unique().tolist(), key=lambda v: (str(type(v)), v))
    lut = {c: i for i, c in enumerate(classes)}
    return series.map(lut).to_numpy().astype(np.int64), [str(c) for c in classes]


def _tabular_target(y_raw, path: Path, target_column: str, task: Optional[str]):
    """(y, task, classes, num_classes, target_scale-or-None) of a table's target column."""
    import numpy as np
    import pandas as pd

    if task is None:
        numeric = pd.api.types.is_numeric_dtype(y_raw) and not pd.api.types.is_bool_dtype(y_raw)
        many = y_raw.nunique() > max(20, len(y_raw) // 10)
        task = "regression" if numeric and (many or pd.api.types.is_float_dtype(y_raw) and
                                             not np.allclose(y_raw.dropna() % 1, 0)) else "classification"
    if task == "classification":
        y, classes = _encode_labels(y_raw, str(path))
        _check_classes(y, f"{path}: column '{target_column}'")
        return y, task, classes, len(classes)
    if task != "regression":
        raise InputError(f"{path}: task '{task}' does not apply to a table (use classification or regression)",
                         hint="set task=classification or task=regression")
    try:
        y = pd.to_numeric(y_raw, errors="raise").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{path}: regression target '{target_column}' is not numeric",
                         hint="pick a numeric target column or set task=classification") from None
    if not np.isfinite(y).all():
        r = int(np.flatnonzero(~np.isfinite(y))[0])
        raise InputError(f"{path}: row {r + 2}: missing or infinite target in column '{target_column}'",
                         hint="drop rows without a target value")
    return y, task, None, None


def _load_tabular_file(path: Path, *, seed, val, test, target_column: Optional[str], task: Optional[str],
                       preprocess: str = "neural"):
    """A table with real preprocessing (tools/core/preprocess.py) fitted on the training rows only.

    `preprocess="neural"` imputes+scales numeric columns and one-hot encodes categoricals; `"trees"` keeps
    missing values for XGBoost and ordinal-encodes categoricals. Free text is TF-IDF vectorised.
    Regression targets are standardised (training split statistics in `meta["target_scale"]`).
    """
    import numpy as np

    from tensor_agent.tools.core.preprocess import preprocess_frame

    df = _read_table(path)
    if df.empty:
        raise InputError(f"{path}: the file has no rows")
    if not target_column:
        raise InputError(f"{path}: no target column given (columns: {', '.join(map(str, df.columns))})",
                         hint="pass target_column=<name>")
    if target_column not in df.columns:
        raise InputError(f"{path}: target column '{target_column}' not found "
                         f"(columns: {', '.join(map(str, df.columns))})", hint="pass the right target_column")
    feats = df.drop(columns=[target_column])
    if feats.shape[1] == 0:
        raise InputError(f"{path}: no feature columns besides the target '{target_column}'")
    y, task, classes, num_classes = _tabular_target(df[target_column], path, target_column, task)
    idx = split_indices(len(df), y if task == "classification" else None, seed=seed, val=val, test=test)
    X, pre = preprocess_frame(feats, idx[0], mode=preprocess)
    meta = {"source": str(path), "feature_names": pre.feature_names, "target_column": target_column,
            "preprocessor": pre.spec, "preprocessing": pre.describe(), "columns": [str(c) for c in feats.columns]}
    if task == "regression":
        mu, sd = float(y[idx[0]].mean()), float(y[idx[0]].std()) or 1.0
        meta["target_scale"] = {"mean": mu, "std": sd}
        meta["preprocessing"] = meta["preprocessing"] + [f"target {target_column}: regression, standardised "
                                                         f"(mean {mu:.4g}, std {sd:.4g}); metrics in its units"]
        y = ((y - mu) / sd).astype(np.float32)
    spec = {"kind": "tabular", "shape": [X.shape[1]], "features": X.shape[1], "dtype": "float32"}
    return _array_bundle(path.stem, X, y, task=task, modality="tabular", num_classes=num_classes, input_spec=spec,
                         seed=seed, val=val, test=test, classes=classes, meta=meta, indices=idx)


def _load_text_file(path: Path, *, seed, val, test, text_column: str = "text",
                    target_column: Optional[str] = "label") -> DataBundle:
    import numpy as np
    import torch

    target_column = target_column or "label"
    rows: list[tuple[str, Any]] = []
    if path.suffix.lower() in (".jsonl", ".json"):
        with path.open(encoding="utf-8") as fh:
            for i, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise InputError(f"{path}: row {i}: not valid JSON ({exc.msg})") from None
                if not isinstance(rec, dict) or text_column not in rec or target_column not in rec:
                    raise InputError(f"{path}: row {i}: needs fields '{text_column}' and '{target_column}'",
                                     hint="pass text_column= / target_column=")
                if not isinstance(rec[text_column], str) or not rec[text_column].strip():
                    raise InputError(f"{path}: row {i}: empty or non-string '{text_column}'")
                rows.append((rec[text_column], rec[target_column]))
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            cols = reader.fieldnames or []
            if text_column not in cols or target_column not in cols:
                raise InputError(f"{path}: needs columns '{text_column}' and '{target_column}' "
                                 f"(found: {', '.join(cols)})", hint="pass text_column= / target_column=")
            for i, rec in enumerate(reader, start=2):
                if not (rec.get(text_column) or "").strip() or rec.get(target_column) in (None, ""):
                    raise InputError(f"{path}: row {i}: empty '{text_column}' or '{target_column}'")
                rows.append((rec[text_column], rec[target_column]))
    if len(rows) < 10:
        raise InputError(f"{path}: only {len(rows)} labelled rows; need at least 10")
    labels_raw = [r[1] for r in rows]
    classes = sorted({str(l) for l in labels_raw})
    lut = {c: i for i, c in enumerate(classes)}
    y = np.array([lut[str(l)] for l in labels_raw], dtype=np.int64)
    _check_classes(y, f"{path}: field '{target_column}'")
    texts = [r[0] for r in rows]
    tr, va, te = split_indices(len(texts), y, seed=seed, val=val, test=test)
    mk = lambda ix: TextSplit([texts[i] for i in ix], torch.as_tensor(y[ix]))
    return DataBundle(name=path.stem, task="classification", modality="text", train=mk(tr), val=mk(va), test=mk(te),
                      num_classes=len(classes), input_spec=dict(BUILTIN_SPECS["text"]["input_spec"]), seed=seed,
                      sizes={"train": len(tr), "val": len(va), "test": len(te)},
                      meta={"source": str(path), "classes": classes, "text_column": text_column,
                            "target_column": target_column})


def _load_image_folder(path: Path, *, seed, val, test, image_size: int = 32, grayscale: Optional[bool] = None):
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    classes = sorted(d.name for d in path.iterdir() if d.is_dir() and not d.name.startswith("."))
    if len(classes) < 2:
        raise InputError(f"{path}: an image folder needs one sub-folder per class (found {len(classes)})",
                         hint="lay out as <folder>/<class>/<image>.png")
    files: list[tuple[Path, int]] = []
    for ci, c in enumerate(classes):
        imgs = sorted(f for f in (path / c).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not imgs:
            raise InputError(f"{path / c}: class folder has no images ({', '.join(IMAGE_SUFFIXES)})")
        files += [(f, ci) for f in imgs]
    mode = None
    arrays = []
    for f, _ in files:
        try:
            with Image.open(f) as im:
                if mode is None:
                    mode = "L" if (grayscale if grayscale is not None else im.mode in ("L", "1", "P")) else "RGB"
                arrays.append(np.asarray(im.convert(mode).resize((image_size, image_size)), dtype=np.float32) / 255.0)
        except (UnidentifiedImageError, OSError) as exc:
            raise InputError(f"{f}: not a readable image ({exc})") from None
    X = np.stack(arrays)
    X = X[:, None] if X.ndim == 3 else X.transpose(0, 3, 1, 2)  # (N, C, H, W)
    y = np.array([ci for _, ci in files], dtype=np.int64)
    spec = {"kind": "image", "shape": list(X.shape[1:]), "channels": int(X.shape[1]), "height": image_size, "width": image_size,
            "dtype": "float32"}
    return _array_bundle(path.name, X, y, task="classification", modality="image", num_classes=len(classes),
                         input_spec=spec, seed=seed, val=val, test=test, classes=classes,
                         meta={"source": str(path), "files": len(files)})


def _load_graph_files(edges: Path, *, node_features: Optional[str], seed, val, test,
                      target_column: Optional[str]) -> DataBundle:
    import numpy as np
    import torch
    from torch_geometric.data import Data

    if not node_features:
        raise InputError(f"{edges}: a graph needs node_features=<csv> (one row per node, a label column)")
    nf = Path(node_features).expanduser()
    if not nf.exists():
        raise InputError(f"node feature file not found: {nf}")
    nodes = _read_table(nf)
    target_column = target_column or "label"
    if target_column not in nodes.columns:
        raise InputError(f"{nf}: target column '{target_column}' not found (columns: "
                         f"{', '.join(map(str, nodes.columns))})")
    n = len(nodes)
    E = []
    with edges.open(encoding="utf-8") as fh:
        for i, line in enumerate(fh, start=1):
            s = line.strip().replace(",", " ").split()
            if not s or s[0].startswith("#"):
                continue
            if i == 1 and not s[0].lstrip("-").isdigit():
                continue  # header
            if len(s) < 2 or not (s[0].isdigit() and s[1].isdigit()):
                raise InputError(f"{edges}: row {i}: expected two integer node ids, got {line.strip()!r}")
            a, b = int(s[0]), int(s[1])
            if a >= n or b >= n:
                raise InputError(f"{edges}: row {i}: node id {max(a, b)} out of range (the node file "
                                 f"{nf.name} has {n} rows)", hint="node ids are 0-based row numbers")
            E.append((a, b))
    if not E:
        raise InputError(f"{edges}: no edges")
    y, classes = _encode_labels(nodes[target_column], str(nf))
    _check_classes(y, f"{nf}: column '{target_column}'")
    feats = nodes.drop(columns=[target_column]).select_dtypes("number")
    X = feats.to_numpy(dtype=np.float64)
    _check_finite(X, str(nf), [str(c) for c in feats.columns])
    ei = torch.tensor(E, dtype=torch.long).t()
    ei = torch.cat([ei, ei.flip(0)], dim=1).unique(dim=1)  # undirected
    g = Data(x=torch.tensor(X, dtype=torch.float32), edge_index=ei, y=torch.tensor(y))
    tr, va, te = split_indices(n, y, seed=seed, val=val, test=test)
    mask = lambda ix: torch.zeros(n, dtype=torch.bool).index_fill_(0, torch.as_tensor(ix), True)
    return DataBundle(name=edges.stem, task="node_classification", modality="graph", train=mask(tr), val=mask(va),
                      test=mask(te), num_classes=len(classes),
                      input_spec={"kind": "graph", "num_features": X.shape[1], "num_nodes": n,
                                  "num_edges": int(ei.shape[1]), "dtype": "float32"}, seed=seed,
                      sizes={"train": len(tr), "val": len(va), "test": len(te)},
                      meta={"graph": g, "source": f"{edges} + {nf}", "classes": classes})


def load_dataset(name_or_path: str, *, seed: int = 0, target_column: Optional[str] = None, val: float = 0.1,
                 test: float = 0.2, **opts: Any) -> DataBundle:
    """Load a built-in dataset or a user file/folder with a deterministic split.

    Args:
        name_or_path: built-in name (see `BUILTIN_SPECS`) or a path: CSV/TSV/Parquet (tabular, needs
            `target_column`), CSV/JSONL text (fields `text` and `label`, or `text_column`/`target_column`
            with `modality="text"`), a folder with one sub-folder per class (images), or an edge list with
            `node_features=<csv>` (graph).
        seed: split seed (and generator seed of generated sets).
        target_column: label column of user files.
        val, test: split fractions.
        **opts: `modality`, `task`, `text_column`, `node_features`, `image_size`, `seq_len`,
            `preprocess` (tables: "neural" or "trees", see tools/core/preprocess.py).

    Raises:
        InputError: unknown name, missing file, bad column, one class, NaN values, bad rows.
    """
    if not 0 < val < 1 or not 0 < test < 1 or val + test >= 1:
        raise InputError(f"invalid split fractions val={val}, test={test}", hint="use e.g. val=0.1, test=0.2")
    classes, per_class = opts.pop("classes", None), opts.pop("train_per_class", None)
    if classes is not None or per_class is not None:
        if isinstance(classes, str):
            classes = [int(c) for c in classes.replace("-", ",").split(",") if c.strip()] if "-" not in classes \
                else list(range(int(classes.split("-")[0]), int(classes.split("-")[1]) + 1))
        full = load_dataset(name_or_path, seed=seed, target_column=target_column, val=val, test=test, **opts)
        return subset(full, classes=classes, train_per_class=per_class, seed=seed)
    key = canonical_name(name_or_path)
    if key in DATASETS:
        return _builtin(key, seed, val, test, opts)
    path = Path(str(name_or_path)).expanduser()
    if not path.exists():
        if path.suffix or "/" in str(name_or_path):
            raise InputError(f"data file not found: {path}", hint="check the path (it is read as given)")
        raise InputError(f"unknown dataset '{name_or_path}' (known: {', '.join(BUILTIN_SPECS)}; or a file path)",
                         hint="name a built-in dataset or pass data_path=<file>")
    modality = opts.get("modality")
    if path.is_dir():
        return _load_image_folder(path, seed=seed, val=val, test=test, image_size=int(opts.get("image_size", 32)))
    if opts.get("node_features") or modality == "graph":
        return _load_graph_files(path, node_features=opts.get("node_features"), seed=seed, val=val, test=test,
                                 target_column=target_column)
    if modality == "text_generation" or path.suffix.lower() == ".txt":
        return _tiny_corpus(seed, seq_len=int(opts.get("seq_len", 64)), path=path)
    text_col = opts.get("text_column")
    if modality == "text" or text_col or path.suffix.lower() in TEXT_SUFFIXES:
        return _load_text_file(path, seed=seed, val=val, test=test, text_column=text_col or "text",
                               target_column=target_column or "label")
    return _load_tabular_file(path, seed=seed, val=val, test=test, target_column=target_column,
                              task=opts.get("task"), preprocess=opts.get("preprocess") or "neural")


def _builtin(key: str, seed: int, val: float, test: float, opts: dict) -> DataBundle:
    """Load the built-in dataset `key` with the loader the catalogue names for it."""
    spec = DATASETS[key]
    default_len = int(spec.input_spec.get("seq_len", 64))
    loaders = {
        "sklearn": lambda: _sklearn(key, seed, val, test),
        "sklearn_images": lambda: _digits_images(seed, val, test),
        "pyg_karate": lambda: _karate(seed),
        "jsonl_text": lambda: _text_builtin(seed, val, test),
        "generated_recall": lambda: _long_recall(seed, val, test, seq_len=int(opts.get("seq_len", default_len))),
        "char_corpus": lambda: _tiny_corpus(seed, seq_len=int(opts.get("seq_len", default_len))),
    }
    if spec.loader not in loaders:
        raise InputError(f"built-in dataset '{key}' names an unknown loader {spec.loader!r}")
    return loaders[spec.loader]()


def subset(data: DataBundle, *, classes: Optional[list[int]] = None, train_per_class: Optional[int] = None,
           seed: int = 0) -> DataBundle:
    """Keep only `classes` (relabelled 0..k-1 in the given order) and at most `train_per_class` training
    examples per class (few-label fine-tuning). Array (TensorDataset) bundles only."""
    import copy

    import torch

    if not isinstance(data.train, torch.utils.data.TensorDataset) or data.task != "classification":
        raise InputError(f"class subsets need an array classification dataset; '{data.name}' is {data.modality}")
    out = copy.copy(data)
    known = list(range(data.num_classes or 0))
    classes = [int(c) for c in (classes if classes is not None else known)]
    bad = [c for c in classes if c not in known]
    if bad:
        raise InputError(f"classes {bad} not in dataset '{data.name}' (classes 0..{len(known) - 1})")
    lut = torch.full((max(known) + 1,), -1, dtype=torch.long)
    lut[torch.tensor(classes)] = torch.arange(len(classes))
    gen = torch.Generator().manual_seed(seed)

    def cut(split, limit):
        *xs, y = split.tensors
        keep = lut[y] >= 0
        idx = keep.nonzero().flatten()
        if limit:
            chosen = []
            for c in classes:
                ic = idx[y[idx] == c]
                chosen.append(ic[torch.randperm(len(ic), generator=gen)[:limit]])
            idx = torch.cat(chosen).sort().values
        return torch.utils.data.TensorDataset(*(x[idx] for x in xs), lut[y[idx]])

    out.train = cut(data.train, train_per_class)
    out.val, out.test = cut(data.val, None), cut(data.test, None)
    out.num_classes = len(classes)
    out.name = f"{data.name}[{','.join(map(str, classes))}]" + (f"x{train_per_class}" if train_per_class else "")
    old = data.meta.get("classes") or [str(c) for c in known]
    out.meta = {**data.meta, "classes": [old[c] for c in classes], "subset_of": data.name}
    out.sizes = {"train": len(out.train), "val": len(out.val), "test": len(out.test)}
    return out


def class_counts(labels) -> dict:
    """{class index: count} of a label tensor/array (for reports)."""
    import numpy as np

    u, c = np.unique(np.asarray(labels), return_counts=True)
    return {int(a): int(b) for a, b in zip(u, c)}


def perplexity(loss: float) -> float:
    return float(math.exp(min(loss, 50.0)))
