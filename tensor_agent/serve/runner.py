"""Run @TENSOR's graph for a server: one SQLite-checkpointed graph, one run at a time per thread, progress events.

Used by `tensor-agent serve` (OpenAI-compatible chat) and `tensor-agent mcp` (the `ask` tool). The thread
id is the conversation: its model and history are its own (two threads never share a model).
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Optional

from tensor_agent.schema import Result

ProgressFn = Callable[[dict], None]


class GraphRunner:
    """Answers messages in threads with the checkpointed graph of a TensorAgent workspace.

    Args:
        home: Workspace (default: TENSOR_HOME).
        remember: Record designs and outcomes in the vector memory.
    """

    def __init__(self, home: Optional[str] = None, *, remember: bool = True):
        from tensor_agent.agent import TensorAgent

        self.agent = TensorAgent(home, progress=False, remember=remember)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @property
    def settings(self):
        return self.agent.settings

    def _lock(self, thread_id: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(thread_id, threading.Lock())

    def run(self, request: str, thread_id: str, *, options: Optional[dict] = None,
            on_progress: Optional[ProgressFn] = None, addressed: bool = True) -> Result:
        """Answer `request` in `thread_id`. A request routed here by a server counts as addressed to @TENSOR.

        Raises:
            InputError: empty or too large request, unknown option (exit 2).
        """
        from tensor_agent.agent import MAX_MESSAGE_BYTES
        from tensor_agent.errors import InputError
        from tensor_agent.state import Context

        text = (request or "").strip()
        if not text:
            raise InputError("the message is empty", hint="say what to do, e.g. 'design a CNN for 8x8 digits'")
        if len(text) > MAX_MESSAGE_BYTES:
            raise InputError(f"message too large ({len(text):,} characters; the limit is {MAX_MESSAGE_BYTES:,})")
        if addressed and "@tensor" not in text.lower():
            text = f"@TENSOR {text}"
        ctx = Context(settings=self.settings, options=dict(options or {}), thread_id=thread_id,
                      remember=self.agent.remember)
        config = {"configurable": {"thread_id": thread_id}, "recursion_limit": 64}
        tensor: Optional[dict] = None
        with self._lock(thread_id):
            for mode, chunk in self.agent._compiled().stream({"text": text}, config=config, context=ctx,
                                                             stream_mode=["custom", "updates"]):
                if mode == "custom" and on_progress is not None and isinstance(chunk, dict):
                    on_progress(chunk)
                elif mode == "updates" and isinstance(chunk, dict) and "respond" in chunk:
                    tensor = (chunk["respond"] or {}).get("tensor")
        if tensor is None:  # pragma: no cover - the graph always ends in respond
            raise RuntimeError("the graph ended without an answer")
        return Result.model_validate({**tensor, "thread_id": thread_id})

    def close(self) -> None:
        self.agent.close()


def describe_progress(event: dict) -> str:
    """One line for a progress event of the graph (node start/done, training epochs)."""
    node = event.get("node") or event.get("stage") or "work"
    if "epoch" in event and event.get("epochs"):
        extra = ", ".join(f"{k}={v:.4g}" for k, v in event.items()
                          if k in ("train_loss", "val_loss", "val_accuracy") and isinstance(v, (int, float)))
        return f"{node}: epoch {event['epoch']}/{event['epochs']}" + (f" ({extra})" if extra else "")
    status = event.get("status", "")
    return f"{node}: {status}" + (f" in {event['wall_s']}s" if event.get("wall_s") is not None else "")
