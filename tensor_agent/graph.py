"""The @TENSOR graph: parse -> recall -> route -> tools / peer handoffs -> remember -> respond.

Reads top to bottom like the LangGraph react-agent template: small nodes `(state, runtime)`,
routers returning `Literal[...]`, and `graph = builder.compile(name=...)` at the bottom
(listed in langgraph.json). `TensorAgent` compiles the same builder with a SQLite checkpointer
so conversations persist per thread.
"""

from __future__ import annotations

import time
from typing import Any, Literal

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command

from tensor_agent.errors import TensorError
from tensor_agent.planner import make_plan
from tensor_agent.respond import compose_message
from tensor_agent.schema import Plan
from tensor_agent.state import Context, State

TOOL_NODES = ("estimate_data", "design_architecture", "train_model", "compress_model")
PEER_NODES = ("AXIOM", "ECLIPSE", "PRISM", "VELOCITY")
Next = Literal["estimate_data", "design_architecture", "train_model", "compress_model", "handoff", "remember"]


def _plan(state: State) -> Plan:
    return Plan.model_validate(state["plan"])


def _tool_context(state: State, runtime: Runtime[Context]):
    from tensor_agent.tools.core.context import ToolContext

    ctx = runtime.context
    return ToolContext(settings=ctx.settings, thread_id=ctx.thread_id, options=dict(ctx.options),
                       artifacts=dict(state.get("artifacts") or {}), progress=ctx.progress,
                       results=dict(state.get("results") or {}))


def _describe_failure(exc: BaseException) -> str:
    if isinstance(exc, TensorError):
        return str(exc)
    return f"internal error ({type(exc).__name__}): {exc}"


def _failure(name: str, exc: BaseException) -> dict:
    """State update for a failed tool/peer: the message and its documented exit code."""
    code = exc.exit_code if isinstance(exc, TensorError) else 1
    return {"errors": {name: _describe_failure(exc)}, "codes": {name: code}}


# --- nodes ---------------------------------------------------------------------------------
def parse(state: State, runtime: Runtime[Context]) -> dict:
    """Turn the message into a plan; reset the per-turn fields."""
    from tensor_agent.contract import resolve

    plan = resolve(make_plan(state.get("text", ""), runtime.context.settings), runtime.context.options)
    return {"plan": plan.model_dump(mode="json"), "pending": list(plan.tools), "peer_queue": list(plan.peers),
            "results": None, "errors": None, "codes": None, "peers": None, "handoff_reasons": None, "recall": {}, "message": ""}


def recall(state: State, runtime: Runtime[Context]) -> dict:
    """Ask the vector memory what worked before (only for recall requests: memory is slow to open)."""
    plan = _plan(state)
    if "recall" not in plan.intents:
        return {}
    try:
        from tensor_agent.memory import open_memory

        return {"recall": open_memory(runtime.context.settings).recall(plan)}
    except Exception as exc:  # noqa: BLE001 - a memory failure must not sink the turn
        return {"recall": {}, "errors": {"memory": _describe_failure(exc)}}


def route(state: State) -> Next:
    """Next tool in order, then the peer handoffs, then memory."""
    if state.get("pending"):
        return state["pending"][0]  # type: ignore[return-value]
    if state.get("peer_queue"):
        return "handoff"
    return "remember"


def _run_tool(name: str, state: State, runtime: Runtime[Context]) -> dict:
    from tensor_agent.tools import get_tool

    ctx = _tool_context(state, runtime)
    rest = [t for t in state.get("pending", []) if t != name]
    started = time.perf_counter()
    try:
        out = get_tool(name)(_plan(state), ctx)
        payload = out.model_dump(mode="json") if hasattr(out, "model_dump") else out
        if isinstance(payload, dict):
            payload.setdefault("wall_s", round(time.perf_counter() - started, 3))
        return {"results": {name: payload}, "pending": rest, "artifacts": ctx.artifacts}
    except Exception as exc:  # noqa: BLE001 - every failure becomes a clear message in the result
        return {**_failure(name, exc), "pending": rest, "artifacts": ctx.artifacts}


