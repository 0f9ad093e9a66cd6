"""@TENSOR: an ML-specialist agent that designs, trains, compresses and remembers models.

    from tensor_agent import TensorAgent
    agent = TensorAgent()
    agent.plan("@TENSOR design CNN architecture for image classification")   # instant, runs nothing
    agent.invoke("@TENSOR train a CNN on the digits dataset", thread_id="t1")  # runs the graph

Importing this package is cheap: torch, langgraph and chromadb load only when needed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["TensorAgent", "Plan", "Result", "Constraint", "__version__"]

if TYPE_CHECKING:  # pragma: no cover
    from tensor_agent.agent import TensorAgent
    from tensor_agent.schema import Constraint, Plan, Result


def __getattr__(name: str):
    if name == "TensorAgent":
        from tensor_agent.agent import TensorAgent

        return TensorAgent
    if name in ("Plan", "Result", "Constraint"):
        from tensor_agent import schema

        return getattr(schema, name)
    raise AttributeError(f"module 'tensor_agent' has no attribute {name!r}")
