"""Verbs about target boards: boards, boards calibrate, estimate."""

from __future__ import annotations

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import (
    JSON_TABLE_HELP,
    board_option,
    json_option,
    threads_option,
)
from edgecnn.cli.output import print_json, shape_callback, size_text


@cli.group(invoke_without_command=True)
@json_option(JSON_TABLE_HELP)
@click.pass_context
def boards(ctx: click.Context, as_json: bool) -> None:
    """List the target boards (boards/*.toml, plus $EDGECNN_BOARDS).

    Every board file in $EDGECNN_BOARDS must load (a broken one is an error, exit 2); a
    file there with a shipped board's id replaces that board.

    \b
    Examples:
      edgecnn boards
      edgecnn boards calibrate
    """
    if ctx.invoked_subcommand is not None:
        return
    from edgecnn.targets.boards import list_boards

    found = list_boards()
    if as_json:
        print_json([b.to_dict() for b in found])
        return
    click.echo(f"{'board':<28}{'kind':<7}{'cpu':<18}{'MHz':>6}{'RAM':>10}{'flash':>10}  runtime")
    for b in found:
        flash = size_text(b.flash_bytes) if b.flash_bytes else "-"
        click.echo(
            f"{b.id:<28}{b.kind:<7}{b.core:<18}{b.clock_mhz:>6.0f}"
            f"{size_text(b.ram_bytes):>10}{flash:>10}  {b.runtime} ({b.kernels})"
        )


@boards.command()
@click.option("--rebuild", is_flag=True, help="Rebuild the reference graphs (a minute or two).")
@click.option("--dry-run", is_flag=True, help="Report only; do not store the coefficients.")
@click.option(
    "--emulate",
    is_flag=True,
    help="Count the reference graphs' instructions on the emulated Cortex-M4F (QEMU; minutes).",
)
@json_option(JSON_TABLE_HELP)
def calibrate(rebuild: bool, dry_run: bool, emulate: bool, as_json: bool) -> None:
    """Refit the latency cost model to the boards' published measurements.

    Prints each [[measured]] point against the fitted estimate and against a fit that left
    that point out (leave-one-out), and the median error per board family. The refit is
    stored as cost-model.json in $EDGECNN_BOARDS, else in the user config folder
    (~/.config/edgecnn), never in the installed package; `edgecnn estimate` then uses it
    instead of the shipped fit (delete it to go back).

    \b
    Example:
      edgecnn boards calibrate --rebuild
    """
    from edgecnn.costfit.boardfit import calibrate as run_calibrate

    report = run_calibrate(rebuild=rebuild, write=not dry_run, emulate=emulate)
    data = report.to_dict()
    if as_json:
        print_json(data)
        return
    click.echo(
        f"{'board':<27}{'dtype':<6}{'kernels':<10}{'measured':>10}{'fitted':>10}"
        f"{'err':>6}{'left out':>10}{'err':>6}  model"
    )
    for p in report.points:
        click.echo(
            f"{p.board:<27}{p.dtype:<6}{p.kernels:<10}{p.measured_ms:>8.1f}ms"
            f"{p.fitted_ms:>8.1f}ms{p.fitted_ape:>6.0%}{p.loo_ms:>8.1f}ms{p.loo_ape:>6.0%}"
            f"  {p.model}"
        )
    for family, values in data["median_ape"].items():
        if values["fitted"] is not None:
            click.echo(
                f"median abs error {family}: {values['fitted']:.1%} fitted, "
                f"{values['leave_one_out']:.1%} leave-one-out"
            )
    _print_instruction_model(report)
    for line in report.skipped:
        click.echo(f"skipped {line}")
    if not dry_run:
        click.echo(f"stored {report.path} (estimates use it; delete it for the shipped fit)")


def _print_instruction_model(report) -> None:
    """The instruction x CPI model beside the MAC model, on the points it covers."""
    for p in report.points:
        if p.instr_loo_ms is not None:
            click.echo(
                f"instructions {p.board:<27}{p.instructions:>12,}{p.instr_fitted_ms:>8.1f}ms"
                f"{p.instr_ape(loo=False):>6.0%}{p.instr_loo_ms:>8.1f}ms"
                f"{p.instr_ape(loo=True):>6.0%}  {p.model}"
            )
    both = report.instruction_comparison()
    if both:
        click.echo(
            f"median abs error on the {both['points']} emulated points: MACs "
            f"{both['mac_fitted']:.1%} fitted, {both['mac_leave_one_out']:.1%} leave-one-out; "
            f"instructions {both['instructions_fitted']:.1%} fitted, "
            f"{both['instructions_leave_one_out']:.1%} leave-one-out"
        )


@cli.command()
@click.argument("model", type=click.Path())
@board_option("Board id (repeatable).", dest="boards_", required=True)
@threads_option("Linux boards [all cores].")
@click.option("--ops", "show_ops", is_flag=True, help="Also print the per-op breakdown.")
@click.option(
    "--input-shape", callback=shape_callback, help="Size a dynamic-input model, e.g. 224x224x3."
)
@click.option(
    "--emulate",
    is_flag=True,
    help="Count the model's instructions on the emulated Cortex-M4F (QEMU) for Cortex-M4F "
    "boards' latency.",
)
@json_option(JSON_TABLE_HELP)
def estimate(model, boards_, threads, show_ops, input_shape, emulate, as_json) -> None:
    """Estimate latency, memory and fit of a .tflite on target boards, offline.

    Latency comes from each board's cost model, op by op; on microcontrollers the tensor
    arena and op support come from allocating the model in TFLite Micro. `basis` says
    whether the board's coefficients were fitted to published measurements or are priors.
    A model whose input sizes are dynamic (None x None x 3) needs --input-shape.

    \b
    Examples:
      edgecnn estimate runs/digits/model-int8.tflite --board rpi-zero-2w --board rpi-pico
      edgecnn estimate model-int8.tflite --board arduino-nano-33-ble-sense --ops --json
      edgecnn estimate mobilenet-fp32.tflite --board rpi-4b --input-shape 224x224x3
      edgecnn estimate model-int8.tflite --board nucleo-l4r5zi --emulate
    """
    options = {"boards": list(boards_), "threads": threads, "input_shape": input_shape}
    if emulate:
        from edgecnn.mcu.emulate import estimate_emulated

        rows = estimate_emulated(model, **options)
    else:
        from edgecnn.targets.estimate import estimate as run_estimate

        rows = run_estimate(model, **options)
    if as_json:
        print_json([r.to_dict() for r in rows])
        return
    click.echo(f"{'board':<27}{'latency':>11}{'threads':>8}{'RAM':>11}{'flash':>11}  fits; basis")
    for r in rows:
        latency = f"{r.latency_ms:.3f}ms" if r.latency_ms is not None else "-"
        flash = size_text(r.flash_bytes) if r.flash_bytes else "-"
        verdict = "yes" if r.fits else f"no: {r.reason}"
        click.echo(
            f"{r.board:<27}{latency:>11}{r.threads:>8}"
            f"{size_text(r.ram_bytes):>11}{flash:>11}  {verdict}; {r.basis}"
        )
        for op in r.ops if show_ops else ():
            click.echo(
                f"    {op.index:>3} {op.name:<22}{op.macs:>12,} MACs{op.latency_ms:>10.4f}ms"
            )
