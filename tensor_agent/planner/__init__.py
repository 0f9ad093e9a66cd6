"""Planning: message -> `Plan`. Two back-ends behind one function.

`make_plan(text, settings)` uses the offline rules planner unless an OpenAI-compatible LLM is
configured (TENSOR_PLANNER=llm, or auto with OPENAI_API_KEY/OPENAI_BASE_URL set); the LLM
back-end falls back to the rules planner on any failure and says so in `plan.warnings`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tensor_agent.planner.rules import rules_plan
from tensor_agent.schema import Plan

if TYPE_CHECKING:  # pragma: no cover
    from tensor_agent.config import Settings

__all__ = ["make_plan", "rules_plan"]


def make_plan(message: str | bytes | None, settings: "Settings | None" = None) -> Plan:
    """Plan `message` with the configured back-end."""
    if settings is not None and settings.use_llm:
        from tensor_agent.planner.llm import llm_plan

        return llm_plan(message, settings, fallback=rules_plan)
    return rules_plan(message)
