"""LangGraph handoff tools: ``transfer_to_axiom``, ``transfer_to_velocity``, ``transfer_to_prism``, ``transfer_to_eclipse``.

Each tool takes a ``reason`` and returns ``langgraph.types.Command(goto="<PEER>",
update={"handoffs": ["<PEER>"], "handoff_reasons": {"<PEER>": reason}})``, so a graph whose
state has ``handoffs`` (list, appended) and ``handoff_reasons`` (dict, merged) channels
routes to the peer's node (the graph's node or an edge function applies the Command;
tools are called directly with ``tool.invoke({"reason": ...})``).

langgraph / langchain-core are imported inside :func:`handoff_tools` only;
``HANDOFF_TOOLS`` is built on first attribute access.
"""

from __future__ import annotations

from typing import Any

from tensor_agent.peers.registry import ROLES, normalise_name

_CACHE: dict[str, Any] = {}


def make_handoff_tool(peer: str):
    """Build the ``transfer_to_<peer>`` tool (a langchain-core StructuredTool).

    Args:
        peer: Peer name (any case).

    Returns:
        A tool whose ``invoke({"reason": ...})`` returns a ``langgraph.types.Command``.
    """
    from langchain_core.tools import StructuredTool
    from langgraph.types import Command
    from pydantic import BaseModel, Field

    key = normalise_name(peer)
    role = ROLES[key]

    class HandoffArgs(BaseModel):
        reason: str = Field(description=f"Why @{key} ({role}) should take over: what to answer, in one sentence.")

    HandoffArgs.__name__ = f"TransferTo{key.capitalize()}Args"

    def transfer(reason: str) -> Command:
        reason = (reason or "").strip() or f"consult @{key} on {role}"
        return Command(goto=key, update={"handoffs": [key], "handoff_reasons": {key: reason}})

    return StructuredTool.from_function(
        func=transfer,
        name=f"transfer_to_{key.lower()}",
        description=f"Hand off to @{key}, the {role} agent. Use when the request needs {role}.",
        args_schema=HandoffArgs,
    )


def handoff_tools() -> dict[str, Any]:
    """``{"AXIOM": transfer_to_axiom, "ECLIPSE": ..., "PRISM": ..., "VELOCITY": ...}`` (built once)."""
    if not _CACHE:
        for key in ("AXIOM", "ECLIPSE", "PRISM", "VELOCITY"):
            _CACHE[key] = make_handoff_tool(key)
    return dict(_CACHE)


def __getattr__(name: str) -> Any:  # PEP 562: HANDOFF_TOOLS is built lazily
    if name == "HANDOFF_TOOLS":
        return handoff_tools()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
