"""Read the architecture back from the built torch module, so Keras/Flax code builds the same network.

`arch_spec(handle)` returns a JSON-able description per family (layer widths, strides, heads, ...). The
Keras and Flax back-ends render it; their parameter counts match the PyTorch design (tests check <= 1%).
"""

from __future__ import annotations

from typing import Any

from tensor_agent.errors import UnsatisfiableError

SUPPORTED = ("mlp", "cnn", "resnet", "vit", "gpt")


def _mlp(m, handle) -> dict:
    from torch import nn

    linears = [x for x in m.net if isinstance(x, nn.Linear)]
    drops = [x.p for x in m.net if isinstance(x, nn.Dropout)]
    return {"kind": "mlp", "in": linears[0].in_features, "hidden": [x.out_features for x in linears[:-1]],
            "out": linears[-1].out_features, "batch_norm": any(isinstance(x, nn.BatchNorm1d) for x in m.net),
            "dropout": drops[0] if drops else 0.0}


def _cnn(m, handle) -> dict:
    from torch import nn

    blocks = []
    for b in m.features:
        conv = b.body[0]
        depthwise = isinstance(conv, nn.Sequential)
        cout = (conv[1] if depthwise else conv).out_channels
        blocks.append({"out": cout, "depthwise": depthwise, "pool": isinstance(b.pool, nn.MaxPool2d)})
    lin = m.head[-1]
    drop = next((x.p for x in m.head if isinstance(x, nn.Dropout)), 0.0)
    return {"kind": "cnn", "input_shape": list(handle.input_spec["shape"]), "blocks": blocks,
            "out": lin.out_features, "dropout": drop}


def _resnet(m, handle) -> dict:
    min_size = getattr(m, "min_size", 0)
    net = getattr(m, "backbone", m)
    stages = []
    for name in ("layer1", "layer2", "layer3", "layer4"):
        layer = getattr(net, name)
        first = layer[0]
        if type(first).__name__ != "BasicBlock":
            raise UnsatisfiableError(f"the Keras/Flax ResNet writer covers BasicBlock ResNets; this one uses "
                                     f"{type(first).__name__}")
        stages.append({"blocks": len(layer), "channels": first.conv1.out_channels,
                       "stride": first.conv1.stride[0], "downsample": first.downsample is not None})
    return {"kind": "resnet", "input_shape": list(handle.input_spec["shape"]), "min_size": int(min_size or 0),
            "stem": net.conv1.out_channels, "stem_kernel": net.conv1.kernel_size[0],
            "stem_stride": net.conv1.stride[0], "maxpool": type(net.maxpool).__name__ == "MaxPool2d",
            "stages": stages, "out": net.fc.out_features}


def _vit(m, handle) -> dict:
    net = getattr(m, "backbone", m)
    blk = net.blocks[0]
    pe = net.patch_embed.proj
    return {"kind": "vit", "input_shape": list(handle.input_spec["shape"]), "patch": pe.kernel_size[0],
            "dim": pe.out_channels, "depth": len(net.blocks), "heads": blk.attn.num_heads,
            "mlp": blk.mlp.fc1.out_features, "cls_token": net.cls_token is not None,
            "tokens": int(net.pos_embed.shape[1]), "eps": float(blk.norm1.eps), "out": net.head.out_features,
            "qkv_bias": blk.attn.qkv.bias is not None}


def _gpt(m, handle) -> dict:
    cfg = m.lm.config
    return {"kind": "gpt", "vocab": cfg.vocab_size, "positions": cfg.n_positions, "dim": cfg.n_embd,
            "layers": cfg.n_layer, "heads": cfg.n_head, "mlp": cfg.n_inner or 4 * cfg.n_embd,
            "eps": cfg.layer_norm_epsilon, "seq_len": int(handle.input_spec["shape"][0]),
            "tied": bool(cfg.tie_word_embeddings)}


_READERS = {"mlp": _mlp, "cnn": _cnn, "resnet": _resnet, "vit": _vit, "gpt": _gpt}


def arch_spec(handle: Any) -> dict:
    """The architecture of `handle.module` as plain data (raises UnsatisfiableError for other families)."""
    if handle.family not in _READERS:
        raise UnsatisfiableError(f"no Keras/Flax writer for family {handle.family!r} (covered: {', '.join(SUPPORTED)})")
    spec = _READERS[handle.family](handle.module, handle)
    spec["torch_params"] = int(sum(p.numel() for p in handle.module.parameters()))
    spec["family"], spec["variant"] = handle.family, (handle.extra or {}).get("variant")
    return spec
