"""A fast selective scan for transformers' Mamba on CPU.

transformers' `MambaMixer` falls back to a step-by-step reference scan (and a depthwise Conv1d whose CPU
backward is slow) when the CUDA kernels are absent: more than 100 s per epoch on a 512-step task. The
mixer below keeps the SAME parameters (in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj), so state
dicts, parameter counts and generated code are unchanged, and computes the same recurrence exactly

    h_t = exp(dt_t * A) * h_{t-1} + dt_t * B_t * x_t,    y_t = C_t . h_t + D * x_t

with `SelectiveScanFn`, a fused autograd function: all per-element work (decays, inputs, the contraction
with C and every gradient product) is vectorised over the whole sequence, and the carry is a chunked
parallel scan (`chunk_carry`: every chunk of ~sqrt(T) steps runs at once, then a short loop over the chunk
ends), forward and, in reverse, backward. No autograd graph is built per step, and the (B, T, E, N) tensors
are split by batch to about 16 MB (the chunked log-space scan it replaces materialised a dozen, several above glibc's mmap
threshold and page-faulted on every allocation: 5x slower). The causal convolution is a sum of shifted
copies (exact, fast to differentiate).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from transformers.models.mamba.modeling_mamba import MambaMixer

#: state elements (T x b x N x E) per batch group of the fused scan: 4M floats = 16 MB per tensor (below
#: glibc's 32 MB mmap threshold: larger tensors are fresh page-faulted mappings on every allocation)
GROUP_ELEMENTS = 1 << 22


def chunk_carry(a: torch.Tensor, u: torch.Tensor, chunk: int) -> tuple[torch.Tensor, torch.Tensor]:
    """All states of h_t = a_t * h_{t-1} + u_t (h_{-1} = 0) by a chunked parallel scan.

    a, u: (T, ...) with T a multiple of `chunk`, viewed as (nc, L, ...) chunks. Every chunk runs its own
    carry from zero at once (L steps on (nc, ...) slabs), then a short loop over the nc chunk ends passes
    each chunk's incoming state, applied with the in-chunk cumulative products of the decays.
    Returns (h (T, ...), P: the in-chunk cumulative products (nc, L, ...)).
    """
    nc = a.shape[0] // chunk
    ac, uc = a.view(nc, chunk, *a.shape[1:]), u.view(nc, chunk, *u.shape[1:])
    h, p = torch.empty_like(uc), torch.empty_like(ac)  # p_t = prod_{j <= t} a_j inside the chunk
    h[:, 0], p[:, 0] = uc[:, 0], ac[:, 0]
    for t in range(1, chunk):  # all chunks in parallel
        torch.addcmul(uc[:, t], ac[:, t], h[:, t - 1], out=h[:, t])
        torch.mul(ac[:, t], p[:, t - 1], out=p[:, t])
    h_in = torch.zeros_like(h[:, 0])  # (nc, ...) state entering each chunk
    for c in range(1, nc):
        torch.addcmul(h[c - 1, -1], p[c - 1, -1], h_in[c - 1], out=h_in[c])
    h.addcmul_(p, h_in.unsqueeze(1))
    return h.view_as(u), p


def chunk_carry_reverse(a: torch.Tensor, d: torch.Tensor, chunk: int) -> torch.Tensor:
    """g_t = d_t + a_{t+1} g_{t+1} (g_T = d_T): the reverse carry of `chunk_carry`, also chunk-parallel."""
    nc = a.shape[0] // chunk
    ac, g = a.view(nc, chunk, *a.shape[1:]), d.clone().view(nc, chunk, *d.shape[1:])
    for t in range(chunk - 2, -1, -1):  # all chunks in parallel
        g[:, t].addcmul_(ac[:, t + 1], g[:, t + 1])
    q = torch.ones_like(g)  # q_t = prod_{t < j < L} a_j inside the chunk
    for t in range(chunk - 2, -1, -1):
        torch.mul(q[:, t + 1], ac[:, t + 1], out=q[:, t])
    g_out = torch.zeros_like(g[:, 0])  # (nc, ...) dL/dh at each chunk's last step from later chunks
    for c in range(nc - 2, -1, -1):
        g_out[c] = ac[c + 1, 0] * (g[c + 1, 0] + q[c + 1, 0] * g_out[c + 1])
    g.addcmul_(q, g_out.unsqueeze(1))
    return g.view_as(d)


class SelectiveScanFn(torch.autograd.Function):
    """y_t = C_t . h_t with h_t = exp(dt_t A) h_{t-1} + dt_t x_t B_t (fused forward and backward).

    Inputs: x, dt (B, T, E); A (E, N) (negative); Bm, Cm (B, T, N). Output: y (B, T, E).
    Every per-element factor (decays exp(dt A), inputs dt x B, output contraction with C, every gradient
    product) is computed for all T steps at once; the carry is the chunked parallel scan `chunk_carry`
    (about 2 sqrt(T) fused multiply-adds on slabs instead of T), the backward pass the same scan in reverse
    (g_t = dL/dh_t + a_{t+1} g_{t+1}). Time-major (T, b, N, E) layout. The batch is processed in groups of
    about GROUP_ELEMENTS state elements (tensors of a few MB stay in cache and in the allocator's heap);
    with more than one group the backward pass recomputes a group's states instead of storing them.
    """

    @staticmethod
    def _states(xt, dtt, at, bt, chunk: int):
        """Decays a, inputs u and states h (T', b, N, E) of one batch group (time-major, T' = padded T)."""
        pad = (-xt.shape[0]) % chunk
        a = torch.exp(dtt.unsqueeze(2) * at)  # (T, b, N, E)
        u = bt.unsqueeze(-1) * (dtt * xt).unsqueeze(2)
        if pad:  # decay 1 and input 0 on padded steps: they do not change the real ones
            a = torch.cat([a, a.new_ones(pad, *a.shape[1:])])
            u = torch.cat([u, u.new_zeros(pad, *u.shape[1:])])
        return a, u, chunk_carry(a, u, chunk)[0]

    @staticmethod
    def _layout(t: int, b: int, n: int, e: int) -> tuple[int, list]:
        chunk = max(1, round(t ** 0.5))
        step = max(1, GROUP_ELEMENTS // max(1, t * n * e))
        return chunk, [slice(i, i + step) for i in range(0, b, step)]

    @staticmethod
    def forward(ctx, x, dt, A, Bm, Cm):
        xt, dtt, bt, ct = (v.transpose(0, 1).contiguous() for v in (x, dt, Bm, Cm))  # (T, B, E|N)
        at = A.t().contiguous()  # (N, E)
        t = xt.shape[0]
        chunk, groups = SelectiveScanFn._layout(t, xt.shape[1], *at.shape)
        y, kept = torch.empty_like(xt), ()
        for g in groups:
            a, u, h = SelectiveScanFn._states(xt[:, g], dtt[:, g], at, bt[:, g], chunk)
            y[:, g] = (h[:t] * ct[:, g].unsqueeze(-1)).sum(2)  # (T, b, E)
        if len(groups) == 1:  # small: keep the states for the backward pass (else it recomputes them)
            kept = (a, u, h)
        ctx.save_for_backward(xt, dtt, at, bt, ct, *kept)
        return y.transpose(0, 1)  # (B, T, E)

    @staticmethod
    def backward(ctx, dy):
        xt, dtt, at, bt, ct, *kept = ctx.saved_tensors
        t = xt.shape[0]
        chunk, groups = SelectiveScanFn._layout(t, xt.shape[1], *at.shape)
        dyt = dy.transpose(0, 1).contiguous()  # (T, B, E)
        dx, ddt, dB, dC = (torch.empty_like(v) for v in (xt, dtt, bt, ct))
        dat = torch.zeros_like(at)
        for sl in groups:
            xs, dts, bs, cs, dys = xt[:, sl], dtt[:, sl], bt[:, sl], ct[:, sl], dyt[:, sl]
            a, u, h = kept or SelectiveScanFn._states(xs, dts, at, bs, chunk)
            d = torch.zeros_like(h)
            torch.mul(cs.unsqueeze(-1), dys.unsqueeze(2), out=d[:t])  # direct dL/dh_t (T, b, N, E)
            g = chunk_carry_reverse(a, d, chunk)[:t]  # total dL/dh_t = dL/du_t
            a, u, h = a[:t], u[:t], h[:t]
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
CODEGEN_SOURCES = (chunk_carry, chunk_carry_reverse, SelectiveScanFn, causal_depthwise_conv, ChunkedScanMixer, use_chunked_scan)
