"""Verbs that run on the device: run, service install, benchmark."""

from __future__ import annotations

from pathlib import Path

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import board_option, json_option, shown_option, threads_option
from edgecnn.cli.output import print_json, shape_callback, size_text
from edgecnn.core.errors import RunFailedError


@cli.command("run")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option(
    "--source",
    required=True,
    help="replay:FILE.csv|FILE.npz|FILE.wav[?rate=HZ], stdin, dir:PATH (images, or WAV "
    "clips, as PATH/CLASS/FILE like train reads them; deeper folders are not read), "
    "serial:/dev/ttyACM0[?baud=115200], "
    "i2c:mpu6050[?bus=1&addr=0x68], camera:0, mic[:DEVICE][?rate=16000] (ALSA via arecord).",
)
@shown_option(
    "--sink",
    "sinks",
    multiple=True,
    default=["stdout"],
    help="stdout (JSON lines), text (for people), jsonl:FILE, csv:FILE, "
    "mqtt://HOST[:PORT]/TOPIC, http(s)://URL "
    "or gpio:PIN=LABEL (repeatable). Network sinks spool to disk while away.",
)
@shown_option(
    "--threshold",
    type=float,
    default=0.0,
    help="Below this smoothed score the label is 'unknown'.",
)
@shown_option(
    "--smooth", type=int, default=1, help="Average the probabilities of the last N windows."
)
@click.option("--on-change", is_flag=True, help="Emit only when the label changes.")
@shown_option(
    "--min-interval",
    type=float,
    default=0.0,
    help="With --on-change: at most one event every S seconds.",
)
@click.option(
    "--rate",
    type=float,
    help="Replay pace in samples/s (0 = as fast as possible) [the recorded rate; "
    "audio: the model's rate].",
)
@click.option("--max-windows", type=click.IntRange(min=1), help="Stop after N windows.")
@click.option("--metrics-every", type=float, help="Print a metrics line to stderr every S s.")
@threads_option("Interpreter threads.")
def run_command(model, source, sinks, **options) -> None:
    """Run a model bundle on a sensor, audio or image source; one JSON line per window.

    Needs only numpy and the LiteRT interpreter (`pip install "edgecnn[device]"`). The
    model's manifest must sit beside it and match its sha256. Windows, channel order,
    normalization, image size and the audio front end come from the manifest, exactly as
    in training; audio is resampled to the model's rate, and a microphone is read with
    arecord (sudo apt-get install alsa-utils). Ctrl-C or SIGTERM finishes the current
    window, flushes the sinks and exits 0.

    \b
    Examples:
      edgecnn run model-int8.tflite --source replay:walk.csv --rate 0
      edgecnn run model-int8.tflite --source stdin --smooth 5 --threshold 0.6 --on-change
      edgecnn run model-int8.tflite --source dir:photos --sink csv:results.csv
      edgecnn run model-int8.tflite --source replay:imu.csv --sink mqtt://broker:1883/imu
      edgecnn run kws-int8.tflite --source replay:speech.wav --rate 0 --smooth 3
      edgecnn run kws-int8.tflite --source mic:plughw:1 --smooth 3 --threshold 0.7 --on-change
    """
    from edgecnn.device.loop import run

    summary = run(model, source=source, sinks=sinks, options=_run_options(**options))
    _print_run_summary(summary)


def _run_options(*, rate, **options):
    """The loop's RunOptions from the option values (``--rate`` is its ``rate_hz``)."""
    from edgecnn.device.preflight import RunOptions

    return RunOptions(rate_hz=rate, **options)


