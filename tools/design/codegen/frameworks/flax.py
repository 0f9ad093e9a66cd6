"""Flax (linen) code for the designed network, on JAX (CPU here).

Rendered from the built torch module's architecture (frameworks/spec.py): its parameter count (the
`params` collection; BatchNorm statistics live in `batch_stats`) matches the PyTorch design.
`python <file>` initialises it and trains one step with optax on random data.
"""

from __future__ import annotations

from tensor_agent.tools.design.codegen.frameworks.keras import RenderedBackend
from tensor_agent.tools.design.codegen.registry import register_backend

HEADER = '''"""{family}/{variant} in Flax (linen) on JAX, written by @TENSOR from the PyTorch design.

Parameters: the PyTorch design has {torch_params:,}; `count_params()` gives this file's count.
Inputs are channels-last (NHWC). Run `python {{this file}}`: initialises the model and trains one step.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import linen as nn

CONFIG = {config}
'''

BUILDERS = {
    "mlp": '''
class Model(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):  # (B, F) -> (B, out)
        c = CONFIG
        for width in c["hidden"]:
            x = nn.Dense(width)(x)
            if c["batch_norm"]:
                x = nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)(x)
            x = nn.Dropout(c["dropout"], deterministic=not train)(nn.relu(x))
        return nn.Dense(c["out"])(x)


def example_batch(n=8):
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.standard_normal((n, CONFIG["in"])), jnp.float32), jnp.asarray(rng.integers(0, CONFIG["out"], n))
''',
    "cnn": '''
class Model(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):  # (B, H, W, C) -> (B, classes)
        c = CONFIG
        for b in c["blocks"]:
            if b["depthwise"]:
                x = nn.Conv(x.shape[-1], (3, 3), padding="SAME", feature_group_count=x.shape[-1], use_bias=False)(x)
                x = nn.Conv(b["out"], (1, 1), use_bias=False)(x)
            else:
                x = nn.Conv(b["out"], (3, 3), padding="SAME", use_bias=False)(x)
            x = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)(x))
            if b["pool"]:
                x = nn.max_pool(x, (2, 2), strides=(2, 2))
        x = x.mean(axis=(1, 2))  # (B, C)
        x = nn.Dropout(c["dropout"], deterministic=not train)(x)
        return nn.Dense(c["out"])(x)


def example_batch(n=8):
    ch, h, w = CONFIG["input_shape"]
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.standard_normal((n, h, w, ch)), jnp.float32), jnp.asarray(rng.integers(0, CONFIG["out"], n))
''',
    "resnet": '''
class BasicBlock(nn.Module):
    channels: int
    stride: int
    downsample: bool

    @nn.compact
    def __call__(self, x, train: bool):
        bn = lambda: nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)  # noqa: E731
        s = (self.stride, self.stride)
        y = nn.relu(bn()(nn.Conv(self.channels, (3, 3), strides=s, padding="SAME", use_bias=False)(x)))
        y = bn()(nn.Conv(self.channels, (3, 3), padding="SAME", use_bias=False)(y))
        if self.downsample:
            x = bn()(nn.Conv(self.channels, (1, 1), strides=s, use_bias=False)(x))
        return nn.relu(y + x)


class Model(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):  # (B, H, W, C) -> (B, classes)
        c = CONFIG
        h, w = x.shape[1:3]
        if c["min_size"] and min(h, w) < c["min_size"]:
            s = c["min_size"] / min(h, w)
            x = jax.image.resize(x, (x.shape[0], int(-(-h * s // 1)), int(-(-w * s // 1)), x.shape[3]), "bilinear")
        k, st = c["stem_kernel"], c["stem_stride"]
        x = nn.Conv(c["stem"], (k, k), strides=(st, st), padding="SAME", use_bias=False)(x)
        x = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=0.9, epsilon=1e-5)(x))
        if c["maxpool"]:
            x = nn.max_pool(x, (3, 3), strides=(2, 2), padding="SAME")
        for stage in c["stages"]:
            for i in range(stage["blocks"]):
                x = BasicBlock(stage["channels"], stage["stride"] if i == 0 else 1,
                               i == 0 and stage["downsample"])(x, train)
        return nn.Dense(c["out"])(x.mean(axis=(1, 2)))


def example_batch(n=4):
    ch, h, w = CONFIG["input_shape"]
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.standard_normal((n, h, w, ch)), jnp.float32), jnp.asarray(rng.integers(0, CONFIG["out"], n))
''',
    "vit": '''
class Block(nn.Module):
    @nn.compact
    def __call__(self, x):  # (B, N, D)
        c = CONFIG
        y = nn.LayerNorm(epsilon=c["eps"])(x)
        x = x + nn.MultiHeadDotProductAttention(c["heads"], qkv_features=c["dim"], use_bias=c["qkv_bias"])(y, y)
        y = nn.LayerNorm(epsilon=c["eps"])(x)
        return x + nn.Dense(c["dim"])(nn.gelu(nn.Dense(c["mlp"])(y)))


class Model(nn.Module):
    @nn.compact
    def __call__(self, x, train: bool = False):  # (B, H, W, C) -> (B, classes)
        c = CONFIG
        p, d = c["patch"], c["dim"]
        x = nn.Conv(d, (p, p), strides=(p, p))(x)  # (B, H/p, W/p, D)
        x = x.reshape(x.shape[0], -1, d)  # (B, N, D)
        if c["cls_token"]:
            cls = self.param("cls_token", nn.initializers.zeros, (1, 1, d))
            x = jnp.concatenate([jnp.broadcast_to(cls, (x.shape[0], 1, d)), x], axis=1)
        x = x + self.param("pos_embed", nn.initializers.normal(0.02), (1, c["tokens"], d))
        for _ in range(c["depth"]):
            x = Block()(x)
        x = nn.LayerNorm(epsilon=c["eps"])(x)
        return nn.Dense(c["out"])(x[:, 0] if c["cls_token"] else x.mean(1))


def example_batch(n=4):
    ch, h, w = CONFIG["input_shape"]
    rng = np.random.default_rng(0)
    return jnp.asarray(rng.standard_normal((n, h, w, ch)), jnp.float32), jnp.asarray(rng.integers(0, CONFIG["out"], n))
''',
    "gpt": '''
class Block(nn.Module):
    @nn.compact
    def __call__(self, x, mask):  # (B, T, D)
        c = CONFIG
        y = nn.LayerNorm(epsilon=c["eps"])(x)
        x = x + nn.MultiHeadDotProductAttention(c["heads"], qkv_features=c["dim"])(y, y, mask=mask)
        y = nn.LayerNorm(epsilon=c["eps"])(x)
        return x + nn.Dense(c["dim"])(nn.gelu(nn.Dense(c["mlp"])(y)))


class Model(nn.Module):
    @nn.compact
    def __call__(self, ids, train: bool = False):  # (B, T) int -> (B, T, V)
        c = CONFIG
        tok = nn.Embed(c["vocab"], c["dim"])
        x = tok(ids) + nn.Embed(c["positions"], c["dim"])(jnp.arange(ids.shape[1]))[None]
        mask = nn.make_causal_mask(ids)
        for _ in range(c["layers"]):
            x = Block()(x, mask)
        x = nn.LayerNorm(epsilon=c["eps"])(x)
        return tok.attend(x) if c["tied"] else nn.Dense(c["vocab"], use_bias=False)(x)


def example_batch(n=2):
    rng = np.random.default_rng(0)
    ids = jnp.asarray(rng.integers(0, CONFIG["vocab"], (n, CONFIG["seq_len"] + 1)), jnp.int32)
    return ids[:, :-1], ids[:, 1:]  # inputs, next tokens
''',
}

