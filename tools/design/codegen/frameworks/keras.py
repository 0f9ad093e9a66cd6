"""Keras 3 code for the designed network (runs on the torch, JAX or TensorFlow back-end; torch by default here).

The file is rendered from the built torch module's architecture (frameworks/spec.py), so its trainable
parameter count matches the PyTorch design. `python <file>` builds it and trains one step on random data.
"""

from __future__ import annotations

import pprint
from typing import Any

from tensor_agent.tools.design.codegen.frameworks.spec import SUPPORTED, arch_spec
from tensor_agent.tools.design.codegen.registry import register_backend

HEADER = '''"""{family}/{variant} in Keras 3, written by @TENSOR from the PyTorch design.

Trainable parameters: the PyTorch design has {torch_params:,}; `count_params()` gives this file's count.
Back-end: KERAS_BACKEND (default here: torch; jax and tensorflow work too). Inputs are channels-last.
Run `python {{this file}}`: builds the model and trains one step on random data.
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras
import numpy as np
from keras import layers, ops

CONFIG = {config}
'''

BUILDERS = {
    "mlp": '''
def build_model():
    c = CONFIG
    inp = keras.Input((c["in"],))
    x = inp
    for width in c["hidden"]:
        x = layers.Dense(width)(x)
        if c["batch_norm"]:
            x = layers.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)
        x = layers.ReLU()(x)
        x = layers.Dropout(c["dropout"])(x)
    return keras.Model(inp, layers.Dense(c["out"])(x), name="mlp")


def example_batch(n=8):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, CONFIG["in"])).astype("float32"), rng.integers(0, CONFIG["out"], n)
''',
    "cnn": '''
def build_model():
    c = CONFIG
    ch, h, w = c["input_shape"]
    inp = keras.Input((h, w, ch))  # (H, W, C)
    x = inp
    for b in c["blocks"]:
        if b["depthwise"]:
            x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
            x = layers.Conv2D(b["out"], 1, use_bias=False)(x)
        else:
            x = layers.Conv2D(b["out"], 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)
        x = layers.ReLU()(x)
        if b["pool"]:
            x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(c["dropout"])(x)
    return keras.Model(inp, layers.Dense(c["out"])(x), name="cnn")


def example_batch(n=8):
    ch, h, w = CONFIG["input_shape"]
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, h, w, ch)).astype("float32"), rng.integers(0, CONFIG["out"], n)
''',
    "resnet": '''
def _bn(x):
    return layers.BatchNormalization(epsilon=1e-5, momentum=0.9)(x)


def basic_block(x, channels, stride, downsample):
    shortcut = x
    y = layers.Conv2D(channels, 3, strides=stride, padding="same", use_bias=False)(x)
    y = layers.ReLU()(_bn(y))
    y = _bn(layers.Conv2D(channels, 3, padding="same", use_bias=False)(y))
    if downsample:
        shortcut = _bn(layers.Conv2D(channels, 1, strides=stride, use_bias=False)(x))
    return layers.ReLU()(layers.Add()([y, shortcut]))


def build_model():
    c = CONFIG
    ch, h, w = c["input_shape"]
    inp = keras.Input((h, w, ch))  # (H, W, C)
    x = inp
    if c["min_size"] and min(h, w) < c["min_size"]:
        s = c["min_size"] / min(h, w)
        x = layers.Resizing(int(-(-h * s // 1)), int(-(-w * s // 1)), interpolation="bilinear")(x)
    x = layers.Conv2D(c["stem"], c["stem_kernel"], strides=c["stem_stride"], padding="same", use_bias=False)(x)
    x = layers.ReLU()(_bn(x))
    if c["maxpool"]:
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    for stage in c["stages"]:
        for i in range(stage["blocks"]):
            first = i == 0
            x = basic_block(x, stage["channels"], stage["stride"] if first else 1, first and stage["downsample"])
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inp, layers.Dense(c["out"])(x), name="resnet")


def example_batch(n=4):
    ch, h, w = CONFIG["input_shape"]
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, h, w, ch)).astype("float32"), rng.integers(0, CONFIG["out"], n)
''',
    "vit": '''
class Tokens(layers.Layer):
    """Patch tokens (B, N, D) -> [cls] + tokens + position embedding (B, N+1, D)."""

    def __init__(self, dim, tokens, cls_token, **kw):
        super().__init__(**kw)
        self.dim, self.tokens, self.use_cls = dim, tokens, cls_token

    def build(self, shape):
        if self.use_cls:
            self.cls = self.add_weight(shape=(1, 1, self.dim), initializer="zeros", name="cls_token")
        self.pos = self.add_weight(shape=(1, self.tokens, self.dim), initializer=keras.initializers.RandomNormal(0, .02),
                                   name="pos_embed")

    def call(self, x):
        if self.use_cls:
            cls = ops.broadcast_to(self.cls, (ops.shape(x)[0], 1, self.dim))
            x = ops.concatenate([cls, x], axis=1)
        return x + self.pos


def build_model():
    c = CONFIG
    ch, h, w = c["input_shape"]
    d, p = c["dim"], c["patch"]
    inp = keras.Input((h, w, ch))  # (H, W, C)
    x = layers.Conv2D(d, p, strides=p)(inp)  # (B, H/p, W/p, D)
    x = layers.Reshape(((h // p) * (w // p), d))(x)  # (B, N, D)
    x = Tokens(d, c["tokens"], c["cls_token"])(x)
    for _ in range(c["depth"]):
        y = layers.LayerNormalization(epsilon=c["eps"])(x)
        y = layers.MultiHeadAttention(c["heads"], d // c["heads"], use_bias=c["qkv_bias"])(y, y)
        x = layers.Add()([x, y])
        y = layers.LayerNormalization(epsilon=c["eps"])(x)
        y = layers.Dense(c["mlp"], activation="gelu")(y)
        x = layers.Add()([x, layers.Dense(d)(y)])
    x = layers.LayerNormalization(epsilon=c["eps"])(x)
    x = x[:, 0] if c["cls_token"] else ops.mean(x, axis=1)  # (B, D)
    return keras.Model(inp, layers.Dense(c["out"])(x), name="vit")


def example_batch(n=4):
    ch, h, w = CONFIG["input_shape"]
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, h, w, ch)).astype("float32"), rng.integers(0, CONFIG["out"], n)
''',
    "gpt": '''
class TiedLogits(layers.Layer):
    """Next-token logits with the token embedding matrix (GPT-2 ties input and output embeddings)."""

    def __init__(self, embedding, **kw):
        super().__init__(**kw)
        self.embedding = embedding

    def call(self, x):  # (B, T, D) -> (B, T, V)
        return ops.matmul(x, ops.transpose(self.embedding.embeddings))


class Positions(layers.Layer):
    def __init__(self, positions, dim, **kw):
        super().__init__(**kw)
        self.emb = layers.Embedding(positions, dim)

    def call(self, ids):
        return self.emb(ops.arange(ops.shape(ids)[1]))[None]  # (1, T, D)


def build_model():
    c = CONFIG
    d = c["dim"]
    ids = keras.Input((c["seq_len"],), dtype="int32")
    tok = layers.Embedding(c["vocab"], d)
    x = tok(ids) + Positions(c["positions"], d)(ids)  # (B, T, D)
    for _ in range(c["layers"]):
        y = layers.LayerNormalization(epsilon=c["eps"])(x)
        y = layers.MultiHeadAttention(c["heads"], d // c["heads"])(y, y, use_causal_mask=True)
        x = layers.Add()([x, y])
        y = layers.LayerNormalization(epsilon=c["eps"])(x)
        y = layers.Dense(c["mlp"], activation="gelu")(y)
        x = layers.Add()([x, layers.Dense(d)(y)])
    x = layers.LayerNormalization(epsilon=c["eps"])(x)
    logits = TiedLogits(tok)(x) if c["tied"] else layers.Dense(c["vocab"], use_bias=False)(x)
    return keras.Model(ids, logits, name="gpt")


def example_batch(n=2):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, CONFIG["vocab"], (n, CONFIG["seq_len"] + 1)).astype("int32")
    return ids[:, :-1], ids[:, 1:]  # inputs, next tokens
''',
}

