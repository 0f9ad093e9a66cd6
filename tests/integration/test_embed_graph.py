"""The compiled graph as an orchestrator sees it: typed schemas, messages in and out, any context, every call style."""

from __future__ import annotations

import asyncio
import json

import pytest
from langchain_core.messages import AIMessage, HumanMessage

from tensor_agent.graph import graph

pytestmark = pytest.mark.integration
ASK = "how should I evaluate a churn model with 2k rows?"  # a peer-only request: fast, no training


def _answer(out: dict) -> AIMessage:
    last = out["messages"][-1]
    assert isinstance(last, AIMessage) and last.name == "TENSOR"
    return last


def test_input_and_output_schemas_are_typed_and_small():
    inp, out = graph.get_input_jsonschema(), graph.get_output_jsonschema()
    assert set(inp["properties"]) == {"messages", "text"}
    assert set(out["properties"]) == {"messages", "tensor"}
    assert json.dumps(inp) and json.dumps(out)
    assert set(graph.get_context_jsonschema()["properties"]) >= {"settings", "options", "thread_id"}


def test_messages_in_answer_out_without_context(home):
    out = graph.invoke({"messages": [HumanMessage(ASK)]})
    reply = _answer(out)
    assert "ECLIPSE" in reply.content and "Not addressed" not in reply.content
    tensor = reply.additional_kwargs["tensor"]
    assert tensor == out["tensor"] and tensor["plan"]["intents"] == ["evaluate"] and "ECLIPSE" in tensor["peers"]
    assert set(out) == {"messages", "tensor"}


def test_last_human_message_is_the_request(home):
    history = [HumanMessage("explain LoRA"), AIMessage("LoRA is ..."), HumanMessage(ASK)]
    out = graph.invoke({"messages": history})
    assert out["tensor"]["plan"]["intents"] == ["evaluate"] and len(out["messages"]) == 4


def test_text_input_keeps_the_mention_rule(home):
    assert "Not addressed" in _answer(graph.invoke({"text": "design a CNN please"})).content
    out = graph.invoke({"text": f"@TENSOR {ASK}"})
    assert [m.type for m in out["messages"]] == ["human", "ai"]


@pytest.mark.parametrize("kind", ["none", "context", "dict"])
def test_context_none_object_or_dict_and_thread_from_config(home, kind):
    from tensor_agent.state import Context

    context = {"none": None, "context": Context(remember=False, thread_id="ignored"),
               "dict": {"remember": False, "options": {}, "home": str(home)}}[kind]
    out = graph.invoke({"messages": [("user", ASK)]}, config={"configurable": {"thread_id": f"th-{kind}"}},
                       context=context)
    assert out["tensor"]["thread_id"] == f"th-{kind}"


def test_unknown_context_key_is_a_clear_error(home):
    from tensor_agent.errors import InputError

    with pytest.raises((InputError, TypeError), match="colour"):  # LangGraph builds Context(**dict) itself
        graph.invoke({"messages": [("user", ASK)]}, context={"colour": "red"})


def test_ainvoke_stream_and_astream_all_modes(home):
    modes = ["updates", "values", "messages", "custom"]
    seen = {m: 0 for m in modes}
    events = []
    for mode, chunk in graph.stream({"messages": [("user", ASK)]}, stream_mode=modes):
        seen[mode] += 1
        if mode == "custom":
            events.append(chunk)
    assert all(seen.values()), seen
    assert any(e["event"] == "progress" and e["node"] == "ECLIPSE" for e in events)

    async def run():
        out = await graph.ainvoke({"messages": [("user", ASK)]})
        chunks = [c async for c in graph.astream({"text": f"@TENSOR {ASK}"}, stream_mode="messages")]
        return out, chunks

    out, chunks = asyncio.run(run())
    assert _answer(out).content
    assert any(getattr(msg, "name", None) == "TENSOR" for msg, _meta in chunks)


def test_subgraph_keeps_conversation_per_thread(home):
    """A documented subgraph use: the host compiles with a checkpointer; each thread has its own history."""
    from langgraph.checkpoint.memory import InMemorySaver
    from langgraph.graph import START, MessagesState, StateGraph

    host = StateGraph(MessagesState)
    host.add_node("TENSOR", graph)
    host.add_edge(START, "TENSOR")
    app = host.compile(checkpointer=InMemorySaver())
    app.invoke({"messages": [("user", "explain LoRA")]}, config={"configurable": {"thread_id": "a"}})
    out = app.invoke({"messages": [("user", ASK)]}, config={"configurable": {"thread_id": "a"}})
    other = app.invoke({"messages": [("user", ASK)]}, config={"configurable": {"thread_id": "b"}})
    assert [m.type for m in out["messages"]] == ["human", "ai", "human", "ai"]
    assert len(other["messages"]) == 2


def test_peer_replaced_by_a_messages_only_graph_gets_a_human_message(home):
    from langgraph.graph import START, MessagesState, StateGraph

    from tensor_agent.peers import register_peer, unregister_peer

    seen = {}

    def node(state: MessagesState):
        seen["messages"] = list(state["messages"])
        return {"messages": [AIMessage("host ECLIPSE: use grouped cross-validation")]}

    g = StateGraph(MessagesState)
    g.add_node("eclipse", node)
    g.add_edge(START, "eclipse")
    register_peer("ECLIPSE", g.compile())
    try:
        out = graph.invoke({"messages": [("user", ASK)]})
    finally:
        unregister_peer("ECLIPSE")
    assert isinstance(seen["messages"][0], HumanMessage) and "churn" in seen["messages"][0].content
    assert "host ECLIPSE" in out["tensor"]["peers"]["ECLIPSE"]["summary"]
    assert "register_peer" in out["tensor"]["peers"]["ECLIPSE"]["source"] or \
        out["tensor"]["peers"]["ECLIPSE"]["source"].startswith("host:")


def test_failing_host_peer_error_names_the_mechanism(home, monkeypatch):
    from tensor_agent.peers import register_peer, unregister_peer

    def broken(plan, context):
        raise RuntimeError("host agent down")

    register_peer("ECLIPSE", broken)
    try:
        out = graph.invoke({"messages": [("user", ASK)]})
    finally:
        unregister_peer("ECLIPSE")
    assert "register_peer" in out["tensor"]["errors"]["ECLIPSE"] and out["tensor"]["codes"]["ECLIPSE"] == 4
    monkeypatch.setenv("TENSOR_PEERS", "ECLIPSE=json:nope")
    out = graph.invoke({"messages": [("user", ASK)]})
    assert "TENSOR_PEERS" in out["tensor"]["errors"]["ECLIPSE"]
