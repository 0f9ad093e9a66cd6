"""The compressor: quantization, pruning, distillation and export, accepted only when measured.

`compress_model(plan, ctx) -> CompressionReport` is the tool. Importing this package is cheap
(no torch): the heavy modules load inside the call.
"""

from __future__ import annotations

from .report import DEFAULT_TOLERANCE_POINTS, CompressionReport, ModelStats, TechniqueResult, Verdict

__all__ = ["compress_model", "CompressionReport", "ModelStats", "TechniqueResult", "Verdict",
           "DEFAULT_TOLERANCE_POINTS", "known_techniques"]


def compress_model(plan, ctx) -> CompressionReport:
    """See `tensor_agent.tools.compress.compress.compress_model`."""
    from .compress import compress_model as _compress

    return _compress(plan, ctx)


def known_techniques() -> list[str]:
    """Names accepted as plan technique / options technique."""
    from .techniques import known_techniques as _known

    return _known()
