"""A chunked parallel selective scan for transformers' Mamba on CPU.

transformers' `MambaMixer` falls back to a step-by-step reference scan (and a depthwise Conv1d whose CPU
backward is slow) when the CUDA kernels are absent: more than 100 s per epoch on a 512-step task. The
mixer below keeps the SAME parameters (in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj), so state
dicts, parameter counts and generated code are unchanged, and computes the same recurrence

    h_t = exp(dt_t * A) * h_{t-1} + dt_t * B_t * x_t,    y_t = C_t . h_t + D * x_t

with a chunked scan: inside a chunk of `CHUNK` steps a cumulative sum in log space (parallel over time),
across chunks a short loop over T / CHUNK carried states. The causal convolution is a sum of shifted
copies (exact, and fast to differentiate on CPU).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers.models.mamba.modeling_mamba import MambaMixer

#: steps per chunk; with the per-step log-decay floored at LOG_A_MIN the in-chunk factors stay within
#: exp(+-48) (finite in float32, gradients included).
CHUNK = 16
LOG_A_MIN = -3.0


def chunked_scan(log_a: torch.Tensor, u: torch.Tensor, chunk: int = CHUNK) -> torch.Tensor:
    """All states of h_t = exp(log_a_t) * h_{t-1} + u_t with h_{-1} = 0.

    Args:
        log_a: (B, T, E, N) log decays (<= 0; floored at LOG_A_MIN: a decay below exp(-3) is a reset).
        u: (B, T, E, N) inputs.
    Returns:
        h: (B, T, E, N).
    """
    b, t, e, n = u.shape
    pad = (-t) % chunk
    if pad:  # zero input and zero log-decay on padded steps: they do not change earlier states
        log_a = F.pad(log_a, (0, 0, 0, 0, 0, pad))
        u = F.pad(u, (0, 0, 0, 0, 0, pad))
    nc = (t + pad) // chunk
    la = log_a.clamp(min=LOG_A_MIN).reshape(b, nc, chunk, e, n)  # (B, nc, L, E, N)
    uc = u.reshape(b, nc, chunk, e, n)
    s = torch.cumsum(la, dim=2)  # S_t = sum_{s<=t} log a_s inside the chunk, in [-3L, 0]
    decay = torch.exp(s)  # factor applied to the state carried into the chunk (B, nc, L, E, N)
    local = decay * torch.cumsum(uc * torch.exp(-s), dim=2)  # in-chunk states from h=0 (B, nc, L, E, N)
    ends, end_decay = local[:, :, -1].unbind(1), decay[:, :, -1].unbind(1)  # nc x (B, E, N)
    carry = [torch.zeros_like(ends[0])]
    for c in range(nc - 1):  # T / L small steps on (B, E, N)
        carry.append(ends[c] + end_decay[c] * carry[-1])
    h0 = torch.stack(carry, dim=1).unsqueeze(2)  # (B, nc, 1, E, N)
    out = (local + decay * h0).reshape(b, nc * chunk, e, n)
    return out[:, :t]


def causal_depthwise_conv(x: torch.Tensor, weight: torch.Tensor, bias) -> torch.Tensor:
    """Causal depthwise Conv1d as a sum of shifted copies: x (B, T, E), weight (E, 1, K) -> (B, T, E)."""
    k = weight.shape[-1]
    t = x.shape[1]
    xp = F.pad(x, (0, 0, k - 1, 0))  # (B, T + K - 1, E)
    w = weight[:, 0, :]  # (E, K)
    y = sum(xp[:, j:j + t] * w[:, j] for j in range(k))
    return y + bias if bias is not None else y


class ChunkedScanMixer(MambaMixer):
    """MambaMixer with the chunked parallel scan (training and full-sequence inference, no cache)."""

    def forward(self, hidden_states, cache=None, attention_mask=None, **kwargs):
        if cache is not None:  # incremental decoding keeps the library's recurrent path
            return super().forward(hidden_states, cache=cache, attention_mask=attention_mask, **kwargs)
        if attention_mask is not None:
            hidden_states = hidden_states * attention_mask.unsqueeze(-1).to(hidden_states.dtype)
        x, gate = self.in_proj(hidden_states).chunk(2, dim=-1)  # (B, T, E) each
        x = self.act(causal_depthwise_conv(x, self.conv1d.weight, self.conv1d.bias if self.use_conv_bias else None))
        dt, bm, cm = torch.split(self.x_proj(x), [self.time_step_rank, self.ssm_state_size, self.ssm_state_size],
                                 dim=-1)
        dt = F.softplus(self.dt_proj(dt))  # (B, T, E)
        a = -torch.exp(self.A_log.float())  # (E, N)
        log_a = dt.unsqueeze(-1) * a  # (B, T, E, N)
        u = (dt * x).unsqueeze(-1) * bm.unsqueeze(2)  # (B, T, E, N)
        h = chunked_scan(log_a, u)
        y = (h * cm.unsqueeze(2)).sum(-1) + x * self.D  # (B, T, E)
        return self.out_proj(y * self.act(gate))


def use_chunked_scan(backbone: torch.nn.Module) -> torch.nn.Module:
    """Switch every MambaMixer of a transformers MambaModel to the chunked scan, in place (same weights)."""
    for mod in backbone.modules():
        if type(mod) is MambaMixer:
            mod.__class__ = ChunkedScanMixer
    return backbone
