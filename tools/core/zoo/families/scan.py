"""A fast selective scan for transformers' Mamba on CPU.

transformers' `MambaMixer` falls back to a step-by-step reference scan (and a depthwise Conv1d whose CPU
backward is slow) when the CUDA kernels are absent: more than 100 s per epoch on a 512-step task. The
mixer below keeps the SAME parameters (in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj), so state
dicts, parameter counts and generated code are unchanged, and computes the same recurrence exactly

    h_t = exp(dt_t * A) * h_{t-1} + dt_t * B_t * x_t,    y_t = C_t . h_t + D * x_t

with `SelectiveScanFn`, a fused autograd function: all per-element work (decays, inputs, the contraction
with C and every gradient product) is vectorised over the whole sequence, and only the carry runs over
time as one fused multiply-add per step, forward and (in reverse) backward. No autograd graph is built
per step, so a step of the 512-token seed row costs a fraction of the chunked log-space scan it replaces
(which materialised a dozen (B, T, E, N) tensors, several above glibc's mmap threshold and page-faulted
on every allocation). The causal convolution is a sum of shifted copies (exact, fast to differentiate).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers.models.mamba.modeling_mamba import MambaMixer

#: state elements (T x b x N x E) per batch group of the fused scan: 4M floats = 16 MB per tensor (below
#: glibc's 32 MB mmap threshold: larger tensors are fresh page-faulted mappings on every allocation)
GROUP_ELEMENTS = 1 << 22


class SelectiveScanFn(torch.autograd.Function):
    """y_t = C_t . h_t with h_t = exp(dt_t A) h_{t-1} + dt_t x_t B_t (fused forward and backward).

    Inputs: x, dt (B, T, E); A (E, N) (negative); Bm, Cm (B, T, N). Output: y (B, T, E).
    Every per-element factor (decays exp(dt A), inputs dt x B, output contraction with C) is computed for
    all T steps at once; only the carry h_t = a_t * h_{t-1} + u_t runs over time, one fused multiply-add
    on a (b, N, E) slab per step, and the backward pass is the same carry in reverse
    (g_t = dL/dh_t + a_{t+1} g_{t+1}). Time-major (T, b, N, E) layout: each step's slab is contiguous.
    The batch is processed in groups of about GROUP_ELEMENTS state elements (tensors of a few MB stay in
    cache and in the allocator's heap); with more than one group the backward pass recomputes a group's
    states instead of storing them.
    """

    @staticmethod
    def _states(xt, dtt, at, bt):
        """Decays a, inputs u and states h (T, b, N, E) of one batch group (time-major inputs)."""
        a = torch.exp(dtt.unsqueeze(2) * at)  # (T, b, N, E)
        u = bt.unsqueeze(-1) * (dtt * xt).unsqueeze(2)
        h = torch.empty_like(u)
        h[0].copy_(u[0])
        for t in range(1, h.shape[0]):
            torch.addcmul(u[t], a[t], h[t - 1], out=h[t])
        return a, u, h

    @staticmethod
    def _groups(t: int, b: int, n: int, e: int) -> list:
        step = max(1, GROUP_ELEMENTS // max(1, t * n * e))
        return [slice(i, i + step) for i in range(0, b, step)]

    @staticmethod
    def forward(ctx, x, dt, A, Bm, Cm):
        xt, dtt, bt, ct = (v.transpose(0, 1).contiguous() for v in (x, dt, Bm, Cm))  # (T, B, E|N)
        at = A.t().contiguous()  # (N, E)
        groups = SelectiveScanFn._groups(xt.shape[0], xt.shape[1], *at.shape)
        y, kept = torch.empty_like(xt), ()
        for g in groups:
            a, u, h = SelectiveScanFn._states(xt[:, g], dtt[:, g], at, bt[:, g])
            y[:, g] = (h * ct[:, g].unsqueeze(-1)).sum(2)  # (T, b, E)
        if len(groups) == 1:  # small: keep the states for the backward pass (else it recomputes them)
            kept = (a, u, h)
        ctx.save_for_backward(xt, dtt, at, bt, ct, *kept)
        return y.transpose(0, 1)  # (B, T, E)

    @staticmethod
    def backward(ctx, dy):
        xt, dtt, at, bt, ct, *kept = ctx.saved_tensors
        dyt = dy.transpose(0, 1).contiguous()  # (T, B, E)
        dx, ddt, dB, dC = (torch.empty_like(v) for v in (xt, dtt, bt, ct))
        dat = torch.zeros_like(at)
        for sl in SelectiveScanFn._groups(xt.shape[0], xt.shape[1], *at.shape):
            xs, dts, bs, cs, dys = xt[:, sl], dtt[:, sl], bt[:, sl], ct[:, sl], dyt[:, sl]
            a, u, h = kept or SelectiveScanFn._states(xs, dts, at, bs)
            g = cs.unsqueeze(-1) * dys.unsqueeze(2)  # direct dL/dh_t (T, b, N, E), made the total in place
            for t in range(g.shape[0] - 2, -1, -1):
                g[t].addcmul_(a[t + 1], g[t + 1])  # g_t += a_{t+1} g_{t+1}
            dla = g * (h - u)  # dL/d(dt A) = g_t a_t h_{t-1}
            q = (g * bs.unsqueeze(-1)).sum(2)  # dL/d(dt x) (T, b, E)
            ddt[:, sl] = q * xs + (dla * at).sum(2)
            dx[:, sl] = q * dts
            dB[:, sl] = (g * (dts * xs).unsqueeze(2)).sum(-1)  # (T, b, N)
            dC[:, sl] = (h * dys.unsqueeze(2)).sum(-1)
            dat += (dla * dts.unsqueeze(2)).sum((0, 1))  # (N, E)
        return dx.transpose(0, 1), ddt.transpose(0, 1), dat.t(), dB.transpose(0, 1), dC.transpose(0, 1)


def causal_depthwise_conv(x: torch.Tensor, weight: torch.Tensor, bias) -> torch.Tensor:
    """Causal depthwise Conv1d as a sum of shifted copies: x (B, T, E), weight (E, 1, K) -> (B, T, E)."""
    k = weight.shape[-1]
    t = x.shape[1]
    xp = F.pad(x, (0, 0, k - 1, 0))  # (B, T + K - 1, E)
    w = weight[:, 0, :]  # (E, K)
    y = sum(xp[:, j:j + t] * w[:, j] for j in range(k))
    return y + bias if bias is not None else y


class ChunkedScanMixer(MambaMixer):
    """MambaMixer with the fused selective scan (training and full-sequence inference, no cache)."""

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
        y = SelectiveScanFn.apply(x, dt, a, bm, cm)
        return self.out_proj((y + x * self.D) * self.act(gate))  # y (B, T, E)


def use_chunked_scan(backbone: torch.nn.Module) -> torch.nn.Module:
    """Switch every MambaMixer of a transformers MambaModel to the fused scan, in place (same weights)."""
    for mod in backbone.modules():
        if type(mod) is MambaMixer:
            mod.__class__ = ChunkedScanMixer
    return backbone


#: what generated PyTorch code copies to rebuild the mixer (tools/design/codegen/pytorch.py)
CODEGEN_SOURCES = (SelectiveScanFn, causal_depthwise_conv, ChunkedScanMixer, use_chunked_scan)
