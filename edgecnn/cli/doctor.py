"""``edgecnn doctor``: what this machine is, what runs here, and a conformance check."""

from __future__ import annotations

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import json_option, out_folder_option
from edgecnn.cli.output import print_json
from edgecnn.core.errors import BadInputError, RunFailedError


@cli.command("doctor")
@click.option(
    "--conformance",
    "kit",
    metavar="KIT",
    type=click.Path(file_okay=False),
    help="Run a conformance kit here and compare with the reference machine's results.",
)
@out_folder_option("With --conformance: where to write results.json [KIT/results].")
@json_option("Print JSON instead of text.")
def doctor_command(kit, out, as_json) -> None:
    """Check this machine: board, CPU, OS, Python, glibc, interpreter, XNNPACK, throttling.

    Needs no TensorFlow. On a Raspberry Pi it also shows the CPU governor and whether the
    firmware throttled the CPU, and says what to install when something is missing.

    With --conformance KIT it runs the kit's model bundles on its recorded inputs through
    `edgecnn run`, the runtime and `edgecnn benchmark`, then compares with the results of
    the machine that made the kit: fp32 outputs within 1e-5, int8 within 1 LSB, top-1
    identical, a tampered model refused. Exit code 1 when they disagree, or (without
    --conformance) when no interpreter is installed or it computes wrong results.

    \b
    Examples:
      edgecnn doctor
      edgecnn doctor --json
      edgecnn doctor --conformance pi-kit          # on the Pi, after copying the kit there
    """
    if out and not kit:
        raise BadInputError("--out goes with --conformance KIT")
    if kit:
        _conformance(kit, out, as_json)
        return
    from edgecnn.device.doctor import format_report, gather

    report = gather()
    if as_json:
        print_json(report.to_dict())
    else:
        click.echo(format_report(report))
    if not report.can_run:  # scripts and make test-pi can gate on it
        raise RunFailedError("edgecnn models cannot run correctly here; see the advice above")


def _conformance(kit: str, out: str | None, as_json: bool) -> None:
    from edgecnn.device.conformance.check import format_check, run_check

    check = run_check(kit, out=out)
    if as_json:
        print_json(check.to_dict())
    else:
        click.echo(format_check(check))
    if check.comparison is not None and not check.comparison.passed:
        raise RunFailedError(
            f"conformance failed: {check.comparison.problem_count} problem(s), listed above"
        )
