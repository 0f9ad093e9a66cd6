"""`TensorAgent`: the entry point for chat front-ends, orchestrators and eval harnesses."""

from __future__ import annotations

import os
import sqlite3
import threading
from typing import Any, Optional

from tensor_agent.config import Settings
from tensor_agent.errors import InputError
from tensor_agent.schema import Plan, Result

MAX_MESSAGE_BYTES = 1_000_000 * 4  # hard limit for invoke(); plan() reads a window of any size


def threads_db_error(db, exc: Exception) -> InputError:
    """One clear message for a threads database that cannot be used (nothing is overwritten)."""
    text = str(exc)
    if "readonly" in text or "read-only" in text or not os.access(db, os.W_OK) and os.path.exists(db):
        return InputError(f"the threads database {db} is read-only ({text})",
                          hint="make it (and the workspace) writable, or point TENSOR_HOME at a writable directory")
    return InputError(f"the threads database {db} is corrupt or not a SQLite file ({text})",
                      hint=f"move it aside (mv {db} {db}.bad) to start without the saved conversations; "
                           "nothing was overwritten")


def open_threads_db(db) -> sqlite3.Connection:
    """Open (or create) the conversation database, checking that it is a usable SQLite file first."""
    from pathlib import Path

    db = Path(db)
    if db.exists() and not db.is_file():
        raise InputError(f"the threads database {db} is not a file", hint="move it aside")
    if db.exists() and not os.access(db, os.W_OK):
        raise threads_db_error(db, PermissionError("attempt to write a readonly database"))
    conn = sqlite3.connect(db, check_same_thread=False)
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA quick_check").fetchone()
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise threads_db_error(db, exc) from None
    return conn


class TensorAgent:
    """@TENSOR. `plan(text)` is instant and runs nothing; `invoke(text)` runs the graph.

    Args:
        home: Workspace directory (default: TENSOR_HOME or ~/.tensor-agent). All state lives there.
        progress: Show progress bars for long work.
        remember: Record designs and outcomes in the vector memory.
        **overrides: Settings fields to override (planner="llm", llm_base_url=..., ...).
    """

    def __init__(self, home: Optional[str | os.PathLike] = None, *, progress: bool = False,
                 remember: bool = True, **overrides: Any):
        self.settings = Settings.from_env(home, **overrides)
        from tensor_agent.workspace import prepare_environment  # caches/temp/telemetry under the workspace

        prepare_environment(self.settings.home)
        self.progress = progress
        self.remember = remember
        self._graph = None
        self._conn: Optional[sqlite3.Connection] = None
        self._lock = threading.Lock()

    # --- planning ------------------------------------------------------------------------
    def plan(self, text: str | bytes | None, **options: Any) -> Plan:
        """The plan for `text` (reconciled with `options`), without running any tool.

        Raises:
            InputError: an unknown option key or a value out of range.
        """
        from tensor_agent.contract import resolve
        from tensor_agent.planner import make_plan

        return resolve(make_plan(text, self.settings), options)

    # --- running -------------------------------------------------------------------------
    def _compiled(self):
        with self._lock:
            if self._graph is None:
                from langgraph.checkpoint.sqlite import SqliteSaver

                from tensor_agent.graph import compile_with_checkpointer

                from tensor_agent.tools.core.model_store import clean_orphans
                from tensor_agent.workspace import check_writable

                check_writable(self.settings.home)
                self._conn = open_threads_db(self.settings.home / "threads.sqlite")
                clean_orphans(self.settings.models_dir)  # half-written models of killed processes
                self._graph = compile_with_checkpointer(SqliteSaver(self._conn))
            return self._graph

    def invoke(self, text: str | bytes | None, thread_id: str = "default", **context: Any) -> Result:
        """Run @TENSOR on `text` in conversation `thread_id`.

        Keyword arguments are tool options, e.g. `dataset="digits"`, `data_path=...`,
        `target_column=...`, `epochs=3`, `time_budget_s=60`, `model_path=...`.
        """
        if isinstance(text, (bytes, bytearray)) and len(text) > MAX_MESSAGE_BYTES or \
                isinstance(text, str) and len(text) > MAX_MESSAGE_BYTES:
            raise InputError(f"message too large ({len(text):,} characters; the limit is {MAX_MESSAGE_BYTES:,})")
        from tensor_agent.planner.normalize import decode
        from tensor_agent.state import Context

        message, _ = decode(text)
        ctx = Context(settings=self.settings, options=dict(context), thread_id=str(thread_id),
                      progress=self.progress, remember=self.remember)
        config = {"configurable": {"thread_id": str(thread_id)}, "recursion_limit": 64}
        out = self._compiled().invoke({"text": message}, config=config, context=ctx)
        return Result.model_validate({**out["tensor"], "thread_id": str(thread_id)})  # the graph's output

    def thread_state(self, thread_id: str = "default") -> dict:
        """The persisted state of a conversation thread (artifacts, history, last results)."""
        graph = self._compiled()
        try:
            snap = graph.get_state({"configurable": {"thread_id": str(thread_id)}})
        except sqlite3.DatabaseError as exc:
            raise threads_db_error(self.settings.home / "threads.sqlite", exc) from None
        return dict(snap.values or {})

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._graph = None

    def __enter__(self) -> "TensorAgent":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
