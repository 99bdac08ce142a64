"""Pruning for Keras 3 models: structured (remove channels) and magnitude (zero weights).

Importing this package does not import Keras; the names below that need it load their
module on first use, so a CLI can import the choices (``Method``, ``Scope``,
``Criterion``) and the result types cheaply. :func:`edgecnn.optimize.prune.prune` runs a whole
pruning job on a training run.

Modules:
    options: the closed choices and option checks.
    result: ``PruneOptions`` and ``PruneResult``.
    graph / channels: channel groups of a model (what must be pruned together).
    structured: ``plan_structured``, ``apply_plan``, ``prune_structured``.
    magnitude: sparsity schedules, masks, the pruning callback and ``strip_pruning``.
    finetune: fine-tuning on a run's training split.
"""

from __future__ import annotations

import importlib
from typing import Any

from edgecnn.optimize.pruning.options import Criterion, Method, Scope
from edgecnn.optimize.pruning.result import PruneOptions, PruneResult

_LAZY = {
    "analyze": "channels",
    "plan_structured": "structured",
    "apply_plan": "structured",
    "prune_structured": "structured",
    "StructuredPlan": "structured",
    "ConstantSparsity": "magnitude",
    "PolynomialDecay": "magnitude",
    "MagnitudePruning": "magnitude",
    "find_targets": "magnitude",
    "magnitude_mask": "magnitude",
    "prune_once": "magnitude",
    "strip_pruning": "magnitude",
    "sparsity_report": "magnitude",
}

__all__ = ["Criterion", "Method", "PruneOptions", "PruneResult", "Scope", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"edgecnn.optimize.pruning.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
