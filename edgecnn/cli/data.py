"""Verbs that make data sets: data keywords."""

from __future__ import annotations

import click

from edgecnn.cli.base import cli
from edgecnn.cli.options import json_option, out_folder_option, shown_option, word_list
from edgecnn.cli.output import echo_result


def _unknown_words(ctx, param, value: str | None) -> tuple[str, ...] | None:
    """As :func:`word_list`, and an empty string for no unknown words."""
    return () if value == "" else word_list(ctx, param, value)


@cli.group()
def data() -> None:
    """Make data sets offline.

    \b
    Example:
      edgecnn data keywords --out data/keywords
    """


@data.command("keywords")
@out_folder_option("New folder for the set.", required=True)
@click.option(
    "--words", callback=word_list, help="Target words, comma-separated, lowercase a-z "
    "[yes,no,up,down,left,right,on,off,stop,go].",
)
@click.option(
    "--unknown-words", callback=_unknown_words,
    help="Other words, for an _unknown_ class [cat,dog,bird,bed,tree,house,happy,wow,marvin,"
    "sheila]; an empty string for none.",
)
@click.option(
    "--speakers", type=int, help="espeak-ng voice/variant/speed/pitch combinations, at least 3 "
    "(each speaker goes whole to train, validation or test) [100].",
)
@shown_option("--seed", type=int, default=0)
@shown_option("--rate", "sample_rate_hz", type=int, default=16000, help="Sample rate in Hz.")
@shown_option("--clip-ms", type=int, default=1000, help="Clip length in milliseconds, 100..10000.")
@click.option("--no-noise", is_flag=True, help="Clean clips (background noise files are still "
              "written to _background_noise_).")
@shown_option("--workers", type=click.IntRange(min=1), default=2, help="espeak-ng processes.")
@json_option()
def keywords(out, words, unknown_words, speakers, no_noise, as_json, **opts) -> None:
    """Generate a keyword-spotting set with espeak-ng (offline; needs `apt install espeak-ng`).

    Writes the Google Speech Commands layout: OUT/<word>/<speaker>_nohash_0.wav (16-bit mono
    PCM), OUT/_background_noise_/*.wav, README.txt and keywords.json. A speaker is an
    espeak-ng English voice with a variant, speed and pitch; each says every word once, so
    train and test can hold different speakers. The same options give the same bytes.

    \b
    Examples:
      edgecnn data keywords --out data/keywords
      edgecnn data keywords --out kw --words yes,no --unknown-words cat --speakers 20 --no-noise
    """
    from pathlib import Path

    from edgecnn.training.data.keywords import generate_keywords

    given = {"words": words, "unknown_words": unknown_words, "speakers": speakers}
    options = {k: v for k, v in given.items() if v is not None}
    result = generate_keywords(Path(out), noise=not no_noise, **options, **opts)
    echo_result(result, as_json, _print_summary)


def _print_summary(result) -> None:
    click.echo(
        f"wrote {result.clips:,} clips ({len(result.words)} words + "
        f"{len(result.unknown_words)} unknown, {result.speakers} speakers, "
        f"{result.sample_rate_hz} Hz, {result.clip_ms} ms) to {result.path} in "
        f"{result.seconds:.1f}s (espeak-ng {result.espeak_version})"
    )
