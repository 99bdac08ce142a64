"""VGG-style tiny CNN: blocks of 3x3 conv-BN-ReLU with 2x2 max pooling."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8, 8)


def vgg_tiny(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    filters: tuple[int, ...] = (16, 32, 64),
    convs_per_block: int = 2,
    dropout: float = 0.3,
    l2: float = 1e-4,
) -> Any:
    """Builds a small VGG: per block, ``convs_per_block`` 3x3 convs then a 2x2 max pool.

    Pools halve only the axes that are still larger than 1, so 8x8 and 49x10 inputs fit.

    Args:
        input_shape: (H, W, C), at least 8x8.
        num_classes: number of classes (>= 2).
        width: channel multiplier.
        filters: channels of each block before the width multiplier.
        convs_per_block: 3x3 convolutions per block.
        dropout: dropout rate before the classifier.
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_image_input("vgg_tiny", input_shape, MIN_INPUT)
    layers.check_options("vgg_tiny", num_classes=num_classes, width=width, dropout=dropout, l2=l2)
    keras = tfdeps.keras()
    inputs = layers.model_input(input_shape)
    x = inputs
    for b, channels in enumerate(filters, start=1):
        for c in range(1, convs_per_block + 1):
            x = layers.conv_bn_relu(
                x, layers.scaled(channels, width), 3, name=f"block{b}_conv{c}", l2=l2
            )
        x = layers.max_pool(x, name=f"block{b}_pool")
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="vgg_tiny")
