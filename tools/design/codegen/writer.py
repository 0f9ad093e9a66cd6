"""Compatibility helpers over the back-end registry: the PyTorch source of a design, and writing it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tensor_agent.errors import UnsatisfiableError
from tensor_agent.tools.design.codegen.registry import get_backend, write_code


def render_module(design: Any, handle: Any = None) -> str:
    """The PyTorch source of the standalone module for `design` (UnsatisfiableError if the family has none)."""
    backend = get_backend("pytorch")
    fam = design.family if hasattr(design, "family") else design["family"]
    if fam not in backend.families():
        raise UnsatisfiableError(f"no standalone implementation for family {fam!r} "
                                 f"(available: {', '.join(sorted(backend.families()))})")
    return backend.render(design, handle)


def write_module(design: Any, code_dir: str | Path, handle: Any = None) -> Path:
    """Write `<code_dir>/<family>_<variant>.py` (PyTorch) and return its path."""
    return write_code(design, code_dir, framework="pytorch", handle=handle).path
