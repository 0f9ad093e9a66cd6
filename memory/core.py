"""`Memory`: remember designs and outcomes, search them, and score families per task."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Optional, Union

from tensor_agent.errors import InputError

from .fitness import FamilyFitness, Recommendation, compute_fitness, recommend_from
from .records import DesignRecord, OutcomeRecord, dedupe, design_from, outcome_from, record_from_metadata
from .store import Store

Record = Union[DesignRecord, OutcomeRecord]
_EXPORT_FORMAT = "tensor-memory-export"


def _as_dict(value: Any) -> Any:
    if value is None:
        return None
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return value
    try:
        from dataclasses import asdict, is_dataclass

        if is_dataclass(value):
            return asdict(value)
    except TypeError:  # pragma: no cover
        pass
    return None


class Memory:
    """The vector memory of @TENSOR (see the package docstring)."""

    def __init__(self, store: Store):
        self._store = store
        self._closed = False
        self._queries = 0

    @property
    def backend(self) -> str:
        """Where the records live (embedded directory or server URL)."""
        return self._store.describe()

    # ------------------------------------------------------------------ writing
    def write(self, records: Iterable[Record], *, batch_size: int = 256) -> list[str]:
        """Upsert records (embedding their documents in batches); returns their ids in order."""
        from .embed import embed

        records = list(records)
        if not records:
            return []
        uniq: dict[str, Record] = {}
        for r in records:
            uniq[r.id] = r
        items = list(uniq.items())
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            vectors = embed([r.document() for _, r in chunk])  # outside the lock: slow part
            ids = [i for i, _ in chunk]
            with self._store.writing() as col:
                existing = col.get(ids=ids, include=["metadatas"])
                created = {i: (m or {}).get("created") for i, m in zip(existing["ids"], existing["metadatas"])}
                metas = []
                for i, r in chunk:
                    if created.get(i):
                        r.created = created[i]  # rewriting a record keeps its first time
                    metas.append(r.metadata())
                docs = [r.document() for _, r in chunk]
                col.upsert(ids=ids, embeddings=vectors, documents=docs, metadatas=metas)
                self._patch_index("upsert", ids, vectors, metas, docs)
        return [r.id for r in records]

    def _patch_index(self, op: str, *args: Any) -> None:
        """Keep the exact index in step with this process's own write (called under the write lock)."""
        idx, gen = self._store.exact, self._store.written_generation
        if idx is None or gen is None:
            return
        with idx.lock:
            if idx.generation != gen - 1:  # another process wrote in between: rebuild on the next query
                self._store.exact = None
            elif op == "upsert":
                idx.upsert(*args, generation=gen)
            else:
                idx.delete(*args, generation=gen)

    def remember_design(self, plan: Any, design: Any) -> str:
        """Store a design (designer output dict or pydantic model); returns its stable id."""
        return self.write([design_from(_plan_obj(plan), _as_dict(design) or {})])[0]

    def remember_outcome(self, outcome: Any, design_id: Optional[str] = None) -> str:
        """Store a training/compression outcome, linked to `design_id`; returns its stable id."""
        body = _as_dict(outcome) or {}
        defaults = {}
        if design_id:
            d = self.get(design_id)
            if d is not None:
                defaults = {k: d.get(k) for k in ("modality", "task", "family", "variant", "dataset", "plan_text")}
        stage = body.get("stage") or ("compress" if _looks_like_compression(body) else "train")
        return self.write([outcome_from(body, design_id=design_id or "", stage=stage, defaults=defaults)])[0]

    def remember_turn(self, plan: Any, results: dict, errors: Optional[dict] = None,
                      codes: Optional[dict] = None) -> list[str]:
        """Store what one graph turn produced: its design and its training/compression outcomes.

        Each outcome is stored under the family, variant, modality and dataset the tool reports it
        ran (a misrouted request is never filed under the family the plan named; that one is kept as
        `requested_family`). A failed tool without a report is recorded with its exit code and never
        counts toward the family's fitness.

        Args:
            plan: The turn's `Plan`.
            results: Tool name -> tool output (dict or pydantic model); missing tools are skipped,
                an output with an `error` key is stored as a failed outcome.
            errors: Tool name -> error message (`Result.errors`): a failed `train_model` /
                `compress_model` is stored as a failed outcome of the turn's design.
            codes: Tool name -> exit code of that failure (`Result.codes` / state["codes"]).
        """
        plan = _plan_obj(plan)
        results, errors, codes = dict(results or {}), dict(errors or {}), dict(codes or {})
        for tool in ("train_model", "compress_model"):
            if errors.get(tool) and not results.get(tool):
                results[tool] = {"error": str(errors[tool]), "success": False, "exit_code": codes.get(tool)}
        records: list[Record] = []
        design = _as_dict(results.get("design_architecture"))
        design_rec = design_from(plan, design) if design and not design.get("error") else None
        if design_rec is not None:
            records.append(design_rec)
        defaults = _turn_defaults(plan, design_rec)
        design_id = design_rec.id if design_rec else ""
        train = _as_dict(results.get("train_model"))
        if train:
            rec = outcome_from(train, design_id=design_id, stage="train", defaults=defaults)
            records.append(rec)
            if rec.counted:  # what ran is what a compression of this turn acted on
                defaults.update({"family": rec.family, "variant": rec.variant, "dataset": rec.dataset,
                                 "modality": rec.modality, "task": rec.task})
        compress = _as_dict(results.get("compress_model"))
        if compress:
            records.append(outcome_from(compress, design_id=design_id, stage="compress", defaults=defaults))
        return dedupe(self.write(records))

    def forget(self, record_id: str) -> bool:
        """Delete one record; False when there was none with that id."""
        with self._store.writing() as col:
            found = col.get(ids=[record_id], include=[])["ids"]
            if not found:
                return False
            col.delete(ids=[record_id])
            self._patch_index("delete", record_id)
            return True

    # ------------------------------------------------------------------ reading
    def _rows(self, got: dict) -> list[dict]:
        rows = []
        docs = got.get("documents") or [None] * len(got["ids"])
        for rid, meta, doc in zip(got["ids"], got.get("metadatas") or [], docs):
            rec = record_from_metadata(meta or {})
            rec["id"] = rid
            rec["document"] = doc
            rows.append(rec)
        return rows

    def get(self, record_id: str) -> Optional[dict]:
        """One record (with `id`, `kind`, `document`), or None."""
        got = self._store.call("get", ids=[record_id], include=["metadatas", "documents"])
        rows = self._rows(got)
        return rows[0] if rows else None

    def list(self, kind: Optional[str] = None, *, modality: Optional[str] = None, task: Optional[str] = None,
             family: Optional[str] = None, limit: Optional[int] = None) -> list[dict]:
        """Records matching the filters, newest first."""
        where = _where(kind=kind, modality=modality, task=task, family=family)
        got = self._store.call("get", where=where, include=["metadatas", "documents"])
        rows = sorted(self._rows(got), key=lambda r: (r.get("created") or "", r["id"]), reverse=True)
        return rows[:limit] if limit else rows

    def count(self) -> int:
        """Number of records."""
        return int(self._store.call("count"))

    def search(self, text: str, k: int = 10, *, kind: Optional[str] = None,
               modality: Optional[str] = None) -> list[dict]:
        """The `k` records most similar to `text` (cosine), each with `similarity` in [-1, 1]."""
        from .embed import embed

        if not str(text or "").strip():
            raise InputError("search text is empty", hint="e.g. memory search 'cnn for digits'")
        return self.query_vector(embed([text])[0], k, kind=kind, modality=modality)

    def query_vector(self, vector: Any, k: int = 10, *, kind: Optional[str] = None, modality: Optional[str] = None,
                     task: Optional[str] = None, family: Optional[str] = None) -> list[dict]:
        """The `k` records closest to an embedding, filtered by metadata first (see `index.py`).

        Exact numpy search over a cached matrix while the embedded store holds at most `EXACT_MAX`
        records; Chroma's HNSW query otherwise (and for a Chroma server).
        """
        filters = {"kind": kind, "modality": modality, "task": task, "family": family}
        self._queries += 1
        idx = self._exact_index(build=self._queries > LAZY_QUERIES)
        if idx is not None:
            with idx.lock:
                hits = idx.query(vector, k, filters)
                return [dict(idx.record(r, _record_of), distance=1.0 - sim, similarity=round(sim, 6))
                        for r, sim in hits]
        rows = self._chroma_query(vector, k, filters)
        out = []
        for rid, meta, doc, dist in rows:
            rec = record_from_metadata(meta or {})
            rec.update(id=rid, document=doc if doc is not None else _document_of(rec), distance=float(dist),
                       similarity=round(1.0 - float(dist), 6))
            out.append(rec)
        return out

    def warm_index(self) -> bool:
        """Build the exact search index now (a long-running server calls this at start-up); False when
        the store is searched by Chroma (a server, or more than EXACT_MAX records)."""
        return self._exact_index(build=True) is not None

    def _chroma_query(self, vector: Any, k: int, filters: dict) -> list[tuple]:
        total = self.count()
        if total == 0:
            return []
        vec = vector.tolist() if hasattr(vector, "tolist") else list(vector)
        got = self._store.call("query", query_embeddings=[vec], n_results=max(1, min(int(k), total)),
                               where=_where(**filters), include=["metadatas", "documents", "distances"])
        return list(zip(got["ids"][0], got["metadatas"][0], got["documents"][0], got["distances"][0]))

    def _exact_index(self, build: bool = True) -> Any:
        """The up-to-date exact index of an embedded store with at most EXACT_MAX records, else None.

        Building it reads every vector (~1-2 s at 10k records), so a process builds it at once only for a
        small store (SMALL_STORE records) or when asked (`build`: after LAZY_QUERIES searches, or
        `warm_index`); until then searches go to Chroma. Documents are not loaded: a hit's document is
        rebuilt from its record (every write stores `record.document()`).
        """
        from .index import EXACT_MAX, SMALL_STORE, ExactIndex

        store = self._store
        if store.mode != "embedded":
            return None
        idx = store.exact
        if idx is not None and idx.generation == store.generation():
            return idx
        with store.reading() as col:
            gen = store.generation()
            n = col.count()
            if n > EXACT_MAX or (not build and n > SMALL_STORE):
                store.exact = None
                return None
            got = col.get(include=["embeddings", "metadatas"])
        idx = ExactIndex()
        idx.load(got, gen)
        store.exact = idx
        return idx

    # ------------------------------------------------------------------ learning
    def outcomes(self, modality: Optional[str] = None, task: Optional[str] = None) -> list[dict]:
        """Outcome records of a modality (and task)."""
        return self.list("outcome", modality=modality, task=task)

    def fitness(self, modality: str, task: Optional[str] = None, constraints: Optional[dict] = None, *,
                by_variant: bool = True) -> list[FamilyFitness]:
        """Fitness per family (and variant) for `modality`/`task`, best first (see `fitness.py`)."""
        outcomes = self._with_design_costs(self.outcomes(modality, task))
        return compute_fitness(outcomes, modality=modality, constraints=constraints, by_variant=by_variant)

    def recommend(self, modality: str, task: Optional[str], default_family: str, candidates: Iterable[str],
                  constraints: Optional[dict] = None) -> Recommendation:
        """The family to design: the guide's default unless the evidence says another one is better."""
        candidates = list(candidates or [])
        outcomes = self._with_design_costs(self.outcomes(modality, task))
        fit = compute_fitness(outcomes, modality=modality, constraints=constraints, by_variant=False,
                              families=[default_family, *candidates])
        return recommend_from(fit, modality=modality, task=task, default_family=default_family,
                              candidates=candidates)

    def recall(self, plan: Any) -> dict:
        """The answer to a `recall` intent (see `recall.py`)."""
        from .recall import recall_answer

        return recall_answer(self, _plan_obj(plan))

    def _with_design_costs(self, outcomes: list[dict]) -> list[dict]:
        """Fill missing latency/size of outcomes from their linked design records."""
        need = {o["design_id"] for o in outcomes if o.get("design_id")
                and (o.get("latency_ms") is None or o.get("size_mb") is None)}
        if not need:
            return outcomes
        got = self._store.call("get", ids=sorted(need), include=["metadatas"])
        designs = {r["id"]: r for r in self._rows(got)}
        for o in outcomes:
            d = designs.get(o.get("design_id") or "")
            if d:
                for key in ("latency_ms", "size_mb"):
                    if o.get(key) is None and d.get(key) is not None:
                        o[key] = d[key]
        return outcomes

    # ------------------------------------------------------------------ files
    def export(self, path: Union[str, os.PathLike]) -> int:
        """Write every record (with its embedding) as JSON lines; returns the count."""
        got = self._store.call("get", include=["metadatas", "documents", "embeddings"])
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        n = 0
        with open(tmp, "w") as fh:
            fh.write(json.dumps({"format": _EXPORT_FORMAT, "schema_version": 1}) + "\n")
            embs = got.get("embeddings")
            for i, rid in enumerate(got["ids"]):
                meta = got["metadatas"][i] or {}
                emb = [round(float(x), 7) for x in embs[i]] if embs is not None else None
                fh.write(json.dumps({"id": rid, "kind": meta.get("kind"), "record": record_from_metadata(meta),
                                     "embedding": emb}) + "\n")
                n += 1
        os.replace(tmp, path)
        return n

    def import_(self, path: Union[str, os.PathLike]) -> int:
        """Read an `export` file; every line is checked before anything is written. Returns the count."""
        from .records import DesignRecord as D, OutcomeRecord as O

        path = Path(path)
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise InputError(f"cannot read memory export {path}: {exc.strerror}",
                             hint="give the path of a file written by `tensor-agent memory export`") from exc
        if not lines:
            raise InputError(f"memory export {path} is empty")
        try:
            head = json.loads(lines[0])
        except ValueError:
            head = {}
        if head.get("format") != _EXPORT_FORMAT:
            raise InputError(f"{path} is not a tensor-agent memory export (line 1 has no format header)",
                             hint="write one with `tensor-agent memory export FILE`")
        if int(head.get("schema_version", 1)) > 1:
            raise InputError(f"{path} was exported by a newer tensor-agent (schema {head['schema_version']})")
        records: list[tuple[Record, Optional[list]]] = []
        for no, line in enumerate(lines[1:], start=2):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                body = dict(row["record"])
                kind = body.pop("kind", row.get("kind"))
                cls = {"design": D, "outcome": O}[kind]
                fields = set(cls.__dataclass_fields__)
                rec = cls(**{k: v for k, v in body.items() if k in fields})
                emb = row.get("embedding")
                if emb is not None and len(emb) != 384:
                    raise ValueError(f"embedding has {len(emb)} values, expected 384")
            except (ValueError, KeyError, TypeError) as exc:
                raise InputError(f"{path}: line {no} is not a memory record ({exc})",
                                 hint="nothing was imported") from exc
            records.append((rec, emb))
        with_emb = [(r, e) for r, e in records if e is not None]
        without = [r for r, e in records if e is None]
        for start in range(0, len(with_emb), 256):
            chunk = with_emb[start:start + 256]
            with self._store.writing() as col:
                col.upsert(ids=[r.id for r, _ in chunk], embeddings=[e for _, e in chunk],
                           documents=[r.document() for r, _ in chunk], metadatas=[r.metadata() for r, _ in chunk])
        self.write(without)
        return len(records)

    def close(self) -> None:
        """Release the store (the last user of a directory in this process closes Chroma)."""
        if not self._closed:
            self._closed = True
            self._store.release()

    def __enter__(self) -> "Memory":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _plan_obj(plan: Any) -> Any:
    """A `Plan` from a Plan or its JSON dict (graph state keeps plans as dicts)."""
    if isinstance(plan, dict):
        from tensor_agent.schema import Plan

        try:
            return Plan.model_validate(plan)
        except Exception:  # noqa: BLE001 - a partial dict: read what we can
            from types import SimpleNamespace

            return SimpleNamespace(constraints=[], constraint=lambda name, default=None: default, **{
                k: plan.get(k) for k in ("text", "modality", "task", "architecture", "intents")})
    return plan


