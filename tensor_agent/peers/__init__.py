"""Peer agents of @TENSOR: AXIOM (maths), VELOCITY (inference speed), PRISM (data prep), ECLIPSE (evaluation).

Light to import: the stand-ins load on first use and the LangGraph handoff tools only
when :func:`handoff_tools` (or ``tensor_agent.peers.handoff.HANDOFF_TOOLS``) is used.

    >>> from tensor_agent.peers import get_peer
    >>> reply = get_peer("ECLIPSE")(plan, {"results": {}})   # -> PeerReply

Hosts replace a stand-in with ``register_peer("PRISM", fn_or_graph)``, the
``TENSOR_PEERS="PRISM=pkg.mod:attr"`` environment variable, or ``get_peer(..., config={...})``.
"""

from tensor_agent.peers.registry import (
    ENV_VAR,
    ROLES,
    PeerReply,
    Section,
    get_peer,
    list_peers,
    normalise_name,
    parse_peer_spec,
    register_peer,
    run_peer,
    unregister_peer,
)

__all__ = [
    "ENV_VAR", "ROLES", "PeerReply", "Section", "get_peer", "handoff_tools", "list_peers", "normalise_name",
    "parse_peer_spec", "register_peer", "run_peer", "unregister_peer",
]


def handoff_tools():
    """The langchain-core handoff tools keyed by peer name (imports langgraph: call late)."""
    from tensor_agent.peers.handoff import handoff_tools as _build

    return _build()
