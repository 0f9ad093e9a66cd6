"""torch building blocks and thin wrappers used by the families.

Every wrapper's `forward` returns ONE tensor (logits / noise prediction), so the trainer and the
compressor can treat all families alike. This module imports torch at top level: import it only
inside builders.
"""

from __future__ import annotations

import math
from typing import Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Module):
    """Fully connected network for tabular rows: (B, F) -> (B, out)."""

    def __init__(self, in_features: int, hidden: Sequence[int], out_features: int, dropout: float = 0.1,
                 batch_norm: bool = True) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        prev = in_features
        for width in hidden:
            layers += [nn.Linear(prev, width)]
            if batch_norm:
                layers += [nn.BatchNorm1d(width)]
            layers += [nn.ReLU(inplace=True), nn.Dropout(dropout)]
            prev = width
        layers += [nn.Linear(prev, out_features)]
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, F) -> (B, out)
        return self.net(x.flatten(1))


class ConvBlock(nn.Module):
    """conv (plain or depthwise-separable) + BN + ReLU (+ optional 2x2 max pool)."""

    def __init__(self, cin: int, cout: int, *, depthwise: bool, pool: bool) -> None:
        super().__init__()
        if depthwise and cin > 1:
            conv = nn.Sequential(nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False),
                                 nn.Conv2d(cin, cout, 1, bias=False))
        else:
            conv = nn.Conv2d(cin, cout, 3, padding=1, bias=False)
        self.body = nn.Sequential(conv, nn.BatchNorm2d(cout), nn.ReLU(inplace=True))
        self.pool = nn.MaxPool2d(2) if pool else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pool(self.body(x))


class SmallCNN(nn.Module):
    """A plain CNN for small images: conv blocks with pooling while the map is >= 2x2, global pool, linear."""

    def __init__(self, in_channels: int, image_hw: tuple[int, int], channels: Sequence[int], num_classes: int,
                 depthwise: bool = False, dropout: float = 0.1) -> None:
        super().__init__()
        blocks = []
        h, w = image_hw
        prev = in_channels
        for width in channels:
            pool = min(h, w) >= 2
            blocks.append(ConvBlock(prev, width, depthwise=depthwise, pool=pool))
            if pool:
                h, w = h // 2, w // 2
            prev = width
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(dropout),
                                  nn.Linear(prev, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (B, C, H, W) -> (B, classes)
        return self.head(self.features(x))


class MinSize(nn.Module):
    """Upsamples inputs smaller than `min_size` (bilinear) before a backbone that downsamples 32x."""

    def __init__(self, backbone: nn.Module, min_size: int) -> None:
        super().__init__()
        self.backbone = backbone
        self.min_size = min_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        if min(h, w) < self.min_size:
            scale = self.min_size / min(h, w)
            x = F.interpolate(x, size=(math.ceil(h * scale), math.ceil(w * scale)), mode="bilinear",
                              align_corners=False)
        return self.backbone(x)


class TextClassifier(nn.Module):
    """A transformers encoder (BERT family) + pooled linear head: input_ids (B, T) -> logits (B, classes)."""

    def __init__(self, encoder: nn.Module, hidden: int, num_classes: int, dropout: float = 0.1,
                 pooling: str = "mean") -> None:
        super().__init__()
        self.encoder = encoder
        self.pooling = pooling
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state  # (B, T, H)
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)  # (B, H)
        return self.head(self.dropout(pooled))