def _turn_defaults(plan: Any, design_rec: Optional[DesignRecord]) -> dict:
    """What an outcome of this turn falls back on when its tool result does not say: the design that
    ran, else the plan (the tool result itself always wins, see `outcome_from`)."""
    requested = getattr(plan, "architecture", None) or ""
    out = {"modality": getattr(plan, "modality", None), "task": getattr(plan, "task", None),
           "family": requested or None, "plan_text": getattr(plan, "text", "") or "", "requested_family": requested}
    data = getattr(plan, "data", None)
    out["dataset"] = (getattr(data, "ref", None) if data is not None else None) or (
        plan.constraint("dataset") if plan is not None and hasattr(plan, "constraint") else None)
    if design_rec is not None:
        out.update({"modality": design_rec.modality, "task": design_rec.task, "family": design_rec.family,
                    "variant": design_rec.variant, "dataset": design_rec.dataset or out.get("dataset")})
    return out


#: Searches a process makes through Chroma before it builds the exact index of a larger store.
LAZY_QUERIES = 2


def _record_of(rid: str, meta: dict, doc: Optional[str]) -> dict:
    """A search hit's record dict (with id and document) from its stored metadata."""
    rec = record_from_metadata(meta or {})
    rec.update(id=rid, document=doc if doc is not None else _document_of(rec))
    return rec


