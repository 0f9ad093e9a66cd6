"""The thread's model lineage: the float parent, every compression step and every export.

Kept in ``ctx.artifacts["lineage"]`` (JSON, persisted with the thread) as a list of nodes::

    {"id": 0, "step": "train", "path": ".../models/cnn-digits-...", "quantized": false, ...}
    {"id": 1, "step": "onnx_int8", "parent": 0, "float_parent": 0, "quantized": true,
     "backend": "onnxruntime-int8-static", "speedup": {"value": 4.6, "low": 4.3, "high": 4.9},
     "vs": 0, "size_bytes": ..., "metrics": {...}, "path": ".../models/cnn-onnx_int8-..."}
    {"id": 2, "step": "export", "parent": 1, "format": "onnx", "files": {...}, "delivered": true}

The current model stays ``ctx.set_model(...)``; a node is current when its path is the model's.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from tensor_agent.tools.compress.techniques import QUANTIZERS

KEY = "lineage"


def nodes(ctx) -> list[dict]:
    return list(ctx.artifacts.get(KEY) or [])


def _save(ctx, items: list[dict]) -> None:
    ctx.artifacts[KEY] = items


def get(ctx, node_id: Optional[int]) -> Optional[dict]:
    for n in nodes(ctx):
        if n.get("id") == node_id:
            return n
    return None


def current(ctx) -> Optional[dict]:
    """The node of the conversation's current model (by path), if the lineage knows it."""
    path = (ctx.artifacts.get("model") or {}).get("path")
    models = [n for n in nodes(ctx) if n.get("step") != "export"]
    for n in reversed(models):
        if path and n.get("path") == path:
            return n
    return None


def add(ctx, **fields: Any) -> dict:
    items = nodes(ctx)
    node = {"id": len(items), "at": time.strftime("%Y-%m-%dT%H:%M:%S"), **fields}
    items.append(node)
    _save(ctx, items)
    return node


def ensure_root(ctx, handle) -> dict:
    """The node of `handle` (the model about to be compressed); a root node when the lineage lacks it."""
    for n in reversed(nodes(ctx)):
        if handle.path and n.get("path") == handle.path and n.get("step") != "export":
            return n
    extra = handle.extra or {}
    quantized = handle.kind == "onnx" or handle.kind == "torch-recipe" or bool(extra.get("compression"))
    return add(ctx, step="train" if handle.mlflow_run_id or handle.dataset else "load", parent=None,
               float_parent=None, quantized=quantized, family=handle.family, kind=handle.kind,
               path=handle.path, dataset=handle.dataset, metrics=dict(handle.metrics or {}),
               backend=extra.get("backend", "torch-fp32"), mlflow_run_id=handle.mlflow_run_id)


def float_parent(ctx, node: dict) -> Optional[dict]:
    """The nearest float (not quantized) model this node derives from, itself if it is float."""
    seen = set()
    while node is not None and node.get("id") not in seen:
        seen.add(node.get("id"))
        if not node.get("quantized"):
            return node
        node = get(ctx, node.get("float_parent", node.get("parent")))
    return None


def quantizer_of(node: dict) -> Optional[str]:
    """The quantization technique that made this node (the last one in its steps)."""
    for t in reversed(node.get("steps") or [node.get("step")]):
        if t in QUANTIZERS:
            return t
    return None


def chain(ctx, node: Optional[dict]) -> list[dict]:
    """The node and its ancestors, root first."""
    out, seen = [], set()
    while node is not None and node.get("id") not in seen:
        seen.add(node.get("id"))
        out.append(node)
        node = get(ctx, node.get("parent"))
    return out[::-1]


def update(ctx, node_id: int, **fields: Any) -> None:
    """Fill fields of a node that are still missing (measurements of a root node)."""
    items = nodes(ctx)
    for n in items:
        if n.get("id") == node_id:
            for k, v in fields.items():
                if n.get(k) is None:
                    n[k] = v
    _save(ctx, items)
