"""Keyword spotting on a continuous stream: what ``--smooth`` and ``--threshold`` buy.

Builds a recording from a newly generated keyword set (another seed: speakers no model was
trained on): target-word clips, each followed by a stretch of background noise, then runs
``edgecnn run --source replay:STREAM.wav --on-change`` (a window every hop) with several
smoothing / threshold settings side by side, and scores the emitted events against where
the words are: a hit is the word's label emitted while its clip is in the window (from the
clip's start + a quarter clip to its end + half a clip); any other emitted target word is a
false alarm.

Usage:
  .venv/bin/python benchmarks/keyword_stream.py MODEL.tflite [--words 60] [--seed 7]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from edgecnn.core.wav import write_wav
from edgecnn.device.loop import run
from edgecnn.device.preflight import RunOptions
from edgecnn.device.runner import Runner
from edgecnn.training.data.audio import AudioOptions, load_audio_folder
from edgecnn.training.data.keywords import ensure_keywords

SETTINGS = ((1, 0.0), (3, 0.0), (5, 0.0), (3, 0.6), (5, 0.6), (5, 0.8))


def make_stream(model: Runner, seed: int, words: int, path: Path) -> list[tuple[str, float]]:
    """Writes the stream; returns (word, clip start in seconds) for every word in it."""
    pre, labels = model.preprocessing, model.labels
    targets = tuple(w for w in labels if not w.startswith("_"))
    root = ensure_keywords(seed=seed)
    ds = load_audio_folder(root, AudioOptions(front=pre.audio, classes=targets, seed=seed))
    rng = np.random.default_rng(seed)
    spoken = rng.choice(np.flatnonzero(ds.y < len(targets)), size=words, replace=False)
    rate, clip = pre.audio.sample_rate_hz, pre.audio.clip_samples
    noise = ds.background if ds.background is not None else np.zeros(rate * 10, np.float32)
    parts, truth, at = [], [], 0
    for index in spoken:
        truth.append((labels[int(ds.y[index])], at / rate))
        gap = int(rng.uniform(0.5, 1.5) * clip)
        start = int(rng.integers(0, len(noise) - gap))
        parts += [ds.x[index], noise[start : start + gap] * np.float32(rng.uniform(0.05, 0.3))]
        at += clip + gap
    write_wav(path, np.concatenate(parts), sample_rate_hz=rate)
    return truth


def score(events, truth, clip_s: float, hop_s: float) -> dict:
    """Hits and false alarms of the emitted events against the words' positions."""
    hits, false_alarms = set(), 0
    for window, label in events:
        end = clip_s + (window - 1) * hop_s  # where the window that emitted it ends
        matched = [
            i for i, (word, start) in enumerate(truth)
            if word == label and start + clip_s / 4 <= end <= start + 1.5 * clip_s
        ]  # fmt: skip
        if matched:
            hits.add(matched[0])
        else:
            false_alarms += 1
    return {"hits": len(hits), "false_alarms": false_alarms}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("--words", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    model = Runner(args.model)
    pre, targets = model.preprocessing, {w for w in model.labels if not w.startswith("_")}
    clip_s, hop_s = pre.window / pre.sample_rate_hz, pre.hop / pre.sample_rate_hz
    with tempfile.TemporaryDirectory() as tmp:
        stream, seen = Path(tmp) / "stream.wav", Path(tmp) / "events.jsonl"
        truth = make_stream(model, args.seed, args.words, stream)
        minutes = (truth[-1][1] + 2 * clip_s) / 60
        print(f"stream: {len(truth)} words in {60 * minutes:.0f} s (seed {args.seed}), "
              f"a window every {1000 * hop_s:g} ms")  # fmt: skip
        print(f"{'smooth':>6} {'threshold':>9} {'hits':>10} {'false alarms':>13} {'per min':>8}")
        for smooth, threshold in SETTINGS:
            seen.unlink(missing_ok=True)
            options = RunOptions(rate_hz=0, smooth=smooth, threshold=threshold, on_change=True)
            run(args.model, source=f"replay:{stream}", sinks=[f"jsonl:{seen}"], options=options,
                log=lambda _: None)  # fmt: skip
            rows = [json.loads(line) for line in seen.read_text().splitlines()]
            events = [(r["window"], r["label"]) for r in rows if r["label"] in targets]
            got = score(events, truth, clip_s, hop_s)
            print(f"{smooth:>6} {threshold:>9.1f} {got['hits']:>5}/{len(truth):<4} "
                  f"{got['false_alarms']:>13} {got['false_alarms'] / minutes:>8.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
