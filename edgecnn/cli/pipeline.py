"""Verbs that chain the whole workflow: pipeline, demo."""

from __future__ import annotations

import sys

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import board_option, json_option, out_folder_option, shown_option
from edgecnn.cli.output import print_json
from edgecnn.core.errors import BadInputError
from edgecnn.core.shapes import parse_list


@cli.command()
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    help="edgecnn.toml with the keys below (flags override it).",
)
@click.option(
    "--data", help="Data source: folder (images or .wav clips), .npz, .csv or a builtin:."
)
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Zoo model family, or several to pick across, e.g. cnn1d,resnet1d [lenet5].",
)
@click.option("--epochs", type=int, help="Most training epochs [auto, as edgecnn train].")
@click.option("--seed", type=int, help="Seeds the split, training and calibration [0].")
@click.option(
    "--prune-ratio",
    "prune_ratios",
    multiple=True,
    help="Channel ratios to try, e.g. 0,0.25,0.5 (0 = unpruned) [0].",
)
@click.option(
    "--mode", "modes", multiple=True, help="Quantization modes, e.g. fp32,int8 [fp32,int8]."
)
@board_option("Target board id (repeatable).")
@click.option("--max-latency-ms", type=float, help="Budget: estimated latency on every board.")
@click.option("--max-arena-kb", type=float, help="Budget: tensor arena / memory in KiB.")
@click.option("--max-size-kb", type=float, help="Budget: model file size in KiB.")
@click.option(
    "--max-accuracy-drop",
    type=float,
    help="Budget: e.g. 0.01 = one point below Keras, on the validation split.",
)
@click.option("--input-shape", help="Model input, e.g. 32x32x3 [the data's].")
@click.option("--window", type=int, help="Samples per window, sensor CSV [128].")
@click.option("--hop", type=int, help="Samples between windows [window/2].")
@click.option("--label-column", help="The CSV label column [label].")
@click.option("--clip-ms", type=int, help="Audio clip length in ms [1000].")
@click.option(
    "--audio-classes", multiple=True, help="Target words, e.g. yes,no [every word folder]."
)
@click.option("--audio-features", help="Audio front end, as for edgecnn train [mfcc].")
@click.option("--batch-size", type=int, help="Training batch size [32].")
@click.option("--width", type=float, help="Width multiplier [the family's default].")
@click.option("--patience", type=int, help="Epochs without improvement before stopping [auto].")
@click.option("--augment", help="Training augmentation, as for edgecnn train.")
@click.option("--label-smoothing", type=float, help="As for edgecnn train [0].")
@click.option("--balance", help="none, weights, oversample, undersample or smote [none].")
@click.option("--finetune-epochs", type=int, help="Fine-tuning epochs after pruning [3].")
@click.option("--calibration-samples", type=int, help="int8 calibration samples [300].")
@click.option("--bench-runs", type=int, help="Timed invokes per variant here [50].")
@out_folder_option("Pipeline folder [runs/pipeline].")
@json_option()
@click.pass_context
def pipeline(ctx, config_path, out, as_json, **flags) -> None:
    """Train, prune, quantize, benchmark and estimate; pick the best variant within budgets.

    Every ratio x mode variant is evaluated on the validation and held-out test splits,
    timed here, and estimated on every --board; the chosen one has the best validation
    accuracy within every budget on every board, and its test accuracy is reported (the
    test split takes no part in the choice). report.md and report.html land in the
    pipeline folder. Re-running
    reuses finished steps (content-hashed), so a new budget does not retrain. Exit code 3
    when no variant meets the budgets (the report says what nothing met, by how much).

    With several families (--model a,b or models = ["a", "b"]) each is trained, pruned
    and quantized, and the choice ranks the variants of all of them together.

    \b
    Examples:
      edgecnn pipeline --config edgecnn.toml
      edgecnn pipeline --data imu.csv --model cnn1d,resnet1d --board rpi-zero-2w
      edgecnn pipeline --data builtin:digits --model vgg_tiny --prune-ratio 0,0.5 \\
          --mode fp32,int8 --board rpi-zero-2w --board arduino-nano-33-ble-sense \\
          --max-latency-ms 50 --max-arena-kb 64 --max-accuracy-drop 0.02
    """
    from edgecnn import pipeline as pipelines
    from edgecnn.pipeline.config import config_from

    config = config_from(path=config_path, flags=_pipeline_overrides(flags))
    try:
        result = pipelines.run(config, out=out)
    except KeyboardInterrupt:
        click.echo("interrupted; run the same command again to resume", err=True)
        sys.exit(130)
    _print_pipeline(result, as_json)
    if not result.met:
        ctx.exit(3)


def _pipeline_overrides(flags: dict) -> dict:
    """The flags given, as config keys (lists split on commas; budgets in their table)."""
    out: dict = {}
    for flag, value in flags.items():
        if value is None or value == ():
            continue
        if flag.startswith("max_"):
            out.setdefault("budgets", {})[flag] = value
        elif isinstance(value, tuple):
            items = list(parse_list(value))
            out[flag] = [_number(v, flag) for v in items] if flag == "prune_ratios" else items
        else:
            out[flag] = value
    return out


