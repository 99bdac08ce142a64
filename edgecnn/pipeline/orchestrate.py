"""The pipeline: train -> prune at each ratio -> quantize (and evaluate) in each mode ->
benchmark here -> estimate on every board -> pick the best variant within the budgets.

Variants are ranked, and the accuracy budget checked, on the validation split; the test
split only reports the chosen variant's accuracy, so that figure is not inflated by the
choice itself.

Every step is content-hashed (``steps``): re-running with the same config reuses what is
finished, so changing a budget or adding a board never retrains. The steps themselves are
in ``modelsteps`` (train, prune) and ``variantsteps`` (quantize, benchmark, estimate); this
module runs them in order, selects and writes the result and the report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from edgecnn.core import fileio
from edgecnn.core.console import to_stderr
from edgecnn.pipeline.config import PipelineConfig
from edgecnn.pipeline.evaluation import chosen_confusion, held_out_predictions
from edgecnn.pipeline.modelsteps import model_files, train_step
from edgecnn.pipeline.report import write_report
from edgecnn.pipeline.result import PipelineResult, VariantReport
from edgecnn.pipeline.select import Selection, select
from edgecnn.pipeline.steps import StepCache, machine, toolchain
from edgecnn.pipeline.variantsteps import quantized, variant_report
from edgecnn.training.rundir import RunDir

__all__ = ["DEFAULT_FOLDER", "RESULT_FILE", "held_out_predictions", "run_pipeline"]

DEFAULT_FOLDER = Path("runs") / "pipeline"
RESULT_FILE = "pipeline.json"


def run_pipeline(
    config: PipelineConfig,
    *,
    out: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> PipelineResult:
    """Runs (or resumes) the pipeline into ``out`` and writes report.md and report.html.

    Args:
        config: what to train, the variants, the boards and the budgets.
        out: the pipeline folder (default ``runs/pipeline``); re-running into the same
            folder reuses every step whose inputs did not change.
        log: where progress lines go; default stderr.

    Returns:
        The result; ``result.met`` is False when no variant met every budget (the report
        is written all the same and says which budget nothing met, by how much).

    Raises:
        BadInputError: bad data or options (the training step checks them first).
    """
    log = log or to_stderr
    started = time.perf_counter()
    folder = Path(out) if out else DEFAULT_FOLDER
    steps = StepCache(folder, log)
    run, trained = train_step(config, folder, steps, log)
    variants, skipped = _variants(config, run, trained, steps, log)
    variants, selection = _select(config, variants, trained)
    result = _result(
        config, folder, run, trained, steps,
        variants=variants, selection=selection, skipped=skipped, started=started,
    )  # fmt: skip
    write_report(result, confusion=chosen_confusion(result, trained, run), log=log)
    fileio.write_json(folder / RESULT_FILE, result.to_dict())
    return result


def _variants(config: PipelineConfig, run: RunDir, trained: dict, steps: StepCache, log):
    """Every variant of every model (prunes first, then each model's conversions and
    measurements), and a line for each prune or conversion that failed."""
    models, skipped = model_files(config, run, trained["key"], steps, log)
    variants = []
    for ratio, keras_path in models:
        converted, failed = quantized(config, steps, keras_path, log)
        skipped += failed
        variants += [variant_report(config, steps, trained, ratio, *c) for c in converted]
    return variants, skipped


def _select(config: PipelineConfig, variants: list[VariantReport], trained: dict):
    """The best variant within the budgets, and every variant with the budgets it missed
    (ranked and held to the accuracy budget on the validation split)."""
    selection = select(
        [v.candidate() for v in variants],
        config.budgets,
        reference_accuracy=trained["val_accuracy"],
    )
    return [_with_misses(v, selection) for v in variants], selection


def _result(
    config: PipelineConfig,
    folder: Path,
    run: RunDir,
    trained: dict,
    steps: StepCache,
    *,
    variants: list[VariantReport],
    selection: Selection,
    skipped: list[str],
    started: float,
) -> PipelineResult:
    return PipelineResult(
        folder=str(folder),
        run_dir=str(run.root),
        reference_accuracy=trained["accuracy"],
        reference_val_accuracy=trained["val_accuracy"],
        variants=tuple(variants),
        chosen=selection.chosen.name if selection.chosen else None,
        why=_why(selection, variants, config),
        unmet=selection.unmet,
        skipped=tuple(skipped),
        reused=tuple(steps.reused),
        ran=tuple(steps.ran),
        config=config.to_dict(),
        provenance=_provenance(trained),
        report_md=str(folder / "report.md"),
        report_html=str(folder / "report.html"),
        seconds=round(time.perf_counter() - started, 1),
    )


def _with_misses(variant: VariantReport, selection: Selection) -> VariantReport:
    found = selection.misses.get(variant.name, ())
    return replace(variant, misses=tuple(ch.describe() for ch in found))


def _why(selection: Selection, variants: list[VariantReport], config: PipelineConfig) -> str:
    if selection.chosen is None:
        return "no variant met every budget on every board"
    passing = [v for v in variants if not v.misses]
    boards = ", ".join(config.boards) or "no target board"
    chosen = next(v for v in variants if v.name == selection.chosen.name)
    test = f"test accuracy {chosen.accuracy:.4f}"
    if len(passing) == 1:
        among = (
            f"the only one of the {len(variants)} variants" if len(variants) > 1 else "the variant"
        )
        return (
            f"{chosen.name} is {among} that meets every budget on {boards} "
            f"(validation accuracy {chosen.val_accuracy:.4f}; {test})"
        )
    tied = sum(v.val_accuracy == chosen.val_accuracy for v in passing) > 1
    return (
        f"{chosen.name} has the best validation accuracy ({chosen.val_accuracy:.4f}) of the "
        f"{len(passing)} of {len(variants)} variants that meet every budget on {boards}"
        + (" (a tie, won by the smaller file)" if tied else "")
        + f"; its {test}"
    )


def _provenance(trained: dict) -> dict:
    return {
        "data_fingerprint": trained["fingerprint"],
        "versions": toolchain(),
        "machine": machine(),
        "train_seconds": trained["train_seconds"],
        "params": trained["params"],
        "macs": trained["macs"],
    }
