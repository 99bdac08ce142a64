"""The pipeline: for each model family, train -> prune at each ratio -> quantize (and
evaluate) in each mode -> benchmark here -> estimate on every board; then pick the best
variant of all families within the budgets.

Variants are ranked, and the accuracy budget checked, on the validation split; the test
split only reports the chosen variant's accuracy, so that figure is not inflated by the
choice itself.

Every step is content-hashed (``steps``): re-running with the same config reuses what is
finished, so changing a budget, adding a board or adding a family never retrains the rest.
The steps themselves are in ``modelsteps`` (train, prune) and ``variantsteps`` (quantize,
benchmark, estimate); this module runs them in order, selects and writes the result and
the report.
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
from edgecnn.pipeline.modelsteps import Trained, families, model_files, train_step
from edgecnn.pipeline.report import write_report
from edgecnn.pipeline.result import FamilyReport, PipelineResult, VariantReport
from edgecnn.pipeline.select import Selection, select
from edgecnn.pipeline.steps import StepCache, machine, toolchain
from edgecnn.pipeline.variantsteps import quantized, variant_report

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
    fileio.writable_folder(folder, f"--out {folder}")  # before hours of training, not after
    steps = StepCache(folder, log)
    variants, skipped, trained = [], [], []
    for family in families(config):
        trained.append(train_step(config, family, folder, steps, log))
        found, failed = _variants(config, trained[-1], steps, log)
        variants, skipped = variants + found, skipped + failed
    references = {t.family.name: t.record["val_accuracy"] for t in trained}
    variants, selection = _select(config, variants, references)
    result = _result(
        config, folder, trained, steps,
        variants=variants, selection=selection, skipped=skipped, started=started,
    )  # fmt: skip
    winner = _primary(result, trained)
    write_report(result, confusion=chosen_confusion(result, winner.record, winner.run), log=log)
    fileio.write_json(folder / RESULT_FILE, result.to_dict())
    return result


def _variants(config: PipelineConfig, trained: Trained, steps: StepCache, log):
    """Every variant of one family (prunes first, then each model's conversions and
    measurements), and a line for each prune or conversion that failed."""
    models, skipped = model_files(config, trained, steps, log)
    variants = []
    for ratio, keras_path in models:
        converted, failed = quantized(config, steps, keras_path, log, prefix=trained.family.prefix)
        skipped += failed
        variants += [variant_report(config, steps, trained, ratio, *c) for c in converted]
    return variants, skipped


def _select(config: PipelineConfig, variants: list[VariantReport], references: dict[str, float]):
    """The best variant of every family within the budgets, and every variant with the
    budgets it missed (ranked, and held to the accuracy budget against its own family's
    Keras model, on the validation split)."""
    selection = select([v.candidate(references[v.family]) for v in variants], config.budgets)
    return [_with_misses(v, selection) for v in variants], selection


def _result(
    config: PipelineConfig,
    folder: Path,
    trained: list[Trained],
    steps: StepCache,
    *,
    variants: list[VariantReport],
    selection: Selection,
    skipped: list[str],
    started: float,
) -> PipelineResult:
    name = selection.chosen.name if selection.chosen else None
    chosen = next((v for v in variants if v.name == name), None)
    primary = next((t for t in trained if chosen and t.family.name == chosen.family), trained[0])
    return PipelineResult(
        folder=str(folder),
        run_dir=str(primary.run.root),
        reference_accuracy=primary.record["accuracy"],
        reference_val_accuracy=primary.record["val_accuracy"],
        variants=tuple(variants),
        chosen=chosen.name if chosen else None,
        why=_why(selection, variants, config),
        unmet=selection.unmet,
        skipped=tuple(skipped),
        reused=tuple(steps.reused),
        ran=tuple(steps.ran),
        config=config.to_dict(),
        provenance=_provenance(primary.record),
        report_md=str(folder / "report.md"),
        report_html=str(folder / "report.html"),
        seconds=round(time.perf_counter() - started, 1),
        families=tuple(_family_report(t, variants) for t in trained),
    )


def _primary(result: PipelineResult, trained: list[Trained]) -> Trained:
    """The chosen variant's family (the first family when nothing was chosen)."""
    return next((t for t in trained if t.family.name == result.family), trained[0])


def _family_report(trained: Trained, variants: list[VariantReport]) -> FamilyReport:
    own = [v for v in variants if v.family == trained.family.name]
    meeting = [v for v in own if not v.misses]
    best = max(meeting or own, key=lambda v: (v.val_accuracy, -v.size_bytes), default=None)
    record = trained.record
    return FamilyReport(
        name=trained.family.name,
        run_dir=str(trained.run.root),
        reference_accuracy=record["accuracy"],
        reference_val_accuracy=record["val_accuracy"],
        params=record["params"],
        macs=record["macs"],
        train_seconds=record["train_seconds"],
        best=best.name if best else None,
        best_meets=bool(meeting),
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
    # Among several families, say which won and what it was up against.
    kinds = f" (families {', '.join(config.models)})" if len(config.models) > 1 else ""
    won = f"family {chosen.family} wins: " if kinds else ""
    if len(passing) == 1:
        among = (
            f"the only one of the {len(variants)} variants{kinds}"
            if len(variants) > 1
            else "the variant"
        )
        return (
            f"{won}{chosen.name} is {among} that meets every budget on {boards} "
            f"(validation accuracy {chosen.val_accuracy:.4f}; {test})"
        )
    tied = sum(v.val_accuracy == chosen.val_accuracy for v in passing) > 1
    return (
        f"{won}{chosen.name} has the best validation accuracy ({chosen.val_accuracy:.4f}) of "
        f"the {len(passing)} of {len(variants)} variants{kinds} that meet every budget on "
        f"{boards}"
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
