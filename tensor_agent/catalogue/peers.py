"""Peer agents @TENSOR hands off to (the project ships stand-ins; a host can replace each)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeerSpec:
    name: str
    role: str
    entrypoint: str
    description: str


PEERS: dict[str, PeerSpec] = {p.name: p for p in (
    PeerSpec("AXIOM", "maths", "tensor_agent.peers.axiom:axiom",
             "The mathematics of the techniques asked about: formulas, derivations and trade-offs."),
    PeerSpec("ECLIPSE", "evaluation", "tensor_agent.peers.eclipse:eclipse",
             "Evaluation: validation scheme, per-class metrics, confusion matrix, bootstrap intervals."),
    PeerSpec("PRISM", "data preparation", "tensor_agent.peers.prism:prism",
             "Data preparation: profiles the data (types, missing values, balance, leakage) and plans the steps."),
    PeerSpec("VELOCITY", "inference speed", "tensor_agent.peers.velocity:velocity",
             "Inference optimisation plan from the turn's measured latency, size and throughput."),
)}

PEER_NAMES: tuple[str, ...] = tuple(sorted(PEERS))


def get_peer_spec(name: str) -> PeerSpec:
    key = (name or "").strip().lstrip("@").upper()
    if key not in PEERS:
        raise KeyError(f"unknown peer {name!r} (known: {', '.join(PEERS)})")
    return PEERS[key]