FOOTER = '''

def count_params(model=None):
    """Trainable parameters (BatchNorm moving statistics are not parameters, as in PyTorch)."""
    model = model or build_model()
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))


def train_one_step(model=None):
    """Compile with Adam and run one training step on random data; returns the loss."""
    model = model or build_model()
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    x, y = example_batch()
    return float(model.train_on_batch(x, y))


def main():
    model = build_model()
    print("parameters:", f"{count_params(model):,}", "(PyTorch design: {torch_params:,})")
    print("loss after one step:", train_one_step(model))


if __name__ == "__main__":
    main()
'''


def render_file(spec: dict, header: str, builders: dict, footer: str) -> str:
    head = header.format(family=spec["family"], variant=spec.get("variant") or "", torch_params=spec["torch_params"],
                         config=pprint.pformat(spec, sort_dicts=False))
    return head + builders[spec["kind"]] + footer.replace("{torch_params:,}", f"{spec['torch_params']:,}")


class RenderedBackend:
    """A back-end whose files are rendered from the built torch module (`arch_spec`) with HEADER/BUILDERS/FOOTER."""

    framework = ""
    suffix = ".py"
    header, builders, footer = HEADER, BUILDERS, FOOTER

    def families(self) -> set[str]:
        return set(SUPPORTED)

    def render(self, design: Any, handle: Any = None) -> str:
        from tensor_agent.tools.design.codegen.pytorch import _as_dict, _handle_for

        handle = handle if handle is not None else _handle_for(_as_dict(design))
        return render_file(arch_spec(handle), self.header, self.builders, self.footer)


@register_backend("keras")
class KerasBackend(RenderedBackend):
    """Keras 3 files rendered from the designed torch module."""
