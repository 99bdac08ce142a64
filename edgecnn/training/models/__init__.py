"""The model zoo: small CNN families for images and sensor windows.

Importing this package does not import Keras; building a model does.
"""

from edgecnn.training.models.registry import (
    MODELS,
    InputKind,
    ModelSpec,
    build_model,
    builder_options,
    get_spec,
)

__all__ = ["MODELS", "InputKind", "ModelSpec", "build_model", "builder_options", "get_spec"]
