"""Builtin TFLite op names -> the ``MicroMutableOpResolver`` method that registers each.

Written from TFLite Micro's ``tensorflow/lite/micro/micro_mutable_op_resolver.h`` and checked
against the copy in the Chirale_TensorFlowLite 2.0.0 Arduino library (the one the sketch
builds with). An explicit table rather than a CamelCase rule: the method names follow no one
rule (``CONV_2D`` -> ``AddConv2D``, ``CUMSUM`` -> ``AddCumSum``, ``PADV2`` -> ``AddPadV2``),
and a wrong guess would surface only when the sketch fails to compile.

Left out on purpose: control flow (IF, WHILE, CALL_ONCE) and resource variables
(VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE), which need ops from other subgraphs or a
``MicroResourceVariables`` object the sketch does not set up; and BATCH_MATMUL, which newer
TFLite Micro has but that Arduino library does not.
"""

from __future__ import annotations

from edgecnn.core.errors import BadInputError

OP_METHODS: dict[str, str] = {
    "ABS": "AddAbs",
    "ADD": "AddAdd",
    "ADD_N": "AddAddN",
    "ARG_MAX": "AddArgMax",
    "ARG_MIN": "AddArgMin",
    "AVERAGE_POOL_2D": "AddAveragePool2D",
    "BATCH_TO_SPACE_ND": "AddBatchToSpaceNd",
    "BROADCAST_ARGS": "AddBroadcastArgs",
    "BROADCAST_TO": "AddBroadcastTo",
    "CAST": "AddCast",
    "CEIL": "AddCeil",
    "CONCATENATION": "AddConcatenation",
    "CONV_2D": "AddConv2D",
    "COS": "AddCos",
    "CUMSUM": "AddCumSum",
    "DEPTH_TO_SPACE": "AddDepthToSpace",
    "DEPTHWISE_CONV_2D": "AddDepthwiseConv2D",
    "DEQUANTIZE": "AddDequantize",
    "DIV": "AddDiv",
    "ELU": "AddElu",
    "EQUAL": "AddEqual",
    "EXP": "AddExp",
    "EXPAND_DIMS": "AddExpandDims",
    "FILL": "AddFill",
    "FLOOR": "AddFloor",
    "FLOOR_DIV": "AddFloorDiv",
    "FLOOR_MOD": "AddFloorMod",
    "FULLY_CONNECTED": "AddFullyConnected",
    "GATHER": "AddGather",
    "GATHER_ND": "AddGatherNd",
    "GREATER": "AddGreater",
    "GREATER_EQUAL": "AddGreaterEqual",
    "HARD_SWISH": "AddHardSwish",
    "L2_NORMALIZATION": "AddL2Normalization",
    "L2_POOL_2D": "AddL2Pool2D",
    "LEAKY_RELU": "AddLeakyRelu",
    "LESS": "AddLess",
    "LESS_EQUAL": "AddLessEqual",
    "LOG": "AddLog",
    "LOGICAL_AND": "AddLogicalAnd",
    "LOGICAL_NOT": "AddLogicalNot",
    "LOGICAL_OR": "AddLogicalOr",
    "LOGISTIC": "AddLogistic",
    "LOG_SOFTMAX": "AddLogSoftmax",
    "MAXIMUM": "AddMaximum",
    "MAX_POOL_2D": "AddMaxPool2D",
    "MEAN": "AddMean",
    "MINIMUM": "AddMinimum",
    "MIRROR_PAD": "AddMirrorPad",
    "MUL": "AddMul",
    "NEG": "AddNeg",
    "NOT_EQUAL": "AddNotEqual",
    "PACK": "AddPack",
    "PAD": "AddPad",
    "PADV2": "AddPadV2",
    "PRELU": "AddPrelu",
    "QUANTIZE": "AddQuantize",
    "REDUCE_MAX": "AddReduceMax",
    "RELU": "AddRelu",
    "RELU6": "AddRelu6",
    "RESHAPE": "AddReshape",
    "RESIZE_BILINEAR": "AddResizeBilinear",
    "RESIZE_NEAREST_NEIGHBOR": "AddResizeNearestNeighbor",
    "ROUND": "AddRound",
    "RSQRT": "AddRsqrt",
    "SELECT_V2": "AddSelectV2",
    "SHAPE": "AddShape",
    "SIN": "AddSin",
    "SLICE": "AddSlice",
    "SOFTMAX": "AddSoftmax",
    "SPACE_TO_BATCH_ND": "AddSpaceToBatchNd",
    "SPACE_TO_DEPTH": "AddSpaceToDepth",
    "SPLIT": "AddSplit",
    "SPLIT_V": "AddSplitV",
    "SQRT": "AddSqrt",
    "SQUARE": "AddSquare",
    "SQUARED_DIFFERENCE": "AddSquaredDifference",
    "SQUEEZE": "AddSqueeze",
    "STRIDED_SLICE": "AddStridedSlice",
    "SUB": "AddSub",
    "SUM": "AddSum",
    "SVDF": "AddSvdf",
    "TANH": "AddTanh",
    "TRANSPOSE": "AddTranspose",
    "TRANSPOSE_CONV": "AddTransposeConv",
    "UNIDIRECTIONAL_SEQUENCE_LSTM": "AddUnidirectionalSequenceLSTM",
    "UNPACK": "AddUnpack",
    "ZEROS_LIKE": "AddZerosLike",
}


def distinct_ops(op_names: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """Each op once, in the order the graph first uses it."""
    return tuple(dict.fromkeys(op_names))


def resolver_methods(ops: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The ``MicroMutableOpResolver`` methods registering ``ops`` (distinct op names).

    Raises:
        BadInputError: an op the Arduino export cannot register, named.
    """
    unknown = [op for op in ops if op not in OP_METHODS]
    if unknown:
        raise BadInputError(
            f"the model uses op(s) {', '.join(unknown)}, which the Arduino export cannot "
            "register in the TFLite Micro Arduino library's MicroMutableOpResolver (custom, "
            "control-flow, resource-variable or newer ops); rebuild the model from common "
            "builtin layers (conv, depthwise conv, dense, pooling, add, concatenate)"
        )
    return tuple(OP_METHODS[op] for op in ops)
