"""Inception-style tiny CNN: parallel 1x1 / 3x3 / 5x5 / pool branches joined on channels."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8, 8)
# Per module: 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool projection (channels at width 1).
MODULES = (
    (16, 16, 24, 8, 12, 12),
    (32, 24, 48, 12, 24, 24),
    (48, 32, 64, 16, 32, 32),
)


def inception_tiny(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    stem: int = 32,
    factorized: bool = True,
    dropout: float = 0.3,
    l2: float = 1e-4,
) -> Any:
    """Builds a 3x3 conv stem and three inception modules with 2x2 max pools between them.

    Each module concatenates four branches on channels: 1x1; 1x1 then 3x3; 1x1 then 5x5
    (two 3x3 when ``factorized``, as in Inception v2, which is cheaper and maps to the
    common 3x3 kernels); 3x3 max pool then 1x1. Pools skip axes already at size 1.

    Args:
        input_shape: (H, W, C), at least 8x8.
        num_classes: number of classes (>= 2).
        width: channel multiplier.
        stem: channels of the stem convolution before the width multiplier.
        factorized: two 3x3 convolutions instead of one 5x5 in the third branch.
        dropout: dropout rate before the classifier.
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_image_input("inception_tiny", input_shape, MIN_INPUT)
    layers.check_options(
        "inception_tiny", num_classes=num_classes, width=width, dropout=dropout, l2=l2
    )
    keras = tfdeps.keras()
    inputs = layers.model_input(input_shape)
    x = layers.conv_bn_relu(inputs, layers.scaled(stem, width), 3, name="conv1", l2=l2)
    for m, sizes in enumerate(MODULES, start=1):
        x = layers.max_pool(x, name=f"pool{m}")
        channels = tuple(layers.scaled(c, width) for c in sizes)
        x = _module(x, channels, name=f"mixed{m}", factorized=factorized, l2=l2)
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="inception_tiny")


def _module(x: Any, channels: tuple[int, ...], *, name: str, factorized: bool, l2: float) -> Any:
    """One inception module; its branches are concatenated into layer ``name``."""
    keras = tfdeps.keras()
    c1, c3r, c3, c5r, c5, cp = channels
    b1 = layers.conv_bn_relu(x, c1, 1, name=f"{name}_1x1", l2=l2)
    b3 = layers.conv_bn_relu(x, c3r, 1, name=f"{name}_3x3_reduce", l2=l2)
    b3 = layers.conv_bn_relu(b3, c3, 3, name=f"{name}_3x3", l2=l2)
    b5 = layers.conv_bn_relu(x, c5r, 1, name=f"{name}_5x5_reduce", l2=l2)
    if factorized:
        b5 = layers.conv_bn_relu(b5, c5, 3, name=f"{name}_5x5a", l2=l2)
        b5 = layers.conv_bn_relu(b5, c5, 3, name=f"{name}_5x5b", l2=l2)
    else:
        b5 = layers.conv_bn_relu(b5, c5, 5, name=f"{name}_5x5", l2=l2)
    bp = keras.layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = layers.conv_bn_relu(bp, cp, 1, name=f"{name}_pool_proj", l2=l2)
    return keras.layers.Concatenate(name=name)([b1, b3, b5, bp])