def _print_run_summary(summary) -> None:
    """One line on stderr (stdout belongs to the results); a sink that failed: exit 1."""
    click.echo(summary.text(), err=True)
    if summary.failure:
        raise RunFailedError(summary.failure)


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
@click.option(
    "--user",
    "user_unit",
    is_flag=True,
    help="A user unit (~/.config/systemd/user) instead of a system one.",
)
@click.option("--name", help="Unit name [edgecnn-<model stem>].")
@click.option("--out", type=click.Path(), help="Write the unit here (file or folder) instead.")
@click.argument("run_args", nargs=-1, type=click.UNPROCESSED)
def service_install(model, source, user_unit, name, out, run_args) -> None:
    """Write a systemd unit for `edgecnn run MODEL --source ... [run options]`.

    No root is needed to generate the file (with --user, or --out). The model, the source
    and the options are checked first, as `edgecnn run` checks them. Sink passwords go
    into NAME.env beside the unit, readable by its owner only (mode 0600), never into the
    unit; a sink with a user and no password takes EDGECNN_MQTT_PASSWORD (or
    EDGECNN_HTTP_PASSWORD) from this environment.

    \b
    Example:
      edgecnn service install model-int8.tflite --source serial:/dev/ttyACM0 --user --smooth 5
    """
    from edgecnn.device.service import install_unit

    args = ["--source", source, *run_args]
    params = run_command.make_context("edgecnn run", [model, *args]).params
    options = {k: v for k, v in params.items() if k not in ("model", "source", "sinks")}
    result = install_unit(
        model, args, source=source, options=_run_options(**options), sinks=params["sinks"],
        user=user_unit, name=name, out=out,
    )  # fmt: skip
    click.echo(f"wrote {result.path}\nnext:")
    for step in result.next_steps:
        click.echo(f"  {step}")


@cli.command()
@click.argument("models", nargs=-1, required=True, type=click.Path())
@threads_option("Interpreter threads [LiteRT's].")
@shown_option("--runs", type=click.IntRange(min=1), default=100)
@shown_option("--warmup", type=click.IntRange(min=0), default=10)
@board_option("Add an estimate column for this board id (repeatable).", dest="boards_")
@click.option(
    "--remote",
    metavar="[USER@]HOST[:PORT]",
    help="Run it there over ssh (key login), e.g. pi@raspberrypi.local.",
)
@click.option(
    "--remote-edgecnn",
    metavar="CMD",
    help="edgecnn on the remote, e.g. ~/.venv/bin/edgecnn [edgecnn].",
)
@click.option(
    "--input-shape", callback=shape_callback, help="Size a dynamic-input model, e.g. 224x224x3."
)
@json_option("Print JSON rows instead of a table.")
def benchmark(
    models, threads, runs, warmup, boards_, remote, remote_edgecnn, input_shape, as_json
) -> None:
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
    from edgecnn.targets.comparison import compare_models

    comparison = compare_models(
        models, threads=threads, runs=runs, warmup=warmup, boards=boards_, remote=remote,
        remote_edgecnn=remote_edgecnn, input_shape=input_shape,
    )  # fmt: skip
    if as_json:
        print_json(comparison.to_list())
        return
    _benchmark_table(comparison)
    _benchmark_footer(comparison)


def _benchmark_footer(comparison) -> None:
    """What the table's numbers are, so they are not read as something else."""
    remote = comparison.remote
    where = f"measured on {remote} over ssh; " if remote else ""
    rss = "the remote benchmark's" if remote else "this process's"
    click.echo(f"{where}latency in milliseconds per single-sample invoke; RSS is {rss} peak")
    if comparison.boards:
        click.echo("est: edgecnn estimate per board (* = does not fit; see edgecnn estimate)")


def _benchmark_table(comparison) -> None:
    boards_ = comparison.boards
    extra = "".join(f"{'est ' + b[:14]:>20}" for b in boards_)
    click.echo(
        f"{'model':<34}{'mode':<9}{'size':>9}{'acc':>8}{'init':>9}{'p50':>9}{'p90':>9}"
        f"{'p99':>9}{'inf/s':>10}{'RSS':>9}{extra}"
    )
    for row in comparison.rows:
        r = row.bench
        acc = f"{r.accuracy:.4f}" if r.accuracy is not None else "-"
        cells = "".join(f"{_est_cell(row.estimates[b]):>20}" for b in boards_)
        click.echo(
            f"{Path(r.path).name[-33:]:<34}{r.mode or '-':<9}{size_text(r.size_bytes):>9}"
            f"{acc:>8}{r.init_ms:>7.1f}ms{r.p50_ms:>7.3f}ms{r.p90_ms:>7.3f}ms"
            f"{r.p99_ms:>7.3f}ms{r.inferences_per_s:>10,.0f}"
            f"{size_text(r.peak_rss_bytes):>9}{cells}"
        )


def _est_cell(entry) -> str:
    latency = "-" if entry.latency_ms is None else f"{entry.latency_ms:.3f}ms"
    return latency + ("" if entry.fits else "*")