def _number(text: str, flag: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise BadInputError(
            f"--{flag[:-1].replace('_', '-')} {text!r} is not a number; e.g. 0.5"
        ) from None


def _print_pipeline(result, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    boards = result.config["boards"]
    name_width = max([len("variant"), *(len(v.name) for v in result.variants)]) + 2
    widths = [max(len(b), 14) + 2 for b in boards]
    header = f"{'variant':<{name_width}}{'size':>10}{'val acc':>10}{'test acc':>10}"
    click.echo(header + "".join(f"{b:>{w}}" for b, w in zip(boards, widths, strict=True)))
    for v in result.variants:
        cells = [
            f"{v.name:<{name_width}}",
            f"{v.size_bytes / 1024:>7.1f} KiB",
            f"{v.val_accuracy:>10.4f}",  # what the variants are ranked by
            f"{v.accuracy:>10.4f}",  # reported only: the test split does not choose
        ]
        for board, width in zip(boards, widths, strict=True):
            row = v.on(board)
            text = "-" if row is None or row.latency_ms is None else f"{row.latency_ms:.3g} ms"
            cells.append(f"{text + ('' if row and row.fits else ' (no)'):>{width}}")
        mark = "  <- chosen" if v.name == result.chosen else _misses_text(v.misses)
        click.echo("".join(cells) + mark)
    if len(result.families) > 1:
        _print_families(result)
    if result.met:
        click.echo(f"chosen       {result.why}")
        click.echo(f"model        {result.chosen_variant.path}  (and its .json manifest)")
    else:
        click.echo("chosen       none: no variant met every budget")
        for line in result.unmet:
            click.echo(f"             {line}")
    click.echo(
        f"steps        {len(result.ran)} run, {len(result.reused)} reused; {result.seconds} s"
    )
    click.echo(f"report       {result.report_html}  (and report.md)")


def _print_families(result) -> None:
    """Each family's best variant (the front across families) and which family won."""
    for f in result.families:
        best = next((v for v in result.variants if v.name == f.best), None)
        text = "no variant" if best is None else (
            f"best {best.name}, val acc {best.val_accuracy:.4f}"
            + ("" if f.best_meets else " (misses budgets)")
        )  # fmt: skip
        mark = "  <- won" if f.name == result.family else ""
        keras = f"Keras val acc {f.reference_val_accuracy:.4f}"
        click.echo(f"family       {f.name}: {keras}; {text}{mark}")


def _misses_text(misses) -> str:
    if not misses:
        return "  meets all"
    return f"  misses {len(misses)} budget{'s' if len(misses) > 1 else ''}"


@cli.command()
@out_folder_option("Demo folder [runs/demo, or runs/demo-audio with --audio].")
@shown_option(
    "--samples",
    type=click.IntRange(min=1),
    default=60,
    help="Held-out test samples (clips, with --audio) to replay through edgecnn run.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    help="Replay pace in samples/s [20; with --audio 0: as fast as possible].",
)
@click.option(
    "--audio", is_flag=True, help="Keyword spotting: DS-CNN on builtin:keywords (needs espeak-ng)."
)
@json_option()
def demo(out, samples: int, rate: float | None, audio: bool, as_json: bool) -> None:
    """The whole pipeline on the built-in digits set (no download), then a live replay.

    Trains vgg_tiny, prunes it at 0.25 and 0.5, quantizes each to fp32, dynamic and int8,
    estimates every variant on a Raspberry Pi Zero 2 W and an Arduino Nano 33 BLE Sense,
    picks the best one within the budgets (50 ms, 64 KiB arena, 2 points of accuracy),
    writes the report, and replays held-out test samples through edgecnn run with it.

    With --audio: the keyword set spoken offline by espeak-ng (ten words, _unknown_ and
    _silence_), DS-CNN on 49x10 MFCCs, pruned at 0.5, fp32 and int8, the same two boards;
    held-out clips are written as WAV files and replayed through edgecnn run.

    \b
    Examples:
      edgecnn demo
      edgecnn demo --audio
    """
    from edgecnn.pipeline.demo import DemoData, run_demo

    result = run_demo(
        data=DemoData.KEYWORDS if audio else DemoData.DIGITS,
        out=out,
        samples=samples,
        rate_hz=rate,
        sink=None if as_json else "text",
        on_pipeline=None if as_json else _print_demo_pipeline,
    )
    if as_json:
        print_json(result.to_dict())
        return
    check = result.replay
    click.echo(
        f"replay       edgecnn run saw {check.replay_correct}/{check.samples} correct "
        f"({check.replay_correct / check.samples:.4f}); the pipeline's evaluation of the same "
        f"samples: {check.pipeline_correct}/{check.samples}, identical predictions"
    )


def _print_demo_pipeline(result) -> None:
    """The pipeline's table, printed before the replay's predictions go by."""
    _print_pipeline(result, False)
    click.echo()
