"""LeNet-5: two 5x5 convolutions with pooling, then three dense layers."""

from __future__ import annotations

from typing import Any

from edgecnn.training import tfdeps
from edgecnn.training.models import layers

MIN_INPUT = (8, 8)
# From 20x20 up the classic 'valid' convolutions still leave a map to pool (20->16->8->4->2).
CLASSIC_MIN_SIDE = 20


def lenet5(
    input_shape: tuple[int, ...],
    num_classes: int,
    *,
    width: float = 1.0,
    dropout: float = 0.0,
    l2: float = 1e-4,
) -> Any:
    """Builds LeNet-5 with ReLU and max pooling.

    Inputs of at least 20x20 use the classic 'valid' convolutions (32x32 gives the 5x5x16
    map of the paper); smaller ones use 'same' so an 8x8 digit still fits.

    Args:
        input_shape: (H, W, C), at least 8x8.
        num_classes: number of classes (>= 2).
        width: multiplier for every layer's size (6, 16, 120, 84 at 1.0).
        dropout: dropout rate before the classifier.
        l2: L2 weight decay on conv and dense kernels.
    """
    input_shape = layers.check_image_input("lenet5", input_shape, MIN_INPUT)
    layers.check_options("lenet5", num_classes=num_classes, width=width, dropout=dropout, l2=l2)
    keras = tfdeps.keras()
    padding = "valid" if min(input_shape[:2]) >= CLASSIC_MIN_SIDE else "same"
    inputs = layers.model_input(input_shape)
    x = inputs
    for i, filters in enumerate((6, 16), start=1):
        x = keras.layers.Conv2D(
            layers.scaled(filters, width),
            5,
            padding=padding,
            activation="relu",
            kernel_initializer="he_normal",
            kernel_regularizer=layers.regularizer(l2),
            name=f"conv{i}",
        )(x)
        x = layers.max_pool(x, name=f"pool{i}")
    x = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate((120, 84), start=1):
        x = keras.layers.Dense(
            layers.scaled(units, width),
            activation="relu",
            kernel_initializer="he_normal",
            kernel_regularizer=layers.regularizer(l2),
            name=f"fc{i}",
        )(x)
    outputs = layers.head(x, num_classes, dropout=dropout)
    return keras.Model(inputs, outputs, name="lenet5")
