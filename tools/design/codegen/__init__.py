"""Code generation for the `implement` intent: a registry of back-ends keyed by framework.

`CODEGEN_BACKENDS["pytorch"]` writes a standalone PyTorch file generated from the designed module
(same constructor configuration, so the file builds the network the design measured). Other
frameworks (Keras, Flax, scikit-learn) register in `codegen/frameworks/<name>.py` with
`@register_backend("keras")`; `write_code` picks the back-end for `plan.framework` and says so
plainly when none is registered for it.
"""

from tensor_agent.tools.design.codegen.registry import (
    CODEGEN_BACKENDS,
    CodegenBackend,
    CodeResult,
    get_backend,
    register_backend,
    write_code,
)
from tensor_agent.tools.design.codegen import pytorch as _pytorch  # noqa: F401,E402 - registers "pytorch" (no torch import)
from tensor_agent.tools.design.codegen.writer import render_module, write_module

__all__ = ["CODEGEN_BACKENDS", "CodeResult", "CodegenBackend", "get_backend", "register_backend",
           "render_module", "write_code", "write_module"]