FOOTER = '''

def init(seed=0):
    """(model, variables) with `params` (and `batch_stats` where BatchNorm is used)."""
    model = Model()
    x, _ = example_batch()
    rngs = {"params": jax.random.PRNGKey(seed), "dropout": jax.random.PRNGKey(1)}
    return model, jax.jit(lambda r, x: model.init(r, x, train=False))(rngs, x)


def count_params(variables=None):
    """Parameters in the `params` collection (BatchNorm statistics are not parameters, as in PyTorch)."""
    variables = variables if variables is not None else init()[1]
    return int(sum(np.prod(p.shape) for p in jax.tree_util.tree_leaves(variables["params"])))


def train_one_step(model=None, variables=None):
    """One Adam step on random data; returns the loss."""
    if model is None:
        model, variables = init()
    x, y = example_batch()
    params, state = variables["params"], {k: v for k, v in variables.items() if k != "params"}
    tx = optax.adam(1e-3)
    opt_state = tx.init(params)

    def loss_fn(p):
        rngs = {"dropout": jax.random.PRNGKey(2)}
        if state:  # BatchNorm statistics are updated in train mode
            logits, new_state = model.apply({"params": p, **state}, x, train=True, mutable=list(state), rngs=rngs)
        else:
            logits, new_state = model.apply({"params": p}, x, train=True, rngs=rngs), {}
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), new_state

    (loss, _), grads = jax.jit(jax.value_and_grad(loss_fn, has_aux=True))(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    optax.apply_updates(params, updates)
    return float(loss)


def main():
    model, variables = init()
    print("parameters:", f"{count_params(variables):,}", "(PyTorch design: {torch_params:,})")
    print("loss after one step:", train_one_step(model, variables))


if __name__ == "__main__":
    main()
'''


@register_backend("flax")
class FlaxBackend(RenderedBackend):
    """Flax (linen) files rendered from the designed torch module."""

    header, builders, footer = HEADER, BUILDERS, FOOTER
