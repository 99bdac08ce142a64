"""The demo: the whole pipeline on a built-in data set (no download), then part of the
held-out test split replayed through ``edgecnn run`` with the chosen model.

Two presets, one code path: ``digits`` (scikit-learn's digits, shipped offline; vgg_tiny)
and ``keywords`` (ten words spoken offline by espeak-ng; DS-CNN, replayed as WAV files).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType

from edgecnn import pipeline
from edgecnn.core.console import to_stderr
from edgecnn.core.errors import BadInputError
from edgecnn.core.records import Record
from edgecnn.pipeline.replay import ReplayCheck, ReplayKind, replay_chosen
from edgecnn.pipeline.result import PipelineResult

REPLAY_SAMPLES = 60
BOARDS = ["rpi-zero-2w", "arduino-nano-33-ble-sense"]


class DemoData(StrEnum):
    """The demo's data presets."""

    DIGITS = "digits"
    KEYWORDS = "keywords"


@dataclass(frozen=True)
class DemoPreset:
    """What one demo runs: the pipeline config (data, model, boards, budgets, ...), its
    folder under ``runs/``, how the test samples are replayed and at what pace (samples/s;
    0: as fast as possible)."""

    config: Mapping
    folder: str
    replay: ReplayKind
    rate_hz: float


PRESETS = MappingProxyType({
    # vgg_tiny reaches ~98% on the digits test split in about 20 s on two CPU cores. At 8x8
    # the unpruned int8 model is estimated above 50 ms on the Nano 33 BLE Sense, so the
    # budgets make the pipeline trade a little accuracy (pruning) for microcontroller speed.
    # Replayed at 20 samples/s, so that people can watch the predictions go by.
    DemoData.DIGITS: DemoPreset(
        config={
            "data": "builtin:digits",
            "model": "vgg_tiny",
            "prune_ratios": [0.0, 0.25, 0.5],
            "modes": ["fp32", "dynamic", "int8"],
            "boards": BOARDS,
            "budgets": {"max_latency_ms": 50, "max_arena_kb": 64, "max_accuracy_drop": 0.02},
        },
        folder="demo",
        replay=ReplayKind.SAMPLES,
        rate_hz=20.0,
    ),
    # MLPerf Tiny's keyword spotting model and front end (49x10 MFCC), ten words + _unknown_
    # + _silence_. A word lasts about a second, so a microcontroller that decides twice a
    # second keeps up: hence the 500 ms latency budget.
    DemoData.KEYWORDS: DemoPreset(
        config={
            "data": "builtin:keywords",
            "model": "dscnn",
            "augment": "timeshift,gain,bgnoise,timemask,freqmask",
            "prune_ratios": [0.0, 0.5],
            "modes": ["fp32", "int8"],
            "boards": BOARDS,
            "budgets": {"max_latency_ms": 500, "max_arena_kb": 128, "max_accuracy_drop": 0.02},
        },
        folder="demo-audio",
        replay=ReplayKind.CLIPS,
        rate_hz=0.0,
    ),
})  # fmt: skip


@dataclass(frozen=True)
class DemoResult(Record):
    """The pipeline's result and the replay check."""

    pipeline: PipelineResult
    replay: ReplayCheck


def run_demo(
    *,
    data: DemoData | str = DemoData.DIGITS,
    out: str | Path | None = None,
    samples: int = REPLAY_SAMPLES,
    rate_hz: float | None = None,
    sink: str | None = "text",
    log: Callable[[str], None] | None = None,
    on_pipeline: Callable[[PipelineResult], None] | None = None,
) -> DemoResult:
    """Runs the pipeline on the preset's data into ``out`` (default ``runs/demo``, or
    ``runs/demo-audio`` for keywords), then replays ``samples`` held-out test samples
    through the runtime with the chosen model.

    Args:
        data: the preset, ``digits`` or ``keywords``.
        out: the pipeline folder; a second demo into the same folder reuses every step.
        samples: test samples (clips, for keywords) to replay.
        rate_hz: replay pace (0: as fast as possible) [the preset's: 20, keywords 0].
        sink: where the runtime prints its predictions (``text`` for people; None: nowhere).
        log: where progress lines go; default stderr.
        on_pipeline: called with the pipeline's result before the replay starts.

    Raises:
        BadInputError: an unknown preset.
        RunFailedError: the replay disagreed with the pipeline's evaluation (a bug).
    """
    preset = demo_preset(data)
    log = log or to_stderr
    result = run_demo_pipeline(preset, out=out, log=log)
    if on_pipeline is not None:
        on_pipeline(result)
    pace = preset.rate_hz if rate_hz is None else rate_hz
    check = replay_chosen(
        result, kind=preset.replay, samples=samples, rate_hz=pace, sink=sink, log=log
    )
    return DemoResult(result, check)


def demo_preset(data: DemoData | str) -> DemoPreset:
    """The preset named ``data``.

    Raises:
        BadInputError: no such preset.
    """
    try:
        return PRESETS[DemoData(data)]
    except ValueError:
        names = ", ".join(PRESETS)
        raise BadInputError(f"unknown demo data {data!r}; use one of {names}") from None


def run_demo_pipeline(
    preset: DemoPreset,
    *,
    out: str | Path | None = None,
    log: Callable[[str], None] | None = None,
) -> PipelineResult:
    """The demo's first half: the pipeline on the preset's data (default ``runs/<folder>``)."""
    return pipeline.run(dict(preset.config), out=out or Path("runs") / preset.folder, log=log)
