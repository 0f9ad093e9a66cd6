"""The langchain-core tools: typed schemas showing only what the model fills; runtime from LangGraph; errors as tool messages."""

from __future__ import annotations

import pytest

from tensor_agent.catalogue import TOOL_ORDER
from tensor_agent.tools.lc import TOOLS, compress_model, estimate_data


def test_one_tool_per_catalogue_tool_in_order():
    assert [t.name for t in TOOLS] == list(TOOL_ORDER)
    assert {"tune_model", "deploy_model", "track_experiment"} <= {t.name for t in TOOLS}


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_schema_shows_only_model_fields_fully_typed(tool):
    schema = tool.tool_call_schema.model_json_schema()
    assert schema["required"] == ["request"]
    for hidden in ("ctx", "runtime", "state", "config"):
        assert hidden not in schema["properties"]
        assert not __import__("re").search(rf"\b{hidden}\b", tool.description), tool.description
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"{tool.name}.{name} has no description"
        types = {p.get("type") for p in prop.get("anyOf", [prop])}
        assert types - {"null"} and None not in types, f"{tool.name}.{name} is untyped: {prop}"
    assert tool.description and len(tool.description) > 20


def test_direct_call_uses_workspace_defaults(home):
    out = estimate_data.invoke({"request": "how many labelled images for 10 classes to reach 90%", "num_classes": 10})
    assert isinstance(out, dict) and out["num_classes"] == 10


def test_failure_is_a_clear_message_not_an_exception(home):
    out = compress_model.invoke({"request": "now quantize it"})
    assert isinstance(out, str) and out.startswith("compress_model failed (exit 3)")
    assert "no model" in out and "Traceback" not in out


def test_bad_argument_value_is_a_message_naming_the_option(home):
    from tensor_agent.tools.lc import train_model

    out = train_model.invoke({"request": "train a CNN on digits", "epochs": 0})
    assert isinstance(out, str) and "epochs" in out and "exit 2" in out


def test_under_toolnode_runtime_comes_from_langgraph(home):
    """ToolNode injects the runtime (thread from the config); a failure is a ToolMessage with status=error."""
    from langchain_core.messages import AIMessage
    from langgraph.graph import START, MessagesState, StateGraph
    from langgraph.prebuilt import ToolNode

    g = StateGraph(MessagesState)
    g.add_node("tools", ToolNode(TOOLS))
    g.add_edge(START, "tools")
    app = g.compile()
    call = AIMessage("", tool_calls=[
        {"name": "compress_model", "args": {"request": "now quantize it"}, "id": "c1"},
        {"name": "estimate_data", "args": {"request": "images for 10 classes to reach 90%", "num_classes": 10}, "id": "c2"},
    ])
    out = app.invoke({"messages": [call]}, config={"configurable": {"thread_id": "lc-unit"}})
    by_id = {m.tool_call_id: m for m in out["messages"][1:]}
    assert by_id["c1"].status == "error" and "no model to compress" in by_id["c1"].content
    assert by_id["c2"].status == "success" and '"num_classes": 10' in by_id["c2"].content
    assert (home / "threads").is_dir() and any((home / "threads").glob("lc-lc-unit-*.json"))
