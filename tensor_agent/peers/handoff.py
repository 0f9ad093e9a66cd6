"""LangGraph handoff tools: ``transfer_to_axiom``, ``transfer_to_velocity``, ``transfer_to_prism``, ``transfer_to_eclipse``.

Each tool takes a ``reason`` and returns ``langgraph.types.Command(goto="<PEER>",
update={"handoffs": ["<PEER>"], "handoff_reasons": {"<PEER>": reason}})``, so a graph whose
state has ``handoffs`` (list, appended) and ``handoff_reasons`` (dict, merged) channels
routes to the peer's node (the graph's node or an edge function applies the Command;
tools are called directly with ``tool.invoke({"reason": ...})``).

In a host (langgraph-swarm, langgraph-supervisor, any ToolNode) the runtime LangGraph injects
carries the tool call id; the tool then answers the call with a ToolMessage and returns
``Command(graph=Command.PARENT, goto="<PEER>", update={"messages": [...], "active_agent": "<PEER>", ...})``,
the swarm convention, so the host routes to its agent named after the peer.

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
    from langchain_core.messages import ToolMessage
    from langchain_core.tools import StructuredTool
    from langgraph.prebuilt import ToolRuntime
    from langgraph.types import Command
    from pydantic import BaseModel, Field

    key = normalise_name(peer)
    role = ROLES[key]

    class HandoffArgs(BaseModel):
        reason: str = Field(description=f"Why @{key} ({role}) should take over: what to answer, in one sentence.")

    HandoffArgs.__name__ = f"TransferTo{key.capitalize()}Args"

    tool_name = f"transfer_to_{key.lower()}"

    def transfer(reason: str, runtime: ToolRuntime = None) -> Command:  # type: ignore[assignment]
        reason = (reason or "").strip() or f"consult @{key} on {role}"
        update: dict[str, Any] = {"handoffs": [key], "handoff_reasons": {key: reason}}
        call_id = getattr(runtime, "tool_call_id", None)
        if not call_id:  # called directly (the @TENSOR graph's handoff node): route in this graph
            return Command(goto=key, update=update)
        # called by a host's ToolNode (swarm / supervisor agent): answer the tool call and route in the parent
        state = getattr(runtime, "state", None) or {}
        done = ToolMessage(content=f"Successfully transferred to {key}: {reason}", name=tool_name, tool_call_id=call_id)
        messages = list(state.get("messages", []) if isinstance(state, dict) else []) + [done]
        return Command(goto=key, graph=Command.PARENT, update={**update, "messages": messages, "active_agent": key})

    # real types (not strings): LangGraph's ToolNode sees `runtime` and injects it; the model never sees it
    transfer.__annotations__ = {"reason": str, "runtime": ToolRuntime, "return": Command}
    return StructuredTool.from_function(
        func=transfer,
        name=tool_name,
        description=f"Hand off to @{key}, the {role} agent. Use when the request needs {role}.",
        args_schema=HandoffArgs,
    )


def handoff_tools() -> dict[str, Any]:
    """``{"AXIOM": transfer_to_axiom, "ECLIPSE": ..., "PRISM": ..., "VELOCITY": ...}`` (built once)."""
    if not _CACHE:
        from tensor_agent.catalogue import PEERS

        for key in PEERS:
            _CACHE[key] = make_handoff_tool(key)
    return dict(_CACHE)


def __getattr__(name: str) -> Any:  # PEP 562: HANDOFF_TOOLS is built lazily
    if name == "HANDOFF_TOOLS":
        return handoff_tools()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
