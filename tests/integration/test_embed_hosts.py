"""@TENSOR inside real orchestrators driven by a scripted tool-calling chat model.

- a langgraph-supervisor host routes "design a CNN for 8x8 digits" to the compiled graph added as an agent;
- a hand-built host adds the graph as a node;
- create_react_agent(model, TOOLS) calls design_architecture then train_model (epochs 1);
- a langgraph-swarm host uses @TENSOR's handoff tool to reach its own ECLIPSE agent.
"""

from __future__ import annotations

import warnings

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langgraph.graph import END, START, MessagesState, StateGraph
from pydantic import Field

from tensor_agent.graph import graph

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]  # servers and training stay bounded


class ScriptedChatModel(BaseChatModel):
    """A chat model that answers from a script (AIMessages, possibly with tool calls), one entry per call."""

    script: list = Field(default_factory=list)
    seen: list = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(self, tools, **kwargs):
        return self

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):
        if len(self.seen) >= len(self.script):
            raise AssertionError(f"the host called the model more often than scripted ({len(self.script)})")
        step = self.script[len(self.seen)]
        self.seen.append(list(messages))
        return ChatResult(generations=[ChatGeneration(message=step(messages) if callable(step) else step)])


def _call(name: str, args: dict, cid: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": name, "args": args, "id": cid}])


def _tensor_reply(messages) -> AIMessage:
    replies = [m for m in messages if isinstance(m, AIMessage) and m.name == "TENSOR" and "tensor" in m.additional_kwargs]
    assert replies, [type(m).__name__ for m in messages]
    return replies[-1]


def test_supervisor_routes_a_design_request_to_tensor_as_an_agent(home):
    from langgraph_supervisor import create_supervisor

    model = ScriptedChatModel(script=[_call("transfer_to_tensor", {}, "h1"), AIMessage("Done: see TENSOR's design.")])
    host = create_supervisor([graph], model=model, prompt="Route machine-learning work to TENSOR.").compile()
    out = host.invoke({"messages": [HumanMessage("design a CNN for 8x8 digits")]},
                      config={"configurable": {"thread_id": "sup"}}, context={"remember": False})
    reply = _tensor_reply(out["messages"])
    design = reply.additional_kwargs["tensor"]["results"]["design_architecture"]
    assert design["family"] == "cnn" and "[design_architecture]" in reply.content
    assert out["messages"][-1].content == "Done: see TENSOR's design."
    # the supervisor's second model call saw TENSOR's answer
    assert any(getattr(m, "name", None) == "TENSOR" for m in model.seen[1])


def test_hand_built_host_adds_the_graph_as_a_node(home):
    model = ScriptedChatModel(script=[_call("ask_tensor", {}, "r1")])

    def supervisor(state: MessagesState):
        return {"messages": [model.invoke(state["messages"])]}

    def pick(state: MessagesState):
        last = state["messages"][-1]
        return "TENSOR" if getattr(last, "tool_calls", None) else END

    b = StateGraph(MessagesState)
    b.add_node("supervisor", supervisor)
    b.add_node("TENSOR", graph)
    b.add_edge(START, "supervisor")
    b.add_conditional_edges("supervisor", pick, ["TENSOR", END])
    b.add_edge("TENSOR", END)
    out = b.compile().invoke({"messages": [HumanMessage("design a CNN for 8x8 digits")]})
    reply = out["messages"][-1]
    assert isinstance(reply, AIMessage) and reply.name == "TENSOR"
    assert reply.additional_kwargs["tensor"]["results"]["design_architecture"]["family"] == "cnn"


def test_react_agent_designs_then_trains_for_one_epoch(home):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

    from tensor_agent.tools.lc import TOOLS

    model = ScriptedChatModel(script=[
        _call("design_architecture", {"request": "design a CNN for 8x8 digit images"}, "c1"),
        _call("train_model", {"request": "train it on the digits dataset", "dataset": "digits", "epochs": 1}, "c2"),
        AIMessage("Trained."),
    ])
    agent = create_react_agent(model, TOOLS)
    out = agent.invoke({"messages": [HumanMessage("design and train a CNN for 8x8 digits")]},
                       config={"configurable": {"thread_id": "react"}})
    tools = {m.name: m for m in out["messages"] if isinstance(m, ToolMessage)}
    assert tools["design_architecture"].status == "success", tools["design_architecture"].content
    assert tools["train_model"].status == "success", tools["train_model"].content
    import json

    design, trained = json.loads(tools["design_architecture"].content), json.loads(tools["train_model"].content)
    assert design["family"] == "cnn"
    assert trained["epochs_run"] == 1 if "epochs_run" in trained else len(trained.get("history", [1])) == 1
    assert trained["test_metrics"]["accuracy"] > 0.2
    assert out["messages"][-1].content == "Trained."


def test_react_agent_tool_failure_does_not_end_the_run(home):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent

    from tensor_agent.tools.lc import TOOLS

    model = ScriptedChatModel(script=[_call("compress_model", {"request": "now quantize it"}, "q1"),
                                      AIMessage("There was no model yet.")])
    out = create_react_agent(model, TOOLS).invoke({"messages": [HumanMessage("quantize my model")]},
                                                  config={"configurable": {"thread_id": "fresh-thread"}})
    failed = [m for m in out["messages"] if isinstance(m, ToolMessage)][0]
    assert failed.status == "error" and "compress_model failed" in failed.content
    assert out["messages"][-1].content == "There was no model yet."


def test_handoff_tool_works_in_a_swarm_host(home):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from langgraph.prebuilt import create_react_agent
    from langgraph_swarm import create_swarm

    from tensor_agent.peers import handoff_tools

    host_model = ScriptedChatModel(script=[_call("transfer_to_eclipse", {"reason": "pick a validation scheme"}, "t1")])
    eclipse_model = ScriptedChatModel(script=[AIMessage("Use stratified 5-fold cross-validation.")])
    front = create_react_agent(host_model, [handoff_tools()["ECLIPSE"]], name="front")
    eclipse = create_react_agent(eclipse_model, [], name="ECLIPSE")
    app = create_swarm([front, eclipse], default_active_agent="front").compile()
    out = app.invoke({"messages": [HumanMessage("how should I validate my churn model?")]})
    assert out["active_agent"] == "ECLIPSE"
    answered = [m for m in out["messages"] if isinstance(m, ToolMessage) and m.name == "transfer_to_eclipse"]
    assert answered and "validation scheme" in answered[0].content
    assert out["messages"][-1].content == "Use stratified 5-fold cross-validation."
