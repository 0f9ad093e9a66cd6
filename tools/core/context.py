"""What every tool receives and hands on: the run context and the model handle.

A tool is `fn(plan: Plan, ctx: ToolContext) -> pydantic.BaseModel`. It reads the user's
options from `ctx.options`, finds the model of the conversation through `ctx.current_model()`
and publishes what later tools (or later turns of the same thread) need with
`ctx.set_model(...)` / `ctx.artifacts[...]`. Nothing heavy is imported here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from tensor_agent.config import Settings


@dataclass
class ModelHandle:
    """A built (and maybe trained) model plus what is needed to feed and judge it."""

    module: Any = field(metadata={"description": "torch.nn.Module, xgboost booster/sklearn model, ..."})
    family: str = field(metadata={"description": "Registry family name, e.g. cnn, bert, xgboost."})
    kind: str = field(default="torch", metadata={"description": "torch | xgboost | sklearn"})
    task: str = field(default="classification", metadata={"description": "classification, regression, "
                                                                         "generation, seq2seq, node_classification, denoising"})
    input_spec: dict = field(default_factory=dict, metadata={"description": "shape/dtype/vocab of one input batch"})
    num_classes: Optional[int] = field(default=None, metadata={"description": "Output classes, if a classifier."})
    dataset: Optional[str] = field(default=None, metadata={"description": "Dataset it was trained on."})
    metrics: dict = field(default_factory=dict, metadata={"description": "Held-out metrics, e.g. accuracy."})
    mlflow_run_id: Optional[str] = field(default=None, metadata={"description": "MLflow run that produced it."})
    path: Optional[str] = field(default=None, metadata={"description": "Saved model directory, if saved."})
    extra: dict = field(default_factory=dict, metadata={"description": "Anything else (tokenizer name, design id)."})


def json_safe(obj: Any) -> Any:
    """`obj` as plain JSON types (dict keys as strings; anything unknown as its str())."""
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    return str(obj)


# In-process objects per (workspace, thread) (built modules cannot live in the JSON checkpoint).
# Keyed by the resolved workspace too: two agents on different workspaces that use the same thread id
# must never see each other's model.
_SESSIONS: dict[tuple[str, str], dict[str, Any]] = {}
_LOCK = threading.Lock()


def _workspace_key(workspace: Any) -> str:
    if workspace is None:
        return ""
    home = getattr(workspace, "home", workspace)  # a Settings or a path
    try:
        return str(Path(home).expanduser().resolve())
    except (OSError, RuntimeError, TypeError):
        return str(home)


def session(thread_id: str, workspace: Any = None) -> dict[str, Any]:
    """The in-process object store of one conversation thread of one workspace.

    Args:
        thread_id: the conversation thread.
        workspace: the workspace (a `Settings` or its home path); sessions of different workspaces are apart.
    """
    key = (_workspace_key(workspace), str(thread_id))
    with _LOCK:
        return _SESSIONS.setdefault(key, {})


@dataclass
class ToolContext:
    """Runtime-only arguments of a tool (hidden from the LLM: InjectedToolArg)."""

    settings: Settings
    thread_id: str = "default"
    options: dict[str, Any] = field(default_factory=dict)
    artifacts: dict[str, Any] = field(default_factory=dict)  # JSON-safe, persisted with the thread
    progress: bool = True
    results: dict[str, Any] = field(default_factory=dict)  # outputs of tools that already ran this turn
    log: Callable[[str], None] = print

    @property
    def session(self) -> dict[str, Any]:
        return session(self.thread_id, self.settings)

    @property
    def memory(self):
        """The vector memory (lazy; None if it cannot be opened)."""
        if "memory" not in self.session:
            from tensor_agent.memory import open_memory  # heavy (chromadb): load late

            self.session["memory"] = open_memory(self.settings)
        return self.session["memory"]

    # --- the conversation's current model -------------------------------------------
    def set_model(self, handle: ModelHandle) -> None:
        """Make `handle` the current model of this thread (in process, and by path across processes)."""
        self.session["model"] = handle
        self.artifacts["model"] = {
            "family": handle.family, "kind": handle.kind, "task": handle.task, "path": handle.path,
            "dataset": handle.dataset, "metrics": handle.metrics, "mlflow_run_id": handle.mlflow_run_id,
            "num_classes": handle.num_classes,
        }

    def current_model(self) -> Optional[ModelHandle]:
        """The model of this conversation: in-process first, then the saved one named in the thread."""
        handle = self.session.get("model")
        if handle is not None:
            return handle
        ref = self.artifacts.get("model") or {}
        if ref.get("path") and Path(ref["path"]).exists():
            from tensor_agent.tools.core.model_store import load_model  # torch: load late

            handle = load_model(ref["path"], workspace=self.settings.home)
            self.session["model"] = handle
            return handle
        return None
