"""The keyword-spotting demo: the pipeline on ``builtin:keywords`` (spoken offline by
espeak-ng) with DS-CNN, then held-out clips written as WAV files and replayed through
``edgecnn run --source dir:...``, checked clip by clip against the pipeline's evaluation.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edgecnn import pipeline
from edgecnn.core.wav import write_wav
from edgecnn.device.io.audio import wav_files_in_order
from edgecnn.pipeline.demo import ReplayCheck, _check_replay, _run_replay
from edgecnn.pipeline.result import PipelineResult, VariantReport

# MLPerf Tiny's keyword spotting model and front end (49x10 MFCC), ten words + _unknown_ +
# _silence_. A word lasts about a second, so a microcontroller that decides twice a second
# keeps up: hence the 500 ms latency budget.
AUDIO_DEMO_CONFIG = {
    "data": "builtin:keywords",
    "model": "dscnn",
    "augment": "timeshift,gain,bgnoise,timemask,freqmask",
    "prune_ratios": [0.0, 0.5],
    "modes": ["fp32", "int8"],
    "boards": ["rpi-zero-2w", "arduino-nano-33-ble-sense"],
    "budgets": {"max_latency_ms": 500, "max_arena_kb": 128, "max_accuracy_drop": 0.02},
}


def run_audio_demo_pipeline(
    *, out: str | Path | None = None, log: Callable[[str], None] | None = None
) -> PipelineResult:
    """The pipeline on ``builtin:keywords`` into ``out`` (default ``runs/demo-audio``)."""
    return pipeline.run(AUDIO_DEMO_CONFIG, out=out or Path("runs") / "demo-audio", log=log)


def replay_audio_clips(
    result: PipelineResult,
    clips: int,
    rate_hz: float,
    sink: str | None,
    log: Callable[[str], None],
) -> ReplayCheck:
    """Writes ``clips`` held-out test clips as 16-bit WAVs in class folders, replays the
    folder through ``edgecnn run`` with the chosen variant (or the most accurate runnable
    one) and checks its predictions are exactly the pipeline's for the same clips."""
    from edgecnn.pipeline.demo import _most_accurate_runnable
    from edgecnn.training.rundir import RunDir, load_labels, load_split_arrays

    variant: VariantReport = result.chosen_variant or _most_accurate_runnable(result)
    family = result.family_of(variant)
    folder = Path(result.folder)
    run_dir = RunDir(Path(family.run_dir if family else result.run_dir))
    arrays, labels = load_split_arrays(run_dir), load_labels(run_dir)
    picked = _spread(len(arrays.y["test"]), clips)
    root = folder / "replay-clips"
    order = _write_clips(root, arrays.x["test"], arrays.y["test"], picked, labels,
                         _model_rate(run_dir))  # fmt: skip
    log(f"demo: replaying {len(order)} held-out clips (WAV files) through edgecnn run with "
        f"{variant.name}")  # fmt: skip
    summary, replayed = _run_replay(variant, f"dir:{root}", folder / "replay.jsonl", rate_hz,
                                    sink, log)  # fmt: skip
    truth = arrays.y["test"][order]
    return _check_replay(folder, variant, truth, labels, summary, replayed, order=order)


def _spread(total: int, wanted: int) -> np.ndarray:
    """``wanted`` test indices spread evenly over the split (it is grouped by class)."""
    return np.unique(np.linspace(0, total - 1, min(wanted, total)).round().astype(np.int64))


def _model_rate(run_dir) -> int:
    from edgecnn.training.rundir import load_preprocessing

    return int(load_preprocessing(run_dir).audio.sample_rate_hz)


def _write_clips(root: Path, x, y, picked, labels, rate: int) -> np.ndarray:
    """``root/<label>/<index>.wav`` for each picked clip, in a fresh folder; returns the test
    indices in the order the runtime reads the files."""
    if root.exists():
        shutil.rmtree(root)  # a smaller replay must not find an earlier one's clips
    index_of = {}
    for index in picked:
        path = root / labels[int(y[index])] / f"{index:05d}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        write_wav(path, x[index], sample_rate_hz=rate)  # 16-bit grid clips: lossless
        index_of[path] = int(index)
    return np.asarray([index_of[p] for p in wav_files_in_order(root)], dtype=np.int64)
