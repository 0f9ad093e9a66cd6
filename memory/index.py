"""Exact vector search over the memory's records, in numpy, kept in step with the Chroma store.

Below `EXACT_MAX` records an exact cosine search over an in-process matrix is faster than Chroma's HNSW
query and exact by construction (recall 1.0); metadata filters are applied *before* the vector search,
so a filtered query only scores the matching rows. Chroma stays the store of record: the matrix is
a cache of its embeddings, rebuilt when the store's generation counter (bumped by every writer, in any
process, see `store.py`) moves, and patched in place after this process's own writes.

A Chroma server gives no generation counter, so there (and above `EXACT_MAX`) searches go to Chroma.
"""

from __future__ import annotations

import threading
from typing import Any, Optional

#: Largest store searched exactly (10k records: ~15 MB of float32 vectors, ~0.5 ms per query).
EXACT_MAX = 50_000
#: Metadata fields a query can filter on.
FIELDS = ("kind", "modality", "task", "family")


class ExactIndex:
    """The store's vectors as one (N, D) unit-norm matrix plus the filter fields as arrays."""

    def __init__(self) -> None:
        self.generation: Optional[int] = None
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self.mat: Any = None                     # (N, D) float32, rows unit length
        self.fields: dict[str, Any] = {}         # field -> (N,) object array
        self.metas: list[dict] = []
        self.docs: list[Optional[str]] = []
        self.lock = threading.Lock()

    def __len__(self) -> int:
        return len(self.ids)

    # ------------------------------------------------------------------ building
    def load(self, got: dict, generation: int) -> None:
        """Replace the contents with a Chroma `get(include=[embeddings, metadatas, documents])` answer."""
        import numpy as np

        embs = got.get("embeddings")
        n = len(got["ids"])
        mat = np.asarray(embs, dtype=np.float32).reshape(n, -1) if n else np.zeros((0, 384), np.float32)
        self.ids = list(got["ids"])
        self.metas = [m or {} for m in (got.get("metadatas") or [{}] * n)]
        self.docs = list(got.get("documents") or [None] * n)
        self.mat = _unit(mat)
        self._reindex()
        self.generation = generation

    def _reindex(self) -> None:
        import numpy as np

        self._pos = {rid: i for i, rid in enumerate(self.ids)}
        self.fields = {f: np.array([m.get(f) for m in self.metas], dtype=object) for f in FIELDS}

    def upsert(self, ids: list[str], vectors: list, metas: list[dict], docs: list, generation: int) -> None:
        """Apply this process's own write (made under the store's write lock at `generation`)."""
        import numpy as np

        vecs = _unit(np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1))
        new_rows = []
        for i, rid in enumerate(ids):
            j = self._pos.get(rid)
            if j is None:
                new_rows.append(i)
                continue
            self.mat[j] = vecs[i]
            self.metas[j], self.docs[j] = metas[i], docs[i]
        if new_rows:
            self.mat = np.concatenate([self.mat.reshape(-1, vecs.shape[1]), vecs[new_rows]]) \
                if len(self.ids) else vecs[new_rows]
            self.ids += [ids[i] for i in new_rows]
            self.metas += [metas[i] for i in new_rows]
            self.docs += [docs[i] for i in new_rows]
        self._reindex()
        self.generation = generation

    def delete(self, rid: str, generation: int) -> None:
        import numpy as np

        j = self._pos.get(rid)
        if j is not None:
            keep = np.ones(len(self.ids), dtype=bool)
            keep[j] = False
            self.mat = self.mat[keep]
            del self.ids[j], self.metas[j], self.docs[j]
            self._reindex()
        self.generation = generation

    # ------------------------------------------------------------------ searching
    def mask(self, filters: dict) -> Any:
        """Boolean (N,) mask of the rows matching every filter (None: all rows)."""
        active = {k: v for k, v in filters.items() if v}
        if not active:
            return None
        import numpy as np

        m = np.ones(len(self.ids), dtype=bool)
        for k, v in active.items():
            m &= self.fields[k] == v
        return m

    def query(self, vector: Any, k: int, filters: Optional[dict] = None) -> list[tuple[int, float]]:
        """(row, cosine) of the `k` rows closest to `vector` among those matching `filters`, best first."""
        import numpy as np

        if not self.ids:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        m = self.mask(filters or {})
        if m is None:
            rows = None
            sims = self.mat @ q                                   # (N,)
        else:
            rows = np.flatnonzero(m)                               # filter first, then score only these
            if not len(rows):
                return []
            sims = self.mat[rows] @ q                              # (M,)
        k = min(int(k), len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(rows[t]) if rows is not None else int(t), float(sims[t])) for t in top]


def _unit(mat: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(mat, axis=1, keepdims=True) if len(mat) else np.ones((0, 1), np.float32)
    norms[norms == 0] = 1.0
    return (mat / norms).astype(np.float32, copy=False)
