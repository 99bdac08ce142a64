"""The ``edgecnn`` command: parse, call one library function, print.

Library modules are imported inside each command so that ``edgecnn --help`` stays fast and
never imports TensorFlow.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edgecnn import __version__
from edgecnn.errors import BadInputError, EdgecnnError


class _Group(click.Group):
    """Turns EdgecnnError into one line on stderr and its exit code."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except EdgecnnError as exc:
            click.echo(f"edgecnn: error: {exc}", err=True)
            ctx.exit(exc.exit_code)


def _shape(ctx, param, value):
    if value is None:
        return None
    from edgecnn.shapes import parse_shape

    try:
        return parse_shape(value)
    except BadInputError as exc:
        raise click.BadParameter(str(exc)) from None


def _print_json(data) -> None:
    click.echo(json.dumps(data, indent=2))


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgecnn")
def cli() -> None:
    """Train, prune, quantize and deploy small CNNs to Raspberry Pis and microcontrollers.

    \b
    Start with:  edgecnn demo
    Then:        edgecnn train --data DATA --model lenet5
    """


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


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
def boards(ctx: click.Context, as_json: bool) -> None:
    """List the target boards (boards/*.toml, plus $EDGECNN_BOARDS).

    \b
    Examples:
      edgecnn boards
      edgecnn boards calibrate
    """
    if ctx.invoked_subcommand is not None:
        return
    from edgecnn.boards import list_boards

    found = list_boards()
    if as_json:
        _print_json([b.to_dict() for b in found])
        return
    click.echo(f"{'board':<28}{'kind':<7}{'cpu':<18}{'MHz':>6}{'RAM':>10}{'flash':>10}  runtime")
    for b in found:
        flash = _size_text(b.flash_bytes) if b.flash_bytes else "-"
        click.echo(f"{b.id:<28}{b.kind:<7}{b.core:<18}{b.clock_mhz:>6.0f}"
                   f"{_size_text(b.ram_bytes):>10}{flash:>10}  {b.runtime} ({b.kernels})")