class CausalLM(nn.Module):
    """A decoder-only transformers LM returning logits (B, T, V)."""

    def __init__(self, lm: nn.Module) -> None:
        super().__init__()
        self.lm = lm

    def forward(self, input_ids: torch.Tensor, attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.lm(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, max_new_tokens: int = 20, **kw) -> torch.Tensor:
        return self.lm.generate(input_ids=input_ids, max_new_tokens=max_new_tokens, **kw)


class Seq2SeqLM(nn.Module):
    """An encoder-decoder (T5) returning logits (B, Td, V) for given decoder inputs (teacher forcing)."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, decoder_input_ids: torch.Tensor,
                attention_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        return self.model(input_ids=input_ids, attention_mask=attention_mask,
                          decoder_input_ids=decoder_input_ids, use_cache=False).logits

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, max_new_tokens: int = 20, **kw) -> torch.Tensor:
        return self.model.generate(input_ids=input_ids, max_new_tokens=max_new_tokens, **kw)


class MambaNet(nn.Module):
    """transformers Mamba backbone for sequences.

    tokens (B, T) int or features (B, T, F) float -> logits (B, classes) for classification (last-token
    pooling plus mean pooling), (B, T, V) for generation, (B, 1) for regression.
    """

    def __init__(self, backbone: nn.Module, hidden: int, out_features: int, *, task: str,
                 in_features: Optional[int] = None) -> None:
        super().__init__()
        self.backbone = backbone
        self.task = task
        self.proj = nn.Linear(in_features, hidden) if in_features else None
        self.norm = nn.LayerNorm(hidden)
        self.head = nn.Linear(hidden, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.proj is not None:
            hidden = self.backbone(inputs_embeds=self.proj(x.float()), use_cache=False).last_hidden_state
        else:
            hidden = self.backbone(input_ids=x, use_cache=False).last_hidden_state  # (B, T, H)
        hidden = self.norm(hidden)
        if self.task == "generation":
            return self.head(hidden)  # (B, T, V)
        pooled = 0.5 * (hidden[:, -1] + hidden.mean(1))  # (B, H)
        return self.head(pooled)


class DiffusionNet(nn.Module):
    """A diffusers UNet2DModel predicting the noise: (sample (B, C, H, W), timesteps (B,)) -> (B, C, H, W).

    `sample()` runs the reverse process with DDPM or DDIM; with `vae` set, it works in latent space.
    """

    def __init__(self, unet: nn.Module, *, num_train_timesteps: int = 1000, beta_schedule: str = "linear",
                 vae: Optional[nn.Module] = None, image_shape: Sequence[int] = (1, 8, 8)) -> None:
        super().__init__()
        self.unet = unet
        self.vae = vae
        self.num_train_timesteps = num_train_timesteps
        self.beta_schedule = beta_schedule
        self.image_shape = tuple(image_shape)

    def forward(self, sample: torch.Tensor, timesteps: torch.Tensor) -> torch.Tensor:
        return self.unet(sample, timesteps).sample

    def scheduler(self, sampler: str = "ddpm"):
        """A fresh DDPM or DDIM scheduler matching the training noise schedule."""
        from diffusers import DDIMScheduler, DDPMScheduler

        cls = DDIMScheduler if sampler == "ddim" else DDPMScheduler
        return cls(num_train_timesteps=self.num_train_timesteps, beta_schedule=self.beta_schedule)

    def latent_shape(self) -> tuple[int, ...]:
        cfg = self.unet.config
        return (cfg.in_channels, cfg.sample_size, cfg.sample_size)

    @torch.no_grad()
    def sample(self, n: int = 4, *, steps: int = 50, sampler: str = "ddim", seed: int = 0) -> torch.Tensor:
        """Generate `n` samples (B, C, H, W) in [-1, 1] (decoded by the autoencoder in the latent variant)."""
        sched = self.scheduler(sampler)
        sched.set_timesteps(steps)
        g = torch.Generator().manual_seed(seed)
        x = torch.randn((n, *self.latent_shape()), generator=g)
        for t in sched.timesteps:
            eps = self.unet(x, t).sample
            x = sched.step(eps, t, x).prev_sample
        if self.vae is not None:
            x = self.vae.decode(x).sample
        return x.clamp(-1, 1)


class GNN(nn.Module):
    """GCN / GAT / GraphSAGE node classifier (torch-geometric): (x (N, F), edge_index (2, E)) -> (N, classes)."""

    def __init__(self, conv: str, in_features: int, hidden: int, num_layers: int, out_features: int,
                 heads: int = 4, dropout: float = 0.5) -> None:
        super().__init__()
        from torch_geometric.nn import GATConv, GCNConv, SAGEConv

        self.conv_type = conv
        self.dropout = dropout
        self.convs = nn.ModuleList()
        prev = in_features
        for i in range(num_layers):
            last = i == num_layers - 1
            width = out_features if last else hidden
            if conv == "gat":
                if last:
                    self.convs.append(GATConv(prev, width, heads=1, concat=False, dropout=dropout))
                else:
                    self.convs.append(GATConv(prev, max(1, width // heads), heads=heads, dropout=dropout))
                    width = max(1, width // heads) * heads
            elif conv == "graphsage":  # mean over the neighbourhood including the node itself (self-loops)
                self.convs.append(SAGEConv(prev, width, aggr="mean", root_weight=False))
            else:
                self.convs.append(GCNConv(prev, width))
            prev = width

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
        if self.conv_type == "graphsage":
            from torch_geometric.utils import add_self_loops

            edge_index, _ = add_self_loops(edge_index, num_nodes=x.shape[0])  # (2, E + N)
        for i, conv in enumerate(self.convs):
            x = F.dropout(x, p=self.dropout, training=self.training)
            x = conv(x, edge_index)
            if i < len(self.convs) - 1:
                x = F.elu(x) if self.conv_type == "gat" else F.relu(x)
                if self.conv_type == "graphsage":  # GraphSAGE's L2 normalisation of hidden embeddings
                    x = F.normalize(x, dim=-1)
        return x  # (N, classes)
