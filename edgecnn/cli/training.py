"""Verbs that build and train models: models, summary, train."""

from __future__ import annotations

import sys

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import (
    JSON_TABLE_HELP,
    choice_option,
    json_option,
    out_folder_option,
    shown_option,
    word_list,
)
from edgecnn.cli.output import print_json, shape_callback
from edgecnn.core.errors import BadInputError


@cli.command()
@json_option(JSON_TABLE_HELP)
def models(as_json: bool) -> None:
    """List the model zoo with parameters and MACs at each default input.

    \b
    Example:
      edgecnn models
    """
    from edgecnn.training.catalog import describe_zoo, format_zoo

    rows = describe_zoo()
    if as_json:
        print_json([row.to_dict() for row in rows])
    else:
        click.echo(format_zoo(rows))


@cli.command()
@click.argument("model")
@click.option("--input-shape", callback=shape_callback, help="e.g. 32x32x3 or 128x6 (zoo models).")
@click.option("--num-classes", type=click.IntRange(min=2), help="Classes of a zoo model's head.")
@json_option(JSON_TABLE_HELP)
def summary(model: str, input_shape, num_classes, as_json: bool) -> None:
    """Per-layer output shape, parameters, MACs and activation memory of MODEL.

    MODEL is a zoo name (see `edgecnn models`) or a .keras file.

    \b
    Examples:
      edgecnn summary resnet8 --input-shape 32x32x3 --num-classes 10
      edgecnn summary runs/demo/model.keras --json
    """
    from edgecnn.training.summary import format_table, summarize_source

    result = summarize_source(model, input_shape=input_shape, num_classes=num_classes)
    if as_json:
        print_json(result.to_dict())
    else:
        click.echo(format_table(result))


BALANCE_CHOICES = ["none", "weights", "oversample", "undersample", "smote"]


@cli.command()
@click.option(
    "--data",
    help="Image folder, folder of .wav clips, .npz, sensor .csv, builtin:digits or "
    "builtin:keywords.",
)
@shown_option("--model", "model_name", default="lenet5", help="Zoo model.")
@click.option("--input-shape", callback=shape_callback, help="Model input, e.g. 32x32x3 (images) .")
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    help="Most epochs [auto: 40, or more on small data: at least 1,600 optimizer steps, "
    "at most 400 epochs].",
)
@shown_option("--batch-size", type=click.IntRange(min=1), default=32)
@shown_option("--lr", type=float, default=2e-3, help="Adam learning rate.")
@click.option(
    "--width",
    type=click.FloatRange(min=0, min_open=True),
    help="Width multiplier [the family's default].",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    help="Epochs without validation improvement before stopping early [an eighth of the "
    "epochs, at least 8].",
)
@shown_option(
    "--label-smoothing",
    type=click.FloatRange(min=0, max=1, max_open=True),
    default=0.0,
    help="Share of each target spread over the other classes.",
)
@click.option(
    "--augment",
    help="e.g. shift,zoom,rotate=15,noise=0.02 (images), jitter,scale,timeshift,magwarp "
    "(sensors) or timeshift,gain,bgnoise=10,timemask,freqmask (audio).",
)
@choice_option("--balance", choices=BALANCE_CHOICES, default="none")
@shown_option(
    "--window", type=click.IntRange(min=1), default=128, help="Samples per window (sensor CSV)."
)
@click.option("--hop", type=click.IntRange(min=1), help="Samples between windows [window/2].")
@shown_option("--label-column", default="label")
@click.option("--segment-column", help="Recording id column [segment, when present].")
@click.option("--time-column", help="Time column, not a feature [time/timestamp, when present].")
@click.option("--sample-rate", type=float, help="Sensor sample rate in Hz, if no time column.")
@shown_option(
    "--clip-ms",
    type=click.IntRange(min=1),
    default=1000,
    help="Audio clip length; shorter clips are padded with zeros, longer ones cut to their "
    "loudest stretch.",
)
@click.option(
    "--audio-classes",
    callback=word_list,
    help="Target words, e.g. yes,no,up,down; other words become _unknown_, and a _silence_ "
    "class is added [every word folder is a class].",
)
@click.option(
    "--audio-features",
    help="Audio front end [mfcc: 16 kHz, 30 ms windows every 20 ms, 40 mel bands, 10 MFCCs], "
    "e.g. log_mel,mel_bands=32 or mfcc,rate=8000,coefficients=13.",
)
@shown_option("--seed", type=int, default=0)
@click.option("--mixed-precision", is_flag=True, help="float16 compute on GPUs.")
@out_folder_option("Run folder [runs/<timestamp>].")
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the interrupted run in --out with the options it started with (other "
    "options are refused).",
)
@json_option()
def train(**opts) -> None:
    """Train a zoo CNN on your data and save a run folder.

    The run folder holds model.keras, labels.txt, the split, the preprocessing, train.json
    (history, test accuracy, per-class precision/recall, confusion matrix) and PNG plots.

    \b
    Examples:
      edgecnn train --data builtin:digits --model lenet5 --out runs/digits
      edgecnn train --data photos/ --model mobilenet_v1 --input-shape 96x96x3 --augment shift,hflip
      edgecnn train --data imu.csv --model cnn1d --window 128 --hop 64
      edgecnn train --data builtin:keywords --model dscnn --augment timeshift,bgnoise,timemask
      edgecnn train --resume --out runs/digits
    """
    from edgecnn.training import train as training

    if opts["resume"] and not opts["out"]:
        raise BadInputError("--resume needs --out with the run folder to continue")
    if opts["resume"]:
        _refuse_options_resume_ignores(opts["out"])
    if not opts["resume"] and not opts["data"]:
        raise BadInputError("--data is required (e.g. --data builtin:digits)")
    config = _train_config(opts) if not opts["resume"] else None
    try:
        result = training.train(config, out=opts["out"], resume=opts["resume"])
    except KeyboardInterrupt:
        if opts["out"]:
            click.echo(
                f"interrupted; continue with: edgecnn train --resume --out {opts['out']}", err=True
            )
        sys.exit(130)
    _print_result(result, opts["as_json"])


