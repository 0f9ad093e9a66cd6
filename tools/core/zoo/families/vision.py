"""Image classification families: a plain small CNN and the timm ladders (ResNet, EfficientNet, ConvNeXt, ViT).

All accept any [C, H, W] input from 8x8 grey digits to 224x224 RGB (timm `in_chans`, ViT `img_size` and a
patch size that divides it; ConvNeXt upsamples inputs under 32 px because it downsamples 32x without padding).
"""

from __future__ import annotations

from typing import Any, Optional

from tensor_agent.errors import InputError
from tensor_agent.tools.core.zoo.registry import Family, register_family

_DEFAULT_IMAGE = {"kind": "image", "shape": [3, 32, 32]}


class _ImageFamily(Family):
    def default_input_spec(self, task: str) -> dict:
        return dict(_DEFAULT_IMAGE)

    def check_input_spec(self, input_spec: dict, hp: dict) -> None:
        if input_spec["kind"] != "image":
            raise InputError(f"family {self.name!r} takes images (input_spec.shape [C, H, W]); "
                             f"got a {input_spec['kind']} input spec", hint="pass input_spec={'shape': [C, H, W]}")

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        return [batch_size, int(num_classes or 10)]


@register_family("cnn", modality="image", implementable=True)
class CNNFamily(_ImageFamily):
    """A plain conv-BN-ReLU-pool stack for tiny inputs; `depthwise=True` variants for mobile."""

    summary = "small plain CNN (conv-BN-ReLU-pool blocks, global average pooling)"
    variants = {
        "micro": {"channels": [8, 16], "depthwise": False},
        "mobile-s": {"channels": [16, 32, 64], "depthwise": True},
        "tiny": {"channels": [16, 32], "depthwise": False},
        "small": {"channels": [32, 64, 128], "depthwise": False},
        "mobile-m": {"channels": [32, 64, 128, 256], "depthwise": True},
        "medium": {"channels": [64, 128, 256], "depthwise": False},
        "large": {"channels": [64, 128, 256, 512], "depthwise": False},
        "xlarge": {"channels": [128, 256, 512, 1024], "depthwise": False},
    }
    default_variant = "small"
    tiny_variant = "micro"
    efficient_variants = ("mobile-s", "mobile-m")

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from tensor_agent.tools.core.zoo.families.modules import SmallCNN

        c, h, w = input_spec["shape"]
        return SmallCNN(c, (h, w), [int(x) for x in hp.get("channels", [32, 64])], int(num_classes or 10),
                        depthwise=bool(hp.get("depthwise", False)), dropout=float(hp.get("dropout", 0.1)))


class _TimmFamily(_ImageFamily):
    """Builds `timm.create_model(hp['model'], pretrained=False, num_classes, in_chans, **hp['kwargs'])`."""

    min_size: int = 0

    def timm_kwargs(self, hp: dict, input_spec: dict) -> dict:
        return dict(hp.get("kwargs", {}))

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        import timm  # heavy: load late

        c, h, w = input_spec["shape"]
        kwargs = self.timm_kwargs(hp, input_spec)
        if "drop_rate" in hp:
            kwargs["drop_rate"] = float(hp["drop_rate"])
        model = timm.create_model(hp["model"], pretrained=False, num_classes=int(num_classes or 10), in_chans=c,
                                  **kwargs)
        if self.min_size and min(h, w) < self.min_size:
            from tensor_agent.tools.core.zoo.families.modules import MinSize

            return MinSize(model, self.min_size)
        return model


