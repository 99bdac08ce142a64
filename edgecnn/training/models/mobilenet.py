"""MobileNet v1; at width 0.25 and 96x96x3 it is the MLPerf Tiny visual-wake-words reference."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8, 8)
# (pointwise channels at width 1, stride) of the 13 depthwise-separable blocks.
BLOCKS = (
    (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1),
    (1024, 2), (1024, 1),
)  # fmt: skip


def mobilenet_v1(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    dropout: float = 0.0,
    l2: float = 1e-4,
) -> Any:
    """Builds MobileNet v1 with width multiplier ``width`` (alpha).

    As in the MLPerf Tiny reference, convolutions keep their bias, activations are plain
    ReLU and the head is average pool + dense (no dropout, no 1x1 conv head), which gives
    221,794 params at width 0.25, 96x96x3, 2 classes. Strides are equal on both axes
    (``layers.conv_strides``), so inputs as small as 8x8 and as thin as 49x10 fit and train.

    Args:
        input_shape: (H, W, C), at least 8x8.
        num_classes: number of classes (>= 2).
        width: alpha; 0.25 for the visual-wake-words reference.
        dropout: dropout rate before the classifier (the reference has none).
        l2: L2 weight decay on conv kernels (1e-4 in the reference).
    """
    input_shape = layers.check_image_input("mobilenet_v1", input_shape, MIN_INPUT)
    layers.check_options(
        "mobilenet_v1", num_classes=num_classes, width=width, dropout=dropout, l2=l2
    )
    keras = tfdeps.keras()
    inputs = layers.model_input(input_shape)
    x = layers.conv_bn_relu(
        inputs,
        layers.scaled(32, width),
        3,
        strides=layers.conv_strides(tuple(input_shape[:2])),
        name="conv1",
        l2=l2,
        use_bias=True,
    )
    for b, (channels, stride) in enumerate(BLOCKS, start=1):
        strides = layers.conv_strides(layers.spatial(x)) if stride == 2 else 1
        x = layers.separable_block(
            x, layers.scaled(channels, width), strides=strides, name=f"block{b}", l2=l2
        )
    outputs = layers.classifier(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="mobilenet_v1")