def _document_of(rec: dict) -> Optional[str]:
    """The embedded document of a record dict (what `Memory.write` stored for it)."""
    from .records import DesignRecord as D, OutcomeRecord as O

    cls = {"design": D, "outcome": O}.get(rec.get("kind") or "")
    if cls is None:
        return None
    fields = set(cls.__dataclass_fields__)
    try:
        return cls(**{k: v for k, v in rec.items() if k in fields}).document()
    except (TypeError, ValueError):
        return None


def _looks_like_compression(body: dict) -> bool:
    return any(k in body for k in ("compression_ratio", "size_ratio", "technique", "techniques", "speedup",
                                   "size_mb_before", "size_mb_after"))


def _where(**filters: Any) -> Optional[dict]:
    clauses = [{k: v} for k, v in filters.items() if v]
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def open_memory(settings: Any) -> Memory:
    """Open the memory of `settings`: embedded Chroma under the workspace, or a server when
    `settings.chroma_url` / TENSOR_CHROMA_URL is set.

    Raises:
        InputError: the store is corrupted, unreadable, or from a newer schema (nothing is changed).
        BackendUnavailable: the Chroma server cannot be reached.
    """
    from .sidecar import active

    side = active(settings)  # the CLI opened this store in a second process (memory/sidecar.py)
    return side if side is not None else Memory(Store.open(settings))


__all__ = ["Memory", "open_memory"]
