"""Prompt texts shipped with @TENSOR (package data: ``tensor_agent/prompts/*.md``).

Usage::

    from tensor_agent.prompts import load_prompt, list_prompts
    system = load_prompt("planner")
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

__all__ = ["list_prompts", "load_prompt"]


def list_prompts() -> list[str]:
    """Names of the prompts shipped with the package (file names without ``.md``), sorted."""
    root = resources.files(__name__)
    return sorted(p.name[: -len(".md")] for p in root.iterdir() if p.name.endswith(".md"))


@lru_cache(maxsize=None)
def load_prompt(name: str) -> str:
    """The text of the prompt ``name`` (the file ``name.md`` of this package).

    Args:
        name: Prompt name without extension, e.g. ``"planner"``.

    Returns:
        The prompt text (UTF-8), trailing whitespace stripped.

    Raises:
        InputError: If no prompt of that name is shipped (the message lists the known ones).
    """
    from tensor_agent.errors import InputError

    stem = str(name).removesuffix(".md")
    resource = resources.files(__name__) / f"{stem}.md"
    if not stem or "/" in stem or "\\" in stem or not resource.is_file():
        known = ", ".join(list_prompts()) or "none"
        raise InputError(f"unknown prompt {name!r} (known: {known})",
                         hint="prompts are the .md files of the tensor_agent.prompts package")
    return resource.read_text(encoding="utf-8").rstrip()
