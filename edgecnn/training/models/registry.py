"""The model zoo: one spec per family and ``build_model`` for the CLI and training code.

Importing this module does not import Keras; the builders import it when called.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from edgecnn.core.errors import ModelError
from edgecnn.core.records import Record
from edgecnn.training import tfdeps
from edgecnn.training.models import (
    cnn1d,
    densenet,
    dscnn,
    fcn1d,
    inception,
    inception1d,
    lenet,
    mobilenet,
    resnet,
    resnet1d,
    vgg,
)


class InputKind(StrEnum):
    """What a model takes: images (H, W, C) or sensor windows (T, C)."""

    IMAGE = "image"
    SEQUENCE = "sequence"


@dataclass(frozen=True)
class ModelSpec(Record):
    """What the zoo knows about one family before building it.

    Attributes:
        name: registry key, also the Keras model's name.
        kind: image or sequence input.
        description: one line for people.
        default_input_shape: (H, W, C) or (T, C) used when none is given.
        default_num_classes: class count used when none is given.
        min_input: smallest (H, W) or (T,) the builder accepts.
        default_width: width multiplier used when none is given.
    """

    name: str
    kind: InputKind
    description: str
    default_input_shape: tuple[int, ...]
    default_num_classes: int
    min_input: tuple[int, ...]
    default_width: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        """The fields and the builder's options."""
        return super().to_dict() | {"options": builder_options(self.name)}


_SPECS = (
    ModelSpec(
        name="lenet5",
        kind=InputKind.IMAGE,
        description="LeNet-5: two 5x5 convs and three dense layers; digits, simple shapes",
        default_input_shape=(32, 32, 1),
        default_num_classes=10,
        min_input=lenet.MIN_INPUT,
    ),
    ModelSpec(
        name="vgg_tiny",
        kind=InputKind.IMAGE,
        description="small VGG: 3x3 conv-BN-ReLU blocks with max pooling",
        default_input_shape=(32, 32, 3),
        default_num_classes=10,
        min_input=vgg.MIN_INPUT,
    ),
    ModelSpec(
        name="resnet8",
        kind=InputKind.IMAGE,
        description="ResNet-8, the MLPerf Tiny image-classification reference (CIFAR-10)",
        default_input_shape=(32, 32, 3),
        default_num_classes=10,
        min_input=resnet.MIN_INPUT,
    ),
    ModelSpec(
        name="inception_tiny",
        kind=InputKind.IMAGE,
        description="small Inception: parallel 1x1/3x3/5x5/pool branches",
        default_input_shape=(32, 32, 3),
        default_num_classes=10,
        min_input=inception.MIN_INPUT,
    ),
    ModelSpec(
        name="densenet_tiny",
        kind=InputKind.IMAGE,
        description="small DenseNet-BC: dense blocks and transitions",
        default_input_shape=(32, 32, 3),
        default_num_classes=10,
        min_input=densenet.MIN_INPUT,
    ),
    ModelSpec(
        name="dscnn",
        kind=InputKind.IMAGE,
        description="DS-CNN, the MLPerf Tiny keyword-spotting reference (49x10 MFCC)",
        default_input_shape=(49, 10, 1),
        default_num_classes=12,
        min_input=dscnn.MIN_INPUT,
    ),
    ModelSpec(
        name="mobilenet_v1",
        kind=InputKind.IMAGE,
        description="MobileNet v1; width 0.25 at 96x96 is the MLPerf Tiny visual-wake-words model",
        default_input_shape=(96, 96, 3),
        default_num_classes=2,
        min_input=mobilenet.MIN_INPUT,
        default_width=0.25,
    ),
    ModelSpec(
        name="cnn1d",
        kind=InputKind.SEQUENCE,
        description="1-D CNN for multichannel sensor windows (IMU, vibration)",
        default_input_shape=(128, 6),
        default_num_classes=6,
        min_input=cnn1d.MIN_INPUT,
    ),
    ModelSpec(
        name="fcn1d",
        kind=InputKind.SEQUENCE,
        description="FCN time-series baseline (Wang et al. 2017): convs 8/5/3, no pooling",
        default_input_shape=(128, 3),
        default_num_classes=6,
        min_input=fcn1d.MIN_INPUT,
        default_width=fcn1d.DEFAULT_WIDTH,
    ),
    ModelSpec(
        name="resnet1d",
        kind=InputKind.SEQUENCE,
        description="ResNet time-series baseline (Wang et al. 2017): three residual blocks",
        default_input_shape=(128, 3),
        default_num_classes=6,
        min_input=resnet1d.MIN_INPUT,
        default_width=resnet1d.DEFAULT_WIDTH,
    ),
    ModelSpec(
        name="inception1d",
        kind=InputKind.SEQUENCE,
        description="InceptionTime-style (Ismail Fawaz et al. 2020): bottleneck + 40/20/10 convs",
        default_input_shape=(128, 3),
        default_num_classes=6,
        min_input=inception1d.MIN_INPUT,
        default_width=inception1d.DEFAULT_WIDTH,
    ),
)
MODELS: dict[str, ModelSpec] = {spec.name: spec for spec in _SPECS}
_BUILDERS: dict[str, Callable[..., Any]] = {
    "lenet5": lenet.lenet5,
    "vgg_tiny": vgg.vgg_tiny,
    "resnet8": resnet.resnet8,
    "inception_tiny": inception.inception_tiny,
    "densenet_tiny": densenet.densenet_tiny,
    "dscnn": dscnn.dscnn,
    "mobilenet_v1": mobilenet.mobilenet_v1,
    "cnn1d": cnn1d.cnn1d,
    "fcn1d": fcn1d.fcn1d,
    "resnet1d": resnet1d.resnet1d,
    "inception1d": inception1d.inception1d,
}


