"""Render a design into a standalone PyTorch file (plain torch only) plus a usage example.

Templates live in `templates/<name>.py.tmpl` (package data). They use `string.Template` placeholders
(`$name`) filled from the design's hyper-parameters and input spec, so the generated code is readable
and importable on its own: `python <file>` runs its usage example (forward + one training step).
"""

from __future__ import annotations

import re
import string
from importlib import resources
from pathlib import Path
from typing import Any

from tensor_agent.errors import UnsatisfiableError

#: family -> template file stem
TEMPLATES: dict[str, str] = {
    "t5": "seq2seq_transformer", "gpt": "gpt", "vit": "vit", "resnet": "resnet", "cnn": "resnet",
    "gcn": "gnn", "gat": "gnn", "diffusion": "ddpm_unet", "mamba": "selective_ssm",
}


def _template(stem: str) -> string.Template:
    text = resources.files("tensor_agent.tools.design.codegen").joinpath("templates", f"{stem}.py.tmpl").read_text()
    return string.Template(text)


def _values(design: Any) -> dict[str, Any]:
    """Template values from a design (ArchitectureDesign or dict)."""
    d = design.model_dump() if hasattr(design, "model_dump") else dict(design)
    hp = d.get("hyperparameters") or {}
    spec = d.get("input_spec") or {}
    fam = d["family"]
    n_cls = d.get("num_classes") or 10
    shape = spec.get("shape") or [1]
    v: dict[str, Any] = {"family": fam, "variant": d.get("variant", ""), "num_classes": n_cls}
    if fam in ("t5", "gpt"):
        vocab = min(int(spec.get("vocab_size", 1000)), 32000)
        v.update(vocab_size=vocab, seq_len=shape[0], target_len=spec.get("target_len", shape[0]))
        if fam == "t5":
            d_model = int(hp.get("d_model", 128))
            heads = int(hp.get("num_heads", 4))
            v.update(d_model=d_model, num_heads=heads, num_layers=int(hp.get("num_layers", 2)),
                     d_ff=int(hp.get("d_ff", 4 * d_model)))
        else:
            v.update(d_model=int(hp.get("n_embd", 128)), num_heads=int(hp.get("n_head", 4)),
                     num_layers=int(hp.get("n_layer", 2)))
    elif fam == "vit":
        from tensor_agent.tools.core.zoo.families.vision import ViTFamily

        c, h, w = shape
        kw = hp.get("kwargs") or {}
        dims = {"vit_tiny": (192, 12, 3), "vit_small": (384, 12, 6), "vit_base": (768, 12, 12),
                "vit_large": (1024, 24, 16)}.get(d.get("variant"), (64, 4, 2))
        v.update(in_chans=c, img_size=h, patch_size=ViTFamily.patch_size(h, w, hp.get("patch_size")),
                 embed_dim=int(kw.get("embed_dim", dims[0])), depth=int(kw.get("depth", dims[1])),
                 num_heads=int(kw.get("num_heads", dims[2])))
    elif fam in ("resnet", "cnn"):
        c, h, w = shape
        kw = hp.get("kwargs") or {}
        chans = kw.get("channels") or hp.get("channels") or [64, 128, 256, 512]
        ladder = {"resnet34": [3, 4, 6, 3], "resnet50": [3, 4, 6, 3], "resnet101": [3, 4, 23, 3]}
        layers = kw.get("layers") or ladder.get(d.get("variant"), [1 if fam == "cnn" else 2] * len(chans))
        v.update(in_chans=c, img_size=h, channels=list(map(int, chans)), layers=list(map(int, layers)))
    elif fam in ("gcn", "gat"):
        v.update(in_features=spec.get("num_features", 16), hidden=int(hp.get("hidden", 16)),
                 num_layers=int(hp.get("num_layers", 2)), heads=int(hp.get("heads", 4)),
                 num_nodes=spec.get("num_nodes", 34), conv=fam)
    elif fam == "diffusion":
        c, h, w = shape
        v.update(in_chans=c, img_size=h, channels=list(map(int, hp.get("block_out_channels", [32, 64]))),
                 num_train_timesteps=int(hp.get("num_train_timesteps", 1000)))
    elif fam == "mamba":
        tokens = spec.get("kind") == "tokens"
        v.update(d_model=int(hp.get("hidden_size", 64)), num_layers=int(hp.get("num_hidden_layers", 2)),
                 d_state=int(hp.get("state_size", 16)), expand=int(hp.get("expand", 2)),
                 vocab_size=int(spec.get("vocab_size", 64)) if tokens else 0,
                 in_features=0 if tokens else int(shape[1]), seq_len=int(shape[0]),
                 out_features=n_cls if d.get("task") != "generation" else int(spec.get("vocab_size", 64)),
                 task=d.get("task", "classification"))
    return v


def render_module(design: Any) -> str:
    """The source text of the standalone module for `design` (UnsatisfiableError if the family has none)."""
    fam = design.family if hasattr(design, "family") else design["family"]
    if fam not in TEMPLATES:
        raise UnsatisfiableError(f"no standalone implementation template for family {fam!r} "
                                 f"(available: {', '.join(sorted(TEMPLATES))})")
    return _template(TEMPLATES[fam]).substitute({k: repr(v) if not isinstance(v, (int, float)) else v
                                                 for k, v in _values(design).items()})


def write_module(design: Any, code_dir: str | Path) -> Path:
    """Write `<code_dir>/<family>_<variant>.py` and return its path."""
    fam = design.family if hasattr(design, "family") else design["family"]
    variant = design.variant if hasattr(design, "variant") else design.get("variant", "")
    src = render_module(design)
    out = Path(code_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_]+", "_", f"{fam}_{variant}".strip("_")).lower()
    path = out / f"{name}.py"
    path.write_text(src)
    return path