@boards.command()
@click.option("--rebuild", is_flag=True, help="Rebuild the reference graphs (a minute or two).")
@click.option("--dry-run", is_flag=True, help="Report only; do not store the coefficients.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def calibrate(rebuild: bool, dry_run: bool, as_json: bool) -> None:
    """Refit the latency cost model to the boards' published measurements.

    Prints each [[measured]] point against the fitted estimate and against a fit that left
    that point out (leave-one-out), and the median error per board family.

    \b
    Example:
      edgecnn boards calibrate --rebuild
    """
    from edgecnn.boardfit import calibrate as run_calibrate

    report = run_calibrate(rebuild=rebuild, write=not dry_run)
    data = report.to_dict()
    if as_json:
        _print_json(data)
        return
    click.echo(f"{'board':<27}{'dtype':<6}{'kernels':<10}{'measured':>10}{'fitted':>10}"
               f"{'err':>6}{'left out':>10}{'err':>6}  model")
    for p in report.points:
        click.echo(f"{p.board:<27}{p.dtype:<6}{p.kernels:<10}{p.measured_ms:>8.1f}ms"
                   f"{p.fitted_ms:>8.1f}ms{p.fitted_ape:>6.0%}{p.loo_ms:>8.1f}ms{p.loo_ape:>6.0%}"
                   f"  {p.model}")
    for family, values in data["median_ape"].items():
        if values["fitted"] is not None:
            click.echo(f"median abs error {family}: {values['fitted']:.1%} fitted, "
                       f"{values['leave_one_out']:.1%} leave-one-out")
    for line in report.skipped:
        click.echo(f"skipped {line}")
    if not dry_run:
        click.echo(f"stored {report.path}")


@cli.command()
@click.argument("model", type=click.Path())
@click.option("--board", "boards_", multiple=True, required=True, help="Board id (repeatable).")
@click.option("--threads", type=click.IntRange(min=1), help="Linux boards [all cores].")
@click.option("--ops", "show_ops", is_flag=True, help="Also print the per-op breakdown.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def estimate(model, boards_, threads, show_ops, as_json) -> None:
    """Estimate latency, memory and fit of a .tflite on target boards, offline.

    Latency comes from each board's cost model, op by op; on microcontrollers the tensor
    arena and op support come from allocating the model in TFLite Micro. `basis` says
    whether the board's coefficients were fitted to published measurements or are priors.

    \b
    Examples:
      edgecnn estimate runs/digits/model-int8.tflite --board rpi-zero-2w --board rpi-pico
      edgecnn estimate model-int8.tflite --board arduino-nano-33-ble-sense --ops --json
    """
    from edgecnn.estimate import estimate as run_estimate

    rows = run_estimate(model, boards=list(boards_), threads=threads)
    if as_json:
        _print_json([r.to_dict() for r in rows])
        return
    click.echo(f"{'board':<27}{'latency':>11}{'threads':>8}{'RAM':>11}{'flash':>11}  fits; basis")
    for r in rows:
        latency = f"{r.latency_ms:.3f}ms" if r.latency_ms is not None else "-"
        flash = _size_text(r.flash_bytes) if r.flash_bytes else "-"
        verdict = "yes" if r.fits else f"no: {r.reason}"
        click.echo(f"{r.board:<27}{latency:>11}{r.threads:>8}"
                   f"{_size_text(r.ram_bytes):>11}{flash:>11}  {verdict}; {r.basis}")
        for op in r.ops if show_ops else ():
            click.echo(f"    {op.index:>3} {op.name:<22}{op.macs:>12,} MACs"
                       f"{op.latency_ms:>10.4f}ms")


@cli.group()
def export() -> None:
    """Ship a converted model to a device as source code.

    \b
    Example:
      edgecnn export arduino runs/digits/model-int8.tflite --board esp32-s3 --out sketches
    """


@export.command("arduino")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--board", required=True, help="Microcontroller board id (see `edgecnn boards`).")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Folder to write the sketch folder into.")
@click.option("--name", "sketch_name", help="Sketch (folder and .ino) name [the model's stem].")
@click.option("--overwrite", is_flag=True, help="Replace an existing sketch folder.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def export_arduino_command(model, board, out, sketch_name, overwrite, as_json) -> None:
    """Write an Arduino sketch that runs an int8 MODEL with TensorFlow Lite Micro.

    MODEL is a full-integer int8 .tflite from `edgecnn quantize --mode int8` with its
    manifest beside it. The sketch folder OUT/<name>/ holds the model as a C array, a
    resolver with exactly its ops, a tensor arena measured in TFLite Micro plus a margin,
    and a loop that reads comma-separated raw values over serial and prints the top label,
    its score and the invoke time. Its README.md says which library to install.

    \b
    Examples:
      edgecnn export arduino runs/digits/model-int8.tflite --board esp32-s3 --out sketches
      edgecnn export arduino model-int8.tflite --board rpi-pico --out sk --name digits
    """
    from edgecnn.export import export_arduino

    result = export_arduino(model, board=board, out=out, sketch_name=sketch_name,
                            overwrite=overwrite)
    if as_json:
        _print_json(result.to_dict())
        return
    flash = (f"{result.flash_margin_bytes:,} B" if result.flash_margin_bytes is not None
             else "unknown")
    click.echo(f"sketch  {result.sketch_dir} ({', '.join(result.files)})")
    click.echo(f"ops     MicroMutableOpResolver<{len(result.ops)}>: {', '.join(result.ops)}")
    click.echo(f"arena   {result.arena_with_margin_bytes:,} B ({result.arena_bytes:,} B measured "
               f"by TFLite Micro + 10% + 1 KiB); RAM left {result.ram_margin_bytes:,} B")
    click.echo(f"model   {result.model_bytes:,} B in flash; flash left {flash}")
    click.echo(f"next    install the {result.library} library, open "
               f"{Path(result.sketch_dir).name}.ino (see its README.md)")


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n / 1024:.3g} KiB"


@cli.command("run")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--source", required=True,
              help="replay:FILE.csv|FILE.npz[?rate=HZ], stdin, dir:PATH, "
              "serial:/dev/ttyACM0[?baud=115200], i2c:mpu6050[?bus=1&addr=0x68], camera:0.")
@click.option("--sink", "sinks", multiple=True, default=["stdout"], show_default=True,
              help="stdout, jsonl:FILE, csv:FILE, mqtt://HOST[:PORT]/TOPIC, http(s)://URL "
              "or gpio:PIN=LABEL (repeatable). Network sinks spool to disk while away.")