def get_spec(name: str) -> ModelSpec:
    """Returns the spec of a zoo family; ``MobileNet-V1`` finds ``mobilenet_v1``.

    Raises:
        ModelError: for an unknown name, listing the known ones.
    """
    key = str(name).strip().lower().replace("-", "_")
    if key not in MODELS:
        raise ModelError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    return MODELS[key]


def builder_options(name: str) -> dict[str, Any]:
    """The family-specific keyword options of a builder and their defaults (width excluded)."""
    params = inspect.signature(_BUILDERS[get_spec(name).name]).parameters.values()
    return {
        p.name: list(p.default) if isinstance(p.default, tuple) else p.default
        for p in params
        if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name != "width"
    }


def build_model(
    name: str,
    *,
    input_shape: tuple[int, ...],
    num_classes: int,
    width: float | None = None,
    seed: int | None = None,
    **options: Any,
) -> Any:
    """Builds a fresh, untrained zoo model.

    Args:
        name: a key of ``MODELS``.
        input_shape: (H, W, C) for image models, (T, C) for sequence models; no batch axis.
        num_classes: number of classes (>= 2).
        width: channel multiplier; None means the family's default (``default_width``:
            0.25 for mobilenet_v1, fcn1d and inception1d, 0.125 for resnet1d, else 1.0).
        seed: seeds Python, NumPy and the backend (``keras.utils.set_random_seed``) before
            building, so the initial weights are reproducible.
        **options: family options such as ``dropout`` or ``l2`` (see ``builder_options``).

    Returns:
        A Keras 3 functional model named after the family.

    Raises:
        ModelError: for an unknown name or option, or an input shape, class count or
            option value the family cannot take.
    """
    spec = get_spec(name)
    known = builder_options(spec.name)
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ModelError(
            f"model {spec.name} has no option {unknown[0]!r}; its options are "
            f"{', '.join(known) or 'none'} (and width)"
        )
    keras = tfdeps.keras()
    if seed is not None:
        keras.utils.set_random_seed(seed)
    build = _BUILDERS[spec.name]
    return build(
        input_shape,
        num_classes,
        width=spec.default_width if width is None else width,
        **options,
    )
