"""DenseNet-style tiny CNN: dense blocks joined by compressing transition layers."""

from __future__ import annotations

from typing import Any

from edgecnn.core.errors import ModelError
from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8, 8)
# Axes at least this long get a stride-2 stem: dense blocks at full 32x32 resolution would
# cost ~44 M MACs, too much for a "tiny" model; small inputs keep their resolution.
STEM_STRIDE_FROM = 16


def densenet_tiny(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    growth_rate: int = 12,
    blocks: tuple[int, ...] = (4, 4, 4),
    bottleneck: bool = True,
    compression: float = 0.5,
    dropout: float = 0.2,
    l2: float = 1e-4,
) -> Any:
    """Builds a DenseNet-BC style network for small images.

    A 3x3 stem of 2 x growth channels (stride 2 on axes of 16 or more); dense blocks
    whose layers are BN-ReLU-(1x1 bottleneck to 4 x growth)-BN-ReLU-3x3 conv (growth
    channels), each concatenated to its input; transitions BN-ReLU-1x1 conv
    (x ``compression``)-2x2 average pool (axes already at size 1 are not pooled); a final
    BN-ReLU, average pool and classifier.

    Args:
        input_shape: (H, W, C), at least 8x8.
        num_classes: number of classes (>= 2).
        width: multiplier on the growth rate.
        growth_rate: channels each dense layer adds, before the width multiplier.
        blocks: dense layers in each block.
        bottleneck: use the 1x1 bottleneck conv in dense layers.
        compression: channel factor of the transitions, in (0, 1].
        dropout: dropout rate before the classifier.
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_image_input("densenet_tiny", input_shape, MIN_INPUT)
    layers.check_options(
        "densenet_tiny", num_classes=num_classes, width=width, dropout=dropout, l2=l2
    )
    if isinstance(compression, bool) or not 0 < compression <= 1:
        raise ModelError(f"compression must be in (0, 1], e.g. 0.5; got {compression!r}")
    keras = tfdeps.keras()
    growth = layers.scaled(growth_rate, width)
    inputs = layers.model_input(input_shape)
    x = keras.layers.Conv2D(
        2 * growth,
        3,
        strides=tuple(2 if d >= STEM_STRIDE_FROM else 1 for d in input_shape[:2]),
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=layers.regularizer(l2),
        name="conv1",
    )(inputs)
    for b, count in enumerate(blocks, start=1):
        for n in range(1, count + 1):
            x = _dense_layer(x, growth, name=f"block{b}_layer{n}", bottleneck=bottleneck, l2=l2)
        if b < len(blocks):
            x = _transition(x, compression, name=f"transition{b}", l2=l2)
    x = layers.bn_relu(x, name="final")
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="densenet_tiny")


def _dense_layer(x: Any, growth: int, *, name: str, bottleneck: bool, l2: float) -> Any:
    """BN-ReLU-(1x1)-BN-ReLU-3x3 producing ``growth`` channels, concatenated to ``x``."""
    keras = tfdeps.keras()
    y = layers.bn_relu(x, name=name)
    if bottleneck:
        y = _conv(y, 4 * growth, 1, name=f"{name}_1x1", l2=l2)
        y = layers.bn_relu(y, name=f"{name}_1x1")
    y = _conv(y, growth, 3, name=f"{name}_3x3", l2=l2)
    return keras.layers.Concatenate(name=f"{name}_concat")([x, y])


def _transition(x: Any, compression: float, *, name: str, l2: float) -> Any:
    """BN-ReLU, 1x1 conv shrinking channels by ``compression``, 2x2 average pool."""
    channels = max(1, int(x.shape[-1] * compression))
    x = layers.bn_relu(x, name=name)
    x = _conv(x, channels, 1, name=f"{name}_conv", l2=l2)
    return layers.avg_pool(x, name=f"{name}_pool")


def _conv(x: Any, filters: int, kernel: int, *, name: str, l2: float) -> Any:
    """A bias-free 'same' conv (a BN always follows in DenseNet's pre-activation order)."""
    keras = tfdeps.keras()
    return keras.layers.Conv2D(
        filters,
        kernel,
        padding="same",
        use_bias=False,
        kernel_initializer="he_normal",
        kernel_regularizer=layers.regularizer(l2),
        name=name,
    )(x)
