"""The langchain-core tool wrappers: typed, documented arguments; runtime context hidden from the model."""

from __future__ import annotations

import pytest

from tensor_agent.tools.lc import TOOLS, estimate_data


@pytest.mark.parametrize("tool", TOOLS, ids=lambda t: t.name)
def test_schema_hides_ctx_and_documents_every_field(tool):
    schema = tool.tool_call_schema.model_json_schema()
    assert "ctx" not in schema["properties"] and "request" in schema["required"]
    for name, prop in schema["properties"].items():
        assert prop.get("description"), f"{tool.name}.{name} has no description"
    assert tool.description and len(tool.description) > 20


def test_estimate_data_tool_runs_with_injected_context(ctx):
    out = estimate_data.invoke({"request": "how many labelled images for 10 classes to reach 90%", "ctx": ctx,
                                "num_classes": 10})
    assert isinstance(out, dict) and out["num_classes"] == 10
