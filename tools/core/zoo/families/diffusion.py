"""Image generation: a diffusers UNet2DModel noise predictor with DDPM and DDIM samplers.

`latent=True` adds a small AutoencoderKL (latent diffusion): the UNet then works on 4-channel latents at
1/4 resolution (two down blocks in the VAE), and `DiffusionNet.sample()` decodes.
"""

from __future__ import annotations

from typing import Any, Optional

from tensor_agent.errors import InputError
from tensor_agent.tools.core.zoo.registry import Family, register_family


@register_family("diffusion", modality="image_generation", tasks=("denoising", "generation"), implementable=True)
class DiffusionFamily(Family):
    summary = "denoising diffusion model: UNet noise predictor, DDPM training, DDPM/DDIM sampling"
    variants = {
        "unet-micro": {"block_out_channels": [16, 32], "layers_per_block": 1, "attention": False},
        "unet-mini": {"block_out_channels": [32, 64], "layers_per_block": 1, "attention": True},
        "unet-small": {"block_out_channels": [32, 64, 128], "layers_per_block": 2, "attention": True},
        "unet-medium": {"block_out_channels": [64, 128, 256], "layers_per_block": 2, "attention": True},
        "unet-large": {"block_out_channels": [128, 256, 256, 512], "layers_per_block": 2, "attention": True},
    }
    default_variant = "unet-mini"
    tiny_variant = "unet-micro"
    efficient_variants = ("unet-micro", "unet-mini")

    def default_input_spec(self, task: str) -> dict:
        """32x32 RGB (CIFAR-sized) when the data does not say otherwise."""
        return {"kind": "image", "shape": [3, 32, 32]}

    def default_num_classes(self, task: str) -> Optional[int]:
        return None

    def check_input_spec(self, input_spec: dict, hp: dict) -> None:
        if input_spec["kind"] != "image":
            raise InputError("family 'diffusion' generates images: input_spec.shape must be [C, H, W]")
        c, h, w = input_spec["shape"]
        if h != w:
            raise InputError(f"diffusion UNet needs square images, got {h}x{w}")
        levels = len(hp.get("block_out_channels", [32, 64])) - 1 + (2 if hp.get("latent") else 0)
        if h % (2 ** levels):
            raise InputError(f"image side {h} must be divisible by {2 ** levels} for {levels} down-sampling levels",
                             hint="choose a variant with fewer blocks or a larger image")

    def build(self, hp: dict, input_spec: dict, num_classes: Optional[int], task: str) -> Any:
        from diffusers import UNet2DModel

        from tensor_agent.tools.core.zoo.families.modules import DiffusionNet

        c, h, _ = input_spec["shape"]
        chans = [int(x) for x in hp.get("block_out_channels", [32, 64])]
        vae = None
        in_c, size = c, h
        if hp.get("latent"):
            from diffusers import AutoencoderKL

            vae = AutoencoderKL(in_channels=c, out_channels=c, latent_channels=4,
                                down_block_types=("DownEncoderBlock2D",) * 3,
                                up_block_types=("UpDecoderBlock2D",) * 3,
                                block_out_channels=(32, 64, 64), layers_per_block=1, norm_num_groups=16,
                                sample_size=h)
            in_c, size = 4, h // 4
        attn = bool(hp.get("attention", True))
        down = ["DownBlock2D"] * len(chans)
        up = ["UpBlock2D"] * len(chans)
        if attn:
            down[-1], up[0] = "AttnDownBlock2D", "AttnUpBlock2D"
        groups = min(8, min(chans))
        unet = UNet2DModel(sample_size=size, in_channels=in_c, out_channels=in_c, block_out_channels=tuple(chans),
                           layers_per_block=int(hp.get("layers_per_block", 1)), down_block_types=tuple(down),
                           up_block_types=tuple(up), norm_num_groups=groups, add_attention=attn,
                           attention_head_dim=int(hp.get("attention_head_dim", 8)))  # no attention: mid block too
        return DiffusionNet(unet, num_train_timesteps=int(hp.get("num_train_timesteps", 1000)),
                            beta_schedule=str(hp.get("beta_schedule", "linear")), vae=vae, image_shape=(c, h, h))

    def example_inputs(self, input_spec: dict, batch_size: int, hp: Optional[dict] = None) -> tuple:
        import torch

        shape = self._model_shape(input_spec, hp)
        g = torch.Generator().manual_seed(0)
        return torch.randn(batch_size, *shape, generator=g), torch.randint(0, 1000, (batch_size,), generator=g)

    @staticmethod
    def _model_shape(input_spec: dict, hp: Optional[dict]) -> list[int]:
        """What the UNet sees: the image, or its 4-channel latent at 1/4 resolution in the latent variant."""
        c, h, w = input_spec["shape"]
        if (hp or {}).get("latent"):
            return [4, h // 4, w // 4]
        return [c, h, w]

    def output_shape(self, input_spec: dict, num_classes: Optional[int], task: str, batch_size: int,
                     hp: Optional[dict] = None) -> list[int]:
        return [batch_size, *self._model_shape(input_spec, hp)]

    def extra(self, hp: dict, input_spec: dict, module: Any) -> dict:
        return {"samplers": ["ddpm", "ddim"], "latent": bool(hp.get("latent")),
                "num_train_timesteps": int(hp.get("num_train_timesteps", 1000))}
