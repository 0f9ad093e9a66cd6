"""The architecture designer: a registry of model families, measured builds and a constraint search.

Public API (importing this package does not import torch):

    register_family, create_model, list_families, get_family      -- the registry
    design_for(family, modality=..., input_spec=..., num_classes=..., constraints=...) -> (design, handle)
    design_architecture(plan, ctx) -> ArchitectureDesign            -- the tool (InfeasibleDesign: exit 3)
    measure_model(module, example_inputs, batch_size=...) -> Measurements
    example_inputs_for(handle, batch_size) / expected_output_shape(handle, batch_size)
"""

from __future__ import annotations

from typing import Any

from tensor_agent.tools.core.zoo.registry import (
    Family,
    create_model,
    example_inputs_for,
    expected_output_shape,
    get_family,
    list_families,
    register_family,
)
from tensor_agent.tools.core.zoo.spec import example_inputs, normalize_input_spec

__all__ = [
    "ArchitectureDesign", "Candidate", "Family", "InfeasibleDesign", "Measurements", "create_model", "design_architecture",
    "design_for", "example_inputs", "example_inputs_for", "expected_output_shape", "get_family",
    "list_families", "measure_model", "normalize_input_spec", "register_family",
]

_LAZY = {
    "ArchitectureDesign": "tensor_agent.tools.design.designer",
    "Candidate": "tensor_agent.tools.design.designer",
    "InfeasibleDesign": "tensor_agent.tools.design.designer",
    "design_for": "tensor_agent.tools.core.zoo.search",
    "design_architecture": "tensor_agent.tools.design.designer",
    "measure_model": "tensor_agent.tools.core.measure",
    "Measurements": "tensor_agent.tools.core.measure",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
