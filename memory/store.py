"""The Chroma back-end of the memory: an embedded store under the workspace, or a Chroma server.

Embedded Chroma keeps its vector index in process memory, so two processes writing the same
directory would each index only their own records and overwrite each other's index files.
`Store` makes the embedded store safe for several processes:

* every write holds an exclusive `fcntl.flock` on `<memory_dir>/.lock`, every read a shared one
  (exclusive when it has to reopen the client, since opening loads the index from disk);
* a generation counter (`<memory_dir>/.generation`) is bumped by each writer *before* it writes;
* a process whose last-seen generation differs from the file reopens its Chroma client before
  reading or writing, so it never reads a stale index and never writes from one.

Chroma itself commits each write in SQLite (its write-ahead log) before indexing it, so a writer
killed mid-write leaves every committed record readable. A Chroma server (`HttpClient`) is one
process and does its own locking; there the file lock is not used.

Bad stores are reported, never repaired: a corrupted or unreadable directory, a store written by a
newer schema, or an unreachable server raise `InputError` / `BackendUnavailable` and no file is
touched.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Iterator, Optional
from urllib.parse import urlparse

from tensor_agent.errors import BackendUnavailable, InputError

#: Version of the record layout. A store written by a newer version is refused, never rewritten.
SCHEMA_VERSION = 1
#: Chroma collection holding every design and outcome record.
COLLECTION = "tensor_memory"
SCHEMA_FILE = "tensor_memory.json"
LOCK_FILE = ".lock"
GENERATION_FILE = ".generation"
_SQLITE_MAGIC = b"SQLite format 3\x00"


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def import_chromadb() -> Any:
    """`import chromadb` (heavy: load late), without jsonschema's optional IRI format checker.

    chromadb imports jsonschema, which imports `rfc3987_syntax` when it is installed (neptune-client and
    `jsonschema[format]` bring it); that module builds an Earley grammar at import: 2-5 s of CPU on
    every cold memory open, for a format chromadb never checks. It is blocked only while jsonschema is
    first imported; a later `import rfc3987_syntax` elsewhere works as usual.
    """
    import sys

    if "jsonschema" not in sys.modules and "rfc3987_syntax" not in sys.modules:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # -> ImportError, which jsonschema skips
        try:
            import jsonschema  # noqa: F401
        finally:
            del sys.modules["rfc3987_syntax"]
    import chromadb

    return chromadb


def memory_path(settings: Any) -> Path:
    """The embedded store directory of a workspace (not created here)."""
    return Path(settings.home) / "memory"


class Store:
    """One Chroma collection, guarded for multi-process use when embedded.

    Use `Store.open(settings)`; within one process all users of a directory share one `Store`.
    """

    _SHARED: dict[str, "Store"] = {}
    _SHARED_LOCK = threading.Lock()

    def __init__(self, *, path: Optional[Path] = None, url: Optional[str] = None):
        self.path = path
        self.url = url
        self.mode = "http" if url else "embedded"
        self._client: Any = None
        self._collection: Any = None
        self._generation: Optional[int] = None
        self._rlock = threading.RLock()
        self._lock_fd: Optional[int] = None
        self._refs = 0
        self.exact: Any = None  # the ExactIndex cache of this store's vectors (memory/index.py), if built

    # ------------------------------------------------------------------ opening
    @classmethod
    def open(cls, settings: Any) -> "Store":
        """The store of `settings`: a server when `settings.chroma_url` (TENSOR_CHROMA_URL) is set."""
        url = getattr(settings, "chroma_url", None) or os.environ.get("TENSOR_CHROMA_URL") or None
        key = f"http:{url}" if url else f"dir:{memory_path(settings).resolve()}"
        with cls._SHARED_LOCK:
            store = cls._SHARED.get(key)
            if store is None:
                store = cls(url=url) if url else cls(path=memory_path(settings).resolve())
                try:
                    store._connect()
                except BaseException:
                    store._close_client()
                    if store._lock_fd is not None:
                        os.close(store._lock_fd)
                    raise
                cls._SHARED[key] = store
            store._refs += 1
            return store

    def release(self) -> None:
        """Drop one user; the last one closes the client and the lock file."""
        with Store._SHARED_LOCK:
            self._refs -= 1
            if self._refs > 0:
                return
            for key, value in list(Store._SHARED.items()):
                if value is self:
                    del Store._SHARED[key]
        self._close_client()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _connect(self) -> None:
        if self.mode == "http":
            self._connect_http()
        else:
            self._check_dir()
            self._lock_fd = os.open(self.path / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
            with self._flock(fcntl.LOCK_EX):
                self._check_schema_file(create=False)
                self._check_sqlite()
                self._check_schema_file(create=True)  # only once the store is known to be sound
                self._generation = self._read_generation()
                self._open_embedded()

    # --- embedded -------------------------------------------------------------
    def _check_dir(self) -> None:
        path = self.path
        assert path is not None
        if path.exists() and not path.is_dir():
            raise InputError(f"memory store {path} is not a directory",
                             hint="move the file away or set TENSOR_HOME to another workspace")
        if not path.exists():
            try:
                path.mkdir(parents=True)
            except OSError as exc:
                raise InputError(f"cannot create memory store directory {path}: {exc.strerror}",
                                 hint="check the permissions of TENSOR_HOME") from exc
        if not os.access(path, os.R_OK | os.W_OK | os.X_OK):
            raise InputError(f"memory store {path} is not readable and writable by this user",
                             hint="fix its permissions (chmod u+rwx) or use another TENSOR_HOME")
        for name in (SCHEMA_FILE, "chroma.sqlite3"):
            f = path / name
            if f.exists() and not os.access(f, os.R_OK | os.W_OK):
                raise InputError(f"memory store file {f} is not readable and writable",
                                 hint="fix its permissions or use another TENSOR_HOME")

    def _check_schema_file(self, *, create: bool) -> None:
        assert self.path is not None
        f = self.path / SCHEMA_FILE
        if f.exists():
            try:
                info = json.loads(f.read_text())
                version = int(info["schema_version"])
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise InputError(f"memory store {self.path} is corrupted: {f.name} is unreadable ({exc})",
                                 hint="restore it from a backup (`tensor-agent memory import`) or move "
                                      "the directory away; nothing was changed") from exc
            _check_version(version, where=str(self.path))
            return
        if create:
            tmp = f.with_suffix(".json.tmp")
            tmp.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "collection": COLLECTION,
                                       "embedding_model": "all-MiniLM-L6-v2",
                                       "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
            os.replace(tmp, f)

    def _check_sqlite(self) -> None:
        assert self.path is not None
        db = self.path / "chroma.sqlite3"
        if not db.exists():
            return
        hint = ("move the directory away (or restore a backup with `tensor-agent memory import`); "
                "nothing was changed")
        try:
            with open(db, "rb") as fh:
                head = fh.read(16)
        except OSError as exc:
            raise InputError(f"memory store {db} is unreadable: {exc.strerror}", hint=hint) from exc
        if db.stat().st_size and head != _SQLITE_MAGIC:
            raise InputError(f"memory store {self.path} is corrupted: {db.name} is not a SQLite database",
                             hint=hint)
        try:
            con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
            try:
                con.execute("select count(*) from sqlite_master").fetchone()
                con.execute("pragma quick_check(1)").fetchone()
            finally:
                con.close()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"memory store {self.path} is corrupted: {db.name}: {exc}", hint=hint) from exc

    def _open_embedded(self) -> None:
        chromadb = import_chromadb()

        try:
            self._client = chromadb.PersistentClient(path=str(self.path), settings=_chroma_settings())
            self._collection = self._client.get_or_create_collection(
                COLLECTION, embedding_function=None,
                metadata=_collection_metadata())
        except Exception as exc:  # chromadb raises many kinds; all mean "this store cannot be used"
            self._close_client()
            raise InputError(f"memory store {self.path} cannot be opened: {exc}",
                             hint="move the directory away or restore a backup; nothing was changed") from exc
        meta = self._collection.metadata or {}
        _check_version(int(meta.get("tensor_schema", SCHEMA_VERSION)), where=str(self.path))

    def _close_client(self) -> None:
        client, self._client, self._collection = self._client, None, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.close()

    def _read_generation(self) -> int:
        assert self.path is not None
        try:
            return int((self.path / GENERATION_FILE).read_text() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _bump_generation(self) -> None:
        assert self.path is not None
        gen = self._read_generation() + 1
        tmp = self.path / (GENERATION_FILE + f".{os.getpid()}")
        tmp.write_text(str(gen))
        os.replace(tmp, self.path / GENERATION_FILE)
        self._generation = gen

    @contextlib.contextmanager
    def _flock(self, kind: int) -> Iterator[None]:
        assert self._lock_fd is not None
        fcntl.flock(self._lock_fd, kind)
        try:
            yield
        finally:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    def _stale(self) -> bool:
        return self._collection is None or self._read_generation() != self._generation

    def _refresh(self) -> None:
        """Reopen the client when another process wrote since we last looked."""
        gen = self._read_generation()
        if gen != self._generation or self._collection is None:
            self._close_client()
            self._open_embedded()
            self._generation = gen

    # --- server ---------------------------------------------------------------
    def _connect_http(self) -> None:
        chromadb = import_chromadb()

        parsed = urlparse(self.url if "://" in str(self.url) else f"http://{self.url}")
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise InputError(f"TENSOR_CHROMA_URL {self.url!r} is not an http(s)://host:port URL",
                             hint="e.g. http://127.0.0.1:8000")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        try:
            self._client = chromadb.HttpClient(host=parsed.hostname, port=port, ssl=parsed.scheme == "https",
                                               settings=_chroma_settings())
            self._client.heartbeat()
        except Exception as exc:
            self._client = None
            raise BackendUnavailable(f"Chroma server at {self.url} is unreachable: {type(exc).__name__}",
                                     hint="start it with `chroma run --path DIR --port N` or unset "
                                          "TENSOR_CHROMA_URL to use the embedded store") from exc
        try:
            self._collection = self._client.get_or_create_collection(
                COLLECTION, embedding_function=None,
                metadata=_collection_metadata())
        except Exception as exc:
            raise BackendUnavailable(f"Chroma server at {self.url} refused the memory collection: {exc}") from exc
        meta = self._collection.metadata or {}
        _check_version(int(meta.get("tensor_schema", SCHEMA_VERSION)), where=str(self.url))

    # ------------------------------------------------------------------ access
    def _check_open(self) -> None:
        if self._refs <= 0 or (self.mode == "embedded" and self._lock_fd is None):
            raise InputError("the memory was closed", hint="open it again with open_memory(settings)")

    @contextlib.contextmanager
    def _server_errors(self) -> Iterator[None]:
        try:
            yield
        except (InputError, BackendUnavailable):
            raise
        except Exception as exc:
            if self.mode == "http" and _is_connection_error(exc):
                raise BackendUnavailable(f"Chroma server at {self.url} is unreachable: {type(exc).__name__}",
                                         hint="is `chroma run` still running?") from exc
            raise

    @contextlib.contextmanager
    def reading(self) -> Iterator[Any]:
        """The collection, up to date, under a shared lock."""
        self._check_open()
        with self._rlock, self._server_errors():
            if self.mode == "http":
                yield self._collection
                return
            assert self._lock_fd is not None
            fcntl.flock(self._lock_fd, fcntl.LOCK_SH)
            try:
                if self._stale():
                    # reopening loads the index from disk: do it alone, as a writer would
                    fcntl.flock(self._lock_fd, fcntl.LOCK_EX)
                    self._refresh()
                yield self._collection
            finally:
                fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def writing(self) -> Iterator[Any]:
        """The collection, up to date, under the exclusive lock (one writer across processes)."""
        self._check_open()
        with self._rlock, self._server_errors():
            if self.mode == "http":
                yield self._collection
                return
            with self._flock(fcntl.LOCK_EX):
                self._refresh()
                self._bump_generation()  # before writing: a reader after a crash reopens, too
                yield self._collection

    def call(self, fn_name: str, *args: Any, write: bool = False, **kwargs: Any) -> Any:
        """Run one collection method under the right lock (server errors become BackendUnavailable)."""
        with (self.writing() if write else self.reading()) as col:
            return getattr(col, fn_name)(*args, **kwargs)

    def generation(self) -> Optional[int]:
        """The store's write generation (bumped by every writer in any process); None for a server."""
        return None if self.mode == "http" else self._read_generation()

    @property
    def written_generation(self) -> Optional[int]:
        """The generation this process's last write (or refresh) saw."""
        return self._generation

    def describe(self) -> str:
        return f"Chroma server {self.url}" if self.mode == "http" else f"embedded Chroma at {self.path}"


#: HNSW settings of new collections. With Chroma's defaults (M 16, search ef 10) recall@10 at 10k
#: records was 0.88; short free-text queries land far from the stored documents and need a wider
#: search: M 32 / ef 256 measured recall@10 0.99 at ~1 ms per query (evals/bench_memory.py).
HNSW = {"hnsw:space": "cosine", "hnsw:search_ef": 256, "hnsw:construction_ef": 256, "hnsw:M": 32}


def _collection_metadata() -> dict:
    return {**HNSW, "tensor_schema": SCHEMA_VERSION}


def _check_version(version: int, *, where: str) -> None:
    if version > SCHEMA_VERSION:
        raise InputError(
            f"memory store {where} was written by a newer tensor-agent (schema {version}, this one reads "
            f"up to {SCHEMA_VERSION})", hint="upgrade tensor-agent; the store was left untouched")


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    return bool(names & {"ConnectError", "ConnectionError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError",
                         "ConnectionRefusedError", "ReadError"})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = 0
    cur: Optional[BaseException] = exc
    while cur is not None and seen < 10:
        yield cur
        cur = cur.__cause__ or cur.__context__
        seen += 1