@click.option("--threshold", type=float, default=0.0, show_default=True,
              help="Below this smoothed score the label is 'unknown'.")
@click.option("--smooth", type=int, default=1, show_default=True,
              help="Average the probabilities of the last N windows.")
@click.option("--on-change", is_flag=True, help="Emit only when the label changes.")
@click.option("--min-interval", type=float, default=0.0, show_default=True,
              help="With --on-change: at most one event every S seconds.")
@click.option("--rate", type=float, help="Replay pace in samples/s (0 = as fast as possible) "
              "[the recorded rate].")
@click.option("--max-windows", type=click.IntRange(min=1), help="Stop after N windows.")
@click.option("--metrics-every", type=float, help="Print a metrics line to stderr every S s.")
@click.option("--threads", type=click.IntRange(min=1), help="Interpreter threads.")
def run_command(model, source, sinks, threshold, smooth, on_change, min_interval, rate,
                max_windows, metrics_every, threads) -> None:
    """Run a model bundle on a sensor or image source; one JSON line per window.

    Needs only numpy and the LiteRT interpreter (`pip install "edgecnn[device]"`). The
    model's manifest must sit beside it and match its sha256. Windows, channel order,
    normalization and image size come from the manifest, exactly as in training. Ctrl-C
    or SIGTERM finishes the current window, flushes the sinks and exits 0.

    \b
    Examples:
      edgecnn run model-int8.tflite --source replay:walk.csv --rate 0
      edgecnn run model-int8.tflite --source stdin --smooth 5 --threshold 0.6 --on-change
      edgecnn run model-int8.tflite --source dir:photos --sink csv:results.csv
      edgecnn run model-int8.tflite --source replay:imu.csv --sink mqtt://broker:1883/imu
    """
    from edgecnn.runtime.loop import RunOptions, run

    options = RunOptions(threads=threads, smooth=smooth, threshold=threshold,
                         on_change=on_change, min_interval=min_interval, rate_hz=rate,
                         max_windows=max_windows, metrics_every=metrics_every)
    summary = run(model, source=source, sinks=sinks, options=options)
    accuracy = "" if summary.accuracy is None else f", accuracy {summary.accuracy:.4f}"
    click.echo(f"{summary.windows} windows in {summary.seconds:.2f}s{accuracy}; inference p50 "
               f"{summary.p50_infer_ms} ms; dropped samples {summary.dropped}, dropped results "
               f"{summary.sink_drops}", err=True)


@cli.group()
def service() -> None:
    """Run a model as a systemd service that restarts on failure and starts at boot.

    \b
    Example:
      edgecnn service install model-int8.tflite --source i2c:mpu6050 --user
    """


@service.command("install", context_settings={"ignore_unknown_options": True})
@click.argument("model", type=click.Path(exists=True, dir_okay=False))
@click.option("--source", required=True, help="As for `edgecnn run`.")
@click.option("--user", "user_unit", is_flag=True,
              help="A user unit (~/.config/systemd/user) instead of a system one.")
@click.option("--name", help="Unit name [edgecnn-<model stem>].")
@click.option("--out", type=click.Path(), help="Write the unit here (file or folder) instead.")
@click.argument("run_args", nargs=-1, type=click.UNPROCESSED)
def service_install(model, source, user_unit, name, out, run_args) -> None:
    """Write a systemd unit for `edgecnn run MODEL --source ... [run options]`.

    No root is needed to generate the file (with --user, or --out).

    \b
    Example:
      edgecnn service install model-int8.tflite --source serial:/dev/ttyACM0 --user --smooth 5
    """
    from edgecnn.service import write_unit

    args = ["--source", source, *run_args]
    run_command.make_context("edgecnn run", [model, *args])  # a typo fails now, not at boot
    result = write_unit(model, args, user=user_unit, name=name, out=out)
    click.echo(f"wrote {result.path}\nnext:")
    for step in result.next_steps:
        click.echo(f"  {step}")


