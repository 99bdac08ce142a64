"""Keyword-spotting accuracy on speakers no model was trained or tuned on.

Generates a second keyword set with another seed (the same espeak-ng voices and variants,
new speakers: new voice/variant pairs, speeds, pitches, gains, offsets and noise draws),
reads it with the model's own classes and front end, and reports each model's accuracy on
every clip, with the agreement of each variant with the first model given.

Usage:
  .venv/bin/python benchmarks/keyword_figures.py MODEL.tflite [MODEL.tflite ...] [--seed 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from edgecnn.core.preprocess import Preprocessing
from edgecnn.device.runner import Runner
from edgecnn.training.data.audio import AudioOptions, load_audio_folder
from edgecnn.training.data.keywords import ensure_keywords


def held_out(pre: Preprocessing, labels: list[str], seed: int, speakers: int):
    """The clips of a newly generated set, labelled with the model's classes."""
    root = ensure_keywords(seed=seed, speakers=speakers)
    targets = tuple(w for w in labels if not w.startswith("_"))
    ds = load_audio_folder(root, AudioOptions(front=pre.audio, classes=targets, seed=seed))
    if list(ds.labels) != labels:
        raise SystemExit(f"the generated classes {ds.labels} differ from the model's {labels}")
    return ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--speakers", type=int, default=100)
    args = parser.parse_args()
    runners = [Runner(m) for m in args.models]
    first = runners[0]
    ds = held_out(first.preprocessing, first.labels, args.seed, args.speakers)
    features = first.preprocessing.apply(ds.x)
    print(f"held-out set: seed {args.seed}, {len(ds.x)} clips, classes {len(ds.labels)}")
    reference = None
    print(f"{'model':60s} {'accuracy':>9s} {'agreement':>10s} {'seconds':>8s}")
    for path, runner in zip(args.models, runners, strict=True):
        started = time.perf_counter()
        predicted = runner.model.predict(features).argmax(axis=1)
        seconds = time.perf_counter() - started
        reference = predicted if reference is None else reference
        accuracy = float(np.mean(predicted == ds.y))
        agreement = float(np.mean(predicted == reference))
        print(f"{path[-60:]:60s} {accuracy:9.4f} {agreement:10.4f} {seconds:8.2f}")


if __name__ == "__main__":
    main()
