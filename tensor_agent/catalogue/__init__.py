"""The catalogue: the one place where @TENSOR's facts are defined.

Families (modality, tasks, guide rank, input kind, pretrained weights), the selection guide,
built-in datasets, intents, tools (name, intents served, order, entry point) and peers each live
in exactly one registry here. The planner (rules and LLM back-ends, schema and prompt), the tools,
memory, peers, LangChain/MCP tools and the graph read them from here; tests/unit/test_catalogue.py
fails if another module defines its own copy.

Pure Python: importing the catalogue imports nothing heavy (no torch, no langgraph, no pydantic).
"""

from tensor_agent.catalogue.datasets import DATASETS, DatasetSpec, default_dataset, get_dataset
from tensor_agent.catalogue.families import FAMILIES, MODALITIES, TASKS, FamilySpec, family_modality, get_family_spec
from tensor_agent.catalogue.guide import GUIDE, GuideEntry, Signals, guide_default, guide_families, select_family
from tensor_agent.catalogue.intents import INTENTS, IntentSpec
from tensor_agent.catalogue.peers import PEERS, PeerSpec, get_peer_spec
from tensor_agent.catalogue.tools import TOOLS, TOOL_ORDER, ToolSpec, get_tool_spec, tools_for

__all__ = [
    "DATASETS", "DatasetSpec", "default_dataset", "get_dataset",
    "FAMILIES", "MODALITIES", "TASKS", "FamilySpec", "family_modality", "get_family_spec",
    "GUIDE", "GuideEntry", "Signals", "guide_default", "guide_families", "select_family",
    "INTENTS", "IntentSpec", "PEERS", "PeerSpec", "get_peer_spec",
    "TOOLS", "TOOL_ORDER", "ToolSpec", "get_tool_spec", "tools_for",
]