def tool_node(name: str):
    """The graph node that runs tool `name` (one per tool, same behaviour)."""

    def node(state: State, runtime: Runtime[Context]) -> dict:
        return _run_tool(name, state, runtime)

    node.__name__ = node.__qualname__ = name
    return node


def handoff(state: State, runtime: Runtime[Context]) -> Command:
    """Hand off to the next peer with its `transfer_to_<peer>` tool (langgraph-swarm style)."""
    from tensor_agent.peers.handoff import handoff_tools

    peer, rest = state["peer_queue"][0], state["peer_queue"][1:]
    reason = f"@TENSOR consults @{peer} on: {(state.get('text') or '')[:200]}"
    command: Command = handoff_tools()[peer].invoke({"reason": reason})
    update = dict(command.update or {})
    update["peer_queue"] = rest
    return Command(goto=command.goto, update=update)


def _run_peer(name: str, state: State, runtime: Runtime[Context]) -> dict:
    from tensor_agent.peers import get_peer

    context = {"results": state.get("results") or {}, "artifacts": state.get("artifacts") or {},
               "options": runtime.context.options, "reason": (state.get("handoff_reasons") or {}).get(name)}
    try:
        reply = get_peer(name, runtime.context.settings)(_plan(state), context)
        payload = reply.model_dump(mode="json") if hasattr(reply, "model_dump") else reply
        return {"peers": {name: payload}}
    except Exception as exc:  # noqa: BLE001
        return _failure(name, exc)


def peer_node(name: str):
    """The graph node of peer `name`: asks the registered agent (stand-in or host replacement)."""

    def node(state: State, runtime: Runtime[Context]) -> dict:
        return _run_peer(name, state, runtime)

    node.__name__ = node.__qualname__ = name.lower()
    return node


def remember(state: State, runtime: Runtime[Context]) -> dict:
    """Record designs and experiment outcomes of this turn in the vector memory."""
    results = state.get("results") or {}
    attempted = set(results) | set(state.get("errors") or {})
    if not runtime.context.remember or not ({"design_architecture", "train_model", "compress_model"} & attempted):
        return {}
    try:
        from tensor_agent.memory import open_memory

        ids = open_memory(runtime.context.settings).remember_turn(_plan(state), results, errors=state.get("errors") or {})
        return {"artifacts": {"memory_ids": ids}}
    except Exception as exc:  # noqa: BLE001 - memory problems are reported, the answer still goes out
        return {"errors": {"memory": _describe_failure(exc)}}


def respond(state: State) -> dict:
    """Write the readable answer and close the turn."""
    message = compose_message(state)
    plan = state.get("plan") or {}
    turn = {"text": (state.get("text") or "")[:500], "intents": plan.get("intents", []),
            "tools": sorted((state.get("results") or {}).keys()), "errors": sorted((state.get("errors") or {}).keys())}
    return {"message": message, "history": [turn]}


def after_parse(state: State) -> Literal["recall", "respond"]:
    plan = state.get("plan") or {}
    return "recall" if plan.get("addressed") and plan.get("intents") else "respond"


def after_peer(state: State) -> Next:
    return route(state)


# --- wiring --------------------------------------------------------------------------------
builder = StateGraph(State, context_schema=Context)
builder.add_node("parse", parse)
builder.add_node("recall", recall)
for _name in TOOL_NODES:
    builder.add_node(_name, tool_node(_name))
builder.add_node("handoff", handoff, destinations=PEER_NODES)
for _peer in PEER_NODES:
    builder.add_node(_peer, peer_node(_peer))
builder.add_node("remember", remember)
builder.add_node("respond", respond)

builder.add_edge(START, "parse")
builder.add_conditional_edges("parse", after_parse)
builder.add_conditional_edges("recall", route)
for _name in TOOL_NODES:
    builder.add_conditional_edges(_name, route)
for _peer in PEER_NODES:
    builder.add_conditional_edges(_peer, after_peer)
builder.add_edge("remember", "respond")
builder.add_edge("respond", END)

graph = builder.compile(name="TENSOR")


def compile_with_checkpointer(checkpointer: Any):
    """The same graph with a checkpointer (TensorAgent uses SQLite under the workspace)."""
    return builder.compile(checkpointer=checkpointer, name="TENSOR")
