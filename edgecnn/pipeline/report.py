"""report.md and a self-contained report.html for a pipeline run.

The report says which split did what: variants are ranked on the validation split and the
chosen one's accuracy is reported on the test split, which played no part in the choice.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgecnn.core import fileio
from edgecnn.pipeline.charts import plot_sizes, plot_tradeoff
from edgecnn.pipeline.config import Budgets
from edgecnn.pipeline.document import (
    Bullets,
    Code,
    Image,
    Para,
    Section,
    Table,
    to_html,
    to_markdown,
)
from edgecnn.pipeline.result import BoardRow, PipelineResult, VariantReport
from edgecnn.training.plots import plot_confusion
from edgecnn.training.rundir import RunDir, load_labels

TITLE = "edgecnn pipeline report"


def write_report(
    result: PipelineResult, *, confusion: np.ndarray | None, log: Callable[[str], None]
) -> None:
    """Draws the plots and writes ``report.md`` and ``report.html`` into the pipeline folder."""
    folder = Path(result.folder)
    images = _draw(result, confusion, folder / "plots")
    sections = _sections(result, images)
    fileio.write_text(result.report_md, to_markdown(TITLE, sections, relative_to=folder))
    fileio.write_text(result.report_html, to_html(TITLE, sections))
    log(f"pipeline: report written to {result.report_html} (and report.md)")


def _draw(result: PipelineResult, confusion, folder: Path) -> list[Image]:
    folder.mkdir(parents=True, exist_ok=True)
    budgets = Budgets.from_dict(result.config["budgets"])
    tradeoff, sizes = folder / "accuracy-vs-latency.png", folder / "sizes.png"
    plot_tradeoff(
        result.variants,
        result.config["boards"],
        budgets,
        references={f.name: f.reference_val_accuracy for f in result.families}
        or {"": result.reference_val_accuracy},
        chosen=result.chosen,
        path=tradeoff,
    )
    plot_sizes(result.variants, budgets, chosen=result.chosen, path=sizes)
    images = [
        Image(
            tradeoff,
            "validation accuracy (what ranks the variants) vs estimated latency per board, "
            "with budgets and Pareto front"
            + (", one colour per model family" if len(result.families) > 1 else ""),
        ),
        Image(sizes, "model size per variant"),
    ]
    run = RunDir(Path(result.run_dir))
    if run.curves_png.is_file():
        curves = folder / "training-curves.png"
        fileio.write_bytes(curves, run.curves_png.read_bytes())
        of = f" of {result.family or result.families[0].name}" if len(result.families) > 1 else ""
        images.append(Image(curves, "training curves" + of))
    if confusion is not None:
        path = folder / "confusion-chosen.png"
        plot_confusion(confusion, load_labels(run), path, title=f"{result.chosen}: test split")
        images.append(Image(path, f"confusion matrix of {result.chosen} on the test split"))
    return images


def _sections(result: PipelineResult, images: list[Image]) -> list[Section]:
    several = len(result.families) > 1
    return [
        ("Result", _result_blocks(result)),
        *([("Model families", _family_blocks(result))] if several else []),
        ("Budgets", [_budget_bullets(result)]),
        ("Variants", [_variant_table(result), Para(_table_note(result))]),
        ("Plots", images),
        ("Provenance", _provenance_blocks(result)),
    ]


def _result_blocks(result: PipelineResult) -> list:
    blocks: list = []
    chosen = result.chosen_variant
    if chosen is None:
        blocks += [
            Para(
                "No variant met every budget on every board. What nothing met, and the "
                "closest variant:"
            ),  # fmt: skip
            Bullets(result.unmet),
        ]
    else:
        blocks += [Para(f"Chosen: {chosen.name} ({chosen.path}). {result.why}."),
                   Bullets(_chosen_facts(chosen))]  # fmt: skip
    if result.skipped:
        blocks += [Para("Skipped:"), Bullets(result.skipped)]
    return blocks


def _chosen_facts(v: VariantReport) -> tuple[str, ...]:
    facts = [
        f"test accuracy {v.accuracy:.4f} ({v.correct}/{v.test_samples}), "
        f"{v.delta:+.4f} vs the {v.family + ' ' if v.family else ''}Keras model, "
        f"top-1 agreement {v.agreement:.4f}",
        f"validation accuracy {v.val_accuracy:.4f} on {v.val_samples} samples "
        "(what the variants were ranked by)",
        f"size {_kib(v.size_bytes)} ({v.mode}, "
        + ("not pruned)" if not v.prune_ratio else f"{v.prune_ratio:g} of channels pruned)"),
        f"latency here (measured p50): {v.host_p50_ms:.3f} ms",
    ]
    facts += [f"{b.board}: {_board_text(b)} ({b.basis})" for b in v.boards]
    return tuple(facts + ([f"model family {v.family}"] if v.family else []))


def _budget_bullets(result: PipelineResult) -> Bullets:
    budgets = result.config["budgets"]
    names = {
        "max_latency_ms": "estimated latency at most {} ms",
        "max_arena_kb": "tensor arena (MCU) / tensor memory (Linux) at most {} KiB",
        "max_size_kb": "model file at most {} KiB",
        "max_accuracy_drop": "validation accuracy at most {} below the Keras model's",
    }
    items = [names[k].format(v) for k, v in budgets.items() if k in names and v is not None]
    for board, own in (budgets.get("per_board") or {}).items():
        items += [
            f"on {board} instead: " + names[k].format(v)
            for k, v in own.items()
            if v is not None
        ]
    return Bullets(tuple((items or ["no budgets set"]) + _references(result)))


def _references(result: PipelineResult) -> list[str]:
    """What the accuracy budget holds each variant against: its own family's Keras model."""
    if len(result.families) < 2:
        return [
            f"reference: the trained Keras model, validation accuracy "
            f"{result.reference_val_accuracy}, test accuracy {result.reference_accuracy}"
        ]
    return [
        f"reference of the {f.name} variants: its trained Keras model, validation accuracy "
        f"{f.reference_val_accuracy}, test accuracy {f.reference_accuracy}"
        for f in result.families
    ]


