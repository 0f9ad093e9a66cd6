"""Built-in model families; importing this package registers them (no torch import here)."""

from tensor_agent.tools.core.zoo.families import tabular, vision, text, diffusion, graph  # noqa: F401,I001
