"""Standalone code for the `implement` intent: readable PyTorch module files rendered from templates."""

from tensor_agent.tools.design.codegen.writer import TEMPLATES, render_module, write_module

__all__ = ["TEMPLATES", "render_module", "write_module"]
