"""Verbs that build and train models: models, summary, train, demo."""

from __future__ import annotations

import sys

import click

from edgecnn.cli.base import _print_json, _shape, cli
from edgecnn.errors import BadInputError


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def models(as_json: bool) -> None:
    """List the model zoo with parameters and MACs at each default input.

    \b
    Example:
      edgecnn models
    """
    from edgecnn.catalog import describe_zoo, format_zoo

    rows = describe_zoo()
    if as_json:
        _print_json([row.to_dict() for row in rows])
    else:
        click.echo(format_zoo(rows))


@cli.command()
@click.argument("model")
@click.option("--input-shape", callback=_shape, help="e.g. 32x32x3 or 128x6 (zoo models).")
@click.option("--num-classes", type=click.IntRange(min=2), help="Classes of a zoo model's head.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def summary(model: str, input_shape, num_classes, as_json: bool) -> None:
    """Per-layer output shape, parameters, MACs and activation memory of MODEL.

    MODEL is a zoo name (see `edgecnn models`) or a .keras file.

    \b
    Examples:
      edgecnn summary resnet8 --input-shape 32x32x3 --num-classes 10
      edgecnn summary runs/demo/model.keras --json
    """
    from edgecnn.summary import format_table, summarize_source

    result = summarize_source(model, input_shape=input_shape, num_classes=num_classes)
    if as_json:
        _print_json(result.to_dict())
    else:
        click.echo(format_table(result))


BALANCE_CHOICES = ["none", "weights", "oversample", "undersample", "smote"]


@cli.command()
@click.option("--data", help="Image folder, .npz, sensor .csv, or builtin:digits.")
@click.option("--model", "model_name", default="lenet5", show_default=True, help="Zoo model.")
@click.option("--input-shape", callback=_shape, help="Model input, e.g. 32x32x3 (images) .")
@click.option("--epochs", type=click.IntRange(min=1), default=40, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--lr", type=float, default=2e-3, show_default=True, help="Adam learning rate.")
@click.option(
    "--width",
    type=click.FloatRange(min=0, min_open=True),
    help="Width multiplier [the family's default].",
)
@click.option(
    "--patience",
    type=click.IntRange(min=1),
    default=8,
    show_default=True,
    help="Epochs without validation improvement before stopping early.",
)
@click.option("--augment", help="e.g. shift,zoom,rotate=15,noise=0.02 or jitter,scale,timeshift.")
@click.option("--balance", type=click.Choice(BALANCE_CHOICES), default="none", show_default=True)
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=128,
    show_default=True,
    help="Samples per window (sensor CSV).",
)
@click.option("--hop", type=click.IntRange(min=1), help="Samples between windows [window/2].")
@click.option("--label-column", default="label", show_default=True)
@click.option("--segment-column", help="Recording id column [segment, when present].")
@click.option("--time-column", help="Time column, not a feature [time/timestamp, when present].")
@click.option("--sample-rate", type=float, help="Sensor sample rate in Hz, if no time column.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--mixed-precision", is_flag=True, help="float16 compute on GPUs.")
@click.option("--out", type=click.Path(file_okay=False), help="Run folder [runs/<timestamp>].")
@click.option("--resume", is_flag=True, help="Continue the interrupted run in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def train(**opts) -> None:
    """Train a zoo CNN on your data and save a run folder.

    The run folder holds model.keras, labels.txt, the split, the preprocessing, train.json
    (history, test accuracy, per-class precision/recall, confusion matrix) and PNG plots.

    \b
    Examples:
      edgecnn train --data builtin:digits --model lenet5 --out runs/digits
      edgecnn train --data photos/ --model mobilenet_v1 --input-shape 96x96x3 --augment shift,hflip
      edgecnn train --data imu.csv --model cnn1d --window 128 --hop 64
      edgecnn train --resume --out runs/digits
    """
    from edgecnn import train as training

    if opts["resume"] and not opts["out"]:
        raise BadInputError("--resume needs --out with the run folder to continue")
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


def _train_config(opts):
    from edgecnn.data.balance import Balance
    from edgecnn.data.sources import DataOptions
    from edgecnn.trainconfig import TrainConfig

    data_options = DataOptions(
        input_shape=opts["input_shape"],
        window=opts["window"],
        hop=opts["hop"],
        label_column=opts["label_column"],
        segment_column=opts["segment_column"],
        time_column=opts["time_column"],
        sample_rate_hz=opts["sample_rate"],
    )
    return TrainConfig(
        data=opts["data"],
        model=opts["model_name"],
        data_options=data_options,
        epochs=opts["epochs"],
        batch_size=opts["batch_size"],
        lr=opts["lr"],
        augment=opts["augment"],
        balance=Balance(opts["balance"]),
        seed=opts["seed"],
        width=opts["width"],
        patience=opts["patience"],
        mixed_precision=opts["mixed_precision"],
    )


def _print_result(result, as_json: bool) -> None:
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(f"model        {result.model} ({result.params:,} params, {result.macs:,} MACs)")
    click.echo(f"test acc     {result.test_accuracy:.4f}  (validation {result.val_accuracy:.4f})")
    click.echo(
        f"epochs       {result.epochs_run} (best {result.best_epoch}), "
        f"{result.train_seconds:.1f}s; {result.devices}"
    )
    click.echo(f"run folder   {result.run_dir}")


@cli.command()
@click.option("--out", type=click.Path(file_okay=False), help="Run folder [runs/demo-<time>].")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def demo(out, as_json: bool) -> None:
    """Train vgg_tiny on the built-in digits set (no download) and show the result.

    \b
    Example:
      edgecnn demo
    """
    from edgecnn.demo import run_demo

    _print_result(run_demo(out=out), as_json)
