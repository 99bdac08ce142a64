"""DS-CNN, the MLPerf Tiny keyword-spotting reference (MFCC 49x10 in, 12 words out)."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8, 8)


def dscnn(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    filters: int = 64,
    blocks: int = 4,
    first_kernel: tuple[int, int] = (10, 4),
    dropout: float = 0.4,
    first_dropout: float = 0.2,
    l2: float = 1e-4,
) -> Any:
    """Builds DS-CNN as in the MLPerf Tiny reference (24,908 params at 49x10x1, 12 classes).

    Conv (10x4, stride 2) BN ReLU Dropout, then ``blocks`` depthwise-separable blocks
    (3x3 depthwise, BN, ReLU, 1x1 conv, BN, ReLU), dropout, average pool over the map
    and a dense classifier. Convolutions keep their bias, as in the reference.

    Args:
        input_shape: (H, W, C), e.g. 49 frames x 10 MFCCs x 1, at least 8x8.
        num_classes: number of classes (>= 2).
        width: channel multiplier.
        filters: channels of every layer before the width multiplier.
        blocks: number of depthwise-separable blocks.
        first_kernel: kernel of the first convolution.
        dropout: dropout rate before the pooling.
        first_dropout: dropout rate after the first convolution.
        l2: L2 weight decay on conv kernels.
    """
    input_shape = layers.check_image_input("dscnn", input_shape, MIN_INPUT)
    layers.check_options("dscnn", num_classes=num_classes, width=width, dropout=dropout, l2=l2)
    layers.check_rate("first_dropout", first_dropout)
    keras = tfdeps.keras()
    channels = layers.scaled(filters, width)
    inputs = layers.model_input(input_shape)
    x = layers.conv_bn_relu(
        inputs,
        channels,
        tuple(first_kernel),
        strides=layers.conv_strides(tuple(input_shape[:2])),
        name="conv1",
        l2=l2,
        use_bias=True,
    )
    if first_dropout:
        x = keras.layers.Dropout(first_dropout, name="conv1_dropout")(x)
    for b in range(1, blocks + 1):
        x = layers.separable_block(x, channels, name=f"block{b}", l2=l2)
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    outputs = layers.classifier(x, num_classes)
    return keras.Model(inputs, outputs, name="dscnn")
