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

#: Largest store searched exactly (10k records: 2 x 15 MB of float32 vectors, ~0.5 ms per query).
EXACT_MAX = 20_000
#: Stores up to this size get their exact index on the first search (it loads in well under a second).
SMALL_STORE = 2_000
#: Metadata fields a query can filter on.
FIELDS = ("kind", "modality", "task", "family")


class ExactIndex:
    """The store's vectors as one (N, D) unit-norm matrix plus the filter fields as arrays."""

    def __init__(self) -> None:
        self.generation: Optional[int] = None
        self.ids: list[str] = []
        self._pos: dict[str, int] = {}
        self.mat: Any = None                     # (N, D) float32, rows unit length (filtered queries)
        self.mat_t: Any = None                   # (D, N) the same, transposed (full queries: a faster gemv)
        self.fields: dict[str, Any] = {}         # field -> (N,) int codes of its values
        self.codes: dict[str, dict] = {}
        self._subsets: dict = {}
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

        self.mat_t = np.ascontiguousarray(self.mat.T)
        self._pos = {rid: i for i, rid in enumerate(self.ids)}
        self.codes = {f: {} for f in FIELDS}     # field -> value -> small int
        self.fields = {}
        for f in FIELDS:
            lut = self.codes[f]
            self.fields[f] = np.array([lut.setdefault(m.get(f), len(lut)) for m in self.metas], dtype=np.int32)
        self._subsets: dict = {}                 # filters -> (rows, (M, D) rows of mat), rebuilt on change
        self._records: dict = {}                 # row -> parsed record dict (hits parse their JSON once)

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
            code = self.codes[k].get(v)
            if code is None:
                return np.zeros(len(self.ids), dtype=bool)
            m &= self.fields[k] == code
        return m

    def record(self, row: int, parse: Any) -> dict:
        """The parsed record of `row` (`parse(id, metadata, document)` on first use, then cached)."""
        rec = self._records.get(row)
        if rec is None:
            rec = self._records[row] = parse(self.ids[row], self.metas[row], self.docs[row])
        return rec

    def subset(self, filters: dict) -> tuple[Any, Any]:
        """(rows, their vectors) matching `filters`, cached per filter set until the index changes."""
        import numpy as np

        key = tuple(sorted((k, v) for k, v in filters.items() if v))
        hit = self._subsets.get(key)
        if hit is None:
            rows = np.flatnonzero(self.mask(filters))
            hit = (rows, np.ascontiguousarray(self.mat[rows]))
            if len(self._subsets) >= 32:
                self._subsets.clear()
            self._subsets[key] = hit
        return hit

    def query(self, vector: Any, k: int, filters: Optional[dict] = None) -> list[tuple[int, float]]:
        """(row, cosine) of the `k` rows closest to `vector` among those matching `filters`, best first."""
        import numpy as np

        if not self.ids:
            return []
        q = np.asarray(vector, dtype=np.float32).reshape(-1)
        q = q / (float(np.linalg.norm(q)) or 1.0)
        if not any((filters or {}).values()):
            rows = None
            sims = _gemv(q, self.mat_t)                            # (N,)
        else:
            rows, sub = self.subset(filters or {})                 # filter first, then score only these
            if not len(rows):
                return []
            sims = np.einsum("ij,j->i", sub, q)                    # (M,) one core, no BLAS threads
        k = min(int(k), len(sims))
        top = np.argpartition(-sims, k - 1)[:k] if k < len(sims) else np.arange(len(sims))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(rows[t]) if rows is not None else int(t), float(sims[t])) for t in top]


_BLAS: Any = None


def _gemv(q: Any, mat_t: Any) -> Any:
    """q (D,) @ mat_t (D, N) on one BLAS thread.

    A multi-threaded BLAS matrix-vector product is 10-40x slower on a busy machine (its threads wait for
    cores): 28 ms against 0.4 ms on one thread at 10k x 384 (load 12 on 2 cores). Without threadpoolctl,
    numpy's einsum loop (one core, ~1.4 ms) is used instead.
    """
    import numpy as np

    global _BLAS
    if _BLAS is None:
        try:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            _BLAS = False
    if _BLAS is False:
        return np.einsum("j,jn->n", q, mat_t)
    with _BLAS.limit(limits=1, user_api="blas"):
        return q @ mat_t


def _unit(mat: Any) -> Any:
    import numpy as np

    norms = np.linalg.norm(mat, axis=1, keepdims=True) if len(mat) else np.ones((0, 1), np.float32)
    norms[norms == 0] = 1.0
    return (mat / norms).astype(np.float32, copy=False)