def _refuse_options_resume_ignores(out: str) -> None:
    """A resumed run keeps the options it started with (its run.json): schedules, early
    stopping and the split depend on them, so an option given with --resume is refused
    rather than silently ignored (``--epochs 50`` would not train longer)."""
    ctx = click.get_current_context()
    given = [
        param.opts[0]
        for param in ctx.command.params
        if param.name not in {"resume", "out", "as_json"}
        and ctx.get_parameter_source(param.name) is not click.core.ParameterSource.DEFAULT
    ]
    if given:
        raise BadInputError(
            f"--resume continues {out} with the options it started with (its run.json); "
            f"{', '.join(given)} cannot change them: leave them out, or start a new run "
            "with them and a new --out"
        )


def _train_config(opts):
    from edgecnn.training.trainconfig import TrainConfig

    not_options = {"data", "model_name", "sample_rate", "out", "resume", "as_json"}
    return TrainConfig.from_options(
        data=opts["data"],
        model=opts["model_name"],
        sample_rate_hz=opts["sample_rate"],
        **{k: v for k, v in opts.items() if k not in not_options},
    )


def _print_result(result, as_json: bool) -> None:
    if as_json:
        print_json(result.to_dict())
        return
    click.echo(f"model        {result.model} ({result.params:,} params, {result.macs:,} MACs)")
    click.echo(f"test acc     {result.test_accuracy:.4f}  (validation {result.val_accuracy:.4f})")
    if result.test_recording_accuracy is not None:
        click.echo(
            f"by recording {result.test_recording_accuracy:.4f}  (mean probability over each "
            "test recording's windows)"
        )
    click.echo(
        f"epochs       {result.epochs_run} (best {result.best_epoch}), "
        f"{result.train_seconds:.1f}s; {result.devices}"
    )
    click.echo(f"run folder   {result.run_dir}")
