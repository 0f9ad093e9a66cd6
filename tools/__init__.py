"""@TENSOR's tools, installed as `tensor_agent.tools`.

Each tool is `fn(plan, ctx) -> pydantic model`; they are looked up by name and imported only
when they run (torch and friends load late). `tensor_agent.tools.lc` wraps them as
langchain-core tools for LLM tool calling.
"""

from __future__ import annotations

from importlib import import_module
from typing import Callable

from tensor_agent.errors import InputError

from tensor_agent.catalogue import TOOLS

#: tool name -> "module:function", in the order the graph runs them (from the catalogue).
TOOL_ENTRYPOINTS: dict[str, str] = {name: spec.entrypoint for name, spec in TOOLS.items()}


def get_tool(name: str) -> Callable:
    """The tool function called `name` (imported on first use)."""
    try:
        module, attr = TOOL_ENTRYPOINTS[name].split(":")
    except KeyError:
        raise InputError(f"unknown tool '{name}' (known: {', '.join(TOOL_ENTRYPOINTS)})") from None
    return getattr(import_module(module), attr)
