"""Multiply-accumulates of one layer call, batch 1, counted as the MLPerf Tiny references do.

Only convolutions and dense layers count; every other layer is 0. A nested model is summed
by ``summary`` itself (it needs the whole summary of the inner graph). Importing this module
does not import Keras: the caller passes the ``keras`` module in.
"""

from __future__ import annotations

import math
from typing import Any


def layer_macs(op: Any, node: Any, keras: Any) -> int:
    """Multiply-accumulates of ``op``'s call ``node`` for one input (0 for other layers)."""
    layers = keras.layers
    if isinstance(op, layers.Dense):
        shape = node.input_tensors[0].shape[1:]
        return math.prod(shape[:-1]) * shape[-1] * op.units
    conv_kinds = (
        layers.Conv1D, layers.Conv2D, layers.Conv3D,
        layers.DepthwiseConv1D, layers.DepthwiseConv2D,
        layers.SeparableConv1D, layers.SeparableConv2D,
        layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose,
    )  # fmt: skip
    if not isinstance(op, conv_kinds):
        return 0
    return _conv_macs(op, node, layers)


def _conv_macs(op: Any, node: Any, layers: Any) -> int:
    """MACs of a convolution of any kind (transposed, depthwise, separable or plain)."""
    in_pos, c_in = _positions(node.input_tensors[0], op)
    out_pos, c_out = _positions(node.output_tensors[0], op)
    kernel = math.prod(op.kernel_size)
    if isinstance(op, (layers.Conv1DTranspose, layers.Conv2DTranspose, layers.Conv3DTranspose)):
        return in_pos * kernel * c_in * c_out
    if isinstance(op, (layers.DepthwiseConv1D, layers.DepthwiseConv2D)):
        return out_pos * kernel * c_in * op.depth_multiplier
    if isinstance(op, (layers.SeparableConv1D, layers.SeparableConv2D)):
        mid = c_in * op.depth_multiplier
        return out_pos * kernel * mid + out_pos * mid * c_out
    return out_pos * kernel * (c_in // op.groups) * c_out


def _positions(tensor: Any, op: Any) -> tuple[int, int]:
    """(spatial positions, channels) of a conv layer's input or output, batch excluded."""
    shape = tuple(tensor.shape[1:])
    if getattr(op, "data_format", "channels_last") == "channels_first":
        return math.prod(shape[1:]), shape[0]
    return math.prod(shape[:-1]), shape[-1]