@register_family("resnet", modality="image", implementable=True)
class ResNetFamily(_TimmFamily):
    summary = "residual CNN (timm ResNet ladder, narrow variants for small inputs)"
    variants = {
        "resnet-micro": {"model": "resnet18", "kwargs": {"layers": [1, 1, 1, 1], "channels": [16, 32, 64, 128],
                                                          "stem_width": 16}},
        "resnet-narrow": {"model": "resnet18", "kwargs": {"channels": [32, 64, 128, 256], "stem_width": 32}},
        "resnet10t": {"model": "resnet10t"},
        "resnet18": {"model": "resnet18"},
        "resnet34": {"model": "resnet34"},
        "resnet50": {"model": "resnet50"},
        "resnet101": {"model": "resnet101"},
    }
    default_variant = "resnet18"
    tiny_variant = "resnet-micro"
    efficient_variants = ("resnet-micro", "resnet-narrow")


@register_family("efficientnet", modality="image")
class EfficientNetFamily(_TimmFamily):
    summary = "compound-scaled depthwise CNNs (timm MobileNetV3 / EfficientNet-Lite / EfficientNet ladder)"
    variants = {
        "mobilenetv3_small_050": {"model": "mobilenetv3_small_050"},
        "mobilenetv3_small_100": {"model": "mobilenetv3_small_100"},
        "efficientnet_lite0": {"model": "efficientnet_lite0"},
        "efficientnet_b0": {"model": "efficientnet_b0"},
        "efficientnet_b1": {"model": "efficientnet_b1"},
        "efficientnet_b2": {"model": "efficientnet_b2"},
        "efficientnet_b3": {"model": "efficientnet_b3"},
    }
    default_variant = "efficientnet_b0"
    tiny_variant = "mobilenetv3_small_050"
    efficient_variants = ("mobilenetv3_small_050", "mobilenetv3_small_100", "efficientnet_lite0")


@register_family("convnext", modality="image")
class ConvNeXtFamily(_TimmFamily):
    summary = "modernised ResNet with large depthwise kernels and LayerNorm (timm ConvNeXt ladder)"
    min_size = 32
    variants = {
        "convnext_atto": {"model": "convnext_atto"},
        "convnext_femto": {"model": "convnext_femto"},
        "convnext_pico": {"model": "convnext_pico"},
        "convnext_nano": {"model": "convnext_nano"},
        "convnext_tiny": {"model": "convnext_tiny"},
        "convnext_small": {"model": "convnext_small"},
        "convnext_base": {"model": "convnext_base"},
    }
    default_variant = "convnext_atto"
    tiny_variant = "convnext_atto"
    efficient_variants = ("convnext_atto", "convnext_femto")


@register_family("vit", modality="image", implementable=True)
class ViTFamily(_TimmFamily):
    summary = "Vision Transformer (timm VisionTransformer; patch size chosen to divide the input)"
    variants = {
        "vit-micro": {"model": "vit_tiny_patch16_224", "kwargs": {"embed_dim": 64, "depth": 4, "num_heads": 2}},
        "vit-mini": {"model": "vit_tiny_patch16_224", "kwargs": {"embed_dim": 128, "depth": 6, "num_heads": 4}},
        "vit_tiny": {"model": "vit_tiny_patch16_224"},
        "vit_small": {"model": "vit_small_patch16_224"},
        "vit_base": {"model": "vit_base_patch16_224"},
        "vit_large": {"model": "vit_large_patch16_224"},
    }
    default_variant = "vit_tiny"
    tiny_variant = "vit-micro"
    efficient_variants = ("vit-micro", "vit-mini")

    @staticmethod
    def patch_size(h: int, w: int, wanted: Optional[int] = None) -> int:
        """The largest patch <= wanted (default: ~1/8 of the side, at most 16) dividing both sides."""
        side = min(h, w)
        target = int(wanted) if wanted else max(1, min(16, side // 8 if side >= 64 else side // 4))
        for p in range(min(target, side), 0, -1):
            if h % p == 0 and w % p == 0:
                return p
        return 1

    def timm_kwargs(self, hp: dict, input_spec: dict) -> dict:
        _, h, w = input_spec["shape"]
        kwargs = dict(hp.get("kwargs", {}))
        kwargs["img_size"] = (h, w)
        kwargs["patch_size"] = self.patch_size(h, w, hp.get("patch_size"))
        return kwargs