@cli.command()
@click.argument("models", nargs=-1, required=True, type=click.Path())
@click.option("--threads", type=click.IntRange(min=1), help="Interpreter threads [LiteRT's].")
@click.option("--runs", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--warmup", type=click.IntRange(min=0), default=10, show_default=True)
@click.option("--board", "boards_", multiple=True,
              help="Add an estimate column for this board id (repeatable).")
@click.option("--remote", metavar="[USER@]HOST[:PORT]",
              help="Run it there over ssh (key login), e.g. pi@raspberrypi.local.")
@click.option("--remote-edgecnn", metavar="CMD",
              help="edgecnn on the remote, e.g. ~/.venv/bin/edgecnn [edgecnn].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON rows instead of a table.")
def benchmark(models, threads, runs, warmup, boards_, remote, remote_edgecnn, as_json) -> None:
    """Measure real inference latency of .tflite models on this machine or over ssh.

    Uses the LiteRT interpreter only (no TensorFlow), so on a Raspberry Pi with
    `pip install "edgecnn[device]"` this is the on-device benchmark. With --remote the
    models and their manifests are copied to a temporary folder on that machine, benchmarked
    there by its edgecnn, and the folder is removed. Several models give one comparison
    table; accuracy comes from each model's manifest when it has one.

    \b
    Examples:
      edgecnn benchmark runs/digits/model-int8.tflite --runs 500
      edgecnn benchmark runs/digits/*.tflite --threads 4 --json
      edgecnn benchmark runs/digits/*.tflite --board rpi-zero-2w --board esp32-s3
      edgecnn benchmark runs/digits/*.tflite --remote pi@raspberrypi.local
    """
    if remote_edgecnn and not remote:
        raise BadInputError("--remote-edgecnn needs --remote USER@HOST")
    if remote:
        from edgecnn.remote import benchmark_remote

        click.echo(f"benchmarking on {remote} over ssh ...", err=True)
        rows = benchmark_remote(models, remote=remote, threads=threads, runs=runs, warmup=warmup,
                                remote_edgecnn=remote_edgecnn or "edgecnn")
    else:
        from edgecnn.runtime.bench import benchmark as run_benchmark

        rows = [run_benchmark(m, threads=threads, runs=runs, warmup=warmup) for m in models]
    estimates = _estimates(models, boards_, threads)
    if as_json:
        _print_json([r.to_dict() | {"estimates": e} for r, e in zip(rows, estimates, strict=True)])
        return
    _benchmark_table(rows, estimates, boards_)
    where = f"measured on {remote} over ssh; " if remote else ""
    rss = "the remote benchmark's" if remote else "this process's"
    click.echo(f"{where}latency in milliseconds per single-sample invoke; RSS is {rss} peak")
    if boards_:
        click.echo("est: edgecnn estimate per board (* = does not fit; see edgecnn estimate)")


def _estimates(models, boards_, threads) -> list[dict]:
    """Per model, ``{board: {latency_ms, fits}}`` from the cost models (empty without boards)."""
    if not boards_:
        return [{} for _ in models]
    from edgecnn.estimate import estimate as run_estimate

    return [{e.board: {"latency_ms": e.latency_ms, "fits": e.fits}
             for e in run_estimate(m, boards=list(boards_), threads=threads)} for m in models]


def _benchmark_table(rows, estimates, boards_) -> None:
    extra = "".join(f"{'est ' + b[:14]:>20}" for b in boards_)
    click.echo(f"{'model':<34}{'mode':<9}{'size':>9}{'acc':>8}{'init':>9}{'p50':>9}{'p90':>9}"
               f"{'p99':>9}{'inf/s':>10}{'RSS':>9}{extra}")
    for r, est in zip(rows, estimates, strict=True):
        acc = f"{r.accuracy:.4f}" if r.accuracy is not None else "-"
        cells = "".join(f"{_est_cell(est[b]):>20}" for b in boards_)
        click.echo(f"{Path(r.path).name[-33:]:<34}{r.mode or '-':<9}{_size_text(r.size_bytes):>9}"
                   f"{acc:>8}{r.init_ms:>7.1f}ms{r.p50_ms:>7.3f}ms{r.p90_ms:>7.3f}ms"
                   f"{r.p99_ms:>7.3f}ms{r.inferences_per_s:>10,.0f}"
                   f"{_size_text(r.peak_rss_bytes):>9}{cells}")


def _est_cell(entry: dict) -> str:
    latency = "-" if entry["latency_ms"] is None else f"{entry['latency_ms']:.3f}ms"
    return latency + ("" if entry["fits"] else "*")


@cli.command()
@click.argument("source", type=click.Path())
@click.option("--method", type=click.Choice(["structured", "magnitude"]), default="structured",
              show_default=True, help="Remove channels, or zero single weights.")
@click.option("--ratio", type=float, default=0.5, show_default=True,
              help="Channels to remove (structured) or target sparsity (magnitude), in (0, 1).")
@click.option("--finetune-epochs", type=int, default=3, show_default=True)
@click.option("--scope", type=click.Choice(["layer", "global"]), default="layer",
              show_default=True, help="Structured: same ratio per layer, or one global threshold.")
@click.option("--criterion", type=click.Choice(["l1", "bn"]), default="l1", show_default=True,
              help="Structured: rank channels by filter L1 norm or |BN gamma|.")
@click.option("--out", help="File name in the run folder [pruned.keras].")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def prune(source, method, ratio, finetune_epochs, scope, criterion, out, as_json) -> None:
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
    from edgecnn.prune import prune as run_prune

    result = run_prune(source, method=method, ratio=ratio, finetune_epochs=finetune_epochs,
                       scope=scope, criterion=criterion, out=out)
    data = result.to_dict()
    if as_json:
        _print_json(data)
        return
    click.echo(f"{'':<14}{'before':>12}{'after':>12}{'ratio':>8}")
    for key, label in (("params", "params"), ("macs", "MACs"), ("size_bytes", "file bytes"),
                       ("gzip_bytes", "gzip bytes")):
        before, after = data[f"{key}_before"], data[f"{key}_after"]
        click.echo(f"{label:<14}{before:>12,}{after:>12,}{data[f'{key}_ratio']:>8.3f}")
    click.echo(f"{'test accuracy':<14}{result.accuracy_before:>12.4f}"
               f"{result.accuracy_after:>12.4f}")
    if result.note:
        click.echo(f"note: {result.note}")
    click.echo(f"wrote {result.model_path} and {result.report_path}")


MODE_HELP = "Variants, comma separated: fp32, fp16, dynamic, int8, int16x8."


@cli.command()
@click.argument("source", type=click.Path())
@click.option("--mode", "modes", multiple=True, default=["fp32,int8"], show_default=True,
              help=MODE_HELP)
@click.option("--io", type=click.Choice(["int", "float"]), default="int", show_default=True,
              help="Full-integer models: integer or float input/output.")
@click.option("--calibration", type=click.Path(dir_okay=False),
              help="Calibration .npz (see calibration/README.md) [drawn from the run].")
@click.option("--calibration-samples", type=int, default=300, show_default=True,
              help="Samples drawn class-balanced from the training split.")
@click.option("--max-drop", type=float, help="int8 accuracy budget, e.g. 0.01 (1 point).")
@click.option("--board", "boards", multiple=True, help="Check each variant on this board id.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
def quantize(source, modes, io, calibration, calibration_samples, max_drop, boards,
             as_json) -> None:
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
    from edgecnn.convert import IOType
    from edgecnn.quantize import quantize as run_quantize

    result = run_quantize(source, modes=modes, io=IOType(io), calibration=calibration,
                          calibration_samples=calibration_samples, max_drop=max_drop,
                          boards=boards)
    if as_json:
        _print_json(result.to_dict())
        return
    click.echo(f"Keras model  {result.source_model}: test accuracy {result.keras_accuracy:.4f} "
               f"on {result.test_samples} held-out samples")
    click.echo(f"{'variant':<10}{'io':>7}{'size':>11}{'accuracy':>10}{'delta':>9}"
               f"{'agreement':>11}  file")
    for v in result.variants:
        click.echo(f"{v.mode:<10}{v.input_dtype:>7}{v.size_bytes / 1024:>9.1f}KB"
                   f"{v.accuracy:>10.4f}{v.delta:>+9.4f}{v.agreement:>11.4f}  {v.path}")
        if v.note:
            click.echo(f"  note: {v.note}")
        for check in v.boards:
            arena = f", arena {check.arena_bytes:,} B" if check.arena_bytes else ""
            verdict = "fits" if check.fits else f"does not fit: {check.reason}"
            click.echo(f"  {check.board}: {verdict}{arena}")
    click.echo(f"report       {result.report_path}")


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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="edgecnn")