def _variant_table(result: PipelineResult) -> Table:
    boards = result.config["boards"]
    header = ("variant", "pruned", "mode", "size", "val accuracy", "test accuracy", "delta",
              "agreement", "host p50 ms", *boards, "budgets")  # fmt: skip
    rows = []
    for v in result.variants:
        cells = [v.name, f"{v.prune_ratio:g}", v.mode, _kib(v.size_bytes),
                 f"{v.val_accuracy:.4f}", f"{v.accuracy:.4f}", f"{v.delta:+.4f}",
                 f"{v.agreement:.4f}", f"{v.host_p50_ms:.3f}"]  # fmt: skip
        cells += [_board_cell(v.on(b)) for b in boards]
        cells.append("meets all" if not v.misses else "; ".join(v.misses))
        rows.append(tuple(cells))
    names = [v.name for v in result.variants]
    highlight = names.index(result.chosen) if result.chosen in names else None
    return Table(header, tuple(rows), highlight)


def _family_blocks(result: PipelineResult) -> list:
    """Which family won, and each family's best variant: the front across families."""
    boards = result.config["boards"]
    header = ("family", "params", "MACs", "Keras val / test", "best variant", "size",
              "val accuracy", "test accuracy", "host p50 ms", *boards, "budgets")  # fmt: skip
    variants = {v.name: v for v in result.variants}
    rows = []
    for f in result.families:
        v = variants.get(f.best)
        cells = [f.name, f"{f.params:,}", f"{f.macs:,}",
                 f"{f.reference_val_accuracy:.4f} / {f.reference_accuracy:.4f}"]  # fmt: skip
        if v is None:
            rows.append(tuple(cells + ["no variant"] + ["-"] * (len(header) - len(cells) - 1)))
            continue
        cells += [v.name, _kib(v.size_bytes), f"{v.val_accuracy:.4f}", f"{v.accuracy:.4f}",
                  f"{v.host_p50_ms:.3f}", *(_board_cell(v.on(b)) for b in boards),
                  "meets all" if not v.misses else "; ".join(v.misses)]  # fmt: skip
        rows.append(tuple(cells))
    names = [f.name for f in result.families]
    winner = names.index(result.family) if result.family in names else None
    won = (
        f"Family {result.family} won: its {result.chosen} has the best validation accuracy "
        f"within every budget of all {len(names)} families ({', '.join(names)})."
        if result.family
        else f"No variant of the {len(names)} families ({', '.join(names)}) met every budget."
    )
    note = (
        "Each row is a family's best variant: the most accurate on the validation split among "
        "its variants that meet every budget, or among all of them when none does (the last "
        "column then says what it misses). Each family's accuracy budget is held against its "
        "own Keras model. In the accuracy-vs-latency chart each family has its own colour."
    )
    return [Para(won), Table(header, tuple(rows), winner), Para(note)]


def _table_note(result: PipelineResult) -> str:
    first = result.variants[0] if result.variants else None
    samples, val = (first.test_samples, first.val_samples) if first else (0, 0)
    return (
        f"Variants are ranked on the {val} validation samples, and the accuracy budget is "
        "held against the Keras model's validation accuracy; the test split played no part "
        "in the choice, so test accuracy (top-1 through the LiteRT interpreter on the "
        f"{samples} held-out test samples) is an unbiased report. Delta and agreement are "
        "test-split figures against the unpruned Keras model. Board columns: "
        "estimated latency / tensor arena (MCU, measured by allocating in TFLite Micro) or "
        "tensor memory (Linux, all tensors without reuse) / whether it runs and fits."
    )


def _board_cell(row: BoardRow | None) -> str:
    return "-" if row is None else _board_text(row, why=False)


def _board_text(row: BoardRow, *, why: bool = True) -> str:
    latency = "n/a" if row.latency_ms is None else f"{row.latency_ms:.3g} ms"
    arena = "" if row.arena_bytes is None else f" / {_kib(row.arena_bytes)}"
    verdict = "fits" if row.fits else "does not run" + (f": {row.reason}" if why else "")
    return f"{latency}{arena} / {verdict}"


def _provenance_blocks(result: PipelineResult) -> list:
    p = result.provenance
    versions = ", ".join(f"{k} {v}" for k, v in p["versions"].items() if v)
    return [
        Bullets(
            (
                f"data: {result.config['data']} (fingerprint {p['data_fingerprint']})",
                *_training_runs(result),
                f"versions: {versions}",
                f"machine: {p['machine']}",
                f"steps run: {len(result.ran)}, reused from earlier runs: {len(result.reused)}; "
                f"pipeline time {result.seconds} s",
            )
        ),  # fmt: skip
        Para("Configuration:"),
        Code(json.dumps(result.config, indent=2)),
    ]


def _training_runs(result: PipelineResult) -> list[str]:
    p = result.provenance
    if len(result.families) < 2:
        return [f"training run: {result.run_dir} ({p['params']:,} params, {p['macs']:,} MACs, "
                f"trained in {p['train_seconds']} s)"]  # fmt: skip
    return [
        f"training run of {f.name}: {f.run_dir} ({f.params:,} params, {f.macs:,} MACs, "
        f"trained in {f.train_seconds} s)"
        for f in result.families
    ]


def _kib(size: int) -> str:
    return f"{size / 1024:.1f} KiB"
