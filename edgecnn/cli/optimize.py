"""Verbs that make a trained model smaller: prune, quantize."""

from __future__ import annotations

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import board_option, choice_option, json_option, shown_option
from edgecnn.cli.output import echo_result


@cli.command()
@click.argument("source", type=click.Path())
@choice_option(
    "--method",
    choices=["structured", "magnitude"],
    default="structured",
    help="Remove channels, or zero single weights.",
)
@shown_option(
    "--ratio",
    type=float,
    default=0.5,
    help="Channels to remove (structured) or target sparsity (magnitude), in (0, 1).",
)
@shown_option("--finetune-epochs", type=int, default=3)
@choice_option(
    "--scope",
    choices=["layer", "global"],
    default="layer",
    help="Structured: same ratio per layer, or one global threshold.",
)
@choice_option(
    "--criterion",
    choices=["l1", "bn"],
    default="l1",
    help="Structured: rank channels by filter L1 norm or |BN gamma|.",
)
@click.option("--out", help="File name in the run folder [pruned.keras].")
@json_option()
def prune(source, as_json, **options) -> None:
    """Make a trained model smaller: remove channels, or zero weights, then fine-tune.

    SOURCE is a run folder from `edgecnn train` or a .keras file inside one. Structured
    pruning really removes filters (residual adds, concatenations and depthwise layers kept
    consistent), so MACs, size and latency drop. Magnitude pruning only zeroes weights: it
    pays after compression, not in speed. Writes pruned.keras and prune.json.

    \b
    Examples:
      edgecnn prune runs/digits --ratio 0.5 --finetune-epochs 4
      edgecnn prune runs/digits --method magnitude --ratio 0.8 --out sparse.keras
      edgecnn quantize runs/digits/pruned.keras --mode int8
    """
    from edgecnn.optimize.prune import prune as run_prune

    echo_result(run_prune(source, **options), as_json, _print_prune)


def _print_prune(result) -> None:
    """Before and after, side by side, then where the pruned model went."""
    data = result.to_dict()
    click.echo(f"{'':<14}{'before':>12}{'after':>12}{'ratio':>8}")
    for key, label in (
        ("params", "params"),
        ("macs", "MACs"),
        ("size_bytes", "file bytes"),
        ("gzip_bytes", "gzip bytes"),
    ):
        before, after = data[f"{key}_before"], data[f"{key}_after"]
        click.echo(f"{label:<14}{before:>12,}{after:>12,}{data[f'{key}_ratio']:>8.3f}")
    click.echo(
        f"{'test accuracy':<14}{result.accuracy_before:>12.4f}{result.accuracy_after:>12.4f}"
    )
    if result.note:
        click.echo(f"note: {result.note}")
    click.echo(f"wrote {result.model_path} and {result.report_path}")


MODE_HELP = "Variants, comma separated: fp32, fp16, dynamic, int8, int16x8."


@cli.command()
@click.argument("source", type=click.Path())
@shown_option("--mode", "modes", multiple=True, default=["fp32,int8"], help=MODE_HELP)
@choice_option(
    "--io",
    choices=["int", "float"],
    default="int",
    help="Full-integer models: integer or float input/output.",
)
@click.option(
    "--calibration",
    type=click.Path(dir_okay=False),
    help="Calibration .npz (see calibration/README.md) [drawn from the run].",
)
@shown_option(
    "--calibration-samples",
    type=int,
    default=300,
    help="Samples drawn class-balanced from the training split.",
)
@click.option("--max-drop", type=float, help="int8 accuracy budget, e.g. 0.01 (1 point).")
@board_option("Check each variant on this board id.")
@json_option()
def quantize(source, io, as_json, **options) -> None:
    """Convert a trained model to TFLite variants and measure what each lost.

    SOURCE is a run folder from `edgecnn train` or a .keras file inside one (e.g.
    pruned.keras). Each variant is evaluated with the LiteRT interpreter on the run's
    held-out test split and written as <model>-<mode>.tflite with its manifest .json.

    \b
    Examples:
      edgecnn quantize runs/digits --mode fp32,fp16,dynamic,int8,int16x8
      edgecnn quantize runs/digits/pruned.keras --mode int8 --max-drop 0.01
      edgecnn quantize runs/digits --mode int8,dynamic --board arduino-nano-33-ble-sense
      edgecnn quantize runs/kws --mode int8 --calibration calibration/kws.npz --io float
    """
    from edgecnn.core.modes import IOType
    from edgecnn.optimize.quantize import quantize as run_quantize

    result = run_quantize(source, io=IOType(io), **options)
    echo_result(result, as_json, _print_quantize)


def _print_quantize(result) -> None:
    """The Keras baseline, then one row per variant with its board checks."""
    click.echo(
        f"Keras model  {result.source_model}: test accuracy {result.keras_accuracy:.4f} "
        f"on {result.test_samples} held-out samples"
    )
    click.echo(
        f"{'variant':<10}{'io':>7}{'size':>11}{'accuracy':>10}{'delta':>9}{'agreement':>11}  file"
    )
    for v in result.variants:
        _print_variant(v)
    click.echo(f"report       {result.report_path}")


def _print_variant(v) -> None:
    """One variant's row, its note, and whether it fits each board."""
    click.echo(
        f"{v.mode:<10}{v.input_dtype:>7}{v.size_bytes / 1024:>9.1f}KB"
        f"{v.accuracy:>10.4f}{v.delta:>+9.4f}{v.agreement:>11.4f}  {v.path}"
    )
    if v.recording_accuracy is not None:
        click.echo(f"  by recording: test accuracy {v.recording_accuracy:.4f}")
    if v.note:
        click.echo(f"  note: {v.note}")
    for check in v.boards:
        arena = f", arena {check.arena_bytes:,} B" if check.arena_bytes else ""
        verdict = "fits" if check.fits else f"does not fit: {check.reason}"
        click.echo(f"  {check.board}: {verdict}{arena}")
