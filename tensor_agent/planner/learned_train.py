"""Train the learned primary-intent classifier (`tensor_agent.planner.learned`) on labelled planner cases.

Usage: .venv/bin/python -m tensor_agent.planner.learned_train [CASES.jsonl ...]
(default: evals/cases.jsonl, evals/holdout.jsonl, evals/holdout_v2.jsonl, evals/dev_planner.jsonl).
Needs scikit-learn (training only); writes tensor_agent/planner/intent_model.npz (plain little-endian arrays,
no pickle; `learned` reads it without numpy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SETS = ["evals/cases.jsonl", "evals/holdout.jsonl", "evals/holdout_v2.jsonl", "evals/dev_planner.jsonl"]


def request_low(text: str) -> str:
    """The text the rules planner's cues read: request only, mentions blanked, repaired, lower case."""
    from tensor_agent.planner.rules import _lowered
    from tensor_agent.planner.scope import request_text

    req, _ = request_text(text)
    return _lowered(req)[1]


def load(paths: list[str]) -> tuple[list[str], list[str]]:
    texts, labels = [], []
    for p in paths:
        for line in (ROOT / p if not Path(p).is_absolute() else Path(p)).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            c = json.loads(line)
            if not c.get("addressed"):
                continue
            texts.append(request_low(c["text"]))
            labels.append(c["intents"][0] if c["intents"] else "none")
    return texts, labels


def train(texts: list[str], labels: list[str], c: float = 20.0):
    """Fit the model; returns (keys, weights, bias, label names)."""
    import numpy as np
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    from tensor_agent.planner.learned import BUCKETS, hashed

    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        for h, v in hashed(t).items():
            rows.append(i)
            cols.append(h)
            vals.append(v)
    x = csr_matrix((vals, (rows, cols)), shape=(len(texts), BUCKETS))
    clf = LogisticRegression(C=c, max_iter=3000)
    clf.fit(x, labels)
    used = np.unique(np.asarray(cols))
    weights = clf.coef_.T[used]  # [used buckets, classes]
    if weights.shape[1] == 1:  # binary: expand to two columns
        weights = np.hstack([-weights, weights])
        bias = np.array([-clf.intercept_[0], clf.intercept_[0]])
    else:
        bias = clf.intercept_
    return (used.astype("<i4"), np.ascontiguousarray(weights, dtype="<f4"), bias.astype("<f4"),
            np.array(clf.classes_, dtype="<U16"))


def main(argv: list[str]) -> int:
    import numpy as np

    from tensor_agent.planner.learned import MODEL_PATH

    texts, labels = load(argv or DEFAULT_SETS)
    keys, weights, bias, names = train(texts, labels)
    np.savez(MODEL_PATH, keys=keys, weights=weights, bias=bias, labels=names)
    print(f"{MODEL_PATH}: {len(texts)} cases, {len(names)} labels, {len(keys)} buckets, "
          f"{MODEL_PATH.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
