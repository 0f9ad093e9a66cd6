"""Train the learned intent classifier (`tensor_agent.planner.learned`) on labelled planner cases.

Usage: .venv/bin/python -m tensor_agent.planner.learned_train [CASES.jsonl ...]
(default: every labelled planner set in evals/: cases, holdout*, dev_planner; not tasks.jsonl).
Needs scikit-learn (training only); writes tensor_agent/planner/intent_model.npz (plain little-endian arrays,
no pickle; `learned` reads it without numpy).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: C of the logistic regressions (inverse L2 strength; chosen leave-one-set-out, evals/bench_learned_intent.py).
C = 20.0


def default_sets() -> list[str]:
    """Every labelled planner case file in evals/ (tasks.jsonl holds whole tasks, not plan labels)."""
    return sorted(str(p.relative_to(ROOT)) for p in (ROOT / "evals").glob("*.jsonl") if p.name != "tasks.jsonl")


def request_low(text: str) -> str:
    """The text the rules planner's cues read: request only, mentions blanked, repaired, lower case."""
    from tensor_agent.planner.rules import _lowered
    from tensor_agent.planner.scope import request_text

    req, _ = request_text(text)
    return _lowered(req)[1]


def load(paths: list[str]) -> tuple[list[str], list[list[str]]]:
    """(request texts, intent lists) of the addressed cases in `paths`."""
    texts, intents = [], []
    for p in paths:
        for line in (ROOT / p if not Path(p).is_absolute() else Path(p)).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            c = json.loads(line)
            if c.get("addressed"):
                texts.append(request_low(c["text"]))
                intents.append(list(c["intents"]))
    return texts, intents


def _matrix(texts: list[str]):
    from scipy.sparse import csr_matrix

    from tensor_agent.planner.learned import BUCKETS, hashed

    rows, cols, vals = [], [], []
    for i, t in enumerate(texts):
        for h, v in hashed(t).items():
            rows.append(i)
            cols.append(h)
            vals.append(v)
    return csr_matrix((vals, (rows, cols)), shape=(len(texts), BUCKETS))


def train(texts: list[str], intents: list[list[str]], c: float = C) -> dict:
    """Fit both heads; returns the arrays of the weights file (int8 weights + 128, per-output scale, bucket rows)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from tensor_agent.catalogue import INTENTS
    from tensor_agent.planner.learned import BUCKETS

    x = _matrix(texts)
    primary = LogisticRegression(C=c, max_iter=3000).fit(x, [i[0] if i else "none" for i in intents])
    present = [n for n in INTENTS if any(n in i for i in intents)]
    cols, bias = [primary.coef_.T], [primary.intercept_]  # [buckets, primary labels]
    for name in present:
        head = LogisticRegression(C=c, max_iter=3000).fit(x, [name in i for i in intents])
        cols.append(head.coef_.T)  # [buckets, 1]
        bias.append(head.intercept_)
    w = np.hstack(cols)  # [buckets, outputs]
    used = np.flatnonzero(np.abs(w).max(axis=1) > 0)
    w = w[used]
    scale = np.abs(w).max(axis=0) / 127.0
    scale[scale == 0] = 1.0
    q = np.clip(np.rint(w / scale), -127, 127).astype(np.int64) + 128  # [buckets used, outputs], 1..255
    rows = np.full(BUCKETS, -1, dtype="<i4")  # learned.Model: every bucket's row, -1 when it has none
    rows[used] = np.arange(len(used))
    return {"rows": rows, "weights": q.astype("|u1"), "scale": scale.astype("<f4"),
            "bias": np.concatenate(bias).astype("<f4"), "primary": np.array(primary.classes_, dtype="<U16"),
            "present": np.array(present, dtype="<U16")}


def main(argv: list[str]) -> int:
    import numpy as np

    from tensor_agent.planner.learned import MODEL_PATH

    texts, intents = load(argv or default_sets())
    arrays = train(texts, intents)
    np.savez_compressed(MODEL_PATH, **arrays)
    print(f"{MODEL_PATH}: {len(texts)} cases, {len(arrays['primary'])} primary labels, "
          f"{len(arrays['present'])} intents, {int((arrays['rows'] >= 0).sum())} buckets, "
          f"{MODEL_PATH.stat().st_size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
