"""``edgecnn pipeline``: from data to the best model that meets every budget on every board.

From Python::

    from edgecnn import pipeline

    result = pipeline.run({"data": "builtin:digits", "model": "lenet5",
                           "prune_ratios": [0.0, 0.5], "modes": ["fp32", "int8"],
                           "boards": ["arduino-nano-33-ble-sense"],
                           "budgets": {"max_latency_ms": 50, "max_accuracy_drop": 0.01}},
                          out="runs/digits-pipeline")
    result.chosen, result.chosen_variant.accuracy, result.report_html

``"models": ["lenet5", "vgg_tiny"]`` instead of ``"model"`` tries several families and picks
across all of them; ``result.family`` is the one that won, ``result.families`` each one's
reference accuracy and best variant.

``config`` may also be a :class:`PipelineConfig` or the path of an ``edgecnn.toml``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from edgecnn.pipeline.config import Budgets, PipelineConfig, load_config, parse_config

if TYPE_CHECKING:
    from edgecnn.pipeline.result import PipelineResult

__all__ = ["Budgets", "PipelineConfig", "load_config", "parse_config", "run"]


def run(
    config: PipelineConfig | dict | str | Path,
    *,
    out: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Trains (or reuses), prunes, quantizes, evaluates, benchmarks, estimates and selects.

    Args:
        config: a PipelineConfig, a dict of the ``edgecnn.toml`` keys, or the file's path.
        out: the pipeline folder (default ``runs/pipeline``); finished steps in it are
            reused while their inputs are unchanged.
        log: where progress lines go; default stderr.

    Returns:
        A PipelineResult; ``result.met`` is False when no variant met every budget.

    Raises:
        BadInputError: a bad config, data source or option.
    """
    if isinstance(config, str | Path):
        config = load_config(config)
    elif isinstance(config, dict):
        config = parse_config(config)
    from edgecnn.pipeline.orchestrate import run_pipeline

    return run_pipeline(config, out=out, log=log)
