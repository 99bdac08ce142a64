"""Verbs that ship a converted model to a microcontroller: export arduino, export firmware."""

from __future__ import annotations

from pathlib import Path

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import json_option, out_folder_option
from edgecnn.cli.output import print_json


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
@out_folder_option("Folder to write the sketch folder into.", required=True)
@click.option("--name", "sketch_name", help="Sketch (folder and .ino) name [the model's stem].")
@click.option("--overwrite", is_flag=True, help="Replace an existing sketch folder.")
@json_option()
def export_arduino_command(model, board, out, sketch_name, overwrite, as_json) -> None:
    """Write an Arduino sketch that runs an int8 MODEL with TensorFlow Lite Micro.

    MODEL is a full-integer int8 .tflite from `edgecnn quantize --mode int8` with its
    manifest beside it. The sketch folder OUT/<name>/ holds the model as a C array, a
    resolver with exactly its ops, a tensor arena measured in TFLite Micro plus a margin,
    and a loop that reads comma-separated raw values over serial and prints the top label,
    its score and the invoke time. An audio model's sketch reads one clip of int16 PCM
    samples per line and carries the model's log-mel/MFCC front end in C++. Its README.md
    says which library to install.

    \b
    Examples:
      edgecnn export arduino runs/digits/model-int8.tflite --board esp32-s3 --out sketches
      edgecnn export arduino model-int8.tflite --board rpi-pico --out sk --name digits
    """
    from edgecnn.export import export_arduino

    result = export_arduino(
        model, board=board, out=out, sketch_name=sketch_name, overwrite=overwrite
    )
    if as_json:
        print_json(result.to_dict())
    else:
        _print_export(result)


def _print_export(result) -> None:
    """What ``export arduino`` wrote, for people."""
    flash = (
        f"{result.flash_margin_bytes:,} B" if result.flash_margin_bytes is not None else "unknown"
    )
    click.echo(f"sketch  {result.sketch_dir} ({', '.join(result.files)})")
    click.echo(f"ops     MicroMutableOpResolver<{len(result.ops)}>: {', '.join(result.ops)}")
    click.echo(
        f"arena   {result.arena_with_margin_bytes:,} B ({result.arena_bytes:,} B measured "
        f"by TFLite Micro + 10% + 1 KiB); RAM left {result.ram_margin_bytes:,} B"
    )
    if result.audio_ram_bytes:
        click.echo(
            f"audio   {result.audio_ram_bytes:,} B of RAM for the PCM clip, its features and the "
            "front end (counted in RAM left)"
        )
    click.echo(f"model   {result.model_bytes:,} B in flash; flash left {flash}")
    click.echo(
        f"next    install the {result.library} library, open "
        f"{Path(result.sketch_dir).name}.ino (see its README.md)"
    )


@export.command("firmware")
@click.argument("model", type=click.Path(dir_okay=False))
@click.option("--board", required=True, help="Cortex-M4F board id (see `edgecnn boards`).")
@out_folder_option("Folder to write the firmware folder into.", required=True)
@click.option("--name", help="Firmware folder name [the model's stem].")
@click.option("--overwrite", is_flag=True, help="Replace an existing firmware folder.")
@click.option(
    "--build", is_flag=True, help="Also build it (arm-none-eabi-gcc; TFLite Micro is cached)."
)
@json_option()
def export_firmware_command(model, board, out, name, overwrite, build, as_json) -> None:
    """Write a bare-metal firmware (Arm GCC, no Arduino) that runs an int8 MODEL.

    The folder OUT/<name>/ holds the Arduino sketch's files unchanged (the same generator)
    plus a small Arduino shim, main(), and a Makefile, startup code and linker script for
    QEMU's mps2-an386 (a Cortex-M4 with FPU) limited to the board's flash and RAM. For a
    real board, keep the sources and bring its startup code, linker script and the six
    functions of platform.h (README.md). --build compiles TensorFlow Lite Micro with
    CMSIS-NN once (cached; minutes) and links firmware.elf.

    \b
    Examples:
      edgecnn export firmware runs/kws/model-int8.tflite --board nucleo-l4r5zi --out fw
      edgecnn export firmware model-int8.tflite --board arduino-nano-33-ble-sense --out fw --build
    """
    from edgecnn.mcu.build import export_and_build

    built = export_and_build(
        model, board=board, out=out, name=name, overwrite=overwrite, build=build
    )
    if as_json:
        print_json(built.to_dict())
        return
    result, image = built.export, built.image
    click.echo(f"firmware  {result.folder} ({len(result.files)} files)")
    click.echo(
        f"arena     {result.arena_with_margin_bytes:,} B ({result.arena_bytes:,} B measured by "
        f"TFLite Micro + margin); limits {result.flash_limit_bytes:,} B flash, "
        f"{result.ram_limit_bytes:,} B RAM"
    )
    if image:
        click.echo(
            f"built     {image.elf}: {image.flash_bytes:,} B flash (text+data), "
            f"{image.ram_bytes:,} B RAM (data+bss)"
        )
    else:
        click.echo(
            "next      add --build to compile it (TFLite Micro is built once and cached), or "
            "make TFLM_TREE=... TFLM_LIB=... in that folder (see its README.md)"
        )
