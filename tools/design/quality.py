"""The expected quality of a design and where the figure comes from.

Sources, best first: this workspace's memory (outcomes of past runs of the family), a published
reference figure for a comparable setting (with the paper or page it comes from), or "no evidence yet".
"""

from __future__ import annotations

from typing import Any, Optional

#: Published figures for comparable settings: (family or "*", modality, input key) -> (figure, source).
#: The input key is "cifar" for 3x32x32 inputs with 10 classes, a dataset name otherwise.
REFERENCES: dict[tuple[str, str], tuple[str, str]] = {
    ("cnn", "cifar"): ("a 0.27M-parameter residual CNN (ResNet-20) reaches 91.3% test accuracy on CIFAR-10; "
                       "plain CNNs without residuals and of this size land lower",
                       "He et al., Deep Residual Learning for Image Recognition, 2016, CIFAR-10 table"),
    ("resnet", "cifar"): ("ResNet-20/56/110 reach 91.3% / 93.0% / 93.6% test accuracy on CIFAR-10",
                          "He et al., Deep Residual Learning for Image Recognition, 2016, CIFAR-10 table"),
    ("*", "digits"): ("an RBF SVM reaches about 97% accuracy on the 8x8 digits (held-out half)",
                      "scikit-learn example 'Recognizing hand-written digits'"),
    ("gcn", "graph"): ("a 2-layer GCN with 16 hidden units reaches 81.5% node accuracy on Cora",
                       "Kipf & Welling, Semi-Supervised Classification with GCNs, ICLR 2017"),
    ("gat", "graph"): ("a 2-layer GAT reaches 83.0% node accuracy on Cora",
                       "Velickovic et al., Graph Attention Networks, ICLR 2018"),
    ("diffusion", "cifar_gen"): ("a 35.7M-parameter DDPM UNet reaches FID 3.17 on CIFAR-10 (1000 sampling steps); "
                                 "small UNets like this one are far from that",
                                 "Ho et al., Denoising Diffusion Probabilistic Models, 2020"),
}


def _key(modality: str, spec: dict, num_classes: Optional[int], dataset: Optional[str]) -> str:
    if dataset:
        return str(dataset)
    shape = list(spec.get("shape") or [])
    if modality == "image" and shape == [3, 32, 32] and (num_classes or 10) == 10:
        return "cifar"
    if modality == "image_generation" and shape == [3, 32, 32]:
        return "cifar_gen"
    return modality


def expected_quality(design: Any, *, dataset: Optional[str] = None) -> dict[str, Any]:
    """{"text", "source", "kind": memory | reference | none} for the design's family and data."""
    mem = getattr(design, "memory_fitness", None) or {}
    if mem.get("n"):
        where = ", ".join(mem.get("datasets") or []) or "past runs"
        return {"kind": "memory", "value": mem["mean"], "metric": mem.get("metric"),
                "text": f"{mem.get('metric') or 'metric'} about {mem['mean']:.3f} (mean of {mem['n']} past "
                        f"{design.family} run(s) on {where})",
                "source": "this workspace's memory (recorded outcomes)"}
    key = _key(design.modality, design.input_spec or {}, design.num_classes, dataset)
    for fam in (design.family, "*"):
        ref = REFERENCES.get((fam, key)) or (REFERENCES.get((fam, design.modality)) if fam != "*" else None)
        if ref:
            return {"kind": "reference", "text": ref[0], "source": ref[1]}
    return {"kind": "none", "text": "no evidence yet for this family on this data; train it to measure",
            "source": "none (no memory record, no comparable published figure)"}
